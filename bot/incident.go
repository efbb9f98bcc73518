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
