package bot

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"
)

// quadraticMerge is Merge as it was before it indexed alerts by fingerprint
// (a linear search per incoming alert): the reference the fast one must match.
func quadraticMerge(g *Group, n Notification, c Classifier, now time.Time) bool {
	changed := false
	if g.ID == 0 && g.Key == "" {
		g.Key, g.Receiver, g.CreatedAt = n.GroupKey, n.Receiver, now
		g.Priority, g.PrioritySource = P3+1, ""
		changed = true
	}
	for _, in := range n.Alerts {
		i := slices.IndexFunc(g.Alerts, func(b Alert) bool { return b.Fingerprint == in.Fingerprint })
		if i < 0 {
			g.Alerts = append(g.Alerts, in)
			changed = true
			continue
		}
		cur := &g.Alerts[i]
		switch {
		case in.StartsAt.Before(cur.StartsAt) && (cur.Status == Resolved ||
			(in.Status == Resolved && !in.EndsAt.IsZero() && !in.EndsAt.After(cur.StartsAt))):
			continue
		case in.StartsAt.Before(cur.StartsAt):
			*cur = in
			changed = true
		case in.StartsAt.After(cur.StartsAt):
			*cur = in
			changed = true
		case cur.Status == Resolved && in.Status == Firing:
			continue
		default:
			if alertChanged(*cur, in) {
				*cur = in
				changed = true
			}
		}
	}
	sort.Slice(g.Alerts, func(i, j int) bool { return g.Alerts[i].Fingerprint < g.Alerts[j].Fingerprint })
	if !maps.Equal(g.GroupLabels, n.GroupLabels) || !maps.Equal(g.CommonLabels, n.CommonLabels) ||
		!maps.Equal(g.CommonAnnotations, n.CommonAnnotations) || g.TruncatedAlerts != n.TruncatedAlerts ||
		g.ExternalURL != n.ExternalURL {
		if len(n.Alerts) > 0 {
			g.GroupLabels, g.CommonLabels, g.CommonAnnotations = n.GroupLabels, n.CommonLabels, n.CommonAnnotations
			g.TruncatedAlerts, g.ExternalURL = n.TruncatedAlerts, n.ExternalURL
			changed = true
		}
	}
	for _, a := range g.Alerts {
		if p, why := c.Classify(a.Labels); p < g.Priority {
			g.Priority, g.PrioritySource = p, why
			changed = true
		}
	}
	if g.Priority > P3 {
		g.Priority, g.PrioritySource = c.Default, "default"
	}
	firing, _ := g.Counts()
	status := Resolved
	if firing > 0 {
		status = Firing
	}
	if status != g.Status {
		g.Status = status
		changed = true
		if status == Resolved {
			g.ResolvedAt = lastEnd(g.Alerts, now)
		} else {
			g.ResolvedAt = time.Time{}
		}
	}
	if changed {
		g.UpdatedAt = now
		g.Version++
	}
	return changed
}

func quadraticNewEpisode(g *Group, n Notification) bool {
	if g == nil || g.Status != Resolved {
		return false
	}
	for _, a := range n.Alerts {
		if a.Status != Firing {
			continue
		}
		i := slices.IndexFunc(g.Alerts, func(b Alert) bool { return b.Fingerprint == a.Fingerprint })
		if i < 0 || a.StartsAt.After(g.Alerts[i].StartsAt) {
			return true
		}
	}
	return false
}

func cloneGroup(g *Group) *Group {
	c := *g
	c.Alerts = slices.Clone(g.Alerts)
	return &c
}

// randomNotification draws alerts from a small pool of fingerprints, start
// times and statuses, so that repeats, re-firings, stale episodes and
// duplicates within one notification all happen.
func randomNotification(r *rand.Rand, fps, size int) Notification {
	var alerts []Alert
	for range size {
		fp := fmt.Sprintf("fp%03d", r.IntN(fps))
		a := firing(fp, map[string]string{"alertname": "Down", "severity": []string{"critical", "warning", "info"}[r.IntN(3)]},
			t0.Add(time.Duration(r.IntN(4))*time.Minute))
		if r.IntN(2) == 0 {
			a = resolved(a, a.StartsAt.Add(time.Duration(r.IntN(4))*time.Minute))
		}
		if r.IntN(4) == 0 {
			a.Annotations = map[string]string{"summary": "changed"}
		}
		alerts = append(alerts, a)
	}
	n := notif(alerts...)
	n.TruncatedAlerts = r.IntN(2)
	return n
}

// TestMergeMatchesQuadraticReference merges random notification sequences
// with Merge and with the old quadratic merge: every step must agree on the
// group, on "changed" and on NewEpisode.
func TestMergeMatchesQuadraticReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := Classifier{Default: P3, Severity: DefaultSeverityMap()}
	for run := range 300 {
		fast, ref := &Group{}, &Group{}
		for step := range 8 {
			n := randomNotification(r, 1+r.IntN(40), r.IntN(60))
			now := t0.Add(time.Duration(step) * time.Hour)
			if a, b := NewEpisode(fast, n), quadraticNewEpisode(ref, n); a != b {
				t.Fatalf("run %d step %d: NewEpisode %v, reference %v", run, step, a, b)
			}
			before := cloneGroup(fast)
			a, b := Merge(fast, n, c, now), quadraticMerge(ref, n, c, now)
			if a != b || !reflect.DeepEqual(fast, ref) {
				t.Fatalf("run %d step %d: Merge changed=%v, reference changed=%v\nbefore %+v\nnotification %+v\ngot  %+v\nwant %+v",
					run, step, a, b, before, n, fast, ref)
			}
		}
	}
}

