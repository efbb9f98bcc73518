package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/store"
)

func addGroups(t *testing.T, db *store.DB, n int, tag string) {
	t.Helper()
	if err := insertGroups(db, n, tag); err != nil {
		t.Fatal(err)
	}
}

func insertGroups(db *store.DB, n int, tag string) error {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	return db.Update(context.Background(), func(tx bot.Tx) error {
		for i := range n {
			g := &bot.Group{Key: fmt.Sprintf("%s-%d", tag, i), Receiver: "k", Status: bot.Firing, Priority: bot.P2, CreatedAt: now, UpdatedAt: now,
				Alerts: []bot.Alert{{Fingerprint: "f", Status: bot.Firing, StartsAt: now}}}
			if err := tx.SaveGroup(g); err != nil {
				return err
			}
		}
		return nil
	})
}

func countGroups(t *testing.T, path string) int {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.View(context.Background(), func(tx bot.Tx) error {
		gs, err := tx.OpenGroups(10000)
		n = len(gs)
		return err
	})
	return n
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	path, dir := filepath.Join(tmp, "k.db"), filepath.Join(tmp, "backups")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	addGroups(t, db, 5, "a")

	// Snapshot while writers keep writing: the copy holds exactly the rows counted.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := insertGroups(db, 1, fmt.Sprintf("w%d", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	info, err := db.Backup(ctx, dir, now)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(info.Path) != "klaxon-20260307T030000Z.db" || info.Tables["alert_groups"] < 5 || info.Tables["schema_migrations"] < 5 {
		t.Fatalf("backup %+v", info)
	}
	check, err := db.VerifyBackup(ctx, info.Path)
	if err != nil || !check.OK() {
		t.Fatalf("verify: %+v %v", check, err)
	}
	// A second one in the same second gets its own name.
	info2, err := db.Backup(ctx, dir, now)
	if err != nil || info2.Path == info.Path {
		t.Fatalf("second backup %+v %v", info2, err)
	}
	list, _ := db.Backups(dir)
	if len(list) != 2 {
		t.Fatalf("list %+v", list)
	}
	want := int(info.Tables["alert_groups"])

	// Restoring while the database is open is refused, and changes nothing.
	addGroups(t, db, 3, "later")
	_, err = store.Restore(ctx, info.Path, path, now)
	if bot.ErrorCode(err) != bot.EConflict || !strings.Contains(bot.ErrorMessage(err), "in use") {
		t.Fatalf("restore over an open database: %v", err)
	}
	db.Close()
	if n := countGroups(t, path); n < want+3 {
		t.Fatalf("the refused restore changed the database: %d groups", n)
	}
	before := countGroups(t, path)

	// Refused while serve holds the lock file, too.
	unlock, err := store.LockDB(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.LockDB(path); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("a second lock: %v", err)
	}
	if _, err := store.Restore(ctx, info.Path, path, now); bot.ErrorCode(err) != bot.EConflict || !strings.Contains(bot.ErrorMessage(err), "process") {
		t.Fatalf("restore while locked: %v", err)
	}
	unlock()

	res, err := store.Restore(ctx, info.Path, path, now)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Manifest || res.Previous == "" {
		t.Errorf("restore result %+v", res)
	}
	if n := countGroups(t, path); n != want {
		t.Errorf("after restore: %d groups, want %d", n, want)
	}
	if n := countGroups(t, res.Previous); n != before {
		t.Errorf("the previous database kept has %d groups, want %d", n, before)
	}
}

func TestRestoreRefusesABadBackup(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	path, dir := filepath.Join(tmp, "k.db"), filepath.Join(tmp, "backups")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	addGroups(t, db, 50, "a")
	info, err := db.Backup(ctx, dir, time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	notDB := filepath.Join(tmp, "notes.txt")
	os.WriteFile(notDB, []byte("hello"), 0o600)
	damaged := filepath.Join(tmp, "damaged.db")
	b, _ := os.ReadFile(info.Path)
	copy(b[len(b)/2:], strings.Repeat("x", 200))
	os.WriteFile(damaged, b, 0o600)
	mb, _ := os.ReadFile(store.ManifestPath(info.Path))
	os.WriteFile(store.ManifestPath(damaged), mb, 0o600)

	for _, tc := range []struct{ name, from, want string }{
		{"not a database", notDB, "not a"},
		{"damaged", damaged, "failed verification"},
		{"missing", filepath.Join(tmp, "nope.db"), "cannot be read"},
		{"itself", path, "same file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Restore(ctx, tc.from, path, time.Now())
			if err == nil || !strings.Contains(bot.ErrorMessage(err)+err.Error(), tc.want) {
				t.Fatalf("restore %s: %v, want %q", tc.from, err, tc.want)
			}
			if n := countGroups(t, path); n != 50 {
				t.Fatalf("the database changed: %d groups", n)
			}
		})
	}
}

func TestBackupFileWhileServing(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	path := filepath.Join(tmp, "k.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addGroups(t, db, 7, "a")
	info, err := store.BackupFile(ctx, path, filepath.Join(tmp, "b"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if info.Tables["alert_groups"] != 7 {
		t.Errorf("backup %+v", info)
	}
	if _, err := store.BackupFile(ctx, filepath.Join(tmp, "missing.db"), filepath.Join(tmp, "b"), time.Now()); bot.ErrorCode(err) != bot.ENotFound {
		t.Errorf("backup of a missing database: %v", err)
	}
	if err := store.RemoveBackup(path); err == nil {
		t.Error("RemoveBackup deleted a file that is not a snapshot")
	}
}
