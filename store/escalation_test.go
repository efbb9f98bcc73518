package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// UnsentPages lists skipped and failed pages since a time, newest first,
// and nothing sent, queued or cancelled.
func TestUnsentPages(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	g := &bot.Group{Key: "k", Receiver: "klaxon", Status: bot.Firing, Priority: bot.P0, CreatedAt: now, UpdatedAt: now, Version: 1}
	pages := []paging.PageRecord{
		{Via: bot.ViaPhone, Status: paging.PageSkipped, Detail: "not sent: too old", CreatedAt: now.Add(-8 * 24 * time.Hour)},
		{Via: bot.ViaPhone, Status: paging.PageSkipped, Detail: "not sent: old", CreatedAt: now.Add(-time.Hour)},
		{Via: bot.ViaEmail, Status: paging.PageFailed, Detail: "not sent: newest", CreatedAt: now},
		{Via: bot.ViaDM, Status: paging.PageFailed, Detail: "not sent: same time, later id", CreatedAt: now},
		{Via: bot.ViaPhone, Status: paging.PageSent, CreatedAt: now},
		{Via: bot.ViaPhone, Status: paging.PageQueued, CreatedAt: now},
		{Via: bot.ViaPhone, Status: paging.PageCancelled, CreatedAt: now},
	}
	err := db.Paging().Update(ctx, func(tx paging.Tx) error {
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		for i := range pages {
			pages[i].GroupID, pages[i].UserID = g.ID, "501"
			if err := tx.AddPage(&pages[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []paging.PageRecord
	if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) { got, err = tx.UnsentPages(now.Add(-7*24*time.Hour), 10); return err }); err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, p := range got {
		details = append(details, p.Detail)
	}
	want := []string{"not sent: same time, later id", "not sent: newest", "not sent: old"}
	if len(details) != len(want) {
		t.Fatalf("unsent pages %q, want %q", details, want)
	}
	for i := range want {
		if details[i] != want[i] {
			t.Fatalf("unsent pages %q, want %q", details, want)
		}
	}
	if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) { got, err = tx.UnsentPages(now.Add(-7*24*time.Hour), 2); return err }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("limit 2: got %d pages", len(got))
	}
}
