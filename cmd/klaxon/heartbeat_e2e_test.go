package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/heartbeat"
)

// watchdogAlertmanager routes the Watchdog to Klaxon as deploy/alertmanager.yml
// does, with test timings (every second instead of every minute).
func watchdogAlertmanager(klaxonURL string) string {
	return fmt.Sprintf(`
route:
  receiver: klaxon
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="Watchdog"']
      receiver: klaxon
      continue: false
      group_wait: 0s
      group_interval: 1s
      repeat_interval: 1s
receivers:
  - name: klaxon
    webhook_configs:
      - url: %s/webhook/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: %s
`, klaxonURL, webhookToken)
}

var watchdogAlert = amtest.Alert{
	Labels:      map[string]string{"alertname": "Watchdog", "priority": "P3", "severity": "none", "service": "monitoring-pipeline"},
	Annotations: map[string]string{"summary": "Watchdog — always firing"},
}

// A real Alertmanager sends the Watchdog; it never becomes a card. The
// Alertmanager is stopped: once Klaxon's clock passes the timeout a P0
// "monitoring pipeline silent" card is posted and the on-call's phone rings.
// A new Alertmanager sends the Watchdog again: the card is resolved.
func TestWatchdogEndToEnd(t *testing.T) {
	pw := newPagingWorld(t, "watchdog:\n  timeout: 5m\n  runbook: service-down\n")
	ctx := context.Background()
	am := amtest.Start(t, watchdogAlertmanager("http://"+pw.main.Addr()))
	if err := am.Push(ctx, watchdogAlert); err != nil {
		t.Fatal(err)
	}
	seen := func() float64 { return testutil.ToFloat64(pw.main.Heartbeats.Metrics.WatchdogLastSeen) }
	received := func() float64 {
		return testutil.ToFloat64(pw.main.Metrics.WebhooksReceived.WithLabelValues("watchdog"))
	}
	awaitExternal(t, "the Watchdog from Alertmanager", func() bool { return received() >= 2 })
	if seen() != float64(pw.clock.Now().Unix()) {
		t.Errorf("watchdog last seen %v, want the clock's %d", seen(), pw.clock.Now().Unix())
	}
	pw.tick(time.Minute)
	for i, ch := range pw.channels {
		if ms := pw.discord.Messages(ch); len(ms) != 0 {
			t.Fatalf("the Watchdog was shown in P%d: %+v", i, ms[0].Embeds)
		}
	}
	if d := testutil.ToFloat64(pw.main.Metrics.WebhooksReceived.WithLabelValues("duplicate")); d != 0 {
		t.Errorf("%v Watchdog deliveries counted as duplicates", d)
	}

	// Alertmanager dies. Klaxon's clock moves 10 s per step.
	if err := am.Close(); err != nil {
		t.Fatal(err)
	}
	// One more delivery may have been in flight: count from what was recorded.
	last := time.Unix(int64(seen()), 0)
	var card discordtest.Message
	found := func() bool {
		for _, m := range pw.discord.Messages(pw.channels[0]) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, heartbeat.AlertSilent) {
				card = m
				return true
			}
		}
		return false
	}
	for !found() {
		if pw.clock.Now().Sub(last) > 10*time.Minute {
			t.Fatalf("no P0 card 10 minutes after the last Watchdog")
		}
		pw.tick(10 * time.Second)
	}
	delay := pw.clock.Now().Sub(last)
	t.Logf("detection delay (Klaxon's clock, 10 s steps): %s after the last Watchdog, timeout 5m", delay)
	if delay <= 5*time.Minute || delay > 5*time.Minute+10*time.Second {
		t.Errorf("P0 raised %s after the last Watchdog, want within one 10 s step after the 5m timeout", delay)
	}
	if !strings.Contains(card.Content, "<@&"+pw.oncall+">") || !strings.Contains(cardText(card), "monitoring pipeline silent") &&
		!strings.Contains(cardText(card), "Monitoring pipeline silent") {
		t.Errorf("card does not ping the on-call role or say what is wrong: %q\n%s", card.Content, cardText(card))
	}
	pw.await("the phone call to the on-call", func() bool {
		for _, c := range pw.twilio.Calls() {
			if c.To == "+15550100501" {
				return true
			}
		}
		return false
	})

	// A new Alertmanager: the Watchdog is back, the card resolves in place.
	am2 := amtest.Start(t, watchdogAlertmanager("http://"+pw.main.Addr()))
	if err := am2.Push(ctx, watchdogAlert); err != nil {
		t.Fatal(err)
	}
	pw.await("the card edited to resolved", func() bool {
		m, ok := pw.discord.Message(card.ID)
		return ok && len(m.Embeds) == 1 && m.Embeds[0].Color == 0x2EB67D
	})
}

