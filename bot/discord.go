package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Discord is what the core needs from Discord. Implementations render the
// view themselves and never block waiting for a rate limit: they return a
// *SendError with Paced set instead.
type Discord interface {
	// Publish creates the post's message when p.MessageID is "" (returning its
	// id) and edits it otherwise.
	Publish(ctx context.Context, v View) (messageID string, err error)
	// StartThread starts a public thread on a message and returns its id.
	StartThread(ctx context.Context, channelID, messageID, name string) (threadID string, err error)
}

// SendError is a failed outbound delivery (Discord, phone, mail), saying
// whether and when it is worth trying again.
type SendError struct {
	Op        string // what was attempted, e.g. "create message"
	Status    int    // HTTP status, 0 for transport errors
	Code      int    // provider error code, for logs: the adapter classifies it into the fields below
	Temporary bool   // 5xx, transport error, 429: try again
	Gone      bool   // the target (channel, message, user) no longer exists
	// MessageGone: the message itself no longer exists (someone deleted it);
	// its channel may well be there, so posting it again can work.
	MessageGone bool
	// DMsClosed: the user does not accept direct messages from the bot.
	DMsClosed  bool
	Paced      bool          // not sent at all: a rate-limit bucket is empty
	Global     bool          // the limit that applies is the global one
	RetryAfter time.Duration // when Paced or rate limited: how long to wait
	Err        error
}

func (e *SendError) Error() string {
	switch {
	case e.Paced:
		return fmt.Sprintf("%s: paced for %s", e.Op, e.RetryAfter)
	case e.Status != 0:
		return fmt.Sprintf("%s: HTTP %d (code %d): %v", e.Op, e.Status, e.Code, e.Err)
	default:
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
}

func (e *SendError) Unwrap() error { return e.Err }

// AsSendError returns err's *SendError; other errors count as temporary
// (an unknown failure must never lose work).
func AsSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Op: "send", Temporary: true, Err: err}
}
