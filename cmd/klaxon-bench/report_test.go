package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func sampleResult() *Result {
	f := func(x float64) *float64 { return &x }
	return &Result{
		Date:    "2026-11-26T13:00:00Z",
		Machine: Machine{CPUs: 2, CPUModel: "AMD EPYC", MemTotal: "23.5 GiB", Go: "go1.26.8"},
		Setup: Setup{Klaxon: "030be97", Groups: 2000, P0s: 5, Alerts: 2005, StormSeconds: 5, Alertmanager: "Alertmanager 0.25.0",
			GroupWait: "1s", GroupInterval: "5s", DiscordLimits: "5/5s"},
		Klaxon: Outcome{
			P0PushToVisible:  summarize([]time.Duration{1010 * time.Millisecond, 1200 * time.Millisecond}),
			P0FlushToVisible: summarize([]time.Duration{10 * time.Millisecond, 200 * time.Millisecond}),
			Requests:         180, RequestsPer1000: 89.8, GroupsPushed: 2005, GroupsRepresented: 2005,
			AllRepresentedAfter: f(42.25), ResolvedEdited: 2005, AllResolvedAfter: f(30),
			PeakRSSMiB: f(41.26), CPUSeconds: f(6.04),
		},
		Native: Outcome{
			P0PushToVisible:  summarize([]time.Duration{11 * time.Second, -1}),
			P0FlushToVisible: summarize([]time.Duration{10 * time.Second, -1}),
			Requests:         123456, RequestsPer1000: 61574.6, Status429: 120000, GroupsPushed: 2005, GroupsRepresented: 305,
			GroupsLost: 1700, ResolvedNewMessage: 100, ResolvedNotShown: 1905,
			PeakRSSMiB: f(80), CPUSeconds: f(60), ProcessNote: "all of Alertmanager",
		},
		Complete: true,
	}
}

func TestTableRendering(t *testing.T) {
	r := sampleResult()
	table := r.Table()
	for _, want := range []string{
		"Klaxon 030be97 vs Alertmanager 0.25.0's discord_configs",
		"2,000 groups (P2/P3) + 5 P0 pushed over 5.0s",
		"1.01 s / 1.20 s / 1.20 s",
		"0.01 s / 0.20 s / 0.20 s",
		"11.00 s / never / never (1 of 2 never seen)",
		"123,456",
		"61,575",
		"2,005 / 2,005 / 0",
		"2,005 / 305 / 1,700",
		"42.2 s", // 42.25 rounds half to even in %.1f
		"not in the run (305 of 2,005)",
		"41.3 MiB",
		"80.0 MiB (all of Alertmanager)",
		"6.0 s",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "FAIL") || strings.Contains(table, "Incomplete") {
		t.Errorf("a complete, passing run says otherwise:\n%s", table)
	}
	// Columns line up: every row puts its second column at the same rune offset.
	var col = -1
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "P0 ") && !strings.HasPrefix(line, "Discord requests") && !strings.HasPrefix(line, "Groups pushed") {
			continue
		}
		i := strings.Index(line, "  ")
		rest := strings.TrimLeft(line[i:], " ")
		at := utf8.RuneCountInString(line) - utf8.RuneCountInString(rest)
		if col == -1 {
			col = at
		} else if at != col {
			t.Errorf("column starts at %d, want %d: %q", at, col, line)
		}
	}

	r.Complete = false
	r.Failures = []string{"Klaxon lost 3 of 2005 groups"}
	table = r.Table()
	if !strings.Contains(table, "FAIL: Klaxon lost 3") || !strings.Contains(table, "Incomplete") {
		t.Errorf("failures not shown:\n%s", table)
	}
}

func TestJSONHasTheSameFigures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	if err := sampleResult().WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	k := back["klaxon"].(map[string]any)
	n := back["native"].(map[string]any)
	if k["discord_requests"].(float64) != 180 || k["peak_rss_mib"].(float64) != 41.26 || k["groups_lost"].(float64) != 0 {
		t.Errorf("klaxon = %v", k)
	}
	p0 := n["p0_push_to_visible"].(map[string]any)
	if p0["p99_s"] != nil || p0["p50_s"].(float64) != 11 || p0["seen"].(float64) != 1 {
		t.Errorf("native p0 = %v", p0)
	}
	if n["all_represented_after_s"] != nil {
		t.Errorf("native all_represented_after_s = %v, want null", n["all_represented_after_s"])
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShortDefaultsYieldToExplicitFlags(t *testing.T) {
	var o options
	var short bool
	fs := newFlags(nil, &o, &short)
	if err := fs.Parse([]string{"--short", "--p0", "3"}); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	applyShort(&o, set)
	if o.Groups != 200 || o.P0s != 3 || o.StormDuration != 2*time.Second || o.RepresentTimeout != time.Minute {
		t.Errorf("short options = %+v", o)
	}
}

func TestConfigs(t *testing.T) {
	am := alertmanagerConfig("http://127.0.0.1:1", "http://127.0.0.1:2/api/webhooks/1/tok", time.Second, 1500*time.Millisecond)
	for _, want := range []string{"group_by: [alertname]", "group_wait: 1s", "group_interval: 1500ms", "webhook_configs:", "discord_configs:",
		"url: http://127.0.0.1:1/webhook/alertmanager", "webhook_url: http://127.0.0.1:2/api/webhooks/1/tok", "credentials: " + benchWebhookToken} {
		if !strings.Contains(am, want) {
			t.Errorf("alertmanager config lacks %q:\n%s", want, am)
		}
	}
	if strings.Count(am, "send_resolved: true") != 2 {
		t.Errorf("both receivers must send resolutions:\n%s", am)
	}
	k := klaxonConfig("g", [4]string{"c0", "c1", "c2", "c3"}, "r", "info")
	for _, want := range []string{`guild_id: "g"`, `P0: {channel: "c0", mention_roles: ["r"]`, `P3: {channel: "c3"`, "level: info"} {
		if !strings.Contains(k, want) {
			t.Errorf("klaxon config lacks %q:\n%s", want, k)
		}
	}
}

func TestLatencyCellNoneSeen(t *testing.T) {
	if got := latencyCell(summarize([]time.Duration{-1, -1})); got != "never (none of 2 seen)" {
		t.Errorf("cell = %q", got)
	}
	if got := latencyCell(Latency{}); got != "—" {
		t.Errorf("empty cell = %q", got)
	}
}
