package store

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/marola-rp/klaxon/bot"
)

// Group commit. SQLite has one writer and, with synchronous=FULL, every
// commit waits for an fsync (about 2 ms here). Writes that arrive while
// another commits are run together in the next transaction, each inside a
// SAVEPOINT of its own, so one fsync makes many of them durable and a
// failing write still rolls back alone. Update returns only after the
// transaction holding its write committed.

// maxBatch bounds how many writes share one transaction.
const maxBatch = 128

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

func (db *DB) startCommitter() {
	db.writes = make(chan *writeReq)
	db.stop = make(chan struct{})
	db.done = make(chan struct{})
	go db.committer()
}

func (db *DB) stopCommitter() {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.stop == nil {
		return
	}
	select {
	case <-db.stop:
		return
	default:
	}
	close(db.stop)
	<-db.done
}

// Update runs fn in a write transaction, possibly shared with other writes.
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	return db.UpdateTx(ctx, func(t *Tx) error { return fn(t) })
}

// UpdateTx is Update with the concrete *Tx, which implements every feature
// package's own store interface (see heartbeat.go).
func (db *DB) UpdateTx(ctx context.Context, fn func(*Tx) error) error {
	if db.writes == nil { // during Open, before the committer runs
		return db.run(ctx, db.w, false, fn)
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.stop:
		return bot.Errorf(bot.EUnavailable, "database is closed")
	case <-ctx.Done():
		return bot.WrapError(bot.EUnavailable, ctx.Err(), "database write not started")
	}
	err := <-req.done // the committer always answers, even when ctx ends
	if p, ok := err.(*panicked); ok {
		panic(fmt.Sprintf("%v\n(in a database write, on the committer goroutine)\n%s", p.v, p.stack))
	}
	return err
}

// panicked carries a panic of a write function back to the goroutine that
// asked for the write, so that a bug there fails that caller (whose own
// recover, e.g. the engine's, sees it) instead of the whole process.
type panicked struct {
	v     any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprintf("panic in a database write: %v", p.v) }

// safeFn runs fn, turning a panic into a *panicked error.
func safeFn(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{v: v, stack: debug.Stack()}
		}
	}()
	return fn(tx)
}

func (db *DB) committer() {
	defer close(db.done)
	for {
		var first *writeReq
		select {
		case first = <-db.writes:
		case <-db.stop:
			return
		}
		batch := []*writeReq{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		db.commitBatch(batch)
	}
}

func (db *DB) commitBatch(batch []*writeReq) {
	if len(batch) == 1 {
		r := batch[0]
		r.done <- db.run(r.ctx, db.w, false, func(tx *Tx) error { return safeFn(r.fn, tx) })
		return
	}
	results := make([]error, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	sqlTx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		fail(db.dbError("begin", err))
		return
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = bot.WrapError(bot.EUnavailable, err, "database write abandoned")
			continue
		}
		if _, err := sqlTx.ExecContext(r.ctx, "SAVEPOINT w"); err != nil {
			sqlTx.Rollback()
			fail(db.dbError("savepoint", err))
			return
		}
		if err := safeFn(r.fn, &Tx{ctx: r.ctx, tx: sqlTx, m: db.metrics}); err != nil {
			results[i] = err
			if _, rerr := sqlTx.ExecContext(context.Background(), "ROLLBACK TO w"); rerr != nil {
				sqlTx.Rollback()
				fail(db.dbError("rollback to savepoint", rerr))
				return
			}
		}
		if _, err := sqlTx.ExecContext(context.Background(), "RELEASE w"); err != nil {
			sqlTx.Rollback()
			fail(db.dbError("release savepoint", err))
			return
		}
	}
	if err := sqlTx.Commit(); err != nil {
		fail(db.dbError("commit", err))
		return
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}
