package calendar_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/store"
)

func calZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := bot.LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseCron(t *testing.T) {
	tests := []struct {
		name, expr, tz string
		wantErr        string // substring of the user-facing message; "" for success
	}{
		{"weekday name", "0 10 * * MON", "Europe/Berlin", ""},
		{"descriptor", "@weekly", "", ""},
		{"every", "@every 2h", "", ""},
		{"extra spaces", "  0  10 * *   MON ", "UTC", ""},
		{"four fields", "0 10 * *", "", "has 4 fields, cron needs exactly 5"},
		{"six fields", "0 0 10 * * MON", "", "has 6 fields"},
		{"minute out of range", "61 * * * *", "", "out of range"},
		{"not a number", "x 10 * * *", "", "not a number"},
		{"never runs", "0 0 30 2 *", "", "never runs"},
		{"too often", "@every 10s", "", "more often than once a minute"},
		{"unknown descriptor", "@fortnightly", "", "unknown shortcut @fortnightly"},
		{"zone in expression", "CRON_TZ=UTC 0 10 * * *", "", "give the time zone separately"},
		{"unknown zone", "0 10 * * *", "Mars/Olympus_Mons", "time zone \"Mars/Olympus_Mons\" is unknown"},
		{"empty", " ", "", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := bot.ParseCron(tc.expr, tc.tz)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseCron(%q): %v", tc.expr, err)
				}
				if n := c.NextN(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 3); len(n) != 3 {
					t.Errorf("next runs: %v", n)
				}
				return
			}
			if bot.ErrorCode(err) != bot.EInvalid || !strings.Contains(bot.ErrorMessage(err), tc.wantErr) {
				t.Fatalf("ParseCron(%q, %q) = %v; want an invalid error containing %q", tc.expr, tc.tz, err, tc.wantErr)
			}
			if tc.name != "unknown zone" && tc.name != "zone in expression" && !strings.Contains(bot.ErrorMessage(err), "0 10 * * MON") &&
				tc.name != "never runs" && tc.name != "too often" {
				t.Errorf("message %q does not say what to write instead", bot.ErrorMessage(err))
			}
		})
	}
}

func TestCronKeepsLocalTimeAcrossDST(t *testing.T) {
	berlin := calZone(t, "Europe/Berlin")
	c, err := bot.ParseCron("0 10 * * *", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Europe's clocks go forward on Sunday 29 March 2026 and back on 25 October.
	got := c.NextN(time.Date(2026, 3, 27, 12, 0, 0, 0, berlin), 3)
	want := []time.Time{
		time.Date(2026, 3, 28, 9, 0, 0, 0, time.UTC), // 10:00 CET
		time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC), // 10:00 CEST
		time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC),
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("run %d = %s, want %s", i, got[i].UTC(), want[i])
		}
	}
}

func TestPlanRuns(t *testing.T) {
	c, err := bot.ParseCron("0 10 * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	grace := time.Hour
	tests := []struct {
		name        string
		nextAt, now time.Time
		fire        time.Time
		skipped     int
		next        time.Time
		late        bool
	}{
		{"not due", day(2, 10, 0), day(2, 9, 59), time.Time{}, 0, day(2, 10, 0), false},
		{"on time", day(2, 10, 0), day(2, 10, 0).Add(2 * time.Second), day(2, 10, 0), 0, day(3, 10, 0), false},
		{"late within grace", day(2, 10, 0), day(2, 10, 50), day(2, 10, 0), 0, day(3, 10, 0), true},
		{"exactly the grace", day(2, 10, 0), day(2, 11, 0), day(2, 10, 0), 0, day(3, 10, 0), true},
		{"beyond grace", day(2, 10, 0), day(2, 11, 1), time.Time{}, 1, day(3, 10, 0), false},
		{"days down, back within grace", day(2, 10, 0), day(5, 10, 30), day(5, 10, 0), 3, day(6, 10, 0), true},
		{"days down, back beyond grace", day(2, 10, 0), day(5, 12, 0), time.Time{}, 4, day(6, 10, 0), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := calendar.PlanRuns(c, tc.nextAt, tc.now, grace)
			if !p.Fire.Equal(tc.fire) || p.Skipped != tc.skipped || !p.Next.Equal(tc.next) || p.CatchingUp != tc.late {
				t.Errorf("plan = fire %s skipped %d next %s late %v; want fire %s skipped %d next %s late %v",
					p.Fire, p.Skipped, p.Next, p.CatchingUp, tc.fire, tc.skipped, tc.next, tc.late)
			}
		})
	}
}

