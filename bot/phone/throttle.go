package phone

import (
	"sync"
	"time"
)

// Default throttle: at most DefaultMaxCalls calls to one number per DefaultWindow.
const (
	DefaultMaxCalls = 3
	DefaultWindow   = 15 * time.Minute
)

// Throttle limits how often one number is called, so a storm of pages does
// not ring a phone every minute. The zero value allows DefaultMaxCalls per
// DefaultWindow. Time comes from the caller (the engine's clock), so the
// throttle is deterministic. Safe for concurrent use.
type Throttle struct {
	Max    int           // calls allowed per window; <= 0 means DefaultMaxCalls
	Window time.Duration // <= 0 means DefaultWindow

	mu    sync.Mutex
	calls map[string][]time.Time // number → times of allowed calls in the window, oldest first
}

// Allow reports whether number to may be called at now, and if so records
// the call. Calls older than the window are forgotten.
func (t *Throttle) Allow(to string, now time.Time) bool {
	max, window := t.Max, t.Window
	if max <= 0 {
		max = DefaultMaxCalls
	}
	if window <= 0 {
		window = DefaultWindow
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.calls == nil {
		t.calls = map[string][]time.Time{}
	}
	kept := prune(t.calls[to], now.Add(-window))
	if len(kept) >= max {
		t.calls[to] = kept
		return false
	}
	t.calls[to] = append(kept, now)
	return true
}

// Prune forgets every call older than the window before now, dropping
// numbers with none left. Call it now and then to bound memory.
func (t *Throttle) Prune(now time.Time) {
	window := t.Window
	if window <= 0 {
		window = DefaultWindow
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, ts := range t.calls {
		if kept := prune(ts, now.Add(-window)); len(kept) == 0 {
			delete(t.calls, k)
		} else {
			t.calls[k] = kept
		}
	}
}

// prune drops the times at or before cutoff (a call exactly one window ago
// no longer counts).
func prune(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	return ts[i:]
}
