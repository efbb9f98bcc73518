package bot

import (
	"context"
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
}

// Route returns the route of priority p.
func (p *Policy) Route(pr Priority) Route {
	if !pr.Valid() {
		pr = P3
	}
	return p.Routes[pr]
}

// GroupHook is told, inside Ingest's transaction, of every group change.
type GroupHook func(ctx context.Context, tx Tx, g *Group, isNew bool, now time.Time) error
