package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/marola-rp/klaxon/bot/metrics"
)

// GroupHook is told, inside Ingest's transaction, of every group change.
type GroupHook func(ctx context.Context, tx Tx, g *Group, isNew bool, now time.Time) error

// OnGroupChange starts paging for new firing groups, restarts it when the
// priority rises, and stops it when the group resolves.
func (p *Paging) OnGroupChange(ctx context.Context, tx Tx, g *Group, isNew bool, now time.Time) error {
	if g.Status == Resolved {
		if _, err := tx.CancelPages(g.ID); err != nil {
			return err
		}
		return tx.StopEscalation(g.ID)
	}
	if g.Ack != nil {
		return nil
	}
	e, err := tx.Escalation(g.ID)
	switch {
	case ErrorCode(err) == ENotFound:
		return p.startEscalation(tx, g, now)
	case err != nil:
		return err
	case g.Priority < e.Priority:
		return p.startEscalation(tx, g, now) // more urgent now: its own policy from the start
	}
	return nil
}

// act loads a firing group, applies fn, saves it, records the action and
// queues the card update, all in one transaction.
func (p *Paging) act(ctx context.Context, groupID int64, kind string, a Actor, now time.Time, detail string, fn func(tx Tx, g *Group) error) (*Group, error) {
	var out *Group
	err := p.Store.Update(ctx, func(tx Tx) error {
		g, err := tx.Group(groupID)
		if err != nil {
			return err
		}
		if err := fn(tx, g); err != nil {
			return err
		}
		g.Version++
		g.UpdatedAt = now
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		if err := tx.RecordAction(g.ID, kind, Action{Actor: a, At: now}, detail); err != nil {
			return err
		}
		out = g
		return markGroupDirty(tx, g, now)
	})
	if err != nil {
		return nil, err
	}
	if p.Trigger != nil {
		p.Trigger()
	}
	p.Log.Info("alert "+kind, "group", groupID, "user", a.UserID, "via", a.Via)
	return out, nil
}

// Acknowledge records that a person owns the group and stops every pending
// page for it in the same transaction.
func (p *Paging) Acknowledge(ctx context.Context, groupID int64, a Actor, now time.Time) (*Group, error) {
	return p.act(ctx, groupID, "acknowledged", a, now, "", func(tx Tx, g *Group) error {
		if g.Status != Firing {
			return Errorf(EConflict, "%s is already resolved; nothing to acknowledge", g.Title())
		}
		if g.Ack != nil {
			return Errorf(EConflict, "%s was already acknowledged by <@%s> <t:%d:R>", g.Title(), g.Ack.UserID, g.Ack.At.Unix())
		}
		g.Ack = &Action{Actor: a, At: now}
		metrics.AckLatency.WithLabelValues(g.Priority.String()).Observe(now.Sub(g.StartedAt()).Seconds())
		if _, err := tx.CancelPages(g.ID); err != nil {
			return err
		}
		return tx.StopEscalation(g.ID)
	})
}

// Unacknowledge hands the group back: paging starts again from the first step.
func (p *Paging) Unacknowledge(ctx context.Context, groupID int64, a Actor, now time.Time) (*Group, error) {
	return p.act(ctx, groupID, "unacknowledged", a, now, "", func(tx Tx, g *Group) error {
		if g.Ack == nil {
			return Errorf(EConflict, "%s is not acknowledged", g.Title())
		}
		if g.Status != Firing {
			return Errorf(EConflict, "%s is already resolved", g.Title())
		}
		g.Ack = nil
		return p.startEscalation(tx, g, now)
	})
}

// Resolve marks the group resolved by hand. Its alerts count as resolved:
// Alertmanager's repeats of the same alerts do not reopen it; a new firing does.
func (p *Paging) Resolve(ctx context.Context, groupID int64, a Actor, now time.Time) (*Group, error) {
	return p.act(ctx, groupID, "resolved", a, now, "", func(tx Tx, g *Group) error {
		if g.Status != Firing {
			return Errorf(EConflict, "%s is already resolved", g.Title())
		}
		for i := range g.Alerts {
			if g.Alerts[i].Status == Firing {
				g.Alerts[i].Status, g.Alerts[i].EndsAt = Resolved, now
			}
		}
		g.Status, g.ResolvedAt, g.ResolvedBy = Resolved, now, &Action{Actor: a, At: now}
		if _, err := tx.CancelPages(g.ID); err != nil {
			return err
		}
		return tx.StopEscalation(g.ID)
	})
}

