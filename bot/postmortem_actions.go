package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxActionText bounds an action item's text.
const MaxActionText = 500

// actionDueNotice is how long before its due time an action item's owner
// hears that it is due.
const actionDueNotice = 24 * time.Hour

// AddActionItem records a follow-up of an incident, owned by ownerID and due
// at due, plans its reminders, and notes it on the timeline.
func (p *Postmortems) AddActionItem(ctx context.Context, incidentID int64, ownerID string, due time.Time, text string, by Actor, now time.Time) (*ActionItem, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return nil, Errorf(EInvalid, "say what needs doing, e.g. text: Add a disk-space alert for the DB host")
	case utf8.RuneCountInString(text) > MaxActionText:
		return nil, Errorf(EInvalid, "the action item is longer than %d characters: keep it to one task and link details", MaxActionText)
	case !ValidUserID(ownerID):
		return nil, Errorf(EInvalid, "the owner must be a person on this server: pick them in the owner option")
	case !due.After(now):
		return nil, Errorf(EInvalid, "the due date %s is in the past: give a future date like 2026-04-01, or a delay like 3d or 2w", due.UTC().Format("2006-01-02 15:04 UTC"))
	}
	a := &ActionItem{IncidentID: incidentID, Text: text, OwnerID: ownerID, DueAt: due, Status: ActionOpen, CreatedBy: by, CreatedAt: now}
	a.NextReminderAt = nextActionReminder(a, p.Policy.remindEvery())
	err := p.Store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Incident(incidentID); err != nil {
			return err
		}
		if err := tx.AddActionItem(a); err != nil {
			return err
		}
		if err := tx.AddTimelineEvent(&TimelineEvent{IncidentID: incidentID, At: now, Kind: "action item", Actor: by,
			Text: fmt.Sprintf("Action item #%d for %s, due %s: %s", a.ID, UserRef(ownerID), due.UTC().Format("2006-01-02"), text),
			Ref:  fmt.Sprintf("action:%d", a.ID)}); err != nil {
			return err
		}
		return markDirty(tx, incidentID, now)
	})
	if err != nil {
		return nil, err
	}
	p.trigger()
	return a, nil
}

// CompleteActionItem marks an action item done, which stops its reminders.
func (p *Postmortems) CompleteActionItem(ctx context.Context, id int64, by Actor, now time.Time) (*ActionItem, error) {
	var a *ActionItem
	err := p.Store.Update(ctx, func(tx Tx) (err error) {
		if a, err = tx.ActionItem(id); err != nil {
			if ErrorCode(err) == ENotFound {
				return Errorf(ENotFound, "there is no action item #%d: see /postmortem action list", id)
			}
			return err
		}
		if a.Status == ActionDone {
			return Errorf(EConflict, "action item #%d is already done (by %s)", id, ActorRef(a.DoneBy))
		}
		a.Status, a.DoneAt, a.DoneBy, a.NextReminderAt = ActionDone, now, by, time.Time{}
		if err := tx.SaveActionItem(a); err != nil {
			return err
		}
		if err := tx.AddTimelineEvent(&TimelineEvent{IncidentID: a.IncidentID, At: now, Kind: "action item done", Actor: by,
			Text: fmt.Sprintf("Action item #%d done: %s", a.ID, a.Text), Ref: fmt.Sprintf("action:%d", a.ID)}); err != nil {
			return err
		}
		return markDirty(tx, a.IncidentID, now)
	})
	if err != nil {
		return nil, err
	}
	p.trigger()
	return a, nil
}

// nextActionReminder plans an open item's next reminder: one a day before it
// is due (skipped when it was created closer to its due time than that), one
// when it is due, then one every `every` while it stays open.
func nextActionReminder(a *ActionItem, every time.Duration) time.Time {
	if a.Status != ActionOpen {
		return time.Time{}
	}
	notice := a.DueAt.Add(-actionDueNotice)
	switch {
	case a.Reminders == 0 && notice.After(a.CreatedAt):
		return notice
	case a.Reminders == 0 || (a.Reminders == 1 && notice.After(a.CreatedAt)):
		return a.DueAt
	}
	overdue := a.Reminders - 1 // overdue reminders already sent, counting the one at the due time
	if !notice.After(a.CreatedAt) {
		overdue = a.Reminders
	}
	return a.DueAt.Add(time.Duration(overdue) * every)
}

// Name implements Job.
func (p *Postmortems) Name() string { return "postmortems" }

