//go:build !unix

package store

// LockDB is a no-op where flock is unavailable; restore still refuses a
// database that SQLite reports in use (CheckNotInUse).
func LockDB(dbPath string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
