package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// The example's backup schedule and Watchdog build as documented.
func TestHeartbeatExampleConfig(t *testing.T) {
	c, ps := LoadConfig("../../deploy/klaxon.example.yaml", func(k string) string {
		if k == "KLAXON_HEARTBEAT_TOKEN" {
			return "t"
		}
		return ""
	})
	if c == nil {
		t.Fatalf("example: %v", ps)
	}
	hs := c.heartbeats
	if hs.Watchdog == nil || hs.Watchdog.Timeout != 5*time.Minute || hs.Watchdog.Priority != bot.P0 || hs.Watchdog.Matchers["alertname"] != "Watchdog" {
		t.Errorf("watchdog: %+v", hs.Watchdog)
	}
	var names []string
	for _, m := range hs.Monitors {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, " "); got != "backup-full backup-incr binlog-ship restore-test" {
		t.Fatalf("monitors: %s", got)
	}
	full := hs.Monitors[0]
	// The daily full backup: 03:00 Berlin, late after 05:00 — also on the day clocks change.
	last := time.Date(2026, 3, 28, 3, 45, 0, 0, full.Cron.Location)
	if d := full.Deadline(last); !d.Equal(time.Date(2026, 3, 29, 5, 0, 0, 0, full.Cron.Location)) {
		t.Errorf("full backup deadline after %s: %s", last, d)
	}
	if hs.Monitors[2].Period != 5*time.Minute || hs.Monitors[2].Priority != bot.P1 || hs.Monitors[3].MaxDuration != 3*time.Hour {
		t.Errorf("binlog %+v restore %+v", hs.Monitors[2], hs.Monitors[3])
	}
	for _, p := range ps {
		if strings.Contains(p.Message, "heartbeat") {
			t.Errorf("unexpected problem with the token set: %s", p)
		}
	}
}

func TestHeartbeatConfigProblems(t *testing.T) {
	doc := `
watchdog:
  matchers: {alertname: ""}
  priority: P9
heartbeats:
  - name: a
    period: 1h
    cron: "0 3 * * *"
  - name: b
    grace: 10m
  - name: c
    cron: "0 3 * * *"
    time_zone: Mars/Olympus
  - name: d
    period: 1h
    grace: -5m
    priority: P7
  - name: a
    period: 1h
    runbook: no-such-runbook
  - name: e
    period: 1h
    time_zone: Europe/Berlin
  - name: Bad Name
    period: 1h
  - name: f
    period: 1h
    runbook: service-down
`
	path := filepath.Join(t.TempDir(), "k.yaml")
	writeFile(t, path, doc)
	_, ps := LoadConfig(path, func(string) string { return "" })
	out := ps.Error()
	for _, want := range []string{
		`k.yaml:3: error: watchdog.matchers: "alertname": "": label names and values must not be empty`,
		`k.yaml:4: error: watchdog.priority: `,
		`k.yaml:2: error: watchdog.timeout is missing`,
		`k.yaml:7: error: heartbeats[0]: a: give either period`,
		`k.yaml:9: error: heartbeats[1]: b: give either period`,
		`k.yaml:13: error: heartbeats[2] (c): time zone "Mars/Olympus" is unknown`,
		`k.yaml:17: error: heartbeats[3].priority: `,
		`k.yaml:16: error: heartbeats[3]: d: grace must be 0 or more`,
		`k.yaml:18: error: heartbeats: the name a is used twice`,
		`k.yaml:20: error: heartbeats[4].runbook: no runbook "no-such-runbook"`,
		`k.yaml:23: error: heartbeats[5] (e): time_zone applies to cron only`,
		`k.yaml:24: error: heartbeats[6]: name "Bad Name"`,
		`warning: heartbeats are configured but KLAXON_HEARTBEAT_TOKEN is not set`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("problems lack %q", want)
		}
	}
	if strings.Contains(out, "service-down") {
		t.Errorf("an embedded runbook was refused:\n%s", out)
	}
	if t.Failed() {
		t.Logf("problems:\n%s", out)
	}
}