// TestMergeBigGroup merges a 20,000-alert notification, in reverse order,
// into a 20,000-alert group and checks every alert's outcome.
func TestMergeBigGroup(t *testing.T) {
	const n = 20000
	c := Classifier{Default: P3, Severity: DefaultSeverityMap()}
	fp := func(i int) string { return fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15) }
	lbl := map[string]string{"alertname": "Big", "severity": "warning"}
	g := &Group{}
	first := make([]Alert, n)
	for i := range first {
		first[i] = firing(fp(i), lbl, t0)
	}
	if !Merge(g, notif(first...), c, t0) || len(g.Alerts) != n {
		t.Fatalf("first merge: %d alerts, want %d", len(g.Alerts), n)
	}
	// Second delivery, listed backwards, over the fingerprints 5,000…24,999:
	// i%4 == 0 resolves, 1 fires again (later start), 2 is a stale earlier
	// episode, 3 is unchanged; 20,000…24,999 are new; and every tenth alert
	// appears twice (the first copy counts, as Merge takes them in order).
	var second []Alert
	for i := n + n/4 - 1; i >= n/4; i-- {
		a := firing(fp(i), lbl, t0)
		switch {
		case i >= n:
		case i%4 == 0:
			a = resolved(a, t0.Add(time.Minute))
		case i%4 == 1:
			a.StartsAt = t0.Add(time.Hour)
		case i%4 == 2:
			a = resolved(a, t0.Add(-time.Minute))
			a.StartsAt = t0.Add(-time.Hour)
		}
		second = append(second, a)
		if i%10 == 0 {
			dup := a
			dup.Annotations = map[string]string{"summary": "duplicate"}
			second = append(second, dup)
		}
	}
	if !Merge(g, notif(second...), c, t0.Add(time.Hour)) {
		t.Fatal("second merge changed nothing")
	}
	if len(g.Alerts) != n+n/4 {
		t.Fatalf("%d alerts, want %d", len(g.Alerts), n+n/4)
	}
	if !slices.IsSortedFunc(g.Alerts, byFingerprint) {
		t.Fatal("alerts are not sorted by fingerprint")
	}
	byFP := make(map[string]Alert, len(g.Alerts))
	for _, a := range g.Alerts {
		if _, dup := byFP[a.Fingerprint]; dup {
			t.Fatalf("fingerprint %s twice", a.Fingerprint)
		}
		byFP[a.Fingerprint] = a
	}
	for i := range n + n/4 {
		a, ok := byFP[fp(i)]
		if !ok {
			t.Fatalf("alert %d missing", i)
		}
		wantStatus, wantStart := Firing, t0
		switch {
		case i < n/4 || i >= n:
		case i%4 == 0:
			wantStatus = Resolved
		case i%4 == 1:
			wantStart = t0.Add(time.Hour)
		}
		// For a duplicated fingerprint the second copy is merged after the
		// first: it changes the annotations only when it is not stale.
		if a.Status != wantStatus || !a.StartsAt.Equal(wantStart) {
			t.Fatalf("alert %d: %s from %v, want %s from %v", i, a.Status, a.StartsAt, wantStatus, wantStart)
		}
		dupApplied := i >= n/4 && i%10 == 0 && (i >= n || i%4 != 2)
		if got := a.Annotations["summary"] == "duplicate"; got != dupApplied {
			t.Fatalf("alert %d: annotations %v, duplicate applied %v, want %v", i, a.Annotations, got, dupApplied)
		}
	}
	if g.Status != Firing {
		t.Errorf("group %s, want firing", g.Status)
	}
	// A delivery without repeated fingerprints, merged twice: the second
	// time changes nothing.
	third := slices.DeleteFunc(slices.Clone(second), func(a Alert) bool { return a.Annotations["summary"] == "duplicate" })
	Merge(g, notif(third...), c, t0.Add(2*time.Hour))
	v := g.Version
	if Merge(g, notif(third...), c, t0.Add(3*time.Hour)) || g.Version != v {
		t.Error("a repeated delivery changed the group")
	}
}

// BenchmarkMerge merges a delivery of n alerts (a quarter of them new, a
// quarter resolved) into a group of n: the time grows linearly with n
// (before the fingerprint index it grew with n², 20,000 alerts took ~1 s).
func BenchmarkMerge(b *testing.B) {
	c := Classifier{Default: P3, Severity: DefaultSeverityMap()}
	lbl := map[string]string{"alertname": "Big", "severity": "warning"}
	for _, n := range []int{5000, 20000, 80000} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			fp := func(i int) string { return fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15) }
			base := &Group{}
			var first, second []Alert
			for i := range n {
				first = append(first, firing(fp(i), lbl, t0))
			}
			for i := n + n/4 - 1; i >= n/4; i-- {
				a := firing(fp(i), lbl, t0)
				if i%2 == 0 {
					a = resolved(a, t0.Add(time.Minute))
				}
				second = append(second, a)
			}
			Merge(base, notif(first...), c, t0)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				g := cloneGroup(base)
				b.StartTimer()
				Merge(g, notif(second...), c, t0.Add(time.Hour))
			}
		})
	}
}
