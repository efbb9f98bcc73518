package store_test

import (
	"context"
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
