package alertmanager_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager"
	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
)

func firing(labels map[string]string) bot.Alert {
	return bot.Alert{Status: bot.Firing, Labels: labels}
}

func TestMatchersFullLabelSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    *bot.Group
		want map[string]string
	}{
		{
			name: "labels common to every firing alert, not only the group labels",
			g: &bot.Group{GroupLabels: map[string]string{"alertname": "HighCPU"}, Alerts: []bot.Alert{
				firing(map[string]string{"alertname": "HighCPU", "service": "game", "severity": "warning", "instance": "eu-1"}),
				firing(map[string]string{"alertname": "HighCPU", "service": "game", "severity": "warning", "instance": "eu-2"}),
				{Status: bot.Resolved, Labels: map[string]string{"alertname": "HighCPU", "service": "web", "severity": "critical"}},
			}},
			want: map[string]string{"alertname": "HighCPU", "service": "game", "severity": "warning", "priority": ""},
		},
		{
			name: "mixed severities: severity is not pinned",
			g: &bot.Group{GroupLabels: map[string]string{"alertname": "Lag"}, Alerts: []bot.Alert{
				firing(map[string]string{"alertname": "Lag", "severity": "warning"}),
				firing(map[string]string{"alertname": "Lag", "severity": "info"}),
			}},
			want: map[string]string{"alertname": "Lag", "priority": ""},
		},
		{
			name: "a priority label on every alert is kept",
			g: &bot.Group{GroupLabels: map[string]string{"alertname": "Lag"}, Alerts: []bot.Alert{
				firing(map[string]string{"alertname": "Lag", "priority": "P2"}),
			}},
			want: map[string]string{"alertname": "Lag", "priority": "P2", "severity": ""},
		},
		{
			name: "without firing alerts, the common labels",
			g:    &bot.Group{GroupLabels: map[string]string{"alertname": "X"}, CommonLabels: map[string]string{"alertname": "X", "severity": "info"}},
			want: map[string]string{"alertname": "X", "severity": "info", "priority": ""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := alertmanager.Matchers(tc.g); !maps.Equal(got, tc.want) {
				t.Errorf("Matchers = %v, want %v", got, tc.want)
			}
		})
	}
}

// amAlert is an alert as Alertmanager's API v2 shows it.
type amAlert struct {
	Labels map[string]string
	Status struct {
		State      string
		SilencedBy []string
	}
}

// TestSilenceDoesNotMuteLaterP0 creates a silence for a P2 group in a real
// Alertmanager, then sends alerts that join the same group (same
// alertname and service) at higher priority: they are not muted; the
// group's own alerts and a new alert with the same full label set are.
func TestSilenceDoesNotMuteLaterP0(t *testing.T) {
	am := amtest.Start(t, `
route: {receiver: none, group_by: [alertname, service]}
receivers: [{name: none}]
`)
	c, err := alertmanager.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cpu := func(instance string, extra ...string) map[string]string {
		l := map[string]string{"alertname": "HighCPU", "service": "game", "instance": instance}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	g := &bot.Group{GroupLabels: map[string]string{"alertname": "HighCPU", "service": "game"}, Alerts: []bot.Alert{
		firing(cpu("eu-1", "severity", "warning")), firing(cpu("eu-2", "severity", "warning")),
	}}
	postAlerts(t, am.URL, cpu("eu-1", "severity", "warning"), cpu("eu-2", "severity", "warning"))
	now := time.Now()
	id, err := c.CreateSilence(ctx, alertmanager.Matchers(g), now, now.Add(time.Hour), "ana (Discord 501)", "test")
	if err != nil {
		t.Fatalf("create silence: %v", err)
	}
	// Later arrivals in the same Alertmanager group.
	postAlerts(t, am.URL,
		cpu("eu-3", "severity", "critical"),                  // a P0 by severity
		cpu("eu-4", "severity", "warning", "priority", "P0"), // a P0 by its priority label
		cpu("eu-5"),                        // no severity: the default priority
		cpu("eu-6", "severity", "warning"), // the same full label set: muted, as checked
	)
	want := map[string]bool{"eu-1": true, "eu-2": true, "eu-3": false, "eu-4": false, "eu-5": false, "eu-6": true}
	got := map[string]bool{}
	for _, a := range getAlerts(t, am.URL, `alertname="HighCPU"`) {
		got[a.Labels["instance"]] = len(a.Status.SilencedBy) == 1 && a.Status.SilencedBy[0] == id
	}
	if !maps.Equal(got, want) {
		t.Errorf("muted by the silence: %v, want %v", got, want)
	}
}

func postAlerts(t *testing.T, base string, labels ...map[string]string) {
	t.Helper()
	var body []map[string]any
	for _, l := range labels {
		body = append(body, map[string]any{"labels": l, "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339)})
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %s", resp.Status)
	}
}

func getAlerts(t *testing.T, base, filter string) []amAlert {
	t.Helper()
	var out []amAlert
	get(t, base+"/api/v2/alerts?filter="+url.QueryEscape(filter), &out)
	return out
}
