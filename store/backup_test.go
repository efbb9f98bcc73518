package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
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

// addBigGroups adds n groups whose alert carries 4 KiB of text, about 5 KiB
// of database each.
func addBigGroups(t *testing.T, db *store.DB, n int, tag string) {
	t.Helper()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	err := db.Update(context.Background(), func(tx bot.Tx) error {
		for i := range n {
			text := strings.Repeat(fmt.Sprintf("%s-%d ", tag, i), 4096/len(fmt.Sprintf("%s-%d ", tag, i)))
			g := &bot.Group{Key: fmt.Sprintf("%s-%d", tag, i), Receiver: "k", Status: bot.Firing, Priority: bot.P2, CreatedAt: now, UpdatedAt: now,
				Alerts: []bot.Alert{{Fingerprint: "f", Status: bot.Firing, StartsAt: now, Annotations: map[string]string{"description": text}}}}
			if err := tx.SaveGroup(g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tryWriteLock takes and drops SQLite's write lock on path from a
// connection of its own, without waiting: an error means a writer holds it.
func tryWriteLock(path string) error {
	c, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0&_txlock=immediate")
	if err != nil {
		return err
	}
	defer c.Close()
	tx, err := c.Begin()
	if err != nil {
		return err
	}
	return tx.Rollback()
}

// Writes through Update commit while a backup is copying, and the backup
// still holds exactly the snapshot it counted. With VACUUM INTO under the
// write lock (Klaxon up to cca20ac) the write could not start until the
// copy was done.
func TestBackupDoesNotBlockWrites(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	path, dir := filepath.Join(tmp, "k.db"), filepath.Join(tmp, "backups")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 800 // about 4 MiB
	addBigGroups(t, db, n, "big")

	var steps []int // pages copied at each step
	wrote := false
	defer store.SetBackupTestHooks(64, func(copied, total int) {
		steps = append(steps, copied)
		if len(steps) != 2 { // well inside the copy
			return
		}
		if copied >= total {
			t.Errorf("step hook at %d of %d pages: not in the middle of the copy", copied, total)
		}
		// A writer holding SQLite's write lock would make the Update
		// below wait for this backup, which waits for this hook: say so
		// instead of hanging.
		if err := tryWriteLock(path); err != nil {
			t.Errorf("the write lock is held during the copy (%d of %d pages): %v", copied, total, err)
			return
		}
		now := time.Now()
		if err := db.Update(ctx, func(tx bot.Tx) error {
			return tx.SaveGroup(&bot.Group{Key: "during-backup", Receiver: "k", Status: bot.Firing, CreatedAt: now, UpdatedAt: now})
		}); err != nil {
			t.Errorf("write during the backup: %v", err)
			return
		}
		if err := db.View(ctx, func(tx bot.Tx) error { _, err := tx.LatestGroup("during-backup"); return err }); err != nil {
			t.Errorf("the write made during the backup is not visible: %v", err)
			return
		}
		wrote = true
	}, nil)()

	info, err := db.Backup(ctx, dir, time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !wrote {
		t.Fatalf("no write committed during the backup (steps %v)", steps)
	}
	if len(steps) < 4 {
		t.Errorf("pages copied after each step: %v; want several steps", steps)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i] <= steps[i-1] {
			t.Errorf("the copy went from %d to %d pages: it restarted", steps[i-1], steps[i])
		}
	}
	// The snapshot is the one counted before the write: the manifest and
	// the file both hold n groups, the live database n+1.
	if info.Tables["alert_groups"] != n {
		t.Errorf("snapshot has %d groups, want %d (the write during the copy is not in it)", info.Tables["alert_groups"], n)
	}
	check, err := db.VerifyBackup(ctx, info.Path)
	if err != nil || !check.OK() || check.Tables["alert_groups"] != n {
		t.Errorf("verify: %+v %v", check, err)
	}
	var live int
	db.View(ctx, func(tx bot.Tx) error {
		gs, err := tx.OpenGroups(10000)
		live = len(gs)
		return err
	})
	if live != n+1 {
		t.Errorf("live database has %d open groups, want %d", live, n+1)
	}
}

// Two backups into one directory do not run at once: the second waits for
// the first (and gives up when its context ends), then takes the next name.
func TestBackupWaitsForARunningBackup(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	path, dir := filepath.Join(tmp, "k.db"), filepath.Join(tmp, "backups")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addGroups(t, db, 20, "a")
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)

	type result struct {
		info calendar.BackupInfo
		err  error
	}
	busy := make(chan struct{}, 4)
	second := make(chan result, 1)
	var first atomic.Bool
	defer store.SetBackupTestHooks(2, func(copied, total int) {
		if !first.CompareAndSwap(false, true) {
			return
		}
		// The first backup is copying. One whose context has ended waits
		// for it no longer than that.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.Backup(cctx, dir, now); bot.ErrorCode(err) != bot.EUnavailable {
			t.Errorf("backup with an ended context while another runs: %v, want unavailable", err)
		}
		select {
		case <-busy:
		default:
			t.Error("the backup with an ended context did not find the lock taken")
		}
		go func() {
			info, err := db.Backup(ctx, dir, now)
			second <- result{info, err}
		}()
		select {
		case <-busy: // waiting for this one to finish
		case r := <-second:
			t.Errorf("a second backup ran while the first was copying: %+v %v", r.info, r.err)
			second <- r
		}
	}, func() { busy <- struct{}{} })()

	a, err := db.Backup(ctx, dir, now)
	if err != nil {
		t.Fatal(err)
	}
	b := <-second
	if b.err != nil {
		t.Fatal(b.err)
	}
	if filepath.Base(a.Path) != "klaxon-20260307T030000Z.db" || filepath.Base(b.info.Path) != "klaxon-20260307T030000Z-2.db" {
		t.Errorf("backups %s and %s", a.Path, b.info.Path)
	}
	for _, p := range []string{a.Path, b.info.Path} {
		if c, err := db.VerifyBackup(ctx, p); err != nil || !c.OK() {
			t.Errorf("verify %s: %+v %v", p, c, err)
		}
	}
}

// The snapshot is private to its owner and alone in the directory: no
// temporary, journal, -wal or -shm files are left, even after it is opened
// to verify it.
func TestBackupFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	path, dir := filepath.Join(tmp, "k.db"), filepath.Join(tmp, "new", "backups")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addGroups(t, db, 5, "a")
	info, err := db.Backup(ctx, dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c, err := db.VerifyBackup(ctx, info.Path); err != nil || !c.OK() {
		t.Fatalf("verify: %+v %v", c, err)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, info.Path: 0o600, store.ManifestPath(info.Path): 0o600} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode().Perm(), err, want)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case filepath.Base(info.Path), filepath.Base(store.ManifestPath(info.Path)), store.BackupLockName:
		default:
			t.Errorf("unexpected file %s in the backup directory", e.Name())
		}
	}
	// A rollback-journal database, as VACUUM INTO made them: bytes 18 and
	// 19 of the header are 1 (2 would be WAL).
	b, err := os.ReadFile(info.Path)
	if err != nil || len(b) < 100 || b[18] != 1 || b[19] != 1 {
		t.Errorf("snapshot header: %v, write/read version %v", err, b[18:20])
	}
}

// A backup whose context ends during the copy stops there and leaves
// nothing behind; the next one works.
func TestBackupCancelledMidCopy(t *testing.T) {
	tmp := t.TempDir()
	path, dir := filepath.Join(tmp, "k.db"), filepath.Join(tmp, "backups")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addGroups(t, db, 20, "a")
	ctx, cancel := context.WithCancel(context.Background())
	restore := store.SetBackupTestHooks(2, func(int, int) { cancel() }, nil)
	_, err = db.Backup(ctx, dir, time.Now())
	restore()
	if bot.ErrorCode(err) != bot.EUnavailable {
		t.Fatalf("cancelled backup: %v, want unavailable", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != store.BackupLockName {
			t.Errorf("the cancelled backup left %s", e.Name())
		}
	}
	info, err := db.Backup(context.Background(), dir, time.Now())
	if err != nil || info.Tables["alert_groups"] != 20 {
		t.Fatalf("backup after a cancelled one: %+v %v", info, err)
	}
}
