//go:build unix

package store_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/store"
)

// permissiveUmask sets the process umask to 0 for the test, so that a file
// created with SQLite's default 0644 (or os.Create's 0666) would show it.
// The umask is process-wide: tests using it must not run in parallel.
func permissiveUmask(t *testing.T) {
	t.Helper()
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", path, got, want)
	}
}

// noneReadableByOthers walks root and fails for every file or directory
// under it with a group or other permission bit.
func noneReadableByOthers(t *testing.T, root string) (files int) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil // t.TempDir's own directory is the test's, not Klaxon's
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %04o lets others in", p, fi.Mode().Perm())
		}
		if !d.IsDir() {
			files++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestFilesAreOwnerOnly opens a fresh database in directories Klaxon has
// to create, with a umask of 0, writes, takes the serve lock, backs up and
// restores, and checks that every file is 0600 and every directory 0700.
func TestFilesAreOwnerOnly(t *testing.T) {
	permissiveUmask(t)
	ctx := context.Background()
	root := t.TempDir()
	dataDir := filepath.Join(root, "var", "klaxon")
	path := filepath.Join(dataDir, "klaxon.db")
	backups := filepath.Join(root, "backups", "daily")

	unlock, err := store.LockDB(path) // serve takes the lock before it opens the database
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	addGroups(t, db, 3, "a")
	// While open, WAL mode keeps the -wal and -shm files.
	wantMode(t, path, 0o600)
	wantMode(t, path+"-wal", 0o600)
	wantMode(t, path+"-shm", 0o600)
	wantMode(t, path+".lock", 0o600)
	wantMode(t, dataDir, 0o700)
	wantMode(t, filepath.Dir(dataDir), 0o700)

	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	info, err := db.Backup(ctx, backups, now)
	if err != nil {
		t.Fatal(err)
	}
	wantMode(t, info.Path, 0o600)
	wantMode(t, store.ManifestPath(info.Path), 0o600)
	wantMode(t, backups, 0o700)
	wantMode(t, filepath.Dir(backups), 0o700)
	if n := noneReadableByOthers(t, root); n < 6 {
		t.Errorf("found %d files, want at least the database, -wal, -shm, lock, backup, manifest", n)
	}

	// klaxon backup (another process, same code) and restore.
	if _, err := store.BackupFile(ctx, path, backups, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	res, err := store.Restore(ctx, info.Path, path, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantMode(t, path, 0o600)
	wantMode(t, res.Previous, 0o600)
	if n := countGroups(t, path); n != 3 {
		t.Errorf("restored database has %d groups, want 3", n)
	}
	noneReadableByOthers(t, root)
}

// TestOpenNarrowsOldFiles: a database that an older Klaxon left 0644 (with
// its -shm file) is made owner-only when it is opened.
func TestOpenNarrowsOldFiles(t *testing.T) {
	permissiveUmask(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "k.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	addGroups(t, db, 1, "a")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The -shm file is removed at a clean close; leave a stale one, as a crash would.
	if err := os.WriteFile(path+"-shm", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantMode(t, path, 0o600)
	wantMode(t, path+"-shm", 0o600)
	wantMode(t, path+"-wal", 0o600)
}