// EscalateNow runs the group's next escalation step at once.
func (p *Paging) EscalateNow(ctx context.Context, groupID int64, a Actor, now time.Time) (*Group, error) {
	var out *Group
	err := p.Store.Update(ctx, func(tx Tx) error {
		g, err := tx.Group(groupID)
		if err != nil {
			return err
		}
		if g.Status != Firing {
			return Errorf(EConflict, "%s is resolved; nothing to escalate", g.Title())
		}
		if len(p.Policies[g.Priority].Steps) == 0 {
			return Errorf(EConflict, "%s priority has no escalation policy configured", g.Priority)
		}
		if g.Ack != nil {
			g.Ack = nil // escalating hands the alert on
			g.Version++
			if err := tx.SaveGroup(g); err != nil {
				return err
			}
		}
		if _, err := tx.Escalation(g.ID); ErrorCode(err) == ENotFound {
			if err := p.startEscalation(tx, g, now); err != nil {
				return err
			}
		}
		if err := p.advance(ctx, tx, g.ID, now, true); err != nil {
			return err
		}
		if err := tx.RecordAction(g.ID, "escalate requested", Action{Actor: a, At: now}, ""); err != nil {
			return err
		}
		out, err = tx.Group(g.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.Trigger != nil {
		p.Trigger()
	}
	return out, nil
}

// SetSilence records the Alertmanager silence made for a group.
func (p *Paging) SetSilence(ctx context.Context, groupID int64, s *Silence, a Actor, now time.Time) (*Group, error) {
	kind, detail := "silenced", ""
	if s == nil {
		kind = "unsilenced"
	} else {
		detail = fmt.Sprintf("until %s (silence %s)", s.Until.UTC().Format(time.RFC3339), s.ID)
	}
	return p.act(ctx, groupID, kind, a, now, detail, func(tx Tx, g *Group) error {
		g.Silence = s
		if s != nil && g.Ack == nil {
			// Silencing is ownership: stop paging for it.
			if _, err := tx.CancelPages(g.ID); err != nil {
				return err
			}
			return tx.StopEscalation(g.ID)
		}
		return nil
	})
}

// PhoneKeypress acts on a key pressed during a page call: 1 acknowledges,
// 2 escalates. It returns what the call says back.
func (p *Paging) PhoneKeypress(ctx context.Context, pageID int64, callSID, digits string, now time.Time) (string, error) {
	var pg *PageRecord
	if err := p.Store.View(ctx, func(tx Tx) (err error) { pg, err = tx.PageRecord(pageID); return err }); err != nil {
		return "", err
	}
	a := Actor{UserID: pg.UserID, Via: "phone"}
	if c, ok := p.Directory[pg.UserID]; ok {
		a.Name = c.Name
	}
	switch digits {
	case "1":
		_, err := p.Acknowledge(ctx, pg.GroupID, a, now)
		if ErrorCode(err) == EConflict {
			return "This alert is already acknowledged or resolved. Thank you.", nil
		}
		if err != nil {
			return "", err
		}
		return "Acknowledged. Thank you. The Discord card shows it now.", nil
	case "2":
		if _, err := p.EscalateNow(ctx, pg.GroupID, a, now); err != nil {
			if ErrorCode(err) == EConflict {
				return "This alert is already resolved. Goodbye.", nil
			}
			return "", err
		}
		return "Escalating to the next responder.", nil
	}
	return "", Errorf(EInvalid, "press 1 to acknowledge or 2 to escalate")
}

// PageTarget pages one target for a group at once (the /page command), outside its policy.
func (p *Paging) PageTarget(ctx context.Context, groupID int64, t Target, a Actor, now time.Time) error {
	err := p.Store.Update(ctx, func(tx Tx) error {
		g, err := tx.Group(groupID)
		if err != nil {
			return err
		}
		if err := p.page(ctx, tx, g, 0, EscalationStep{Targets: []Target{t}}, now); err != nil {
			return err
		}
		g.Version++
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		if err := tx.RecordAction(g.ID, "paged", Action{Actor: a, At: now}, fmt.Sprintf("%+v", t)); err != nil {
			return err
		}
		return markGroupDirty(tx, g, now)
	})
	if err == nil && p.Trigger != nil {
		p.Trigger()
	}
	return err
}
