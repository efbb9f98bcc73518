package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// RunbookRefs returns the runbook references an alert group carries, best
// first and without duplicates: the `runbook` label, the `runbook`
// annotation, then the `runbook_url` annotation (the Prometheus convention),
// looking at the group's common labels and annotations before its alerts'.
// A reference is an id, an alias, or a URL or path whose last element names
// a runbook; resolving it is the runbook library's job.
func RunbookRefs(g *bot.Group) []string {
	if g == nil {
		return nil
	}
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		for _, o := range out {
			if o == v {
				return
			}
		}
		out = append(out, v)
	}
	add(g.CommonLabels["runbook"])
	add(g.CommonAnnotations["runbook"])
	for _, a := range g.Alerts {
		add(a.Labels["runbook"])
		add(a.Annotations["runbook"])
	}
	add(g.CommonAnnotations["runbook_url"])
	for _, a := range g.Alerts {
		add(a.Annotations["runbook_url"])
	}
	return out
}

// RunbookLabels returns the labels a runbook matcher is checked against for
// a group: its common labels, or its first alert's when it has none.
func RunbookLabels(g *bot.Group) map[string]string {
	if g == nil {
		return nil
	}
	if len(g.CommonLabels) > 0 {
		return g.CommonLabels
	}
	if len(g.Alerts) > 0 {
		return g.Alerts[0].Labels
	}
	return g.GroupLabels
}

// MaxChecklistSteps is how many steps a checklist tracks: Discord shows at
// most 25 buttons on a message.
const MaxChecklistSteps = 25

// Checklist is a runbook's steps run as a checklist inside an incident.
// Steps are copied when it starts, so a reloaded runbook does not change a
// checklist in progress.
type Checklist struct {
	ID         int64
	IncidentID int64
	RunbookID  string
	Title      string
	Steps      []string
	Done       []*StepMark // one per step; nil while not done
	ChannelID  string      // where it was posted (the incident thread)
	StartedBy  bot.Actor
	StartedAt  time.Time
}

// StepMark records who marked a step done, and when.
type StepMark struct {
	bot.Actor
	At time.Time
}

// DoneCount returns how many steps are done.
func (c *Checklist) DoneCount() int {
	n := 0
	for _, d := range c.Done {
		if d != nil {
			n++
		}
	}
	return n
}

// ChecklistTx is the part of Tx for runbook checklists.
type ChecklistTx interface {
	// AddChecklist stores a new checklist (setting c.ID).
	AddChecklist(c *Checklist) error
	// Checklist returns a checklist by id, or ENotFound.
	Checklist(id int64) (*Checklist, error)
	// SaveChecklistDone saves which steps are done.
	SaveChecklistDone(c *Checklist) error
	// Checklists returns an incident's checklists, oldest first.
	Checklists(incidentID int64) ([]*Checklist, error)
}

// StartChecklist records a runbook's steps as a checklist of an incident and
// adds a "runbook started" timeline event, in one transaction.
func StartChecklist(ctx context.Context, s bot.TxStore[Tx], incidentID int64, runbookID, title string, steps []string, channelID string, by bot.Actor, now time.Time) (*Checklist, error) {
	if len(steps) == 0 {
		return nil, bot.Errorf(bot.EInvalid, "runbook %s has no steps to check off: add a numbered list under a \"## Steps\" heading, or use /runbook show", runbookID)
	}
	if len(steps) > MaxChecklistSteps {
		steps = steps[:MaxChecklistSteps]
	}
	c := &Checklist{IncidentID: incidentID, RunbookID: runbookID, Title: title, Steps: append([]string(nil), steps...),
		Done: make([]*StepMark, len(steps)), ChannelID: channelID, StartedBy: by, StartedAt: now}
	err := s.Update(ctx, func(tx Tx) error {
		inc, err := tx.Incident(incidentID)
		if err != nil {
			return err
		}
		if err := tx.AddChecklist(c); err != nil {
			return err
		}
		return tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: now, Kind: "runbook started", Actor: by,
			Text: fmt.Sprintf("Started runbook %s (%s): %d steps", title, runbookID, len(steps)), Ref: checklistRef(c, -1)})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func checklistRef(c *Checklist, step int) string {
	if step < 0 {
		return fmt.Sprintf("runbook:%s/checklist:%d", c.RunbookID, c.ID)
	}
	return fmt.Sprintf("runbook:%s/checklist:%d#%d", c.RunbookID, c.ID, step+1)
}

// ToggleStep marks step (0-based) of a checklist done, or not done again
// when it was, and records either on the incident's timeline with who and
// when. It returns the checklist as saved and whether the step is now done.
//
// incidentID is the incident the step was clicked in (its thread): a
// checklist of another incident is refused (EForbidden), so a forged
// button cannot tick steps on an incident its clicker is not looking at.
func ToggleStep(ctx context.Context, s bot.TxStore[Tx], incidentID, checklistID int64, step int, by bot.Actor, now time.Time) (*Checklist, bool, error) {
	var c *Checklist
	var done bool
	err := s.Update(ctx, func(tx Tx) (err error) {
		if c, err = tx.Checklist(checklistID); err != nil {
			return err
		}
		if c.IncidentID != incidentID {
			return bot.Errorf(bot.EForbidden, "checklist %d belongs to another incident: use the checklist in this incident's thread", checklistID)
		}
		if step < 0 || step >= len(c.Steps) {
			return bot.Errorf(bot.EInvalid, "checklist %d has no step %d", checklistID, step+1)
		}
		kind, verb := "runbook step", "done"
		if c.Done[step] == nil {
			c.Done[step] = &StepMark{Actor: by, At: now}
			done = true
		} else {
			c.Done[step] = nil
			kind, verb = "runbook step undone", "marked not done"
		}
		if err := tx.SaveChecklistDone(c); err != nil {
			return err
		}
		return tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: c.IncidentID, At: now, Kind: kind, Actor: by,
			Text: fmt.Sprintf("%s step %d/%d %s: %s", c.Title, step+1, len(c.Steps), verb, c.Steps[step]), Ref: checklistRef(c, step)})
	})
	if err != nil {
		return nil, false, err
	}
	return c, done, nil
}

// Checklists is the runbook checklist service for the handlers: it finds
// the incident of a thread, starts checklists and ticks their steps, each
// call in its own transaction.
type Checklists struct {
	Store bot.TxStore[Tx]
}

// ThreadIncident is Service.ThreadIncident: the incident whose thread is
// channelID with its alert groups; nil, nil, nil outside incident threads.
func (s *Checklists) ThreadIncident(ctx context.Context, channelID string) (*bot.Incident, []*bot.Group, error) {
	return threadIncident(ctx, s.Store, channelID)
}

// Start is StartChecklist.
func (s *Checklists) Start(ctx context.Context, incidentID int64, runbookID, title string, steps []string, channelID string, by bot.Actor, now time.Time) (*Checklist, error) {
	return StartChecklist(ctx, s.Store, incidentID, runbookID, title, steps, channelID, by, now)
}

// Toggle is ToggleStep.
func (s *Checklists) Toggle(ctx context.Context, incidentID, checklistID int64, step int, by bot.Actor, now time.Time) (*Checklist, bool, error) {
	return ToggleStep(ctx, s.Store, incidentID, checklistID, step, by, now)
}
