package main

import (
	"testing"
	"time"
)

func TestStormPlan(t *testing.T) {
	storm, p0s := stormPlan(2000, 5, 5*time.Second)
	if len(storm) != 2000 || len(p0s) != 5 {
		t.Fatalf("plan sizes %d/%d", len(storm), len(p0s))
	}
	names := map[string]bool{}
	p2 := 0
	for i, g := range storm {
		if names[g.Name] {
			t.Fatalf("duplicate name %s", g.Name)
		}
		names[g.Name] = true
		if got := scanText(g.Name); len(got) != 1 {
			t.Fatalf("storm name %q is not recognised by the scanner", g.Name)
		}
		if g.At < 0 || g.At >= 5*time.Second || (i > 0 && g.At < storm[i-1].At) {
			t.Fatalf("group %d at %s", i, g.At)
		}
		if g.Priority == "P2" {
			p2++
		}
	}
	if p2 != 1000 {
		t.Errorf("%d P2 groups, want half", p2)
	}
	want := []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond, 3500 * time.Millisecond, 4500 * time.Millisecond}
	for j, g := range p0s {
		if g.At != want[j] || g.Priority != "P0" || len(scanText(g.Name)) != 1 || names[g.Name] {
			t.Errorf("P0 %d = %+v", j, g)
		}
	}
	if _, one := stormPlan(10, 1, 4*time.Second); one[0].At != 2*time.Second {
		t.Errorf("a single P0 goes at the peak, got %s", one[0].At)
	}
	a := p0s[0].alert(time.Unix(0, 0), time.Unix(60, 0))
	if a.Labels["alertname"] != "Outage001" || a.Labels["priority"] != "P0" || a.Labels["severity"] != "critical" {
		t.Errorf("P0 alert = %+v", a)
	}
}
