package bot

import (
	"context"
	"time"
)

// TxStore runs functions in transactions that offer T: the core's Tx, or a
// feature's Tx that embeds it (paging.Tx, incident.Tx, ...). A feature's
// service holds a TxStore of its own Tx; the store package offers one per
// feature over its single database.
type TxStore[T any] interface {
	// Update runs fn in a write transaction and commits when fn returns nil:
	// either all of it is durable or none of it is.
	Update(ctx context.Context, fn func(T) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(T) error) error
	// Join returns tx as T. tx must be a transaction of this store that the
	// core opened and handed to a hook (a GroupHook, SentHook, PrepareHook or
	// Sender), so that the feature's work commits with the core's.
	Join(tx Tx) T
}

// Store keeps Klaxon's state: the core's transactions, and the database
// itself.
type Store interface {
	TxStore[Tx]
	// Ping checks that the database answers and can be written.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is the core's operations inside a transaction: alert groups, posts and
// digests, and the outbound queue. Each feature declares a Tx of its own
// that embeds this one (paging.Tx, incident.Tx, ...); store implements them
// all on one SQL transaction.
type Tx interface {
	QueueTx

	// Incident returns an incident by id, or an ENotFound error (the
	// dispatcher finds the thread of a message for an incident with it).
	Incident(id int64) (*Incident, error)

	// LatestGroup returns the newest episode of the group with this key, or
	// an ENotFound error.
	LatestGroup(key string) (*Group, error)
	// Group returns a group by id, or an ENotFound error.
	Group(id int64) (*Group, error)
	// SaveGroup inserts g when g.ID is 0 (setting it) and updates it otherwise.
	SaveGroup(g *Group) error
	// OpenGroups returns the groups still firing, most urgent first.
	OpenGroups(limit int) ([]*Group, error)

	// CreatePost inserts p (setting p.ID) and makes it show the given groups.
	CreatePost(p *Post, groupIDs ...int64) error
	// Post returns a post by id, or an ENotFound error.
	Post(id int64) (*Post, error)
	// UpdatePost saves p's message id, thread id, priority, updated time and last error.
	UpdatePost(p *Post) error
	// DeletePost removes a post that was never created on Discord, its
	// memberships and its outbox entry.
	DeletePost(id int64) error
	// AddToPost makes an existing post show more groups.
	AddToPost(postID int64, groupIDs ...int64) error
	// PostsOfGroup returns the posts that show a group.
	PostsOfGroup(groupID int64) ([]Post, error)
	// CountGroups returns how many groups a post shows.
	CountGroups(postID int64) (int, error)
	// GroupIDs returns the ids of the groups a post shows.
	GroupIDs(postID int64) ([]int64, error)
	// GroupsOfPost returns the groups a post shows, in the order they were added.
	GroupsOfPost(postID int64) ([]*Group, error)
	// DigestStats counts the groups of a digest and its pages.
	DigestStats(digestID int64) (DigestStats, error)
	// OpenDigest returns the channel's newest digest, or ENotFound.
	OpenDigest(channelID string) (*Post, error)
	// Pages returns the digest's pages in order.
	Pages(digestID int64) ([]Post, error)
	// LastPage returns the digest's page with the highest number, or ENotFound.
	LastPage(digestID int64) (*Post, error)
	// PendingCards returns cards of priority >= min in the channel that were
	// never created on Discord and whose create was never sent, oldest first.
	PendingCards(channelID string, min Priority) ([]Post, error)
	// Backlog returns, per channel, how many cards of priority >= min wait to be created.
	Backlog(min Priority) (map[string]int, error)

	// FailedPosts returns posts whose last delivery Discord refused (4xx), newest first.
	FailedPosts(limit int) ([]Post, error)
	// GroupCounts counts groups by priority and state ("firing",
	// "acknowledged", and "resolved" since the given time).
	GroupCounts(resolvedSince time.Time) (map[Priority]map[string]int, error)
}
