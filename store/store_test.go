package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/store"
)

func openTest(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenMigratesOnceAndUsesWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	ctx := context.Background()
	for i := 0; i < 2; i++ { // a second open must find the migrations applied
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
		db.Close()
	}
}

func TestGroupRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	g := &bot.Group{Key: `{}:{alertname="Down"}`, Receiver: "klaxon", Status: bot.Firing, Priority: bot.P0,
		PrioritySource: "severity=critical", CommonLabels: map[string]string{"alertname": "Down"},
		CreatedAt: now, UpdatedAt: now, Version: 1,
		Alerts: []bot.Alert{{Fingerprint: "a", Status: bot.Firing, Labels: map[string]string{"alertname": "Down", "instance": "x"},
			Annotations: map[string]string{"summary": "x down"}, StartsAt: now.Add(-time.Minute)}}}
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.SaveGroup(g) }); err != nil {
		t.Fatal(err)
	}
	var got *bot.Group
	if err := db.View(ctx, func(tx bot.Tx) (err error) { got, err = tx.LatestGroup(g.Key); return err }); err != nil {
		t.Fatal(err)
	}
	if got.ID != g.ID || got.Priority != bot.P0 || len(got.Alerts) != 1 || got.Alerts[0].Labels["instance"] != "x" ||
		!got.Alerts[0].StartsAt.Equal(now.Add(-time.Minute)) || !got.Alerts[0].EndsAt.IsZero() {
		t.Errorf("round trip: got %+v", got)
	}
	err := db.View(ctx, func(tx bot.Tx) error { _, err := tx.LatestGroup("nope"); return err })
	if bot.ErrorCode(err) != bot.ENotFound {
		t.Errorf("missing group: got %v, want not_found", err)
	}
}

func TestOutboxCoalescesAndHonoursVersion(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	var post bot.Post
	err := db.Update(ctx, func(tx bot.Tx) error {
		post = bot.Post{Kind: bot.Card, ChannelID: "c1", Priority: bot.P2, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreatePost(&post); err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			if err := tx.MarkDirty(post.ID, bot.P2, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var due []bot.Item
	db.View(ctx, func(tx bot.Tx) (err error) { due, err = tx.DueItems(now, 10); return err })
	if len(due) != 1 || due[0].Version != 3 {
		t.Fatalf("due: got %+v, want one delivery at version 3", due)
	}
	// A change after the read: completing the old version must keep the entry.
	db.Update(ctx, func(tx bot.Tx) error { return tx.MarkDirty(post.ID, bot.P0, now) })
	db.Update(ctx, func(tx bot.Tx) error { return tx.ItemDone(due[0].ID, due[0].Version) })
	db.View(ctx, func(tx bot.Tx) (err error) { due, err = tx.DueItems(now, 10); return err })
	if len(due) != 1 || due[0].Version != 4 || due[0].Priority != bot.P0 {
		t.Fatalf("after stale completion: got %+v, want version 4 at P0", due)
	}
	db.Update(ctx, func(tx bot.Tx) error { return tx.RetryItem(due[0].ID, now.Add(time.Minute), true, "boom") })
	db.View(ctx, func(tx bot.Tx) (err error) { due, err = tx.DueItems(now, 10); return err })
	if len(due) != 0 {
		t.Fatalf("deferred delivery is due too early: %+v", due)
	}
	db.View(ctx, func(tx bot.Tx) (err error) { due, err = tx.DueItems(now.Add(time.Minute), 10); return err })
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "boom" {
		t.Fatalf("deferred delivery: got %+v", due)
	}
	db.Update(ctx, func(tx bot.Tx) error { return tx.ItemDone(due[0].ID, due[0].Version) })
	var depth int
	db.View(ctx, func(tx bot.Tx) (err error) { depth, _, _, err = tx.QueueStats(); return err })
	if depth != 0 {
		t.Errorf("outbox depth after completion = %d, want 0", depth)
	}
}

// TestPendingCardsSkipsCardsBeingSent: a card whose create was sent may be
// on Discord already; folding it into a storm digest would show its group
// twice, so it is not a pending card any more. Found by the storm benchmark
// once the queue's dispatcher ran beside the storm folding.
func TestPendingCardsSkipsCardsBeingSent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Unix(1_800_000_000, 0)
	var ids []int64
	err := db.Update(ctx, func(tx bot.Tx) error {
		for range 3 {
			p := &bot.Post{Kind: bot.Card, ChannelID: "c1", Priority: bot.P3, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreatePost(p); err != nil {
				return err
			}
			if err := tx.MarkDirty(p.ID, bot.P3, now); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		items, err := tx.DueItems(now, 10)
		if err != nil {
			return err
		}
		return tx.ItemSending(items[0].ID) // the dispatcher is creating the first card
	})
	if err != nil {
		t.Fatal(err)
	}
	var pending []bot.Post
	_ = db.View(ctx, func(tx bot.Tx) (err error) { pending, err = tx.PendingCards("c1", bot.P2); return err })
	if len(pending) != 2 || pending[0].ID != ids[1] || pending[1].ID != ids[2] {
		t.Errorf("pending cards = %+v, want posts %v (not %d, whose create was sent)", pending, ids[1:], ids[0])
	}
	err = db.Update(ctx, func(tx bot.Tx) error {
		if err := tx.DeletePost(ids[1]); err != nil {
			return err
		}
		items, err := tx.DueItems(now, 10)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.Target == ids[1] {
				return fmt.Errorf("the deleted post's item is still queued: %+v", it)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
