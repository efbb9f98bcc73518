package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// TestSaveGroupRefusesTimesItCannotHold: a time outside Unix nanoseconds in
// an int64, or Unix time 0 (stored as "no time"), is refused as invalid
// before anything is written, and the edges round-trip exactly.
func TestSaveGroupRefusesTimesItCannotHold(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	group := func(key string, start, end time.Time) *bot.Group {
		return &bot.Group{Key: key, Status: bot.Firing, CreatedAt: now, UpdatedAt: now, Version: 1,
			Alerts: []bot.Alert{{Fingerprint: "ok", Status: bot.Firing, StartsAt: now},
				{Fingerprint: "x", Status: bot.Resolved, StartsAt: start, EndsAt: end}}}
	}
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       string
	}{
		{"start after MaxTime", bot.MaxTime.Add(1), time.Time{}, "alert x: startsAt: 2262-04-11T23:47:16.854775808Z is outside"},
		{"start before MinTime", bot.MinTime.Add(-1), time.Time{}, "alert x: startsAt: 1677-09-21T00:12:43.145224191Z is outside"},
		{"end in year 9999", now, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "alert x: endsAt: 9999-01-01T00:00:00Z is outside"},
		{"start at Unix time 0", time.Unix(0, 0), time.Time{}, "alert x: startsAt: 1970-01-01T00:00:00Z is Unix time 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Update(ctx, func(tx bot.Tx) error { return tx.SaveGroup(group(tc.name, tc.start, tc.end)) })
			if bot.ErrorCode(err) != bot.EInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want invalid containing %q", err, tc.want)
			}
			err = db.View(ctx, func(tx bot.Tx) error { _, err := tx.LatestGroup(tc.name); return err })
			if bot.ErrorCode(err) != bot.ENotFound {
				t.Errorf("refused group was stored (err %v)", err)
			}
		})
	}
	g := group("edges", bot.MinTime, bot.MaxTime)
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.SaveGroup(g) }); err != nil {
		t.Fatal(err)
	}
	var got *bot.Group
	if err := db.View(ctx, func(tx bot.Tx) (err error) { got, err = tx.LatestGroup("edges"); return err }); err != nil {
		t.Fatal(err)
	}
	if a := got.Alerts[1]; !a.StartsAt.Equal(bot.MinTime) || !a.EndsAt.Equal(bot.MaxTime) {
		t.Errorf("edges came back as %v – %v, want %v – %v", a.StartsAt, a.EndsAt, bot.MinTime, bot.MaxTime)
	}
}
