package handlers

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// InteractionLedger remembers the ids of HTTP interactions already handled
// (store.DB implements it in SQLite, so a restart remembers them too).
type InteractionLedger interface {
	// RememberInteraction records id as handled at now and reports whether
	// this is its first delivery; ids recorded before now-keep may be forgotten.
	RememberInteraction(ctx context.Context, id string, now time.Time, keep time.Duration) (first bool, err error)
}

// DefaultReplayKeep is how long interaction ids are remembered: well beyond
// the ±5 minute timestamp window, so that a request whose timestamp still
// passes can never be delivered twice.
const DefaultReplayKeep = 15 * time.Minute

// replayKeep is how long ids are kept: at least the whole timestamp window
// (a timestamp MaxSkew ahead stays acceptable for 2×MaxSkew) plus a margin.
func (x *Interactions) replayKeep() time.Duration {
	keep := x.ReplayKeep
	if keep <= 0 {
		keep = DefaultReplayKeep
	}
	skew := x.MaxSkew
	if skew <= 0 {
		skew = 5 * time.Minute
	}
	return max(keep, 2*skew+time.Minute)
}

// firstDelivery reports whether the interaction id reaches Klaxon for the
// first time. Without a ledger it remembers in memory (tests, tools).
func (x *Interactions) firstDelivery(ctx context.Context, id string) (bool, error) {
	x.replayMu.Lock()
	if x.Seen == nil {
		x.Seen = &memoryLedger{seen: map[string]time.Time{}}
	}
	l := x.Seen
	x.replayMu.Unlock()
	first, err := l.RememberInteraction(ctx, id, x.now(), x.replayKeep())
	if err != nil {
		return false, fmt.Errorf("remember interaction %s: %w", id, err)
	}
	return first, nil
}

// memoryLedger is an InteractionLedger for a process without a database.
type memoryLedger struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *memoryLedger) RememberInteraction(_ context.Context, id string, now time.Time, keep time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, at := range m.seen {
		if at.Before(now.Add(-keep)) {
			delete(m.seen, k)
		}
	}
	if _, ok := m.seen[id]; ok {
		return false, nil
	}
	m.seen[id] = now
	return true, nil
}
