package bot

import (
	"context"
	"testing"
	"time"
)

type countJob struct{ n int }

func (c *countJob) Name() string                         { return "count" }
func (c *countJob) Run(context.Context, time.Time) error { c.n++; return nil }

func TestEveryRunsAtMostOncePerInterval(t *testing.T) {
	c := &countJob{}
	j := Every(c, time.Second)
	ctx := context.Background()
	for _, at := range []time.Duration{0, 100 * time.Millisecond, 999 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second} {
		j.Run(ctx, t0.Add(at))
	}
	if c.n != 3 { // at 0, 1s, 2s
		t.Errorf("ran %d times, want 3", c.n)
	}
	j.Run(ctx, t0) // the clock went back: run, do not stall
	if c.n != 4 {
		t.Errorf("after the clock went back: ran %d times, want 4", c.n)
	}
	if j.Name() != "count" {
		t.Errorf("name %q", j.Name())
	}
}
