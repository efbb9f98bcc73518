package bot

import (
	"slices"
	"strings"
	"time"
)

// SLO is a service's objectives: availability, latency and error rate.
// Availability is what the error budget is computed from; latency and error
// rate are shown alongside (and may be what a Prometheus query measures).
type SLO struct {
	Service      string        // name, e.g. "web"
	Match        []string      // values of the alert label `service` that count; default Service
	Availability float64       // target as a fraction, e.g. 0.999
	Latency      time.Duration // target latency, e.g. 100ms
	ErrorRate    float64       // target error rate as a fraction, e.g. 0.001
	// Query is an optional PromQL expression giving the availability as a
	// ratio between 0 and 1 over $window (replaced by the window, e.g.
	// "2592000s"). When set and Prometheus is configured, availability
	// comes from it instead of the alert record.
	Query string
}

// Matches reports whether an alert's service label value counts against s.
func (s SLO) Matches(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return false
	}
	if len(s.Match) == 0 {
		return v == strings.ToLower(s.Service)
	}
	return slices.ContainsFunc(s.Match, func(m string) bool { return strings.EqualFold(m, v) })
}

// MonthOf returns the calendar month containing t in loc: [start, end).
func MonthOf(t time.Time, loc *time.Location) (start, end time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	l := t.In(loc)
	start = time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 1, 0)
}
