package heartbeat_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
)

func mustCron(t *testing.T, expr, tz string) *bot.Cron {
	t.Helper()
	c, err := bot.ParseCron(expr, tz)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var ok = heartbeat.Signal{Kind: heartbeat.Success}

// A period monitor: late one period plus grace after its last ping, and
// resolved by the next ping; the metrics follow.
func TestPeriodMonitorLateAndRecovered(t *testing.T) {
	m := heartbeat.Monitor{Name: "binlog-ship", Period: 5 * time.Minute, Grace: 2 * time.Minute, Priority: bot.P1, Runbook: "https://wiki.example/binlog"}
	r := newRig(t, t0, []heartbeat.Monitor{m}, nil)
	key := heartbeat.GroupKey("binlog-ship")
	r.run(t0)
	for i := 1; i <= 3; i++ {
		r.ping("binlog-ship", ok, t0.Add(time.Duration(i)*5*time.Minute))
		r.run(t0.Add(time.Duration(i)*5*time.Minute + time.Second))
	}
	last := t0.Add(15 * time.Minute)
	if got := testutil.ToFloat64(r.svc.Metrics.LastSeen.WithLabelValues("binlog-ship")); got != float64(last.Unix()) {
		t.Errorf("last seen = %v, want %d", got, last.Unix())
	}
	r.run(last.Add(7 * time.Minute))
	r.wantNoGroup(key, "at period + grace")
	r.run(last.Add(7*time.Minute + time.Second))
	g := r.wantStatus(key, bot.Firing, "after period + grace")
	if g.Priority != bot.P1 || g.Title() != heartbeat.AlertLate || g.Label("monitor") != "binlog-ship" ||
		!strings.Contains(g.Summary(), "binlog-ship is late") || g.CommonAnnotations["runbook_url"] != "https://wiki.example/binlog" {
		t.Errorf("late group: %s %s monitor=%q %q %v", g.Priority, g.Title(), g.Label("monitor"), g.Summary(), g.CommonAnnotations)
	}
	if !g.Alerts[0].StartsAt.Equal(last.Add(7 * time.Minute)) {
		t.Errorf("late since %s, want the deadline %s", g.Alerts[0].StartsAt, last.Add(7*time.Minute))
	}
	if got := testutil.ToFloat64(r.svc.Metrics.State.WithLabelValues("binlog-ship", "late")); got != 1 {
		t.Errorf("state{late} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(r.svc.Metrics.State.WithLabelValues("binlog-ship", "up")); got != 0 {
		t.Errorf("state{up} = %v, want 0", got)
	}
	r.run(last.Add(time.Hour))
	if g2 := r.group(key); g2.ID != g.ID || g2.Status != bot.Firing {
		t.Errorf("still late an hour later: group %d %s, want the same group %d firing", g2.ID, g2.Status, g.ID)
	}
	back := last.Add(61 * time.Minute)
	if st := r.ping("binlog-ship", ok, back); st.Status != heartbeat.Up {
		t.Errorf("status after the ping = %s", st.Status)
	}
	g = r.wantStatus(key, bot.Resolved, "after the next ping")
	if !g.ResolvedAt.Equal(back) {
		t.Errorf("resolved at %s, want %s", g.ResolvedAt, back)
	}
	r.run(back.Add(7 * time.Minute))
	r.wantStatus(key, bot.Resolved, "a period after recovering")
	r.run(back.Add(8 * time.Minute))
	if g2 := r.wantStatus(key, bot.Firing, "late again"); g2.ID == g.ID {
		t.Errorf("late again reused the resolved episode %d", g.ID)
	}
}

// A cron monitor in a time zone follows wall-clock time across a
// daylight-saving change: the daily 03:00 Europe/Berlin backup is expected
// 23 hours after the Saturday run when clocks spring forward on Sunday.
func TestCronMonitorAcrossDST(t *testing.T) {
	m := heartbeat.Monitor{Name: "backup-full", Cron: mustCron(t, "0 3 * * *", "Europe/Berlin"), Grace: 90 * time.Minute, Priority: bot.P1}
	berlin := m.Cron.Location
	sat := time.Date(2026, 3, 28, 3, 40, 0, 0, berlin) // CET, UTC+1
	r := newRig(t, sat.Add(-time.Hour), []heartbeat.Monitor{m}, nil)
	key := heartbeat.GroupKey("backup-full")
	r.run(sat.Add(-time.Hour))
	r.ping("backup-full", ok, sat)
	due := time.Date(2026, 3, 29, 3, 0, 0, 0, berlin).Add(90 * time.Minute) // Sunday 04:30 CEST = 02:30 UTC
	if want := time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC); !due.Equal(want) {
		t.Fatalf("test setup: due %s, want %s", due.UTC(), want)
	}
	r.run(due)
	r.wantNoGroup(key, "at 04:30 CEST on the DST Sunday")
	r.run(due.Add(time.Second))
	g := r.wantStatus(key, bot.Firing, "past 04:30 CEST (a 24h period would wait until 05:10 CEST)")
	if !strings.Contains(g.Summary(), "2026-03-29 03:00 CEST") {
		t.Errorf("summary %q does not name the expected run in Berlin time", g.Summary())
	}
	r.ping("backup-full", ok, due.Add(20*time.Minute))
	r.wantStatus(key, bot.Resolved, "after the late backup reported in")

	// Autumn: clocks go back on 25 October; 03:00 CET is 25 hours after 03:00 CEST.
	oct := time.Date(2026, 10, 24, 3, 10, 0, 0, berlin)
	r.ping("backup-full", ok, oct)
	due = time.Date(2026, 10, 25, 3, 0, 0, 0, berlin).Add(90 * time.Minute)
	if got := due.Sub(oct); got != 26*time.Hour+20*time.Minute { // 23h50m to 03:00, one hour gained, 1h30m grace
		t.Fatalf("test setup: %s between the pings", got)
	}
	r.run(due)
	if g2 := r.group(key); g2.Status != bot.Resolved {
		t.Fatalf("late before 04:30 CET on the autumn Sunday")
	}
	r.run(due.Add(time.Second))
	r.wantStatus(key, bot.Firing, "past 04:30 CET")
}

// /start then /fail raises a failure at once, with the exit code and the
// end of the log; a later success resolves it.
func TestStartFailRecovered(t *testing.T) {
	m := heartbeat.Monitor{Name: "backup-incr", Period: time.Hour, Grace: 15 * time.Minute, Priority: bot.P2, Description: "Hourly incremental backup"}
	r := newRig(t, t0, []heartbeat.Monitor{m}, nil)
	key := heartbeat.GroupKey("backup-incr")
	r.ping("backup-incr", heartbeat.Signal{Kind: heartbeat.Start}, t0.Add(time.Minute))
	log := strings.Repeat("copying chunk\n", 200) + "ERROR: disk full (ENOSPC)\n"
	st := r.ping("backup-incr", heartbeat.Signal{Kind: heartbeat.Fail, ExitCode: 3, Log: log}, t0.Add(4*time.Minute))
	if st.Status != heartbeat.Failed || st.LastDuration != 3*time.Minute || !st.RunningSince.IsZero() {
		t.Errorf("state after fail: %s duration %s running %s", st.Status, st.LastDuration, st.RunningSince)
	}
	g := r.wantStatus(key, bot.Firing, "after /fail")
	desc := g.CommonAnnotations["description"]
	if g.Title() != heartbeat.AlertFailed || !strings.Contains(g.Summary(), "exit code 3") || !strings.Contains(desc, "ERROR: disk full (ENOSPC)") ||
		!strings.HasPrefix(desc, "Hourly incremental backup") || len(desc) > 1200 {
		t.Errorf("failed group: %s %q\n%s", g.Title(), g.Summary(), desc)
	}
	r.run(t0.Add(3 * time.Hour)) // a failed monitor is not also raised as late
	if g2 := r.group(key); g2.ID != g.ID || g2.Title() != heartbeat.AlertFailed {
		t.Errorf("after hours: group %d %s", g2.ID, g2.Title())
	}
	r.ping("backup-incr", heartbeat.Signal{Kind: heartbeat.Start}, t0.Add(3*time.Hour+time.Minute))
	r.ping("backup-incr", ok, t0.Add(3*time.Hour+3*time.Minute))
	g = r.wantStatus(key, bot.Resolved, "after a successful run")
	if g.Title() != heartbeat.AlertFailed {
		t.Errorf("the resolved group is titled %s, want %s", g.Title(), heartbeat.AlertFailed)
	}
	// Late first, then a failure: the same episode becomes a failure.
	r.run(t0.Add(4*time.Hour + 19*time.Minute))
	late := r.wantStatus(key, bot.Firing, "late")
	r.ping("backup-incr", heartbeat.Signal{Kind: heartbeat.Fail, ExitCode: 1}, t0.Add(4*time.Hour+30*time.Minute))
	if g := r.wantStatus(key, bot.Firing, "late then failed"); g.ID != late.ID || g.Title() != heartbeat.AlertFailed {
		t.Errorf("late then failed: group %d %s, want group %d %s", g.ID, g.Title(), late.ID, heartbeat.AlertFailed)
	}
}

// A run much longer than usual (twice the median of the last runs) is
// flagged while it runs and resolved when it ends; max_duration overrides.
func TestLongRunFlaggedAndRecovered(t *testing.T) {
	m := heartbeat.Monitor{Name: "restore-test", Cron: mustCron(t, "0 10 * * SUN", "Europe/Berlin"), Grace: 6 * time.Hour, Priority: bot.P2}
	r := newRig(t, t0, []heartbeat.Monitor{m}, nil)
	key := heartbeat.LongRunGroupKey("restore-test")
	at := t0
	for _, d := range []time.Duration{40 * time.Minute, 50 * time.Minute, 45 * time.Minute} {
		r.ping("restore-test", heartbeat.Signal{Kind: heartbeat.Start}, at)
		r.run(at.Add(d - time.Minute))
		r.ping("restore-test", ok, at.Add(d))
		at = at.Add(24 * time.Hour)
	}
	r.wantNoGroup(key, "three normal runs")
	r.ping("restore-test", heartbeat.Signal{Kind: heartbeat.Start}, at)
	r.run(at.Add(90 * time.Minute)) // 2 × median 45m
	r.wantNoGroup(key, "at twice the median")
	r.run(at.Add(90*time.Minute + time.Second))
	g := r.wantStatus(key, bot.Firing, "past twice the median")
	if g.Title() != heartbeat.AlertLongRun || g.Priority != bot.P2 || !strings.Contains(g.Summary(), "longer than 1h30m0s") {
		t.Errorf("long run group: %s %s %q", g.Title(), g.Priority, g.Summary())
	}
	r.wantNoGroup(heartbeat.GroupKey("restore-test"), "a long run is not a missed run")
	st := r.ping("restore-test", ok, at.Add(2*time.Hour))
	r.wantStatus(key, bot.Resolved, "after the long run ended")
	if st.LastDuration != 2*time.Hour {
		t.Errorf("last duration %s", st.LastDuration)
	}
	entries, err := r.svc.List(r.ctx, at.Add(2*time.Hour))
	if err != nil || len(entries) != 1 || entries[0].Limit != 95*time.Minute {
		t.Errorf("list: %+v %v (limit: twice the median of 40, 45, 50, 120 = 95m)", entries, err)
	}

	// max_duration wins over the median.
	m.MaxDuration = 30 * time.Minute
	r.svc.Monitors = []heartbeat.Monitor{m}
	at = at.Add(24 * time.Hour)
	r.ping("restore-test", heartbeat.Signal{Kind: heartbeat.Start}, at)
	r.run(at.Add(31 * time.Minute))
	if g2 := r.wantStatus(key, bot.Firing, "past max_duration"); g2.ID == g.ID {
		t.Error("a new long run reused the resolved episode")
	}
	r.ping("restore-test", heartbeat.Signal{Kind: heartbeat.Fail, ExitCode: 2}, at.Add(40*time.Minute))
	r.wantStatus(key, bot.Resolved, "the long run ended in a failure")
	r.wantStatus(heartbeat.GroupKey("restore-test"), bot.Firing, "the failure")
}

// Restart: a monitor whose deadline passed while Klaxon was down gets one
// full schedule step from the start; one late before the restart stays late.
func TestMonitorRestart(t *testing.T) {
	m := heartbeat.Monitor{Name: "backup-incr", Period: time.Hour, Grace: 10 * time.Minute, Priority: bot.P2}
	m2 := heartbeat.Monitor{Name: "binlog-ship", Period: 5 * time.Minute, Priority: bot.P1}
	r := newRig(t, t0, []heartbeat.Monitor{m, m2}, nil)
	r.ping("backup-incr", ok, t0)
	r.ping("binlog-ship", ok, t0)
	r.run(t0.Add(6 * time.Minute))
	r.wantStatus(heartbeat.GroupKey("binlog-ship"), bot.Firing, "binlog late before the restart")
	up := t0.Add(3 * time.Hour)
	r.restart(up)
	r.run(up.Add(70 * time.Minute))
	r.wantNoGroup(heartbeat.GroupKey("backup-incr"), "one period + grace after the restart")
	r.wantStatus(heartbeat.GroupKey("binlog-ship"), bot.Firing, "still late after the restart")
	r.run(up.Add(70*time.Minute + time.Second))
	r.wantStatus(heartbeat.GroupKey("backup-incr"), bot.Firing, "past one period + grace after the restart")
}

// Pause resolves what is open and raises nothing; resume counts as a ping.
func TestPauseResume(t *testing.T) {
	m := heartbeat.Monitor{Name: "backup-full", Period: time.Hour, Priority: bot.P1}
	quiet := heartbeat.Monitor{Name: "quiet", Period: time.Hour, Priority: bot.P1}
	r := newRig(t, t0, []heartbeat.Monitor{m, quiet}, nil)
	key := heartbeat.GroupKey("backup-full")
	r.run(t0)
	// A monitor paused while up stays quiet past its deadline.
	r.ping("quiet", ok, t0)
	if _, err := r.svc.SetPaused(r.ctx, "quiet", true, bot.Actor{UserID: "501"}, t0); err != nil {
		t.Fatal(err)
	}
	r.run(t0.Add(5 * time.Hour))
	r.wantNoGroup(heartbeat.GroupKey("quiet"), "paused while up, hours later")
	r.run(t0)
	r.run(t0.Add(61 * time.Minute))
	r.wantStatus(key, bot.Firing, "late")
	who := bot.Actor{UserID: "501", Name: "anna"}
	e, err := r.svc.SetPaused(r.ctx, "backup-full", true, who, t0.Add(62*time.Minute))
	if err != nil || !e.State.Paused || e.State.PausedBy != "anna" {
		t.Fatalf("pause: %+v %v", e, err)
	}
	r.wantStatus(key, bot.Resolved, "paused")
	if _, err := r.svc.SetPaused(r.ctx, "backup-full", true, who, t0.Add(63*time.Minute)); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("pausing twice: %v, want a conflict", err)
	}
	r.ping("backup-full", heartbeat.Signal{Kind: heartbeat.Fail, ExitCode: 1}, t0.Add(2*time.Hour))
	r.run(t0.Add(10 * time.Hour))
	r.wantStatus(key, bot.Resolved, "paused: neither late nor failed raises")
	if got := testutil.ToFloat64(r.svc.Metrics.State.WithLabelValues("backup-full", "paused")); got != 1 {
		t.Errorf("state{paused} = %v", got)
	}
	res := t0.Add(11 * time.Hour)
	e, err = r.svc.SetPaused(r.ctx, "backup-full", false, who, res)
	if err != nil || e.State.Paused || !e.Next.Equal(res.Add(time.Hour)) {
		t.Fatalf("resume: %+v %v", e, err)
	}
	r.run(res.Add(time.Hour))
	r.wantStatus(key, bot.Resolved, "one period after resuming")
	r.run(res.Add(time.Hour + time.Second))
	r.wantStatus(key, bot.Firing, "late after resuming")
}

