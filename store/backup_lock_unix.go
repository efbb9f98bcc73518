//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
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
