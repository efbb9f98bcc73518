package bot

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

func firing(fp string, labels map[string]string, start time.Time) Alert {
	return Alert{Fingerprint: fp, Status: Firing, Labels: labels, Annotations: map[string]string{"summary": fp + " is down"}, StartsAt: start}
}

func resolved(a Alert, end time.Time) Alert {
	a.Status, a.EndsAt = Resolved, end
	return a
}

func notif(alerts ...Alert) Notification {
	return Notification{GroupKey: `{}:{alertname="Down"}`, Receiver: "klaxon", CommonLabels: map[string]string{"alertname": "Down"}, Alerts: alerts}
}

func TestClassify(t *testing.T) {
	c := Classifier{Default: P3, Severity: DefaultSeverityMap()}
	tests := []struct {
		name   string
		labels map[string]string
		want   Priority
		why    string
	}{
		{"priority label wins", map[string]string{"priority": "P1", "severity": "critical"}, P1, "priority=P1"},
		{"lower-case priority", map[string]string{"priority": "p0"}, P0, "priority=P0"},
		{"bad priority falls to severity", map[string]string{"priority": "urgent", "severity": "warning"}, P2, "severity=warning"},
		{"severity critical", map[string]string{"severity": "critical"}, P0, "severity=critical"},
		{"severity case-insensitive", map[string]string{"severity": "ERROR"}, P1, "severity=ERROR"},
		{"severity info", map[string]string{"severity": "info"}, P3, "severity=info"},
		{"unknown severity", map[string]string{"severity": "spicy"}, P3, "default"},
		{"no labels", nil, P3, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := c.Classify(tt.labels)
			if got != tt.want || why != tt.why {
				t.Errorf("Classify(%v) = %v, %q; want %v, %q", tt.labels, got, why, tt.want, tt.why)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	c := Classifier{Default: P3, Severity: DefaultSeverityMap()}
	crit := map[string]string{"alertname": "Down", "severity": "critical", "instance": "a"}
	warn := map[string]string{"alertname": "Down", "severity": "warning", "instance": "b"}
	a, b := firing("a", crit, t0), firing("b", warn, t0)

	t.Run("new group takes the most urgent priority", func(t *testing.T) {
		g := &Group{}
		if !Merge(g, notif(b, a), c, t0) {
			t.Fatal("first merge reported no change")
		}
		if g.Priority != P0 || g.Status != Firing || len(g.Alerts) != 2 || g.Alerts[0].Fingerprint != "a" {
			t.Errorf("got priority %v status %v alerts %d", g.Priority, g.Status, len(g.Alerts))
		}
	})
	t.Run("duplicate delivery changes nothing", func(t *testing.T) {
		g := &Group{}
		Merge(g, notif(a, b), c, t0)
		v := g.Version
		if Merge(g, notif(a, b), c, t0.Add(time.Minute)) || g.Version != v {
			t.Errorf("duplicate changed the group: version %d -> %d", v, g.Version)
		}
	})
	t.Run("one resolved keeps group firing and priority", func(t *testing.T) {
		g := &Group{}
		Merge(g, notif(a, b), c, t0)
		if !Merge(g, notif(resolved(a, t0.Add(5*time.Minute)), b), c, t0.Add(5*time.Minute)) {
			t.Fatal("no change")
		}
		f, r := g.Counts()
		if g.Status != Firing || f != 1 || r != 1 || g.Priority != P0 {
			t.Errorf("status %v firing %d resolved %d priority %v", g.Status, f, r, g.Priority)
		}
	})
	t.Run("all resolved resolves at last end", func(t *testing.T) {
		g := &Group{}
		Merge(g, notif(a, b), c, t0)
		end := t0.Add(12 * time.Minute)
		Merge(g, notif(resolved(a, end.Add(-time.Minute)), resolved(b, end)), c, t0.Add(13*time.Minute))
		if g.Status != Resolved || !g.ResolvedAt.Equal(end) {
			t.Errorf("status %v resolved at %v, want resolved at %v", g.Status, g.ResolvedAt, end)
		}
	})
	t.Run("late firing duplicate does not reopen a resolved episode", func(t *testing.T) {
		g := &Group{}
		Merge(g, notif(a), c, t0)
		Merge(g, notif(resolved(a, t0.Add(time.Minute))), c, t0.Add(time.Minute))
		if Merge(g, notif(a), c, t0.Add(2*time.Minute)) || g.Status != Resolved {
			t.Errorf("late duplicate reopened the group: %v", g.Status)
		}
		if NewEpisode(g, notif(a)) {
			t.Error("late duplicate counted as a new episode")
		}
	})
	t.Run("the same alert firing again is a new episode", func(t *testing.T) {
		g := &Group{}
		Merge(g, notif(a), c, t0)
		Merge(g, notif(resolved(a, t0.Add(time.Minute))), c, t0.Add(time.Minute))
		again := firing("a", crit, t0.Add(time.Hour))
		if !NewEpisode(g, notif(again)) {
			t.Error("re-firing alert not seen as a new episode")
		}
	})
	t.Run("resolve with an earlier start resolves the open episode", func(t *testing.T) {
		// Alertmanager keeps the earliest start it has seen: the resolve of
		// the same episode may carry a start before the one stored.
		g := &Group{}
		Merge(g, notif(firing("a", crit, t0.Add(time.Minute))), c, t0)
		if !Merge(g, notif(resolved(firing("a", crit, t0), t0.Add(5*time.Minute))), c, t0.Add(5*time.Minute)) || g.Status != Resolved {
			t.Errorf("status %v, want resolved", g.Status)
		}
		if !g.Alerts[0].StartsAt.Equal(t0) {
			t.Errorf("start %v, want the earlier %v", g.Alerts[0].StartsAt, t0)
		}
	})
	t.Run("stale earlier episode is ignored", func(t *testing.T) {
		g := &Group{}
		Merge(g, notif(firing("a", crit, t0.Add(time.Hour))), c, t0)
		if Merge(g, notif(resolved(a, t0.Add(time.Minute))), c, t0) {
			t.Error("stale delivery changed the group")
		}
	})
	t.Run("priority rises but never falls", func(t *testing.T) {
		g := &Group{}
		Merge(g, notif(b), c, t0)
		if g.Priority != P2 {
			t.Fatalf("priority %v, want P2", g.Priority)
		}
		Merge(g, notif(b, a), c, t0)
		Merge(g, notif(b, resolved(a, t0.Add(time.Minute))), c, t0)
		if g.Priority != P0 || g.PrioritySource != "severity=critical" {
			t.Errorf("priority %v (%s), want P0 (severity=critical)", g.Priority, g.PrioritySource)
		}
	})
}
