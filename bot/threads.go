package bot

import "context"

// Threads is what incident threads need from Discord: the incident feature
// creates and keeps threads, pinned summaries, members and archiving
// through it, and the dispatcher sends messages with buttons through it. Like Discord, it never blocks on a rate
// limit: it returns a *SendError with Paced set.
type Threads interface {
	// StartThread starts a public thread on an existing message (an alert
	// card) and returns its id; a message that has a thread returns that one.
	StartThread(ctx context.Context, channelID, messageID, name string) (threadID string, err error)
	// CreateThread opens a public thread in channelID: in a forum, a post
	// whose first message is m; in a text channel, a thread on a new message m.
	// It returns the thread id and the id of the message it starts with.
	CreateThread(ctx context.Context, channelID, name string, m Message) (threadID, messageID string, err error)
	// Send posts m with buttons in a channel or thread.
	Send(ctx context.Context, channelID string, m Message, buttons []Button) (messageID string, err error)
	// Edit replaces a message's text, embeds and buttons.
	Edit(ctx context.Context, channelID, messageID string, m Message, buttons []Button) error
	// Pin pins a message.
	Pin(ctx context.Context, channelID, messageID string) error
	// AddMember adds a user to a thread.
	AddMember(ctx context.Context, threadID, userID string) error
	// Archive archives a thread (anyone posting in it unarchives it).
	Archive(ctx context.Context, threadID string) error
}
