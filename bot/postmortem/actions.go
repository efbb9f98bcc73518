package postmortem

import (
	"context"
	"errors"
	"fmt"
	"github.com/marola-rp/klaxon/bot"
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
func (p *Service) AddActionItem(ctx context.Context, incidentID int64, ownerID string, due time.Time, text string, by bot.Actor, now time.Time) (*ActionItem, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return nil, bot.Errorf(bot.EInvalid, "say what needs doing, e.g. text: Add a disk-space alert for the DB host")
	case utf8.RuneCountInString(text) > MaxActionText:
		return nil, bot.Errorf(bot.EInvalid, "the action item is longer than %d characters: keep it to one task and link details", MaxActionText)
	case !bot.ValidUserID(ownerID):
		return nil, bot.Errorf(bot.EInvalid, "the owner must be a person on this server: pick them in the owner option")
	case !due.After(now):
		return nil, bot.Errorf(bot.EInvalid, "the due date %s is in the past: give a future date like 2026-04-01, or a delay like 3d or 2w", due.UTC().Format("2006-01-02 15:04 UTC"))
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
		if err := tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: incidentID, At: now, Kind: "action item", Actor: by,
			Text: fmt.Sprintf("Action item #%d for %s, due %s: %s", a.ID, bot.UserRef(ownerID), due.UTC().Format("2006-01-02"), text),
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
func (p *Service) CompleteActionItem(ctx context.Context, id int64, by bot.Actor, now time.Time) (*ActionItem, error) {
	var a *ActionItem
	err := p.Store.Update(ctx, func(tx Tx) (err error) {
		if a, err = tx.ActionItem(id); err != nil {
			if bot.ErrorCode(err) == bot.ENotFound {
				return bot.Errorf(bot.ENotFound, "there is no action item #%d: see /postmortem action list", id)
			}
			return err
		}
		if a.Status == ActionDone {
			return bot.Errorf(bot.EConflict, "action item #%d is already done (by %s)", id, bot.ActorRef(a.DoneBy))
		}
		a.Status, a.DoneAt, a.DoneBy, a.NextReminderAt = ActionDone, now, by, time.Time{}
		if err := tx.SaveActionItem(a); err != nil {
			return err
		}
		if err := tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: a.IncidentID, At: now, Kind: "action item done", Actor: by,
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
func (p *Service) Name() string { return "postmortems" }

// Run implements Job: it sends due action-item reminders to their owners
// and due-policy reminders to incident commanders, each queued in the same
// transaction that plans the next one.
func (p *Service) Run(ctx context.Context, now time.Time) error {
	return errors.Join(p.remindActions(ctx, now), p.planDue(ctx, now), p.remindDue(ctx, now))
}

func (p *Service) remindActions(ctx context.Context, now time.Time) error {
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
			if err := tx.Enqueue(&bot.Outgoing{UserID: a.OwnerID, Priority: bot.P2, Message: m, Kind: KindReminder,
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

func ActionReminder(a *ActionItem, inc *bot.Incident, now time.Time, every time.Duration) bot.Message {
	var head string
	switch {
	case now.Before(a.DueAt):
		head = fmt.Sprintf("📌 **Action item #%d** from %s is due %s", a.ID, inc.Ref(), bot.TimeRef(a.DueAt, bot.TimeRelative))
	case now.Before(a.DueAt.Add(every)):
		head = fmt.Sprintf("⏰ **Action item #%d** from %s is due now", a.ID, inc.Ref())
	default:
		head = fmt.Sprintf("⏰ **Overdue action item #%d** from %s — it was due %s", a.ID, inc.Ref(), bot.TimeRef(a.DueAt, bot.TimeRelative))
	}
	return bot.Message{
		Content: fmt.Sprintf("%s (%s):\n> %s\n%s · mark it done with `/postmortem action done id:%d` in the incident thread %s.",
			head, bot.TimeRef(a.DueAt, bot.TimeFull), a.Text, inc.Title, a.ID, bot.ChannelRef(inc.ThreadID)),
		Mentions: bot.Mentions{Users: []string{a.OwnerID}},
	}
}

// KindReminder is the Outgoing.Kind of action-item and due-policy
// reminders; ReminderSent is its SentHook.
const KindReminder = "postmortem-reminder"

// ReminderSent is the SentHook for KindReminder: when a reminder
// DM cannot be delivered (DMs closed), it is posted in the incident thread
// instead, mentioning the person.
func (p *Service) ReminderSent(ctx context.Context, btx bot.Tx, m bot.Outgoing, messageID string, sendErr error, now time.Time) error {
	tx := p.Store.Join(btx)
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
	msg.Content = bot.UserRef(m.UserID) + " (your DMs are closed, so here:) " + msg.Content
	return tx.Enqueue(&bot.Outgoing{ChannelID: inc.ThreadID, Priority: m.Priority, Message: msg, Kind: KindReminder + "-fallback",
		Ref: m.Ref, DueAt: now, CreatedAt: now})
}

// dueStaleAfter: incidents whose post-mortem was due longer ago than this
// when the policy first sees them (e.g. before Klaxon had the feature) are
// not reminded about.
const dueStaleAfter = 30 * 24 * time.Hour

// planDue gives every newly resolved incident of a required priority its
// due date.
func (p *Service) planDue(ctx context.Context, now time.Time) error {
	var req []bot.Priority
	for _, pr := range bot.Priorities {
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
			d := &Due{IncidentID: inc.ID, DueAt: inc.ResolvedAt.Add(p.Policy.dueAfter()), State: "pending"}
			pm, err := tx.PostmortemOfIncident(inc.ID)
			switch {
			case err == nil && pm.Published():
				d.State = "done"
			case err != nil && bot.ErrorCode(err) != bot.ENotFound:
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
func nextDueReminder(d *Due, every time.Duration) time.Time {
	switch d.Reminders {
	case 0:
		return d.DueAt.Add(-48 * time.Hour)
	case 1:
		return d.DueAt
	}
	return d.DueAt.Add(time.Duration(d.Reminders-1) * every)
}

func (p *Service) remindDue(ctx context.Context, now time.Time) error {
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
			if err != nil && bot.ErrorCode(err) != bot.ENotFound {
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
				if err := tx.Enqueue(&bot.Outgoing{UserID: to, Priority: bot.P2, Message: DueReminder(inc, pm, d, now), Kind: KindReminder,
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
func commanderOf(inc *bot.Incident) string {
	if id := inc.Roles["commander"]; id != "" {
		return id
	}
	return inc.CreatedBy.UserID
}

func DueReminder(inc *bot.Incident, pm *Postmortem, d *Due, now time.Time) bot.Message {
	when := fmt.Sprintf("is due %s (%s)", bot.TimeRef(d.DueAt, bot.TimeRelative), bot.TimeRef(d.DueAt, bot.TimeFull))
	if !now.Before(d.DueAt) {
		when = fmt.Sprintf("was due %s and is **overdue**", bot.TimeRef(d.DueAt, bot.TimeRelative))
	}
	next := "Draft it in the incident thread with `/postmortem create`, review it, then `/postmortem publish`."
	if pm != nil {
		next = fmt.Sprintf("A draft exists (revision %d): review it with `/postmortem show`, then `/postmortem publish`.", pm.Revision)
	}
	return bot.Message{
		Content: fmt.Sprintf("📝 %s, the post-mortem of **%s** (%s, %s) %s. %s priority incidents need a published post-mortem. %s Thread: %s",
			bot.UserRef(commanderOf(inc)), inc.Ref(), inc.Priority, inc.Title, when, inc.Priority, next, bot.ChannelRef(inc.ThreadID)),
		Mentions: bot.Mentions{Users: []string{commanderOf(inc)}},
	}
}
