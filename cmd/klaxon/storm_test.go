package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func webhookBody(alertname, severity string, start time.Time) map[string]any {
	labels := map[string]string{"alertname": alertname, "severity": severity, "service": "web"}
	return map[string]any{
		"version": "4", "groupKey": `{}:{alertname="` + alertname + `"}`, "status": "firing", "receiver": "klaxon",
		"groupLabels": map[string]string{"alertname": alertname}, "commonLabels": labels,
		"commonAnnotations": map[string]string{"summary": alertname + " fired"}, "externalURL": "http://am.example",
		"alerts": []map[string]any{{"status": "firing", "labels": labels, "annotations": map[string]string{"summary": alertname + " fired"},
			"startsAt": start.Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z", "fingerprint": fmt.Sprintf("%016x", len(alertname)*7919+int(alertname[len(alertname)-1])) + alertname}},
	}
}

// TestStormP0FirstNoFloodNoLoss: 1,000 P3 groups then one P0, with Discord's
// rate limits on. The P0 card goes out before the queued P3 work, no 429
// comes back, and every group is on Discord exactly once.
func TestStormP0FirstNoFloodNoLoss(t *testing.T) {
	w := newWorld(t, "", map[string]string{"KLAXON_DISCORD_GATEWAY": "off"})
	const n = 1000
	start := time.Now().Add(-time.Minute)
	for i := 0; i < n; i++ {
		resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody(fmt.Sprintf("Storm%04d", i), "info", start))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("storm webhook %d: %s", i, resp.Status)
		}
	}
	p0At := time.Now()
	resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody("DatabaseDown", "critical", start))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("P0 webhook: %s", resp.Status)
	}
	w.await("the P0 card", func() bool { return len(w.discord.Messages(w.channels[0])) == 1 })

	// Every group represented exactly once in the P3 channel and its threads.
	re := regexp.MustCompile(`Storm\d{4}`)
	count := func() map[string]int {
		seen := map[string]int{}
		chans := []string{w.channels[3]}
		for _, th := range w.discord.Threads(w.channels[3]) {
			chans = append(chans, th.ID)
		}
		for _, ch := range chans {
			for _, m := range w.discord.Messages(ch) {
				text := m.Content
				for _, e := range m.Embeds {
					text += "\n" + e.Title + "\n" + fieldsText(e)
				}
				for _, name := range uniqueMatches(re, text) {
					seen[name]++
				}
			}
		}
		return seen
	}
	w.await("every storm group on Discord", func() bool { return len(count()) == n })
	for name, c := range count() {
		if c != 1 {
			t.Errorf("%s appears %d times, want exactly once", name, c)
		}
	}

	// Ordering and rate limits, from the fake's request log.
	var p0Create time.Time
	for _, r := range w.discord.Requests() {
		if r.Status == http.StatusTooManyRequests {
			t.Errorf("received a 429 on %s %s", r.Method, r.Path)
		}
		if r.Method == http.MethodPost && strings.Contains(r.Path, "/channels/"+w.channels[0]+"/messages") && p0Create.IsZero() {
			p0Create = r.Time
		}
	}
	late := 0
	for _, r := range w.discord.Requests() {
		if r.Time.After(p0At) && r.Time.Before(p0Create) && !strings.Contains(r.Path, w.channels[0]) {
			late++
		}
	}
	if late > 1 { // one request may already be in flight when the P0 arrives
		t.Errorf("%d P3 requests went out between the P0 webhook and its card; want at most the one in flight", late)
	}
	if d := p0Create.Sub(p0At); d > time.Second {
		t.Errorf("P0 card took %s after its webhook, want under 1s", d)
	}
	creates := 0
	for _, r := range w.discord.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/messages") {
			creates++
		}
	}
	t.Logf("storm: %d groups, %d Discord requests (%d message creates), P0 card %s after its webhook",
		n+1, len(w.discord.Requests()), creates, p0Create.Sub(p0At).Round(time.Millisecond))
	if creates > 100 {
		t.Errorf("%d message creates for a storm of %d groups: the channel was flooded", creates, n)
	}
}

func uniqueMatches(re *regexp.Regexp, s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range re.FindAllString(s, -1) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}
