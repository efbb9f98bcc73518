package calendar_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/store"
)

func TestBackupJobSnapshotsPrunesAndVerifies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	path := filepath.Join(t.TempDir(), "k.db")
	sat := time.Date(2026, 3, 7, 2, 0, 0, 0, time.UTC) // a Saturday
	clock := bot.NewFakeClock(sat)
	job := &calendar.Backups{Policy: calendar.BackupPolicy{Dir: dir, Retention: 48 * time.Hour, OpsChannel: "999", Mentions: bot.Mentions{Roles: []string{"901"}}}}
	k := startCal(t, path, clock, job)
	defer k.db.Close()
	calGroup(t, k.db, "WebDown", "web", bot.P0, sat, sat.Add(time.Hour), nil)
	k.cycle(t)
	list := func() []calendar.BackupInfo {
		l, err := store.ListBackups(dir)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if n := len(list()); n != 0 {
		t.Fatalf("%d backups before the first scheduled one", n)
	}
	// Daily at 03:00, for four days: retention keeps two days.
	for d := range 4 {
		clock.Set(sat.Add(time.Duration(d)*24*time.Hour + time.Hour + time.Second))
		k.cycle(t)
		k.cycle(t)
	}
	l := list()
	if len(l) != 3 {
		t.Fatalf("%d backups kept, want 3 (48 h retention): %+v", len(l), l)
	}
	if l[0].Tables["alert_groups"] != 1 || l[0].SHA256 == "" {
		t.Errorf("newest backup %+v", l[0])
	}
	// Sunday 04:00 verification passed: nothing posted.
	if ms := calMessages(t, k.db, "backup"); len(ms) != 0 {
		t.Fatalf("ops messages after good backups: %+v", ms[0].Message)
	}

	// Damage the newest snapshot; the next verification (Sunday 15 March) reports it.
	f, err := os.OpenFile(l[0].Path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("garbage garbage garbage"), 4096+100)
	f.Close()
	clock.Set(time.Date(2026, 3, 15, 3, 30, 0, 0, time.UTC))
	job.Policy.Snapshot = "0 3 1 1 *" // no snapshot in the way
	k.cycle(t)
	clock.Set(time.Date(2026, 3, 15, 4, 0, 1, 0, time.UTC))
	k.cycle(t)
	k.cycle(t)
	ms := calMessages(t, k.db, "backup")
	if len(ms) != 1 || ms[0].ChannelID != "999" || ms[0].Message.Title != "Backup verification failed" ||
		!strings.Contains(ms[0].Message.Description, filepath.Base(l[0].Path)) || !strings.Contains(ms[0].Message.Content, bot.RoleRef("901")) {
		t.Fatalf("ops messages %+v", ms)
	}
	if !strings.Contains(ms[0].Message.Description, "checksum") {
		t.Errorf("the failure should say what failed: %s", ms[0].Message.Description)
	}
}

func TestBackupFailureIsPosted(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(blocker, []byte("x"), 0o600)
	path := filepath.Join(t.TempDir(), "k.db")
	clock := bot.NewFakeClock(time.Date(2026, 3, 7, 2, 0, 0, 0, time.UTC))
	k := startCal(t, path, clock, &calendar.Backups{Policy: calendar.BackupPolicy{Dir: filepath.Join(blocker, "sub"), OpsChannel: "999"}})
	defer k.db.Close()
	k.cycle(t)
	clock.Advance(time.Hour)
	k.cycle(t)
	k.cycle(t)
	ms := calMessages(t, k.db, "backup")
	if len(ms) != 1 || ms[0].Message.Title != "Database backup failed" || !strings.Contains(ms[0].Message.Description, "not a directory") {
		t.Fatalf("ops messages %+v", ms)
	}
}
