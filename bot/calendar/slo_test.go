package calendar_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/store"
)

func TestMonthOf(t *testing.T) {
	berlin := calZone(t, "Europe/Berlin")
	tests := []struct {
		name       string
		t          time.Time
		loc        *time.Location
		start, end time.Time
		period     time.Duration
	}{
		{"UTC March", time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC), time.UTC,
			time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 744 * time.Hour},
		{"an instant in UTC March is April in Berlin", time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC), berlin,
			time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), time.Date(2026, 4, 30, 22, 0, 0, 0, time.UTC), 720 * time.Hour},
		{"Berlin March loses an hour to summer time", time.Date(2026, 3, 15, 0, 0, 0, 0, berlin), berlin,
			time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), 743 * time.Hour},
		{"Berlin October gains an hour", time.Date(2026, 10, 15, 0, 0, 0, 0, berlin), berlin,
			time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC), time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), 745 * time.Hour},
		{"leap February", time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), time.UTC,
			time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), 29 * 24 * time.Hour},
		{"December to January", time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), time.UTC,
			time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 744 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, e := bot.MonthOf(tc.t, tc.loc)
			if !s.Equal(tc.start) || !e.Equal(tc.end) || e.Sub(s) != tc.period {
				t.Errorf("MonthOf = [%s, %s) %s; want [%s, %s) %s", s.UTC(), e.UTC(), e.Sub(s), tc.start, tc.end, tc.period)
			}
		})
	}
}

