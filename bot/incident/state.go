package incident

import (
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// State is the working state Klaxon keeps beside an incident: where
// its thread comes from, what the pinned summary shows, and when reminders
// last went out. It has no meaning to people; the Incident does.
type State struct {
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

// Measure is an incident's response times, stored for reports
// (MTTA, MTTM, MTTR). A zero duration means it did not happen (yet).
type Measure struct {
	IncidentID     int64
	Priority       bot.Priority
	DetectedAt     time.Time
	TimeToAck      time.Duration // detected -> acknowledged (a person took it)
	TimeToMitigate time.Duration // detected -> mitigated
	TimeToResolve  time.Duration // detected -> resolved
	ImpactDuration time.Duration // started -> resolved (how long people were affected)
	Acked          bool
	Mitigated      bool
	Resolved       bool
}
