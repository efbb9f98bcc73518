package heartbeat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
	"github.com/marola-rp/klaxon/bot/incident"
)

func watchdog() *heartbeat.Watchdog {
	return &heartbeat.Watchdog{Matchers: heartbeat.DefaultWatchdogMatchers(), Timeout: 10 * time.Minute, Priority: bot.P0, Runbook: "service-down"}
}

// The Watchdog stops: within the timeout (plus one cycle) a P0 "monitoring
// pipeline silent" is raised and the on-call's phone page queued; when it
// is back, the group is resolved.
func TestWatchdogSilentPagesAndRecovers(t *testing.T) {
	r := newRig(t, t0, nil, watchdog())
	key := heartbeat.WatchdogGroupKey()
	for i := range 5 { // Alertmanager repeats the Watchdog every minute
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := r.svc.SeenWatchdog(r.ctx, at); err != nil {
			t.Fatal(err)
		}
		r.run(at.Add(30 * time.Second))
	}
	last := t0.Add(4 * time.Minute) // then it stops
	if got := testutil.ToFloat64(r.svc.Metrics.WatchdogLastSeen); got != float64(last.Unix()) {
		t.Errorf("klaxon_watchdog_last_seen_timestamp_seconds = %v, want %d", got, last.Unix())
	}
	r.run(last.Add(10 * time.Minute)) // exactly the timeout: not yet
	r.wantNoGroup(key, "at the timeout")
	r.run(last.Add(10*time.Minute + 2*time.Second)) // the next cycle
	g := r.wantStatus(key, bot.Firing, "one cycle after the timeout")
	if g.Priority != bot.P0 || g.Title() != heartbeat.AlertSilent || !strings.Contains(g.Summary(), "has not arrived for 10m0s") {
		t.Errorf("group = %s %s %q", g.Priority, g.Title(), g.Summary())
	}
	if !g.Alerts[0].StartsAt.Equal(last.Add(10 * time.Minute)) {
		t.Errorf("silent since %s, want the deadline %s", g.Alerts[0].StartsAt, last.Add(10*time.Minute))
	}
	if refs := incident.RunbookRefs(g); len(refs) != 1 || refs[0] != "service-down" {
		t.Errorf("runbook refs = %v", refs)
	}
	if n := r.phonePages(g.ID); n != 1 {
		t.Fatalf("%d phone pages queued for the silent pipeline, want 1", n)
	}
	r.run(last.Add(30 * time.Minute)) // still silent: one group, one page
	if g2 := r.group(key); g2.ID != g.ID || r.phonePages(g.ID) != 1 {
		t.Errorf("a second cycle raised again: group %d (was %d), %d phone pages", g2.ID, g.ID, r.phonePages(g.ID))
	}

	back := last.Add(31 * time.Minute)
	if err := r.svc.SeenWatchdog(r.ctx, back); err != nil {
		t.Fatal(err)
	}
	g = r.wantStatus(key, bot.Resolved, "Watchdog back")
	if !g.ResolvedAt.Equal(back) {
		t.Errorf("resolved at %s, want %s", g.ResolvedAt, back)
	}
	r.run(back.Add(9 * time.Minute))
	r.wantStatus(key, bot.Resolved, "within the timeout after it came back")
}

// After Klaxon's own restart it waits one full timeout from the start
// before judging, even when the last Watchdog is older than the timeout
// (Klaxon was down, not the pipeline); and it never waits less.
func TestWatchdogRestartNoFalseAlarm(t *testing.T) {
	r := newRig(t, t0, nil, watchdog())
	key := heartbeat.WatchdogGroupKey()
	if err := r.svc.SeenWatchdog(r.ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	r.run(t0.Add(2 * time.Minute))

	up := t0.Add(40 * time.Minute) // Klaxon was down 2m → 40m
	r.restart(up)
	r.run(up)
	r.run(up.Add(10 * time.Minute))
	r.wantNoGroup(key, "one timeout after the restart")
	r.run(up.Add(10*time.Minute + time.Second))
	r.wantStatus(key, bot.Firing, "a timeout after the restart without a Watchdog")

	// A fresh database: never any Watchdog. It is judged one timeout after the start.
	r2 := newRig(t, t0, nil, watchdog())
	r2.run(t0.Add(9 * time.Minute))
	r2.wantNoGroup(key, "before the first timeout")
	r2.run(t0.Add(10*time.Minute + time.Second))
	r2.wantStatus(key, bot.Firing, "never a Watchdog")
}

// The Watchdog is recognised by the configured matchers and taken out of a
// notification; a resolved Watchdog is not a sign of life.
func TestSplitWatchdog(t *testing.T) {
	svc := &heartbeat.Service{Watchdog: &heartbeat.Watchdog{Matchers: map[string]string{"alertname": "Watchdog", "team": "sre"}, Timeout: time.Minute}}
	wd := bot.Alert{Fingerprint: "w", Status: bot.Firing, Labels: map[string]string{"alertname": "Watchdog", "team": "sre"}}
	other := bot.Alert{Fingerprint: "o", Status: bot.Firing, Labels: map[string]string{"alertname": "Watchdog", "team": "web"}}
	rest, found, firing := svc.SplitWatchdog(bot.Notification{GroupKey: "g", Alerts: []bot.Alert{wd, other}})
	if !found || !firing || len(rest.Alerts) != 1 || rest.Alerts[0].Fingerprint != "o" {
		t.Errorf("split = %+v %v %v", rest.Alerts, found, firing)
	}
	wd.Status = bot.Resolved
	if _, found, firing := svc.SplitWatchdog(bot.Notification{Alerts: []bot.Alert{wd}}); !found || firing {
		t.Errorf("resolved Watchdog: found %v firing %v, want found and not firing", found, firing)
	}
	off := &heartbeat.Service{}
	if rest, found, _ := off.SplitWatchdog(bot.Notification{Alerts: []bot.Alert{wd}}); found || len(rest.Alerts) != 1 {
		t.Errorf("without a watchdog configured the alert must stay: %+v %v", rest.Alerts, found)
	}
}