func TestComputeBudget(t *testing.T) {
	berlin := calZone(t, "Europe/Berlin")
	utc := func(mo time.Month, d, h, mi int) time.Time { return time.Date(2026, mo, d, h, mi, 0, 0, time.UTC) }
	web := bot.SLO{Service: "web", Availability: 0.999}
	db := bot.SLO{Service: "database", Availability: 0.9999}
	out := func(p bot.Priority, s, e time.Time) calendar.Outage {
		return calendar.Outage{Service: "web", Priority: p, Start: s, End: e}
	}
	min := func(f float64) time.Duration { return time.Duration(f * float64(time.Minute)) }
	tests := []struct {
		name      string
		slo       bot.SLO
		loc       *time.Location
		month     time.Time
		now       time.Time
		outages   []calendar.Outage
		allowed   time.Duration
		spent     time.Duration
		burn      float64
		exhausts  time.Time
		exhausted bool
	}{
		{"30-day month, P0 half an hour, halfway", web, time.UTC, utc(4, 10, 0, 0), utc(4, 16, 0, 0),
			[]calendar.Outage{out(bot.P0, utc(4, 3, 10, 0), utc(4, 3, 10, 30))},
			min(43.2), 30 * time.Minute, (30 / 43.2) / 0.5, utc(4, 22, 14, 24), false},
		{"31-day month", web, time.UTC, utc(3, 10, 0, 0), utc(4, 1, 0, 0), nil,
			min(44.64), 0, 0, time.Time{}, false},
		{"leap February", web, time.UTC, time.Date(2028, 2, 10, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 5, 0, 0, 0, 0, time.UTC), nil,
			min(41.76), 0, 0, time.Time{}, false},
		{"an outage across the month start counts its part inside", web, time.UTC, utc(4, 10, 0, 0), utc(4, 16, 0, 0),
			[]calendar.Outage{out(bot.P0, utc(3, 31, 23, 0), utc(4, 1, 1, 0))},
			min(43.2), time.Hour, (60 / 43.2) / 0.5, utc(4, 1, 0, 43).Add(12 * time.Second), true},
		{"the same outage in Berlin belongs wholly to April", web, berlin, utc(4, 10, 0, 0), utc(4, 15, 22, 0),
			[]calendar.Outage{out(bot.P0, utc(3, 31, 21, 30), utc(3, 31, 21, 50)), out(bot.P0, utc(3, 31, 22, 0), utc(3, 31, 22, 10))},
			min(43.2), 10 * time.Minute, (10 / 43.2) / 0.5, time.Time{}, false},
		{"Berlin March: 743 hours of budget", web, berlin, utc(3, 10, 0, 0), utc(4, 10, 0, 0), nil,
			min(44.58), 0, 0, time.Time{}, false},
		{"P1 counts half, P3 not at all", web, time.UTC, utc(4, 10, 0, 0), utc(4, 16, 0, 0),
			[]calendar.Outage{out(bot.P1, utc(4, 2, 0, 0), utc(4, 2, 0, 40)), out(bot.P3, utc(4, 5, 0, 0), utc(4, 5, 5, 0))},
			min(43.2), 20 * time.Minute, (20 / 43.2) / 0.5, time.Time{}, false},
		{"overlaps count once at the heaviest weight", web, time.UTC, utc(4, 10, 0, 0), utc(4, 16, 0, 0),
			[]calendar.Outage{out(bot.P0, utc(4, 2, 10, 0), utc(4, 2, 10, 30)), out(bot.P2, utc(4, 2, 10, 15), utc(4, 2, 11, 15)),
				out(bot.P0, utc(4, 2, 10, 5), utc(4, 2, 10, 25))},
			min(43.2), min(30 + 11.25), (41.25 / 43.2) / 0.5, utc(4, 16, 17, 1).Add(5454 * time.Millisecond), false},
		{"an ongoing outage counts until now", web, time.UTC, utc(4, 10, 0, 0), utc(4, 16, 0, 20),
			[]calendar.Outage{out(bot.P0, utc(4, 16, 0, 0), time.Time{})},
			min(43.2), 20 * time.Minute, 0, time.Time{}, false},
		{"exhausted: when it ran out", db, time.UTC, utc(4, 10, 0, 0), utc(4, 16, 0, 0),
			[]calendar.Outage{out(bot.P0, utc(4, 3, 10, 0), utc(4, 3, 10, 10))},
			min(4.32), 10 * time.Minute, (10 / 4.32) / 0.5, utc(4, 3, 10, 4).Add(19200 * time.Millisecond), true},
		{"after the month: the whole month counts", web, time.UTC, utc(4, 10, 0, 0), utc(5, 20, 0, 0),
			[]calendar.Outage{out(bot.P0, utc(4, 30, 23, 50), utc(5, 1, 0, 30))},
			min(43.2), 10 * time.Minute, 10 / 43.2, time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end := bot.MonthOf(tc.month, tc.loc)
			b := calendar.ComputeBudget(tc.slo, tc.outages, calendar.DefaultDowntimeWeights(), start, end, tc.now)
			if d := b.Allowed - tc.allowed; d < -time.Second || d > time.Second {
				t.Errorf("allowed %s, want %s", b.Allowed, tc.allowed)
			}
			if b.Spent != tc.spent {
				t.Errorf("spent %s, want %s", b.Spent, tc.spent)
			}
			if tc.name != "an ongoing outage counts until now" && math.Abs(b.BurnRate-tc.burn) > 1e-6 {
				t.Errorf("burn rate %.6f, want %.6f", b.BurnRate, tc.burn)
			}
			if b.Exhausted != tc.exhausted {
				t.Errorf("exhausted %v, want %v", b.Exhausted, tc.exhausted)
			}
			switch {
			case tc.exhausts.IsZero():
				if !b.ExhaustsAt.IsZero() && tc.name != "an ongoing outage counts until now" {
					t.Errorf("exhausts at %s, want not this month", b.ExhaustsAt.UTC())
				}
			default:
				if d := b.ExhaustsAt.Sub(tc.exhausts); d < -time.Second || d > time.Second {
					t.Errorf("exhausts at %s, want %s", b.ExhaustsAt.UTC(), tc.exhausts)
				}
			}
			if wantAvail := 1 - float64(b.Spent)/float64(b.Elapsed); b.Elapsed > 0 && math.Abs(b.Availability-wantAvail) > 1e-12 {
				t.Errorf("availability %v, want %v", b.Availability, wantAvail)
			}
		})
	}
}

func TestBudgetBurnIsCumulative(t *testing.T) {
	start, end := bot.MonthOf(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.UTC)
	b := calendar.ComputeBudget(bot.SLO{Service: "web", Availability: 0.999},
		[]calendar.Outage{{Priority: bot.P0, Start: start.Add(36 * time.Hour), End: start.Add(36*time.Hour + 21*time.Minute + 36*time.Second)}},
		calendar.DefaultDowntimeWeights(), start, end, start.Add(72*time.Hour))
	pts := b.Burn(24 * time.Hour)
	if len(pts) != 4 || pts[0].Spent != 0 || pts[1].Spent != 0 || math.Abs(pts[2].Spent-0.5) > 1e-9 || math.Abs(pts[3].Spent-0.5) > 1e-9 {
		t.Errorf("burn points %+v", pts)
	}
}