// An unknown name is ENotFound naming it; nothing is stored for it.
func TestUnknownMonitor(t *testing.T) {
	r := newRig(t, t0, []heartbeat.Monitor{{Name: "backup-full", Period: time.Hour, Priority: bot.P1}}, nil)
	_, err := r.svc.Ping(context.Background(), "backup-ful", ok, t0)
	var be *bot.Error
	if bot.ErrorCode(err) != bot.ENotFound || !errors.As(err, &be) || !strings.Contains(err.Error(), `"backup-ful"`) || !strings.Contains(err.Error(), "backup-full") {
		t.Fatalf("unknown name: %v", err)
	}
	entries, err := r.svc.List(r.ctx, t0)
	if err != nil || len(entries) != 1 || !entries[0].State.LastPing.IsZero() {
		t.Errorf("list after an unknown ping: %+v %v", entries, err)
	}
}

func TestMonitorValidate(t *testing.T) {
	c := mustCron(t, "0 3 * * *", "UTC")
	for name, tc := range map[string]struct {
		m    heartbeat.Monitor
		want string
	}{
		"ok period":    {heartbeat.Monitor{Name: "a", Period: time.Hour}, ""},
		"ok cron":      {heartbeat.Monitor{Name: "b-1_x", Cron: c, Grace: time.Hour}, ""},
		"both":         {heartbeat.Monitor{Name: "a", Period: time.Hour, Cron: c}, "either period"},
		"neither":      {heartbeat.Monitor{Name: "a"}, "either period"},
		"bad name":     {heartbeat.Monitor{Name: "Backup Full", Period: time.Hour}, "lower case"},
		"short":        {heartbeat.Monitor{Name: "a", Period: time.Second}, "shorter than 1m"},
		"grace":        {heartbeat.Monitor{Name: "a", Period: time.Hour, Grace: -1}, "grace"},
		"bad priority": {heartbeat.Monitor{Name: "a", Period: time.Hour, Priority: 7}, "priority"},
	} {
		err := tc.m.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
