package bot

import (
	"context"
	"time"
)

// Checklists is the runbook checklist service for the handlers: it finds
// the incident of a thread, starts checklists and ticks their steps, each
// call in its own transaction.
type Checklists struct {
	Store Store
}

// ThreadIncident is Incidents.ThreadIncident: the incident whose thread is
// channelID with its alert groups; nil, nil, nil outside incident threads.
func (s *Checklists) ThreadIncident(ctx context.Context, channelID string) (*Incident, []*Group, error) {
	return threadIncident(ctx, s.Store, channelID)
}

// Start is StartChecklist.
func (s *Checklists) Start(ctx context.Context, incidentID int64, runbookID, title string, steps []string, channelID string, by Actor, now time.Time) (*Checklist, error) {
	return StartChecklist(ctx, s.Store, incidentID, runbookID, title, steps, channelID, by, now)
}

// Toggle is ToggleStep.
func (s *Checklists) Toggle(ctx context.Context, incidentID, checklistID int64, step int, by Actor, now time.Time) (*Checklist, bool, error) {
	return ToggleStep(ctx, s.Store, incidentID, checklistID, step, by, now)
}
