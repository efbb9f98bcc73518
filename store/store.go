// Package store keeps Klaxon's state in SQLite (github.com/mattn/go-sqlite3)
// and implements bot.Store: WAL, foreign keys, a busy timeout, and embedded
// forward-only migrations recorded in schema_migrations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/metrics"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open Klaxon database. Writes go through one connection (SQLite
// has one writer) with BEGIN IMMEDIATE; reads use a pool of their own and
// see the last committed state (WAL).
type DB struct {
	path string
	w    *sql.DB
	r    *sql.DB

	writes  chan *writeReq // to the committer (see commit.go)
	stop    chan struct{}
	done    chan struct{}
	closeMu sync.Mutex
	metrics *metrics.Metrics // nil: counts nothing
}

var _ bot.Store = (*DB)(nil)

// Option is one of Open's optional settings.
type Option func(*DB)

// WithMetrics makes the database count its errors in m.
func WithMetrics(m *metrics.Metrics) Option { return func(db *DB) { db.metrics = m } }

// Open opens (creating if needed) the database at path and migrates it.
// A new database file, its -wal and -shm files and a directory created for
// them are readable by Klaxon's user only (0600, 0700); see files.go.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if err := prepareDatabaseFiles(path); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "FULL")
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite3", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	db := &DB{path: path, w: w}
	for _, o := range opts {
		o(db)
	}
	if err := db.check(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db.r = r
	if err := db.check(ctx, r); err != nil {
		db.r.Close()
		db.w.Close()
		return nil, err
	}
	db.startCommitter()
	return db, nil
}

// check verifies the connection settings actually took effect.
func (db *DB) check(ctx context.Context, c *sql.DB) error {
	var mode string
	if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("open database %s: %w", db.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open database %s: journal mode is %q, want wal (is the file on a filesystem that supports shared memory?)", db.path, mode)
	}
	var fk int
	if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		return fmt.Errorf("open database %s: foreign keys are off (%v)", db.path, err)
	}
	return nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	db.stopCommitter()
	var errs []error
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", v).Scan(&n); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			v, base, time.Now().UTC().Format(time.RFC3339)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return nil
}

// View runs fn in a read transaction.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	return db.ViewTx(ctx, func(t *Tx) error { return fn(t) })
}

// ViewTx is View with the concrete *Tx (see UpdateTx).
func (db *DB) ViewTx(ctx context.Context, fn func(*Tx) error) error {
	c := db.r
	if c == nil {
		c = db.w
	}
	return db.run(ctx, c, true, fn)
}

func (db *DB) run(ctx context.Context, c *sql.DB, ro bool, fn func(*Tx) error) error {
	sqlTx, err := c.BeginTx(ctx, &sql.TxOptions{ReadOnly: ro})
	if err != nil {
		return db.dbError("begin", err)
	}
	tx := &Tx{ctx: ctx, tx: sqlTx, m: db.metrics}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return db.dbError("commit", err)
	}
	return nil
}

// Ping checks the database answers and takes a write.
func (db *DB) Ping(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS ping (id INTEGER PRIMARY KEY); DELETE FROM ping; INSERT INTO ping (id) VALUES (1)")
	if err != nil {
		return db.dbError("ping", err)
	}
	return nil
}

// dbError counts err in the database's metrics and wraps it (see dbErrorIn).
func (db *DB) dbError(op string, err error) error { return dbErrorIn(db.metrics, op, err) }

// dbErrorIn counts err in m (nil: nowhere) and wraps it; busy, locked and
// I/O errors are transient (EUnavailable).
func dbErrorIn(m *metrics.Metrics, op string, err error) error {
	m.DBError(op)
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrIoErr, sqlite3.ErrFull, sqlite3.ErrCantOpen, sqlite3.ErrReadonly:
			return bot.WrapError(bot.EUnavailable, err, "database %s failed", op)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return bot.WrapError(bot.EUnavailable, err, "database %s interrupted", op)
	}
	return fmt.Errorf("database %s: %w", op, err)
}
