//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/marola-rp/klaxon/bot"
)

// LockDB takes the lock file <dbPath>.lock (flock, exclusive, without
// waiting) and writes the process id into it. `klaxon serve` holds it while
// running; `klaxon restore` takes it so that the two never overlap. It
// returns an EConflict error naming the holder when it is taken.
func LockDB(dbPath string) (unlock func() error, err error) {
	path := dbPath + ".lock"
	if err := ensureDir(dbPath); err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(b[:n]))
			if holder != "" {
				holder = " by process " + holder
			}
			return nil, bot.Errorf(bot.EConflict, "database %s is in use: %s is held%s (is `klaxon serve` running?); stop Klaxon first", dbPath, path, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() error {
		_ = f.Truncate(0)
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return errors.Join(err, f.Close())
	}, nil
}

// lockBackupDir takes the backup lock of dir (flock on dir/.klaxon-backup.lock,
// which also excludes other processes such as `klaxon backup`), waiting
// while another backup holds it, until ctx ends.
func lockBackupDir(ctx context.Context, dir string) (unlock func(), err error) {
	path := filepath.Join(dir, backupLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("backup: open lock file %s: %w", path, err)
	}
	err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		if testHookBackupLockBusy != nil {
			testHookBackupLockBusy()
		}
		got := make(chan error, 1)
		go func() { got <- flock(f, syscall.LOCK_EX) }()
		select {
		case err = <-got:
		case <-ctx.Done():
			go func() { // the flock cannot be called off: drop the lock once it comes
				if <-got == nil {
					_ = flock(f, syscall.LOCK_UN)
				}
				f.Close()
			}()
			return nil, bot.WrapError(bot.EUnavailable, ctx.Err(), "backup: gave up waiting for another backup into %s to finish", dir)
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("backup: lock %s: %w", path, err)
	}
	return func() {
		_ = flock(f, syscall.LOCK_UN)
		f.Close()
	}, nil
}

func flock(f *os.File, how int) error {
	for {
		if err := syscall.Flock(int(f.Fd()), how); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