// Run implements Job: it sends due action-item reminders to their owners
// and due-policy reminders to incident commanders, each queued in the same
// transaction that plans the next one.
func (p *Postmortems) Run(ctx context.Context, now time.Time) error {
	return errors.Join(p.remindActions(ctx, now), p.planDue(ctx, now), p.remindDue(ctx, now))
}

func (p *Postmortems) remindActions(ctx context.Context, now time.Time) error {
	return p.Store.Update(ctx, func(tx Tx) error {
		items, err := tx.DueActionItems(now, 100)
		if err != nil {
			return err
		}
		for _, a := range items {
			inc, err := tx.Incident(a.IncidentID)
			if err != nil {
				return err
			}
			m := ActionReminder(a, inc, now, p.Policy.remindEvery())
			if err := tx.Enqueue(&Outgoing{UserID: a.OwnerID, Priority: P2, Message: m, Kind: KindPostmortemReminder,
				Ref: fmt.Sprintf("action:%d:%d", a.ID, a.Reminders), DueAt: now, CreatedAt: now}); err != nil {
				return err
			}
			a.Reminders++
			a.NextReminderAt = nextActionReminder(a, p.Policy.remindEvery())
			for !a.NextReminderAt.After(now) { // after downtime: one reminder, not a burst
				a.Reminders++
				a.NextReminderAt = nextActionReminder(a, p.Policy.remindEvery())
			}
			if err := tx.SaveActionItem(a); err != nil {
				return err
			}
			p.log().Info("action item reminder queued", "incident", inc.ID, "action", a.ID, "reminder", a.Reminders)
		}
		return nil
	})
}

func ActionReminder(a *ActionItem, inc *Incident, now time.Time, every time.Duration) Message {
	var head string
	switch {
	case now.Before(a.DueAt):
		head = fmt.Sprintf("📌 **Action item #%d** from %s is due %s", a.ID, inc.Ref(), TimeRef(a.DueAt, TimeRelative))
	case now.Before(a.DueAt.Add(every)):
		head = fmt.Sprintf("⏰ **Action item #%d** from %s is due now", a.ID, inc.Ref())
	default:
		head = fmt.Sprintf("⏰ **Overdue action item #%d** from %s — it was due %s", a.ID, inc.Ref(), TimeRef(a.DueAt, TimeRelative))
	}
	return Message{
		Content: fmt.Sprintf("%s (%s):\n> %s\n%s · mark it done with `/postmortem action done id:%d` in the incident thread %s.",
			head, TimeRef(a.DueAt, TimeFull), a.Text, inc.Title, a.ID, ChannelRef(inc.ThreadID)),
		Mentions: Mentions{Users: []string{a.OwnerID}},
	}
}

// KindPostmortemReminder is the Outgoing.Kind of action-item and due-policy
// reminders; ReminderSent is its SentHook.
const KindPostmortemReminder = "postmortem-reminder"

// ReminderSent is the SentHook for KindPostmortemReminder: when a reminder
// DM cannot be delivered (DMs closed), it is posted in the incident thread
// instead, mentioning the person.
func (p *Postmortems) ReminderSent(ctx context.Context, tx Tx, m Outgoing, messageID string, sendErr error, now time.Time) error {
	if sendErr == nil || m.UserID == "" {
		return nil
	}
	var incID int64
	parts := strings.Split(m.Ref, ":")
	switch {
	case len(parts) >= 2 && parts[0] == "action":
		var id int64
		if _, err := fmt.Sscan(parts[1], &id); err != nil {
			return nil
		}
		a, err := tx.ActionItem(id)
		if err != nil {
			return nil
		}
		incID = a.IncidentID
	case len(parts) >= 2 && parts[0] == "due":
		if _, err := fmt.Sscan(parts[1], &incID); err != nil {
			return nil
		}
	default:
		return nil
	}
	inc, err := tx.Incident(incID)
	if err != nil || inc.ThreadID == "" {
		return nil
	}
	msg := m.Message
	msg.Content = UserRef(m.UserID) + " (your DMs are closed, so here:) " + msg.Content
	return tx.Enqueue(&Outgoing{ChannelID: inc.ThreadID, Priority: m.Priority, Message: msg, Kind: KindPostmortemReminder + "-fallback",
		Ref: m.Ref, DueAt: now, CreatedAt: now})
}

// dueStaleAfter: incidents whose post-mortem was due longer ago than this
// when the policy first sees them (e.g. before Klaxon had the feature) are
// not reminded about.
const dueStaleAfter = 30 * 24 * time.Hour

