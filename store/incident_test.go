package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

func TestIncidentRoundTripAndTimeline(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	g := &bot.Group{Key: "k", Status: bot.Firing, CreatedAt: now, UpdatedAt: now, Version: 1}
	inc := &bot.Incident{Title: "EU game servers down", Priority: bot.P0, Services: []string{"game"}, Status: bot.Investigating,
		Roles: map[string]string{"commander": "501"}, ThreadID: "9001", StartedAt: now, DetectedAt: now}
	err := db.Incident().Update(ctx, func(tx incident.Tx) error {
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		inc.GroupIDs = []int64{g.ID}
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		for i, kind := range []string{"declared", "note"} {
			if err := tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: now.Add(time.Duration(i) * time.Minute), Kind: kind,
				Actor: bot.Actor{UserID: "501", Name: "ana", Via: "command"}, Text: kind}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Incident().View(ctx, func(tx incident.Tx) error {
		for name, get := range map[string]func() (*bot.Incident, error){
			"by id":     func() (*bot.Incident, error) { return tx.Incident(inc.ID) },
			"by thread": func() (*bot.Incident, error) { return tx.IncidentByThread("9001") },
			"by group":  func() (*bot.Incident, error) { return tx.IncidentOfGroup(g.ID) },
		} {
			got, err := get()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if got.Ref() != inc.Ref() || got.Roles["commander"] != "501" || len(got.GroupIDs) != 1 || got.Services[0] != "game" {
				t.Errorf("%s: got %+v", name, got)
			}
		}
		open, err := tx.Incidents(true, 10)
		if err != nil || len(open) != 1 {
			t.Errorf("open incidents: %d, %v", len(open), err)
		}
		tl, err := tx.Timeline(inc.ID)
		if err != nil || len(tl) != 2 || tl[0].Kind != "declared" || tl[1].Actor.Name != "ana" {
			t.Errorf("timeline: %+v, %v", tl, err)
		}
		if _, err := tx.IncidentByThread("nope"); bot.ErrorCode(err) != bot.ENotFound {
			t.Errorf("unknown thread: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
