//go:build !unix

package store

import (
	"context"

	"github.com/marola-rp/klaxon/bot"
)

// LockDB is a no-op where flock is unavailable; restore still refuses a
// database that SQLite reports in use (CheckNotInUse).
func LockDB(dbPath string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}

// backupSem lets one backup run at a time in this process; without flock
// there is no lock between processes.
var backupSem = make(chan struct{}, 1)

// lockBackupDir waits until no other backup runs in this process, or ctx ends.
func lockBackupDir(ctx context.Context, dir string) (unlock func(), err error) {
	select {
	case backupSem <- struct{}{}:
		return func() { <-backupSem }, nil
	default:
	}
	if testHookBackupLockBusy != nil {
		testHookBackupLockBusy()
	}
	select {
	case backupSem <- struct{}{}:
		return func() { <-backupSem }, nil
	case <-ctx.Done():
		return nil, bot.WrapError(bot.EUnavailable, ctx.Err(), "backup: gave up waiting for another backup into %s to finish", dir)
	}
}