// planDue gives every newly resolved incident of a required priority its
// due date.
func (p *Postmortems) planDue(ctx context.Context, now time.Time) error {
	var req []Priority
	for _, pr := range Priorities {
		if p.Policy.requires(pr) {
			req = append(req, pr)
		}
	}
	if len(req) == 0 {
		return nil
	}
	return p.Store.Update(ctx, func(tx Tx) error {
		incs, err := tx.UnplannedDue(req, 100)
		if err != nil {
			return err
		}
		for _, inc := range incs {
			d := &PostmortemDue{IncidentID: inc.ID, DueAt: inc.ResolvedAt.Add(p.Policy.dueAfter()), State: "pending"}
			pm, err := tx.PostmortemOfIncident(inc.ID)
			switch {
			case err == nil && pm.Published():
				d.State = "done"
			case err != nil && ErrorCode(err) != ENotFound:
				return err
			case now.Sub(d.DueAt) > dueStaleAfter:
				d.State = "skipped"
			default:
				d.NextAt = nextDueReminder(d, p.Policy.remindEvery())
			}
			if err := tx.SavePostmortemDue(d); err != nil {
				return err
			}
		}
		return nil
	})
}

// nextDueReminder plans the commander's reminders: two days before the
// post-mortem is due, when it is due, then every `every` until published.
func nextDueReminder(d *PostmortemDue, every time.Duration) time.Time {
	switch d.Reminders {
	case 0:
		return d.DueAt.Add(-48 * time.Hour)
	case 1:
		return d.DueAt
	}
	return d.DueAt.Add(time.Duration(d.Reminders-1) * every)
}

func (p *Postmortems) remindDue(ctx context.Context, now time.Time) error {
	return p.Store.Update(ctx, func(tx Tx) error {
		due, err := tx.DuePostmortemReminders(now, 100)
		if err != nil {
			return err
		}
		for _, d := range due {
			inc, err := tx.Incident(d.IncidentID)
			if err != nil {
				return err
			}
			pm, err := tx.PostmortemOfIncident(inc.ID)
			if err != nil && ErrorCode(err) != ENotFound {
				return err
			}
			if pm != nil && pm.Published() {
				d.State, d.NextAt = "done", time.Time{}
				if err := tx.SavePostmortemDue(d); err != nil {
					return err
				}
				continue
			}
			to := commanderOf(inc)
			if to != "" {
				if err := tx.Enqueue(&Outgoing{UserID: to, Priority: P2, Message: DueReminder(inc, pm, d, now), Kind: KindPostmortemReminder,
					Ref: fmt.Sprintf("due:%d:%d", inc.ID, d.Reminders), DueAt: now, CreatedAt: now}); err != nil {
					return err
				}
			} else {
				p.log().Warn("post-mortem due but the incident has no commander to remind", "incident", inc.ID)
			}
			d.Reminders++
			d.NextAt = nextDueReminder(d, p.Policy.remindEvery())
			for !d.NextAt.After(now) {
				d.Reminders++
				d.NextAt = nextDueReminder(d, p.Policy.remindEvery())
			}
			if err := tx.SavePostmortemDue(d); err != nil {
				return err
			}
		}
		return nil
	})
}

// commanderOf returns the user who answers for an incident: its commander
// role, or whoever declared it.
func commanderOf(inc *Incident) string {
	if id := inc.Roles["commander"]; id != "" {
		return id
	}
	return inc.CreatedBy.UserID
}

func DueReminder(inc *Incident, pm *Postmortem, d *PostmortemDue, now time.Time) Message {
	when := fmt.Sprintf("is due %s (%s)", TimeRef(d.DueAt, TimeRelative), TimeRef(d.DueAt, TimeFull))
	if !now.Before(d.DueAt) {
		when = fmt.Sprintf("was due %s and is **overdue**", TimeRef(d.DueAt, TimeRelative))
	}
	next := "Draft it in the incident thread with `/postmortem create`, review it, then `/postmortem publish`."
	if pm != nil {
		next = fmt.Sprintf("A draft exists (revision %d): review it with `/postmortem show`, then `/postmortem publish`.", pm.Revision)
	}
	return Message{
		Content: fmt.Sprintf("📝 %s, the post-mortem of **%s** (%s, %s) %s. %s priority incidents need a published post-mortem. %s Thread: %s",
			UserRef(commanderOf(inc)), inc.Ref(), inc.Priority, inc.Title, when, inc.Priority, next, ChannelRef(inc.ThreadID)),
		Mentions: Mentions{Users: []string{commanderOf(inc)}},
	}
}
