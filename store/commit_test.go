package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Concurrent writes share transactions; a failing write rolls back alone.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	const n = 200
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Update(ctx, func(tx bot.Tx) error {
				g := &bot.Group{Key: fmt.Sprintf("k%d", i), Status: bot.Firing, CreatedAt: now, UpdatedAt: now, Version: 1}
				if err := tx.SaveGroup(g); err != nil {
					return err
				}
				if i%7 == 0 {
					return errBoom // after a write: it must be undone
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		var err error
		db.View(ctx, func(tx bot.Tx) error { _, err = tx.LatestGroup(fmt.Sprintf("k%d", i)); return nil })
		switch {
		case i%7 == 0 && !errors.Is(errs[i], errBoom):
			t.Errorf("write %d: got %v, want its own error", i, errs[i])
		case i%7 == 0 && bot.ErrorCode(err) != bot.ENotFound:
			t.Errorf("failed write %d left its group behind (%v)", i, err)
		case i%7 != 0 && (errs[i] != nil || err != nil):
			t.Errorf("write %d: update %v, read %v; want committed", i, errs[i], err)
		}
	}
}

func TestUpdateAfterCloseIsUnavailable(t *testing.T) {
	db := openTest(t)
	db.Close()
	err := db.Update(context.Background(), func(bot.Tx) error { return nil })
	if bot.ErrorCode(err) != bot.EUnavailable {
		t.Errorf("got %v, want unavailable", err)
	}
}

// A panic in a write function fails the caller, not the committer: the
// database keeps taking writes.
func TestPanicInWriteReachesTheCaller(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		db.Update(ctx, func(bot.Tx) error { panic("bug") })
	}()
	now := time.Now()
	if err := db.Update(ctx, func(tx bot.Tx) error {
		return tx.SaveGroup(&bot.Group{Key: "after", Status: bot.Firing, CreatedAt: now, UpdatedAt: now})
	}); err != nil {
		t.Errorf("database unusable after a panicking write: %v", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("ping after a panicking write: %v", err)
	}
}