// calLog collects log output for assertions.
type calLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *calLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *calLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// calMessages returns the queued messages of a kind.
func calMessages(t *testing.T, db *store.DB, kind string) []bot.Outgoing {
	t.Helper()
	var out []bot.Outgoing
	err := db.Calendar().View(context.Background(), func(tx calendar.Tx) error {
		all, err := bottest.DueMessages(tx, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
		for _, m := range all {
			if m.Kind == kind {
				out = append(out, m)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// calEngine is a Klaxon process: a database and an engine running the job.
type calEngine struct {
	db     *store.DB
	engine *bot.Engine
}

func startCal(t *testing.T, path string, clock bot.Clock, jobs ...bot.Job) *calEngine {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		switch j := j.(type) {
		case *calendar.Reminders:
			j.Store = db.Calendar()
		case *calendar.SLOs:
			j.Store = db.Calendar()
		case *calendar.Reports:
			j.Store = db.Calendar()
		case *calendar.Backups:
			j.Store, j.Backuper = db.Calendar(), db
		}
	}
	e := &bot.Engine{Store: db, Policy: &bot.Policy{}, Clock: clock, Jobs: jobs, Log: slog.New(slog.DiscardHandler)}
	return &calEngine{db: db, engine: e}
}

func (c *calEngine) cycle(t *testing.T) {
	t.Helper()
	if err := c.engine.Cycle(context.Background()); err != nil {
		t.Fatalf("engine cycle: %v", err)
	}
}

func TestRemindersFireOnceAcrossRestartsAndDowntime(t *testing.T) {
	berlin := calZone(t, "Europe/Berlin")
	path := filepath.Join(t.TempDir(), "k.db")
	clock := bot.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, berlin)) // a Monday
	logs := &calLog{}
	configured := []calendar.Reminder{{Name: "restore-test", Cron: "0 10 * * MON", TimeZone: "Europe/Berlin", ChannelID: "700",
		Message: "Weekly restore test", Roles: []string{"900"}}}
	start := func() *calEngine {
		rs := &calendar.Reminders{Configured: configured, Grace: time.Hour, Log: slog.New(slog.NewTextHandler(logs, nil))}
		return startCal(t, path, clock, rs)
	}
	count := func(k *calEngine) int { return len(calMessages(t, k.db, "reminder")) }

	k := start()
	k.cycle(t)
	if n := count(k); n != 0 {
		t.Fatalf("%d reminders before the first run", n)
	}
	clock.Set(time.Date(2026, 3, 2, 10, 0, 1, 0, berlin))
	k.cycle(t)
	k.cycle(t)
	msgs := calMessages(t, k.db, "reminder")
	if len(msgs) != 1 {
		t.Fatalf("after the first run: %d messages, want 1", len(msgs))
	}
	if m := msgs[0]; m.ChannelID != "700" || !strings.Contains(m.Message.Content, bot.RoleRef("900")) ||
		len(m.Message.Mentions.Roles) != 1 || !strings.Contains(m.Message.Content, "Weekly restore test") {
		t.Errorf("reminder message: %+v", m)
	}

	// A restart a few seconds later must not fire it again.
	k.db.Close()
	clock.Advance(5 * time.Second)
	k = start()
	k.cycle(t)
	if n := count(k); n != 1 {
		t.Fatalf("after a restart: %d messages, want 1", n)
	}

	// Down across the next run, back 40 minutes late: it fires once, late.
	k.db.Close()
	clock.Set(time.Date(2026, 3, 9, 10, 40, 0, 0, berlin))
	k = start()
	k.cycle(t)
	k.cycle(t)
	msgs = calMessages(t, k.db, "reminder")
	if len(msgs) != 2 {
		t.Fatalf("back within grace: %d messages, want 2", len(msgs))
	}
	if !strings.Contains(msgs[1].Message.Footer, "sent late") {
		t.Errorf("a late reminder should say so: %q", msgs[1].Message.Footer)
	}

	// Down for two weeks, back two hours after the last run: both skipped, logged.
	k.db.Close()
	clock.Set(time.Date(2026, 3, 23, 12, 0, 0, 0, berlin))
	k = start()
	k.cycle(t)
	if n := count(k); n != 2 {
		t.Fatalf("back beyond grace: %d messages, want still 2", n)
	}
	if !strings.Contains(logs.String(), "reminder runs skipped") || !strings.Contains(logs.String(), "skipped=2") {
		t.Errorf("skipped runs not logged: %s", logs.String())
	}
	var r *calendar.Reminder
	var runs []calendar.Run
	k.db.Calendar().View(context.Background(), func(tx calendar.Tx) (err error) {
		if r, err = tx.Reminder("restore-test"); err != nil {
			return err
		}
		runs, err = tx.Runs(r.Job(), 10)
		return err
	})
	if len(runs) != 3 || runs[0].Status != calendar.RunSkipped || runs[0].Skipped != 2 || runs[1].Status != calendar.RunFired {
		t.Errorf("run record: %+v", runs)
	}
	// The next run is 10:00 local after the switch to summer time.
	if want := time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC); !r.NextAt.Equal(want) {
		t.Errorf("next run %s, want %s", r.NextAt.UTC(), want)
	}
	k.db.Close()
}

func TestReminderOperations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := bot.NewFakeClock(now)
	rs := &calendar.Reminders{TimeZone: "UTC", Configured: []calendar.Reminder{{Name: "sre-review", Cron: "0 16 * * FRI", ChannelID: "700", Message: "Weekly SRE review"}}}
	k := startCal(t, path, clock, rs)
	defer k.db.Close()
	k.cycle(t)

	_, _, err := rs.Add(ctx, calendar.Reminder{Name: "dr", Cron: "0 14 1 *", ChannelID: "701", Message: "DR"}, now)
	if bot.ErrorCode(err) != bot.EInvalid || !strings.Contains(bot.ErrorMessage(err), "4 fields") {
		t.Fatalf("bad cron: %v", err)
	}
	r, next, err := rs.Add(ctx, calendar.Reminder{Name: "DR-Exercise", Cron: "0 14 1 * *", ChannelID: "701", Message: "Monthly DR exercise", CreatedBy: "42"}, now)
	if err != nil {
		t.Fatal(err)
	}
	wantNext := []time.Time{time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 14, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 14, 0, 0, 0, time.UTC)}
	if r.Name != "dr-exercise" || len(next) != 3 || !next[0].Equal(wantNext[0]) || !next[2].Equal(wantNext[2]) {
		t.Errorf("added %+v, next %v", r, next)
	}
	if _, _, err := rs.Add(ctx, calendar.Reminder{Name: "dr-exercise", Cron: "@daily", ChannelID: "701", Message: "x"}, now); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("duplicate name: %v", err)
	}
	if err := rs.Remove(ctx, "sre-review"); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("removing a configured reminder: %v", err)
	}
	if _, _, err := rs.SetPaused(ctx, "dr-exercise", true, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rs.SetPaused(ctx, "dr-exercise", true, now); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("pausing twice: %v", err)
	}
	// Paused across its run: nothing fires; resuming does not make it up.
	clock.Set(time.Date(2026, 4, 1, 14, 0, 30, 0, time.UTC))
	k.cycle(t)
	if n := len(calMessages(t, k.db, "reminder")); n != 0 {
		t.Errorf("a paused reminder fired: %d", n)
	}
	_, next, err = rs.SetPaused(ctx, "dr-exercise", false, clock.Now())
	if err != nil || !next[0].Equal(wantNext[1]) {
		t.Errorf("resume: next %v, %v", next, err)
	}
	k.cycle(t)
	if n := len(calMessages(t, k.db, "reminder")); n != 0 {
		t.Errorf("resuming made up a run: %d", n)
	}
	list, err := rs.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "dr-exercise" || list[1].Source != calendar.FromConfig {
		t.Errorf("list: %+v, %v", list, err)
	}
	if err := rs.Remove(ctx, "dr-exercise"); err != nil {
		t.Fatal(err)
	}
	if err := rs.Remove(ctx, "dr-exercise"); bot.ErrorCode(err) != bot.ENotFound {
		t.Errorf("removing twice: %v", err)
	}

	// Changing a configured reminder's schedule recomputes its next run; removing it from the file deletes it.
	rs2 := &calendar.Reminders{Store: k.db.Calendar(), Configured: []calendar.Reminder{{Name: "sre-review", Cron: "0 15 * * THU", ChannelID: "700", Message: "Weekly SRE review"}}}
	if err := rs2.Sync(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	list, _ = rs2.List(ctx)
	if len(list) != 1 || list[0].Cron != "0 15 * * THU" || !list[0].NextAt.Equal(time.Date(2026, 4, 2, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("after a schedule change: %+v", list)
	}
	if err := (&calendar.Reminders{Store: k.db.Calendar()}).Sync(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if list, _ = rs2.List(ctx); len(list) != 0 {
		t.Errorf("a reminder removed from the configuration stays: %+v", list)
	}
}

func TestDefaultRemindersAreValid(t *testing.T) {
	rs := calendar.DefaultReminders("700", "900")
	if len(rs) != 5 {
		t.Fatalf("%d defaults", len(rs))
	}
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
}
