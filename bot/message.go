package bot

import (
	"context"
	"time"
)

// Message is a plain Discord message the core wants sent: reminders,
// pages, handoff announcements, reports. The Discord adapter renders it.
type Message struct {
	Content     string // may contain mentions; only Mentions are pinged
	Mentions    Mentions
	Title       string
	Description string
	URL         string
	Tone        Tone // the accent; bot/discord picks the colour
	Fields      []Field
	Footer      string
	Files       []File
	ReplyTo     string // message id to reply to in the same channel
	// Buttons go under the message (e.g. Acknowledge on a page DM).
	Buttons []Button `json:",omitempty"`
	// Nonce, when set, is sent with enforce_nonce: Discord answers a repeated
	// create with the message it created the first time. Set at send time.
	Nonce string `json:"-"`
}

// Field is a named value shown on a message.
type Field struct {
	Name   string
	Value  string
	Inline bool
}

// File is an attachment.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Button is a button under a message Klaxon posts: an incident's
// (Declare, Snooze, ...) or a page's (Acknowledge).
type Button struct {
	Label    string
	CustomID string
	Emoji    string
	Style    string // "primary", "secondary", "success", "danger"
}

// Messenger sends and edits plain messages. Like Discord, it never blocks
// on a rate limit: it returns a *SendError with Paced set.
type Messenger interface {
	Send(ctx context.Context, channelID string, m Message) (messageID string, err error)
	Edit(ctx context.Context, channelID, messageID string, m Message) error
	// DM sends a direct message to a user. A user who does not accept DMs
	// gives a *SendError with DMsClosed set.
	DM(ctx context.Context, userID string, m Message) (messageID string, err error)
}

// Outgoing is a queued plain message (an ItemMessage of the outbound
// queue): stored in the same transaction as the change that causes it,
// delivered by the engine, deleted only once Discord confirmed it.
type Outgoing struct {
	ID         int64
	ChannelID  string // or "" with UserID set for a DM, or with IncidentID for the incident's thread
	UserID     string
	IncidentID int64
	Priority   Priority
	Message    Message
	Buttons    []Button // incident messages: buttons under the message
	Kind       string   // what it is, for logs and metrics: "page", "reminder", "handoff", ...
	Ref        string   // optional caller reference, e.g. "page:42"
	DueAt      time.Time
	Attempts   int
	LastError  string
	CreatedAt  time.Time
}

// SentHook is told when a queued message was delivered or dropped, so the
// feature that queued it can record the outcome (e.g. a page's DM fell back
// to a channel mention). ref is Outgoing.Ref.
type SentHook func(ctx context.Context, tx Tx, m Outgoing, messageID string, sendErr error, now time.Time) error

// PrepareHook runs just before a queued message is sent. It may complete
// the message (e.g. reply to a card) and returns false to hold it back a
// little (e.g. until the card it refers to exists on Discord).
type PrepareHook func(ctx context.Context, tx Tx, m *Outgoing) (ready bool, err error)
