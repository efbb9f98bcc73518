package paging_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

func hoUTC(m time.Month, d, hh, mm int) time.Time {
	return time.Date(2026, m, d, hh, mm, 0, 0, time.UTC)
}

// hoSchedule rotates users 1, 2, 3 daily at 09:00 UTC from 2026-03-02 and
// announces in channel 777.
func hoSchedule() *paging.Schedule {
	return &paging.Schedule{Name: "primary", TimeZone: time.UTC, Rotation: paging.Daily, Handoff: paging.TimeOfDay{Hour: 9},
		Start: hoUTC(3, 2, 0, 0), Participants: []string{"1", "2", "3"}, AnnounceChannel: "777"}
}

type hoEnv struct {
	t     *testing.T
	path  string
	db    *store.DB
	job   *paging.HandoffJob
	clock *bot.FakeClock
	seen  int // messages already checked
}

func newHoEnv(t *testing.T, start time.Time, schedules ...*paging.Schedule) *hoEnv {
	e := &hoEnv{t: t, path: filepath.Join(t.TempDir(), "k.db"), clock: bot.NewFakeClock(start)}
	e.restart(schedules...)
	t.Cleanup(func() { e.db.Close() })
	return e
}

// restart simulates a process restart: the database is reopened and a new
// job built.
func (e *hoEnv) restart(schedules ...*paging.Schedule) {
	e.t.Helper()
	if e.db != nil {
		e.db.Close()
	}
	db, err := store.Open(context.Background(), e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.job = &paging.HandoffJob{Store: db.Paging(), Schedules: paging.NewLiveSchedules(schedules)}
}

// run runs the job at the clock's time and returns the messages it queued.
func (e *hoEnv) run() []bot.Outgoing {
	e.t.Helper()
	if err := e.job.Run(context.Background(), e.clock.Now()); err != nil {
		e.t.Fatalf("run at %s: %v", e.clock.Now(), err)
	}
	var all []bot.Outgoing
	if err := e.db.View(context.Background(), func(tx bot.Tx) (err error) {
		all, err = bottest.DueMessages(tx, hoUTC(12, 31, 0, 0), 1000)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b bot.Outgoing) int { return int(a.ID - b.ID) })
	out := all[e.seen:]
	e.seen = len(all)
	return out
}

type wantAnnouncement struct {
	user, prev string
	until      time.Time // zero: until further notice
}

func (e *hoEnv) expect(step string, got []bot.Outgoing, want ...wantAnnouncement) {
	e.t.Helper()
	if len(got) != len(want) {
		var texts []string
		for _, m := range got {
			texts = append(texts, m.Message.Content)
		}
		e.t.Fatalf("%s: %d messages queued, want %d: %q", step, len(got), len(want), texts)
	}
	for i, w := range want {
		m := got[i]
		if m.Kind != "handoff" || m.ChannelID != "777" || m.UserID != "" {
			e.t.Errorf("%s: message %+v", step, m)
		}
		c := m.Message.Content
		if w.user == "" {
			if !strings.Contains(c, "nobody holds the pager for *primary*") || len(m.Message.Mentions.Users) != 0 {
				e.t.Errorf("%s: want a gap warning pinging nobody, got %q %+v", step, c, m.Message.Mentions)
			}
		} else {
			head := "📟 On-call handoff — " + bot.UserRef(w.user) + " now holds the pager for *primary* "
			if !strings.HasPrefix(c, head) {
				e.t.Errorf("%s: content %q, want prefix %q", step, c, head)
			}
			if !slices.Equal(m.Message.Mentions.Users, []string{w.user}) || len(m.Message.Mentions.Roles) != 0 {
				e.t.Errorf("%s: mentions %+v, want only user %s", step, m.Message.Mentions, w.user)
			}
		}
		until := "until further notice"
		if !w.until.IsZero() {
			until = "until " + bot.TimeRef(w.until, bot.TimeFull)
		}
		if !strings.Contains(c, until) {
			e.t.Errorf("%s: content %q lacks %q", step, c, until)
		}
		if w.prev == "" {
			if strings.Contains(c, "previous") {
				e.t.Errorf("%s: content %q names a previous holder", step, c)
			}
		} else if !strings.HasSuffix(c, "; previous: "+bot.UserRef(w.prev)) {
			e.t.Errorf("%s: content %q, want previous %s", step, c, w.prev)
		}
	}
}

func (e *hoEnv) addOverride(o paging.Override) {
	e.t.Helper()
	o.Schedule, o.CreatedBy, o.CreatedAt = "primary", "900", e.clock.Now()
	if err := e.db.Paging().Update(context.Background(), func(tx paging.Tx) error { return tx.AddOverride(&o) }); err != nil {
		e.t.Fatal(err)
	}
}

func TestHandoffJobAnnouncesEachHandoffOnce(t *testing.T) {
	e := newHoEnv(t, hoUTC(3, 2, 9, 30), hoSchedule())

	e.expect("first run", e.run(), wantAnnouncement{user: "1", until: hoUTC(3, 3, 9, 0)})
	e.expect("same cycle again", e.run())
	e.clock.Advance(2 * time.Second)
	e.expect("next cycle", e.run())
	e.clock.Set(hoUTC(3, 3, 9, 0).Add(-time.Nanosecond))
	e.expect("just before the handoff", e.run())

	e.clock.Set(hoUTC(3, 3, 9, 0))
	e.expect("at the handoff", e.run(), wantAnnouncement{user: "2", prev: "1", until: hoUTC(3, 4, 9, 0)})
	e.expect("at the handoff, again", e.run())

	e.restart(hoSchedule())
	e.clock.Advance(time.Hour)
	e.expect("after a restart", e.run())

	// Three days down: only the current holder is announced.
	e.restart(hoSchedule())
	e.clock.Set(hoUTC(3, 7, 10, 0))
	e.expect("after downtime", e.run(), wantAnnouncement{user: "3", prev: "2", until: hoUTC(3, 8, 9, 0)})
	e.expect("after downtime, again", e.run())

	// An override is a handoff too, and so is its end.
	e.addOverride(paging.Override{UserID: "9", Start: hoUTC(3, 7, 12, 0), End: hoUTC(3, 7, 14, 0), Reason: "lunch"})
	e.clock.Set(hoUTC(3, 7, 11, 59))
	e.expect("before the override", e.run())
	e.clock.Set(hoUTC(3, 7, 12, 0))
	e.expect("override starts", e.run(), wantAnnouncement{user: "9", prev: "3", until: hoUTC(3, 7, 14, 0)})
	e.clock.Set(hoUTC(3, 7, 14, 0))
	e.expect("override ends", e.run(), wantAnnouncement{user: "3", prev: "9", until: hoUTC(3, 8, 9, 0)})

	// An override that runs into the holder's own shift is one holding.
	e.addOverride(paging.Override{UserID: "1", Start: hoUTC(3, 8, 6, 0), End: hoUTC(3, 8, 9, 0)})
	e.clock.Set(hoUTC(3, 8, 6, 0))
	e.expect("next holder takes over early", e.run(), wantAnnouncement{user: "1", prev: "3", until: hoUTC(3, 9, 9, 0)})
	e.clock.Set(hoUTC(3, 8, 9, 0))
	e.expect("their own shift starts", e.run())

	// An override by the current holder over their own shift changes nothing.
	e.addOverride(paging.Override{UserID: "1", Start: hoUTC(3, 8, 12, 0), End: hoUTC(3, 8, 13, 0)})
	e.clock.Set(hoUTC(3, 8, 12, 30))
	e.expect("override by the holder", e.run())

	// Removing an override in force hands the pager back.
	e.addOverride(paging.Override{UserID: "8", Start: hoUTC(3, 8, 15, 0), End: hoUTC(3, 8, 18, 0)})
	e.clock.Set(hoUTC(3, 8, 15, 0))
	e.expect("override 8 starts", e.run(), wantAnnouncement{user: "8", prev: "1", until: hoUTC(3, 8, 18, 0)})
	var ovs []paging.Override
	if err := e.db.Paging().View(context.Background(), func(tx paging.Tx) (err error) {
		ovs, err = tx.Overrides("primary", hoUTC(3, 8, 15, 0), hoUTC(3, 8, 15, 1))
		return err
	}); err != nil || len(ovs) != 1 {
		t.Fatalf("overrides: %v %v", ovs, err)
	}
	if err := e.db.Paging().Update(context.Background(), func(tx paging.Tx) error { return tx.RemoveOverride(ovs[0].ID) }); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(hoUTC(3, 8, 16, 0))
	e.expect("override removed", e.run(), wantAnnouncement{user: "1", prev: "8", until: hoUTC(3, 9, 9, 0)})
}

func TestHandoffJobSameHolderAfterDowntime(t *testing.T) {
	e := newHoEnv(t, hoUTC(3, 3, 10, 0), hoSchedule())
	e.expect("first run", e.run(), wantAnnouncement{user: "2", prev: "1", until: hoUTC(3, 4, 9, 0)})
	// Down for three days; user 2 holds the pager again: their last
	// announcement ended long ago, so they are told again.
	e.restart(hoSchedule())
	e.clock.Set(hoUTC(3, 6, 10, 0))
	e.expect("after downtime", e.run(), wantAnnouncement{user: "2", prev: "1", until: hoUTC(3, 7, 9, 0)})
}

func TestHandoffJobSchedules(t *testing.T) {
	quiet := hoSchedule()
	quiet.Name, quiet.AnnounceChannel = "quiet", ""
	single := hoSchedule()
	single.Participants = []string{"5"}
	e := newHoEnv(t, hoUTC(3, 2, 9, 0), quiet, single)
	e.expect("single participant", e.run(), wantAnnouncement{user: "5"}) // until further notice
	e.clock.Set(hoUTC(3, 3, 9, 0))
	e.expect("single participant, next day", e.run())

	empty := hoSchedule()
	empty.Participants = nil
	e2 := newHoEnv(t, hoUTC(3, 2, 9, 0), empty)
	e2.addOverride(paging.Override{UserID: "9", Start: hoUTC(3, 2, 12, 0), End: hoUTC(3, 2, 14, 0)})
	e2.expect("nobody on call", e2.run(), wantAnnouncement{until: hoUTC(3, 2, 12, 0)})
	e2.clock.Set(hoUTC(3, 2, 12, 0))
	e2.expect("override covers", e2.run(), wantAnnouncement{user: "9", until: hoUTC(3, 2, 14, 0)})
	e2.clock.Set(hoUTC(3, 2, 14, 0))
	e2.expect("gap again", e2.run(), wantAnnouncement{prev: "9"})
}
