package bot

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ItemKind says what a queued item asks the Discord adapter to do.
type ItemKind string

// Item kinds of the outbound queue.
const (
	// ItemPost creates or edits a card, a storm digest or a digest page
	// (Target is the post). Coalesced: one item per post.
	ItemPost ItemKind = "post"
	// ItemMessage sends a plain message: a page, a DM, a reminder, an
	// announcement, a message in an incident's thread.
	ItemMessage ItemKind = "message"
	// ItemIncident brings an incident's thread, pinned summary, members and
	// archiving up to date (Target is the incident). Coalesced.
	ItemIncident ItemKind = "incident"
	// ItemForum creates or edits a post-mortem's forum post (Target is the
	// post-mortem). Coalesced.
	ItemForum ItemKind = "forum"
)

// Item is one entry of the outbound queue: the one path by which Klaxon
// sends anything to Discord. It is stored in the transaction of the change
// that causes it and removed only in the transaction that records Discord's
// confirmation, so a crash in between sends it again — and the nonce makes
// Discord answer a repeated create with the message it created the first time.
type Item struct {
	ID       int64
	Kind     ItemKind
	Target   int64 // the post, incident or post-mortem; 0 for messages
	Priority Priority
	Version  int64     // bumped when the target changes again before delivery
	Message  *Outgoing // ItemMessage only
	DueAt    time.Time
	Attempts int // failed attempts
	// Sends counts creates started for this item. More than one means an
	// earlier create may have reached Discord without its answer reaching us.
	Sends     int
	LastError string
	DeadAt    time.Time // refused for good: a dead letter until requeued
	CreatedAt time.Time
}

// Nonce is the item's Discord message nonce: the same for every attempt,
// never reused by another item (ids are never reused), at most 25 characters.
func (it Item) Nonce() string { return "kx" + strconv.FormatInt(it.ID, 36) }

// Describe says what the item is, for people: logs, diagnostics.
func (it Item) Describe() string {
	switch it.Kind {
	case ItemPost:
		return fmt.Sprintf("%s card/digest post %d", it.Priority, it.Target)
	case ItemIncident:
		return fmt.Sprintf("the thread of incident INC-%d", it.Target)
	case ItemForum:
		return fmt.Sprintf("the forum post of post-mortem %d", it.Target)
	}
	m := it.Message
	if m == nil {
		return fmt.Sprintf("item %d", it.ID)
	}
	switch {
	case m.ChannelID != "":
		return fmt.Sprintf("a %s message (%s) in channel %s", it.Priority, m.Kind, m.ChannelID)
	case m.UserID != "":
		return fmt.Sprintf("a %s direct message (%s) to user %s", it.Priority, m.Kind, m.UserID)
	default:
		return fmt.Sprintf("a %s message (%s) in the thread of incident INC-%d", it.Priority, m.Kind, m.IncidentID)
	}
}

// QueueTx is the part of Tx for the outbound queue.
type QueueTx interface {
	// Enqueue stores m for delivery as an ItemMessage (setting m.ID to the item's id).
	Enqueue(m *Outgoing) error
	// MarkDirty queues the post for (re)delivery at now, coalescing with a
	// delivery already queued.
	MarkDirty(postID int64, p Priority, now time.Time) error
	// MarkItem queues work on a target (ItemIncident, ItemForum, ItemPost),
	// coalescing with an item already queued for it: the version is bumped,
	// the priority raised, and a dead letter revived.
	MarkItem(kind ItemKind, target int64, p Priority, now time.Time) error
	// DueItems returns items due at now that are not dead, most urgent
	// first: by priority, then cards before incident threads before
	// messages, then by age.
	DueItems(now time.Time, limit int) ([]Item, error)
	// ItemDone removes a delivered item if its version is still version
	// (otherwise its target changed meanwhile and it stays due).
	ItemDone(id, version int64) error
	// RemoveItem deletes an item whatever its version.
	RemoveItem(id int64) error
	// EnsureItem queues work on a target unless an item (live or dead)
	// already exists for it; the sender re-reads the target's state.
	EnsureItem(kind ItemKind, target int64, p Priority, now time.Time) error
	// RetryItem reschedules an item; attempt says whether it counts as a failed attempt.
	RetryItem(id int64, due time.Time, attempt bool, lastErr string) error
	// ItemSending records that a create is about to be sent for the item;
	// ENotFound when the item is gone (its target was deleted meanwhile).
	ItemSending(id int64) error
	// ItemNotSent takes back an ItemSending when the create did not leave
	// Klaxon after all (held by the pacer).
	ItemNotSent(id int64) error
	// MarkSent records that something reached Discord at the time given.
	MarkSent(at time.Time) error
	// LastSent is the latest MarkSent (zero: never).
	LastSent() (time.Time, error)
	// DeadItem keeps an item Discord refused for good as a dead letter, with the reason.
	DeadItem(id int64, reason string, now time.Time) error
	// DeadItems returns dead letters, newest first.
	DeadItems(limit int) ([]Item, error)
	// RequeueDead makes every dead letter due again at now, returning how many.
	RequeueDead(now time.Time) (int, error)
	// QueueStats returns how many live items wait, when the oldest was
	// queued, and how many dead letters there are.
	QueueStats() (depth int, oldest time.Time, dead int, err error)
	// PendingMessages reports whether messages for the incident's thread still wait.
	PendingMessages(incidentID int64) (bool, error)
	// CancelMessages deletes queued messages of a feature whose ref starts with prefix.
	CancelMessages(tag, refPrefix string) error
}

// Sender performs queued items of one kind. The queue decides what happens
// after a failure, from the *SendError's classification alone.
type Sender interface {
	// Send performs the item. On success it returns what to record, run in
	// the transaction that removes the item (nil: nothing); keep is true
	// when the item must stay queued for another round (e.g. an edit that
	// must follow a create that may have returned an older message).
	Send(ctx context.Context, it Item, now time.Time) (commit func(Tx) error, keep bool, err error)
	// Dead is told, in the transaction that keeps the item as a dead
	// letter, that Discord refused it for good.
	Dead(ctx context.Context, tx Tx, it Item, err *SendError, now time.Time) error
}
