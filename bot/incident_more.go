package bot

import (
	"context"
	"time"
)

// IncidentState is the working state Klaxon keeps beside an incident: where
// its thread comes from, what the pinned summary shows, and when reminders
// last went out. It has no meaning to people; the Incident does.
type IncidentState struct {
	IncidentID          int64
	Source              string // how it was opened: "alert", "command", "button", "report"
	PostID              int64  // the alert card the thread starts on (0: the incidents channel)
	AnnounceID          string // the incidents-channel message the thread starts on
	SummaryVersion      int64  // the incident Version the pinned summary shows
	Archived            bool   // the thread was archived after resolution
	SnoozedUntil        time.Time
	UpdateRemindedAt    time.Time // last status-update reminder
	CommanderRemindedAt time.Time // last "nobody is commander" reminder
	NudgedAt            time.Time // last "still mitigated" nudge
	ThreadError         string    // the last permanent failure creating the thread, for /incident status
}

// IncidentButton is a button on a message Klaxon posts for an incident.
type IncidentButton struct {
	Label    string
	CustomID string
	Emoji    string
	Style    string // "primary", "secondary", "success", "danger"
}

// UserReport is a problem a member reported with /report: a triage item.
type UserReport struct {
	ID              int64
	Text            string
	Reporter        Actor
	ChannelID       string // where it was reported from
	Status          string // "open", "declared", "linked", "dismissed"
	IncidentID      int64
	HandledBy       Actor
	TriageChannelID string // where the triage message is
	MessageID       string // the triage message, once posted
	CreatedAt       time.Time
	HandledAt       time.Time
}

// User report statuses.
const (
	ReportOpen      = "open"
	ReportDeclared  = "declared"
	ReportLinked    = "linked"
	ReportDismissed = "dismissed"
)

// IncidentMeasure is an incident's response times, stored for reports
// (MTTA, MTTM, MTTR). A zero duration means it did not happen (yet).
type IncidentMeasure struct {
	IncidentID     int64
	Priority       Priority
	DetectedAt     time.Time
	TimeToAck      time.Duration // detected -> acknowledged (a person took it)
	TimeToMitigate time.Duration // detected -> mitigated
	TimeToResolve  time.Duration // detected -> resolved
	ImpactDuration time.Duration // started -> resolved (how long people were affected)
	Acked          bool
	Mitigated      bool
	Resolved       bool
}

// IncidentMoreTx is the part of Tx for incident threads, reminders, reports
// and measures.
type IncidentMoreTx interface {
	// IncidentState returns an incident's working state; a zero state
	// (with IncidentID set) when none was saved yet.
	IncidentState(incidentID int64) (*IncidentState, error)
	// SaveIncidentState inserts or replaces an incident's working state.
	SaveIncidentState(s *IncidentState) error
	// IncidentsToSync returns the incidents the engine job still has work
	// for: not closed, or closed with a thread not yet archived; oldest first.
	IncidentsToSync(limit int) ([]*Incident, error)

	// AddThreadMember asks for userID to be added to the incident's thread.
	AddThreadMember(incidentID int64, userID string) error
	// PendingThreadMembers returns users not yet added to the incident's thread.
	PendingThreadMembers(incidentID int64) ([]string, error)
	// ThreadMemberAdded records that userID was added (or cannot be).
	ThreadMemberAdded(incidentID int64, userID, result string) error

	// GroupActionsSeen returns how many of a linked group's actions are in the timeline.
	GroupActionsSeen(incidentID, groupID int64) (int, error)
	// SetGroupActionsSeen records how many of a linked group's actions are in the timeline.
	SetGroupActionsSeen(incidentID, groupID int64, n int) error
	// LastTimelineEvent returns the newest timeline event of the incident
	// with this ref and one of kinds, or ENotFound.
	LastTimelineEvent(incidentID int64, ref string, kinds ...string) (*TimelineEvent, error)

	// SaveReport inserts r when r.ID is 0 (setting it) and updates it otherwise.
	SaveReport(r *UserReport) error
	// Report returns a user report, or ENotFound.
	Report(id int64) (*UserReport, error)
	// OpenReports returns reports not handled yet, newest first.
	OpenReports(limit int) ([]*UserReport, error)

	// SaveIncidentMeasure inserts or replaces an incident's measures.
	SaveIncidentMeasure(m IncidentMeasure) error
	// IncidentMeasures returns the measures of incidents detected in [from, to).
	IncidentMeasures(from, to time.Time) ([]IncidentMeasure, error)
}

// Threads is what the incident job needs from Discord: threads, pinned
// summaries, members and archiving. Like Discord, it never blocks on a rate
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
	Send(ctx context.Context, channelID string, m Message, buttons []IncidentButton) (messageID string, err error)
	// Edit replaces a message's text, embeds and buttons.
	Edit(ctx context.Context, channelID, messageID string, m Message, buttons []IncidentButton) error
	// Pin pins a message.
	Pin(ctx context.Context, channelID, messageID string) error
	// AddMember adds a user to a thread.
	AddMember(ctx context.Context, threadID, userID string) error
	// Archive archives a thread (anyone posting in it unarchives it).
	Archive(ctx context.Context, threadID string) error
}
