package main

import (
	"math"
	"slices"
	"time"
)

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of xs: the
// smallest value such that at least p% of the values are at or below it.
// +Inf stands for a sample never observed (a P0 that never became visible);
// it sorts last, so a percentile that lands on it is +Inf too. Empty input
// gives NaN.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Latency summarises how long the P0s took to become visible.
type Latency struct {
	Count int `json:"count"` // P0s measured
	Seen  int `json:"seen"`  // of which visible before the run ended
	// Seconds; null when the percentile falls on a P0 that was never seen.
	P50 *float64 `json:"p50_s"`
	P99 *float64 `json:"p99_s"`
	Max *float64 `json:"max_s"`
	// Samples in push order; null = never seen.
	Samples []*float64 `json:"samples_s"`
}

// summarize builds a Latency from durations; a negative duration means the
// sample was never observed.
func summarize(ds []time.Duration) Latency {
	l := Latency{Count: len(ds)}
	xs := make([]float64, len(ds))
	for i, d := range ds {
		if d < 0 {
			xs[i] = math.Inf(1)
			l.Samples = append(l.Samples, nil)
			continue
		}
		l.Seen++
		xs[i] = d.Seconds()
		l.Samples = append(l.Samples, finite(xs[i]))
	}
	if len(xs) > 0 {
		l.P50, l.P99, l.Max = finite(percentile(xs, 50)), finite(percentile(xs, 99)), finite(percentile(xs, 100))
	}
	return l
}

// finite returns &x rounded to the millisecond, or nil for ±Inf/NaN.
func finite(x float64) *float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	r := math.Round(x*1000) / 1000
	return &r
}
