package incident

import (
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// Tx is what the incident feature does inside a transaction: the core's
// operations (the alert groups incidents link to), the paging feature's
// (a linked group's action log goes on the timeline), and its own: incidents
// and their timelines, working state, thread members, player reports,
// measures and runbook checklists.
type Tx interface {
	paging.Tx
	ChecklistTx

	// SaveIncident inserts i when i.ID is 0 (setting it) and updates it otherwise.
	SaveIncident(i *bot.Incident) error
	// Incident returns an incident by id, or ENotFound.
	Incident(id int64) (*bot.Incident, error)
	// IncidentByThread returns the incident whose thread is threadID, or ENotFound.
	IncidentByThread(threadID string) (*bot.Incident, error)
	// IncidentOfGroup returns the incident an alert group is linked to, or ENotFound.
	IncidentOfGroup(groupID int64) (*bot.Incident, error)
	// Incidents returns incidents, newest first; open only when openOnly.
	Incidents(openOnly bool, limit int) ([]*bot.Incident, error)
	// IncidentsBetween returns the incidents active at some time in
	// [from, to): started (or detected) before to, not resolved before
	// from; oldest first.
	IncidentsBetween(from, to time.Time) ([]*bot.Incident, error)
	// AddTimelineEvent appends to an incident's timeline (setting e.ID).
	AddTimelineEvent(e *bot.TimelineEvent) error
	// Timeline returns an incident's timeline, oldest first.
	Timeline(incidentID int64) ([]bot.TimelineEvent, error)
	// PreviousEpisode returns the newest episode of the group key older
	// than group beforeID, or ENotFound.
	PreviousEpisode(key string, beforeID int64) (*bot.Group, error)

	// IncidentState returns an incident's working state; a zero state
	// (with IncidentID set) when none was saved yet.
	IncidentState(incidentID int64) (*State, error)
	// SaveIncidentState inserts or replaces an incident's working state.
	SaveIncidentState(s *State) error
	// IncidentsToSync returns the incidents the engine job still has work
	// for: not closed, or closed with a thread not yet archived; oldest first.
	IncidentsToSync(limit int) ([]*bot.Incident, error)

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
	LastTimelineEvent(incidentID int64, ref string, kinds ...string) (*bot.TimelineEvent, error)

	// SaveReport inserts r when r.ID is 0 (setting it) and updates it otherwise.
	SaveReport(r *UserReport) error
	// Report returns a user report, or ENotFound.
	Report(id int64) (*UserReport, error)
	// OpenReports returns reports not handled yet, newest first.
	OpenReports(limit int) ([]*UserReport, error)

	// SaveIncidentMeasure inserts or replaces an incident's measures.
	SaveIncidentMeasure(m Measure) error
	// IncidentMeasures returns the measures of incidents detected in [from, to).
	IncidentMeasures(from, to time.Time) ([]Measure, error)
}
