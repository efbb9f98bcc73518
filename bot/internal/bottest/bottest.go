// Package bottest holds what the tests of bot and its feature packages
// share: a real database, the queue's due messages, and fixtures.
package bottest

import (
	"context"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/store"
)

// OpenDB opens (creating) a real database at path.
func OpenDB(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// DueMessages returns the queued plain messages due at now, most urgent first.
func DueMessages(tx bot.Tx, now time.Time, limit int) ([]bot.Outgoing, error) {
	items, err := tx.DueItems(now, limit)
	var out []bot.Outgoing
	for _, it := range items {
		if it.Kind == bot.ItemMessage {
			out = append(out, *it.Message)
		}
	}
	return out, err
}