// calGroup stores a resolved (or, with a zero end, firing) alert group for a service.
func calGroup(t *testing.T, db *store.DB, name, service string, p bot.Priority, start, end time.Time, ack *bot.Action) *bot.Group {
	t.Helper()
	g := &bot.Group{Key: fmt.Sprintf("{}:{alertname=%q,start=%d}", name, start.UnixNano()), Receiver: "klaxon", Status: bot.Resolved,
		Priority: p, PrioritySource: "test", CommonLabels: map[string]string{"alertname": name}, CreatedAt: start, UpdatedAt: start,
		ResolvedAt: end, Version: 1, Ack: ack,
		Alerts: []bot.Alert{{Fingerprint: "f", Status: bot.Resolved, Labels: map[string]string{"alertname": name}, StartsAt: start, EndsAt: end}}}
	if service != "" {
		g.CommonLabels["service"] = service
	}
	if end.IsZero() {
		g.Status, g.Alerts[0].Status = bot.Firing, bot.Firing
	}
	if err := db.Calendar().Update(context.Background(), func(tx calendar.Tx) error { return tx.SaveGroup(g) }); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSLOWarningsPostedOncePerThresholdAndMonth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	april := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	clock := bot.NewFakeClock(april.Add(10 * 24 * time.Hour))
	pol := calendar.DefaultSLOPolicy()
	pol.Channel, pol.Mentions = "800", bot.Mentions{Roles: []string{"901"}}
	slos := &calendar.SLOs{Policy: pol}
	k := startCal(t, path, clock, slos)
	defer k.db.Close()
	warnings := func() []bot.Outgoing { return calMessages(t, k.db, "slo-warning") }
	step := func() { clock.Advance(time.Minute); k.cycle(t); k.cycle(t) }

	// web: 99.5 % of 30 days = 216 minutes. 120 P0 minutes leave 44 %.
	day := april.Add(2 * 24 * time.Hour)
	calGroup(t, k.db, "WebDown", "web", bot.P0, day, day.Add(120*time.Minute), nil)
	step()
	step()
	ws := warnings()
	if len(ws) != 1 || !strings.Contains(ws[0].Message.Content, "less than 50 % left") || !strings.Contains(ws[0].Message.Content, bot.RoleRef("901")) {
		t.Fatalf("after 56 %% spent: %+v", ws)
	}
	// Unrelated services and P3 alerts change nothing.
	calGroup(t, k.db, "Noise", "web", bot.P3, day.Add(3*time.Hour), day.Add(9*time.Hour), nil)
	calGroup(t, k.db, "Unrelated", "", bot.P0, day.Add(3*time.Hour), day.Add(9*time.Hour), nil)
	step()
	if n := len(warnings()); n != 1 {
		t.Fatalf("%d warnings after noise, want 1", n)
	}
	// 240 P1 minutes (120 weighted) exhaust it at once: one message, all thresholds recorded.
	calGroup(t, k.db, "WebSlow", "website", bot.P1, day.Add(10*time.Hour), day.Add(14*time.Hour), nil)
	step()
	step()
	ws = warnings()
	if len(ws) != 2 || !strings.Contains(ws[1].Message.Content, "exhausted") || ws[1].Message.Tone != bot.ToneAlarm {
		t.Fatalf("after exhaustion: %d warnings %+v", len(ws), ws)
	}
	// A restart (new job, same database) does not repeat them.
	slos2 := &calendar.SLOs{Policy: pol}
	k2 := startCal(t, path, clock, slos2)
	defer k2.db.Close()
	k2.cycle(t)
	if n := len(warnings()); n != 2 {
		t.Fatalf("%d warnings after a restart, want 2", n)
	}
	// A new month has a new budget: the same thresholds warn again.
	may := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	calGroup(t, k.db, "WebDown", "web", bot.P0, may, may.Add(200*time.Minute), nil)
	clock.Set(may.Add(24 * time.Hour))
	k2.cycle(t)
	ws = warnings()
	if len(ws) != 3 || !strings.Contains(ws[2].Message.Content, "May 2026") || !strings.Contains(ws[2].Message.Content, "less than 25 % left") {
		t.Fatalf("in May: %+v", ws)
	}
	budgets, err := slos2.Budgets(context.Background(), april, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if b := budgets[1]; b.SLO.Service != "web" || b.Spent != 240*time.Minute || !b.Exhausted || len(b.Outages) != 3 {
		t.Errorf("April web budget: spent %s exhausted %v outages %d", b.Spent, b.Exhausted, len(b.Outages))
	}
}

type fixedAvailability float64

func (f fixedAvailability) Availability(context.Context, bot.SLO, time.Time, time.Time) (float64, error) {
	if f < 0 {
		return 0, bot.Errorf(bot.EUnavailable, "Prometheus at x did not answer")
	}
	return float64(f), nil
}

func TestBudgetFromPrometheus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	april := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	now := april.Add(15 * 24 * time.Hour)
	pol := calendar.SLOPolicy{Services: []bot.SLO{{Service: "cdn", Availability: 0.999, Query: "avg_over_time(up[$window])"}}, Weights: calendar.DefaultDowntimeWeights()}
	for _, tc := range []struct {
		name   string
		q      fixedAvailability
		source string
		spent  time.Duration
	}{
		{"measured", 0.9995, "prometheus", time.Duration(0.0005 * float64(15*24*time.Hour))},
		{"query fails: the record", -1, "alerts", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &calendar.SLOs{Store: db.Calendar(), Policy: pol, Prometheus: tc.q}
			bs, err := s.Budgets(context.Background(), now, now)
			if err != nil {
				t.Fatal(err)
			}
			b := bs[0]
			if b.Source != tc.source || (b.Spent-tc.spent).Abs() > time.Millisecond {
				t.Errorf("source %s spent %s; want %s %s (note %q)", b.Source, b.Spent, tc.source, tc.spent, b.Note)
			}
			if tc.q < 0 && !strings.Contains(b.Note, "did not answer") {
				t.Errorf("note %q", b.Note)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{calendar.FormatPercent(0.999, 3), "99.9 %"},
		{calendar.FormatPercent(0.9999, 3), "99.99 %"},
		{calendar.FormatPercent(0.5, 0), "50 %"},
		{calendar.FormatDuration(43*time.Minute + 12*time.Second), "43 min"},
		{calendar.FormatDuration(4*time.Minute + 19*time.Second), "4 min 19 s"},
		{calendar.FormatDuration(125 * time.Minute), "2 h 5 min"},
		{calendar.FormatDuration(76 * time.Hour), "3 d 4 h"},
		{calendar.FormatDuration(100 * time.Millisecond), "100 ms"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestIncidentOutagesCountAgainstSLOs: an incident's affected services
// count against their SLOs from its start until it was mitigated (or
// resolved), weighted by its priority, through the real lifecycle on SQLite.
func TestIncidentOutagesCountAgainstSLOs(t *testing.T) {
	ctx := context.Background()
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := march.Add(30 * 24 * time.Hour) // 2026-03-31 00:00
	d := march.Add(4 * 24 * time.Hour)
	who := bot.Actor{UserID: "501", Via: "command"}
	type step struct {
		after time.Duration // from the declaration
		to    bot.IncidentStatus
	}
	tests := []struct {
		name      string
		p         bot.Priority
		services  []string
		at        time.Time
		steps     []step
		alert     [2]time.Time // an alert group on web as well (zero: none)
		wantSpent time.Duration
		wantOuts  int
	}{
		{name: "P0 counts from its start until mitigated", p: bot.P0, services: []string{"web"}, at: d,
			steps: []step{{30 * time.Minute, bot.Mitigated}, {time.Hour, bot.IncResolved}}, wantSpent: 30 * time.Minute, wantOuts: 1},
		{name: "resolved without mitigation counts until resolved", p: bot.P0, services: []string{"web"}, at: d,
			steps: []step{{40 * time.Minute, bot.IncResolved}}, wantSpent: 40 * time.Minute, wantOuts: 1},
		{name: "P2 counts a quarter", p: bot.P2, services: []string{"web"}, at: d,
			steps: []step{{time.Hour, bot.IncResolved}}, wantSpent: 15 * time.Minute, wantOuts: 1},
		{name: "P3 does not count", p: bot.P3, services: []string{"web"}, at: d,
			steps: []step{{time.Hour, bot.IncResolved}}, wantSpent: 0, wantOuts: 1},
		{name: "an open incident runs until now", p: bot.P1, services: []string{"web"}, at: now.Add(-2 * time.Hour),
			steps: []step{{10 * time.Minute, bot.Investigating}}, wantSpent: time.Hour, wantOuts: 1},
		{name: "still mitigated stops at the mitigation", p: bot.P0, services: []string{"web"}, at: now.Add(-3 * time.Hour),
			steps: []step{{time.Hour, bot.Mitigated}}, wantSpent: time.Hour, wantOuts: 1},
		{name: "reopened after a mitigation is ongoing again", p: bot.P0, services: []string{"web"}, at: now.Add(-3 * time.Hour),
			steps: []step{{time.Hour, bot.Mitigated}, {2 * time.Hour, bot.Investigating}}, wantSpent: 3 * time.Hour, wantOuts: 1},
		{name: "a service alias counts", p: bot.P0, services: []string{"website"}, at: d,
			steps: []step{{20 * time.Minute, bot.IncResolved}}, wantSpent: 20 * time.Minute, wantOuts: 1},
		{name: "another service does not count", p: bot.P0, services: []string{"database"}, at: d,
			steps: []step{{20 * time.Minute, bot.IncResolved}}, wantSpent: 0, wantOuts: 0},
		{name: "no affected services, nothing counts", p: bot.P0, at: d,
			steps: []step{{20 * time.Minute, bot.IncResolved}}, wantSpent: 0, wantOuts: 0},
		{name: "an overlapping alert on the service counts once", p: bot.P0, services: []string{"web"}, at: d,
			steps: []step{{30 * time.Minute, bot.IncResolved}}, alert: [2]time.Time{d.Add(10 * time.Minute), d.Add(40 * time.Minute)},
			wantSpent: 40 * time.Minute, wantOuts: 2},
		{name: "begun last month counts from the 1st", p: bot.P0, services: []string{"web"}, at: march.Add(-time.Hour),
			steps: []step{{2 * time.Hour, bot.IncResolved}}, wantSpent: time.Hour, wantOuts: 1},
		{name: "resolved before the month does not count", p: bot.P0, services: []string{"web"}, at: march.Add(-3 * time.Hour),
			steps: []step{{time.Hour, bot.IncResolved}}, wantSpent: 0, wantOuts: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newIncidents(t)
			inc, err := f.inc.Declare(ctx, incident.Declaration{Title: "web trouble", Priority: tc.p, Services: tc.services, Source: "command"}, who, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.steps {
				if _, err := f.inc.SetStatus(ctx, inc.ID, s.to, "", who, tc.at.Add(s.after)); err != nil {
					t.Fatalf("%s: %v", s.to, err)
				}
			}
			if !tc.alert[0].IsZero() {
				calGroup(t, f.db, "WebDown", "web", bot.P0, tc.alert[0], tc.alert[1], nil)
			}
			slos := &calendar.SLOs{Store: f.db.Calendar(), Policy: calendar.DefaultSLOPolicy(), Sources: []calendar.OutageSource{calendar.AlertOutages{}, calendar.IncidentOutages{}}}
			bs, err := slos.Budgets(ctx, now, now)
			if err != nil {
				t.Fatal(err)
			}
			var web calendar.Budget
			for _, b := range bs {
				if b.SLO.Service == "web" {
					web = b
				} else if b.Spent != 0 && !slices.Contains(tc.services, "database") {
					t.Errorf("%s spent %s", b.SLO.Service, b.Spent)
				}
			}
			if web.Spent != tc.wantSpent || len(web.Outages) != tc.wantOuts {
				t.Errorf("web spent %s with %d outage(s) %+v; want %s with %d", web.Spent, len(web.Outages), web.Outages, tc.wantSpent, tc.wantOuts)
			}
			if tc.wantOuts > 0 && !slices.ContainsFunc(web.Outages, func(o calendar.Outage) bool { return o.Ref == fmt.Sprintf("incident:%d", inc.ID) }) {
				t.Errorf("outages %+v do not name the incident", web.Outages)
			}
			// Without the incident source only the alert record counts.
			only := &calendar.SLOs{Store: f.db.Calendar(), Policy: calendar.DefaultSLOPolicy()}
			bs, err = only.Budgets(ctx, now, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				if b.SLO.Service == "web" && tc.alert[0].IsZero() && b.Spent != 0 {
					t.Errorf("alerts only: web spent %s, want 0", b.Spent)
				}
			}
		})
	}
}
