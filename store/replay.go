package store

import (
	"context"
	"errors"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// RememberInteraction records that the HTTP interaction id was handled at
// now and reports whether it is the first delivery of that id. Ids seen
// before now-keep are forgotten in the same transaction (their timestamps
// are outside Discord's replay window by then, so the signature check
// refuses them anyway). The record is durable: a restart remembers it.
func (db *DB) RememberInteraction(ctx context.Context, id string, now time.Time, keep time.Duration) (first bool, err error) {
	if id == "" {
		return false, bot.Errorf(bot.EInvalid, "interaction without an id")
	}
	if keep <= 0 {
		return false, errors.New("remember interaction: retention must be positive")
	}
	err = db.Update(ctx, func(btx bot.Tx) error {
		t := btx.(*Tx)
		if _, err := t.exec("prune seen interactions", "DELETE FROM interactions_seen WHERE seen_at < ?", ts(now.Add(-keep))); err != nil {
			return err
		}
		r, err := t.exec("remember interaction", "INSERT INTO interactions_seen (id, seen_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", id, ts(now))
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return db.dbError("remember interaction", err)
		}
		first = n == 1
		return nil
	})
	return first, err
}

// SeenInteractions returns how many interaction ids are remembered (for tests and metrics).
func (db *DB) SeenInteractions(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM interactions_seen").Scan(&n)
	return n, dbErrorOrNilIn(db.metrics, "count seen interactions", err)
}
