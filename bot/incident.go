package bot

import (
	"fmt"
	"time"
)

// IncidentStatus is where an incident is in the response procedure:
// detection → classification → resolution → post-mortem.
type IncidentStatus string

// Incident statuses, in lifecycle order.
const (
	Detected      IncidentStatus = "detected"
	Investigating IncidentStatus = "investigating"
	Mitigated     IncidentStatus = "mitigated"
	IncResolved   IncidentStatus = "resolved"
	PostMortem    IncidentStatus = "post-mortem"
	Closed        IncidentStatus = "closed"
)

// Incident is how people fix something together: separate from the alert
// groups that may have started it.
type Incident struct {
	ID           int64
	Title        string
	Priority     Priority
	Impact       string   // classification: who/what is affected, in words
	Services     []string // affected services (SLO accounting uses these)
	Status       IncidentStatus
	Roles        map[string]string // role name (commander, communications, scribe, ...) -> Discord user id
	GroupIDs     []int64           // linked alert groups
	ChannelID    string            // where the thread lives (alert channel or incidents channel/forum)
	ThreadID     string            // the incident's thread
	SummaryID    string            // the pinned summary message in the thread
	CreatedBy    Actor
	StartedAt    time.Time // when the problem began (earliest linked alert, or declaration)
	DetectedAt   time.Time
	AckedAt      time.Time
	MitigatedAt  time.Time
	ResolvedAt   time.Time
	ClosedAt     time.Time
	LastUpdateAt time.Time // last status update posted (for reminders)
	Version      int64
}

// Ref is the incident's public name, e.g. "INC-42".
func (i *Incident) Ref() string { return fmt.Sprintf("INC-%d", i.ID) }

// TimelineEvent is one entry of an incident's timeline: who, when, what.
type TimelineEvent struct {
	ID         int64
	IncidentID int64
	At         time.Time
	Kind       string // e.g. "declared", "alert fired", "acknowledged", "role assigned", "status update", "note", "pinned message", "runbook step", "resolved"
	Actor      Actor
	Text       string
	Ref        string // optional: a message link, alert group id, runbook step id
}

// IncidentTx is the part of Tx for incidents and their timelines.
type IncidentTx interface {
	// SaveIncident inserts i when i.ID is 0 (setting it) and updates it otherwise.
	SaveIncident(i *Incident) error
	// Incident returns an incident by id, or ENotFound.
	Incident(id int64) (*Incident, error)
	// IncidentByThread returns the incident whose thread is threadID, or ENotFound.
	IncidentByThread(threadID string) (*Incident, error)
	// IncidentOfGroup returns the incident an alert group is linked to, or ENotFound.
	IncidentOfGroup(groupID int64) (*Incident, error)
	// Incidents returns incidents, newest first; open only when openOnly.
	Incidents(openOnly bool, limit int) ([]*Incident, error)
	// IncidentsBetween returns the incidents active at some time in
	// [from, to): started (or detected) before to, not resolved before
	// from; oldest first.
	IncidentsBetween(from, to time.Time) ([]*Incident, error)
	// AddTimelineEvent appends to an incident's timeline (setting e.ID).
	AddTimelineEvent(e *TimelineEvent) error
	// Timeline returns an incident's timeline, oldest first.
	Timeline(incidentID int64) ([]TimelineEvent, error)
	// PreviousEpisode returns the newest episode of the group key older
	// than group beforeID, or ENotFound.
	PreviousEpisode(key string, beforeID int64) (*Group, error)
}
