package bot

import (
	"context"
	"sync"
	"time"
)

// Route is where alerts of one priority go and who they reach.
type Route struct {
	ChannelID string
	Mentions  Mentions      // pinged when a card is created
	AckWithin time.Duration // acknowledgement deadline
	Reach     []string      // how it reaches people: discord, phone, email
}

// StormPolicy decides when a channel's cards become a digest.
type StormPolicy struct {
	// Threshold: when more cards than this wait to be created in one
	// channel, they are folded into a digest. 0 disables digests.
	Threshold int
	// MinPriority: only groups of this priority or less urgent are folded;
	// more urgent ones always get their own card.
	MinPriority Priority
	// Window: a digest takes new groups while it took one within this time.
	Window time.Duration
	// Listed: how many groups the digest message lists itself.
	Listed int
	// PageSize: how many groups each page in the digest's thread lists.
	PageSize int
}

// DefaultStormPolicy fits Discord's 5 messages per 5 seconds per channel:
// more than ten waiting cards would take over ten seconds to post.
func DefaultStormPolicy() StormPolicy {
	return StormPolicy{Threshold: 10, MinPriority: P2, Window: 10 * time.Minute, Listed: 15, PageSize: 30}
}

// Policy is the part of the configuration the core acts on.
type Policy struct {
	Classifier Classifier
	Routes     [4]Route // by priority
	Storm      StormPolicy
	// OnGroupChange hooks run inside Ingest's transaction after a change.
	OnGroupChange []GroupHook

	// mu guards Classifier, Routes and Storm against Replace (a reload):
	// readers that use more than one route take a Snapshot.
	mu sync.RWMutex
}

// Route returns the route of priority p.
func (p *Policy) Route(pr Priority) Route {
	if !pr.Valid() {
		pr = P3
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.Routes[pr]
}

// Snapshot returns a copy of p that a reload does not change: work that
// reads the policy more than once (an ingest, a storm fold) reads one
// consistent version.
func (p *Policy) Snapshot() *Policy {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return &Policy{Classifier: p.Classifier, Routes: p.Routes, Storm: p.Storm, OnGroupChange: p.OnGroupChange}
}

// Replace applies a reloaded configuration's classifier, routes and storm
// policy to p; its hooks stay. Safe while p is in use.
func (p *Policy) Replace(from *Policy) {
	q := from.Snapshot()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Classifier, p.Routes, p.Storm = q.Classifier, q.Routes, q.Storm
}

// GroupHook is told, inside Ingest's transaction, of every group change.
type GroupHook func(ctx context.Context, tx Tx, g *Group, isNew bool, now time.Time) error
