package bot

import "time"

// PostKind says what a Discord message shows.
type PostKind string

// Post kinds.
const (
	// Card is one alert group's own message.
	Card PostKind = "card"
	// Digest is a storm digest: counts by priority for every group it
	// holds, the first of them listed, the rest on pages in its thread.
	Digest PostKind = "digest"
	// Page is an overflow message of a digest, posted in the digest's thread.
	Page PostKind = "page"
)

// Post is one Discord message Klaxon owns: created once, then edited in place.
type Post struct {
	ID        int64
	Kind      PostKind
	ChannelID string   // where it is posted (for a page: the digest's thread)
	DigestID  int64    // a page's digest
	Seq       int      // a page's number within its digest, from 1
	Priority  Priority // the most urgent of its groups, for ordering work
	Mentions  Mentions // who the creation pings; edits never ping
	MessageID string   // "" until Discord confirmed the creation
	ThreadID  string   // a digest's overflow thread
	CreatedAt time.Time
	UpdatedAt time.Time // a digest: when it last took a group
	LastError string    // the last permanent failure, shown in diagnostics
}

// Mentions is who a message may ping. Only these are put in allowed_mentions.
type Mentions struct {
	Roles []string
	Users []string
}

// Empty reports whether nobody is mentioned.
func (m Mentions) Empty() bool { return len(m.Roles) == 0 && len(m.Users) == 0 }

// View is everything the Discord adapter needs to render a post.
type View struct {
	Post   Post
	Groups []*Group // for a card, one; for a digest or page, the ones it lists
	Stats  DigestStats
	Now    time.Time
	Nonce  string // for a create: the queue item's nonce, so that a repeat returns the first message
}

// DigestStats are the counts a digest shows over all of its groups.
type DigestStats struct {
	Groups   int
	Firing   [4]int // groups still firing, by priority
	Resolved int
	Pages    int
	Since    time.Time
}
