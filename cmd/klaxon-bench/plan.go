package main

import (
	"fmt"
	"time"

	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
)

// planned is one alert group of the storm: a single alert whose alertname
// is the group (Alertmanager groups by alertname).
type planned struct {
	Name     string
	Priority string        // P0, P2 or P3
	At       time.Duration // push time after the storm starts
}

// stormPlan spreads n P2/P3 groups evenly over d (alternating P2 and P3) and
// puts k fresh P0 groups at the middles of k equal slices of d: one at the
// peak when k is 1, and evenly through the storm otherwise, so that every P0
// arrives while storm groups are pouring in (and no faster than the P0
// channel's own limit of 5 messages per 5 s when d/k ≥ 1 s).
func stormPlan(n, k int, d time.Duration) (storm, p0s []planned) {
	for i := range n {
		prio := "P2"
		if i%2 == 1 {
			prio = "P3"
		}
		storm = append(storm, planned{Name: fmt.Sprintf("Storm%05d", i+1), Priority: prio, At: d * time.Duration(i) / time.Duration(max(n, 1))})
	}
	for j := range k {
		p0s = append(p0s, planned{Name: fmt.Sprintf("Outage%03d", j+1), Priority: "P0", At: d * time.Duration(2*j+1) / time.Duration(2*k)})
	}
	return storm, p0s
}

var severityOf = map[string]string{"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}

// alert is the group's one alert, firing from start until ends.
func (p planned) alert(start, ends time.Time) amtest.Alert {
	summary := "Storm group " + p.Name[len("Storm"):] + " degraded"
	if p.Priority == "P0" {
		summary = "Primary database down (" + p.Name + ")"
	}
	return amtest.Alert{
		Labels: map[string]string{
			"alertname": p.Name, "priority": p.Priority, "severity": severityOf[p.Priority], "service": "bench",
		},
		Annotations:  map[string]string{"summary": summary},
		StartsAt:     start,
		EndsAt:       ends,
		GeneratorURL: "http://prometheus.invalid/graph?g0.expr=" + p.Name,
	}
}
