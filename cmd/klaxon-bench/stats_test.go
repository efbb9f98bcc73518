package main

import (
	"math"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	xs := []float64{15, 20, 35, 40, 50}
	for _, c := range []struct {
		p    float64
		want float64
	}{{5, 15}, {30, 20}, {40, 20}, {50, 35}, {99, 50}, {100, 50}, {0, 15}} {
		if got := percentile(xs, c.p); got != c.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", xs, c.p, got, c.want)
		}
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing should be NaN")
	}
	// p99 of 100 values is the 99th; of 101 values it is the 100th.
	var hundred []float64
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, float64(i))
	}
	if got := percentile(hundred, 99); got != 99 {
		t.Errorf("p99 of 1..100 = %v, want 99", got)
	}
	if got := percentile(append(hundred, 101), 99); got != 100 {
		t.Errorf("p99 of 1..101 = %v, want 100", got)
	}
	// The input is not reordered.
	in := []float64{3, 1, 2}
	percentile(in, 50)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("percentile sorted its input: %v", in)
	}
}

func TestSummarizeUnseenSortLast(t *testing.T) {
	l := summarize([]time.Duration{300 * time.Millisecond, -1, 100 * time.Millisecond, 200 * time.Millisecond})
	if l.Count != 4 || l.Seen != 3 {
		t.Fatalf("count/seen = %d/%d, want 4/3", l.Count, l.Seen)
	}
	if l.P50 == nil || *l.P50 != 0.2 {
		t.Errorf("p50 = %v, want 0.2", l.P50)
	}
	if l.P99 != nil || l.Max != nil {
		t.Errorf("p99/max = %v/%v, want nil (a P0 was never seen)", l.P99, l.Max)
	}
	if len(l.Samples) != 4 || l.Samples[1] != nil || *l.Samples[0] != 0.3 {
		t.Errorf("samples = %v", l.Samples)
	}
	all := summarize([]time.Duration{1234567 * time.Microsecond})
	if *all.P50 != 1.235 || *all.P99 != 1.235 || *all.Max != 1.235 {
		t.Errorf("single sample summary = %+v", all)
	}
	if e := summarize(nil); e.P50 != nil || e.Count != 0 {
		t.Errorf("empty summary = %+v", e)
	}
}
