package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The database holds alert text as Alertmanager sent it, incident history,
// timelines and who did what: only Klaxon's own user may read it. Files Klaxon
// creates for it (the database, its -wal and -shm files, the lock file,
// backups and their manifests) are 0600 and the directories it creates for
// them 0700, whatever the umask.
const (
	fileMode fs.FileMode = 0o600
	dirMode  fs.FileMode = 0o700
)

// ensureDir creates the directory that will hold path when it is missing,
// with mode 0700. An existing directory is left as the operator made it.
func ensureDir(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("database directory %s: %w", dir, err)
	}
	// The umask can only take bits away from 0700.
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create database directory %s: %w", dir, err)
	}
	return nil
}

// prepareDatabaseFiles makes sure the database file exists with mode 0600
// before SQLite opens it: SQLite would create it 0644 (less the umask), and
// it creates the -wal and -shm files with the database file's mode, so they
// follow. A database, -wal or -shm file left readable by others by an older
// Klaxon is narrowed to 0600; one Klaxon may not chmod (owned by someone
// else) is left alone.
func prepareDatabaseFiles(path string) error {
	if err := ensureDir(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	switch {
	case err == nil: // an empty file is an empty SQLite database
		if err := f.Close(); err != nil {
			return fmt.Errorf("create database %s: %w", path, err)
		}
		return nil
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create database %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := narrow(p); err != nil {
			return err
		}
	}
	return nil
}

// narrow removes the group and other bits of an existing file's mode.
func narrow(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("database file %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, fi.Mode().Perm()&0o700); err != nil && !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("restrict database file %s to its owner: %w", path, err)
	}
	return nil
}
