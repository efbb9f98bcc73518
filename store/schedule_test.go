package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

func TestOverrideRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	created := time.Date(2026, 3, 1, 12, 0, 0, 123, time.UTC)
	a := &paging.Override{Schedule: "primary", UserID: "501", Start: day.Add(9 * time.Hour), End: day.Add(17 * time.Hour),
		CreatedBy: "900", Reason: "swap with Bob", CreatedAt: created}
	b := &paging.Override{Schedule: "primary", UserID: "502", Start: day.Add(-24 * time.Hour), End: day.Add(time.Hour), CreatedBy: "900", CreatedAt: created}
	c := &paging.Override{Schedule: "secondary", UserID: "503", Start: day, End: day.Add(time.Hour), CreatedBy: "900", CreatedAt: created}
	if err := db.Paging().Update(ctx, func(tx paging.Tx) error {
		for _, o := range []*paging.Override{a, b, c} {
			if err := tx.AddOverride(o); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || b.ID == 0 || a.ID == b.ID {
		t.Fatalf("ids not set: %d %d", a.ID, b.ID)
	}
	db.Close()
	if db, err = store.Open(ctx, path); err != nil { // survives a restart
		t.Fatal(err)
	}
	defer db.Close()

	tests := []struct {
		name     string
		schedule string
		from, to time.Time
		want     []int64
	}{
		{"all of primary", "primary", time.Time{}, time.Time{}, []int64{b.ID, a.ID}},
		{"overlapping a day, by start", "primary", day, day.Add(24 * time.Hour), []int64{b.ID, a.ID}},
		{"end is exclusive", "primary", day.Add(time.Hour), day.Add(24 * time.Hour), []int64{a.ID}},
		{"start is exclusive", "primary", day.Add(-48 * time.Hour), day.Add(-24 * time.Hour), nil},
		{"another schedule", "secondary", day, day.Add(time.Hour), []int64{c.ID}},
		{"unknown schedule", "nope", time.Time{}, time.Time{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []paging.Override
			if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) { got, err = tx.Overrides(tc.schedule, tc.from, tc.to); return err }); err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, o := range got {
				ids = append(ids, o.ID)
			}
			if len(ids) != len(tc.want) {
				t.Fatalf("got ids %v, want %v", ids, tc.want)
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Fatalf("got ids %v, want %v", ids, tc.want)
				}
			}
		})
	}
	var got []paging.Override
	if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) {
		got, err = tx.Overrides("primary", day.Add(10*time.Hour), time.Time{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	o := got[0]
	if o.ID != a.ID || o.Schedule != "primary" || o.UserID != "501" || !o.Start.Equal(a.Start) || !o.End.Equal(a.End) ||
		o.CreatedBy != "900" || o.Reason != "swap with Bob" || !o.CreatedAt.Equal(created) {
		t.Errorf("round trip: got %+v, want %+v", o, *a)
	}

	err = db.Paging().Update(ctx, func(tx paging.Tx) error {
		return tx.AddOverride(&paging.Override{Schedule: "primary", UserID: "501", Start: day, End: day.Add(-time.Hour)})
	})
	if bot.ErrorCode(err) != bot.EInvalid || !strings.Contains(bot.ErrorMessage(err), "end later than the start") {
		t.Errorf("end before start: got %v", err)
	}

	if err := db.Paging().Update(ctx, func(tx paging.Tx) error { return tx.RemoveOverride(a.ID) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Paging().Update(ctx, func(tx paging.Tx) error { return tx.RemoveOverride(a.ID) }); bot.ErrorCode(err) != bot.ENotFound {
		t.Errorf("remove twice: got %v, want not_found", err)
	}
	if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) {
		got, err = tx.Overrides("primary", time.Time{}, time.Time{})
		return err
	}); err != nil || len(got) != 1 || got[0].ID != b.ID {
		t.Errorf("after remove: %v %v", got, err)
	}
}

func TestLastHandoffRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var h paging.Handoff
	if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) { h, err = tx.LastHandoff("primary"); return err }); err != nil {
		t.Fatal(err)
	}
	if !h.Start.IsZero() || h.UserID != "" || h.Schedule != "primary" {
		t.Errorf("never announced: got %+v", h)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, want := range []paging.Handoff{
		{Schedule: "primary", UserID: "501", Start: at, End: at.Add(24 * time.Hour), AnnouncedAt: at.Add(time.Second)},
		{Schedule: "primary", UserID: "502", Start: at.Add(24 * time.Hour), AnnouncedAt: at.Add(24 * time.Hour)}, // End zero: until further notice
	} {
		if err := db.Paging().Update(ctx, func(tx paging.Tx) error { return tx.SetLastHandoff(want) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) { h, err = tx.LastHandoff("primary"); return err }); err != nil {
			t.Fatal(err)
		}
		if h.Schedule != want.Schedule || h.UserID != want.UserID || !h.Start.Equal(want.Start) || !h.End.Equal(want.End) ||
			!h.AnnouncedAt.Equal(want.AnnouncedAt) {
			t.Errorf("#%d: got %+v, want %+v", i, h, want)
		}
	}
	if err := db.Paging().View(ctx, func(tx paging.Tx) (err error) { h, err = tx.LastHandoff("secondary"); return err }); err != nil || !h.Start.IsZero() {
		t.Errorf("other schedule: %+v %v", h, err)
	}
}