// The shell wrapper from deploy/ reports a real job's start, failure (exit
// code and log tail) and success to a real Klaxon; a wrong token is refused.
func TestHeartbeatWrapperEndToEnd(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is needed for the heartbeat wrapper test")
		}
		t.Skip("curl is needed for the heartbeat wrapper test (apt-get install -y curl)")
	}
	pw := newPagingWorldEnv(t, "heartbeats:\n  - name: backup-incr\n    period: 1h\n    priority: P1\n", map[string]string{"KLAXON_HEARTBEAT_TOKEN": "hb-e2e-token"})
	script, _ := filepath.Abs("../../deploy/heartbeat-wrap.sh")
	run := func(token string, job ...string) int {
		cmd := exec.Command(sh, append([]string{script, "backup-incr"}, job...)...)
		cmd.Env = append(os.Environ(), "KLAXON_URL=http://"+pw.main.Addr(), "KLAXON_HEARTBEAT_TOKEN="+token)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatalf("wrapper: %v\n%s", err, out)
		}
		return 0
	}
	if code := run("hb-e2e-token", sh, "-c", "echo copying; echo 'ERROR: disk full' >&2; exit 3"); code != 3 {
		t.Fatalf("the wrapper exited %d, want the job's 3", code)
	}
	var card discordtest.Message
	pw.await("the failure card", func() bool {
		for _, m := range pw.discord.Messages(pw.channels[1]) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, heartbeat.AlertFailed) {
				card = m
				return true
			}
		}
		return false
	})
	if txt := cardText(card); !strings.Contains(txt, "exit code 3") || !strings.Contains(txt, "ERROR: disk full") {
		t.Errorf("card lacks the exit code or the log:\n%s", txt)
	}
	if code := run("wrong-token", "true"); code != 0 {
		t.Fatalf("a refused ping must not fail the job: exit %d", code)
	}
	if m, _ := pw.discord.Message(card.ID); m.Embeds[0].Color == 0x2EB67D {
		t.Fatal("a ping with a wrong token resolved the failure")
	}
	if code := run("hb-e2e-token", "true"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	pw.await("the card edited to resolved", func() bool {
		m, ok := pw.discord.Message(card.ID)
		return ok && len(m.Embeds) == 1 && m.Embeds[0].Color == 0x2EB67D
	})
	// /heartbeat list and pause, through the gate, as anna (staff).
	if list, _ := pw.slash(pw.anna, "heartbeat", discordtest.Subcommand("list")); !strings.Contains(list, "**backup-incr** up") ||
		!strings.Contains(list, "next expected <t:") {
		t.Errorf("/heartbeat list: %s", list)
	}
	if out, _ := pw.slash(pw.anna, "heartbeat", discordtest.Subcommand("pause", discordtest.Option("name", "backup-incr"))); !strings.Contains(out, "paused by <@"+pw.anna+">") {
		t.Errorf("/heartbeat pause: %s", out)
	}
	pw.tick(3 * time.Hour)
	cards := 0
	for _, m := range pw.discord.Messages(pw.channels[1]) {
		if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "· Heartbeat") { // cards, not pages
			cards++
		}
	}
	if cards != 1 {
		for _, m := range pw.discord.Messages(pw.channels[1]) {
			t.Logf("P1 message %s: %q %+v", m.ID, m.Content, m.Embeds[0].Title)
		}
		t.Errorf("%d heartbeat cards in P1 after hours paused, want only the first one", cards)
	}
	if out, _ := pw.slash(pw.anna, "heartbeat", discordtest.Subcommand("resume", discordtest.Option("name", "nope"))); !strings.Contains(out, `no heartbeat monitor named \"nope\"`) {
		t.Errorf("/heartbeat resume of an unknown monitor: %s", out)
	}
	metrics := get(t, pw.url("/metrics"))
	for _, want := range []string{`klaxon_heartbeat_last_seen_timestamp_seconds{name="backup-incr"}`, `klaxon_heartbeat_pings_total{result="unauthorized",signal="start"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// awaitExternal waits for something a real external process (Alertmanager,
// on its own wall clock) makes happen outside Discord, where the fake
// Discord's Await cannot see it: it polls, as amtest does for readiness.
func awaitExternal(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
