package paging

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/metrics"
)

// OnGroupChange starts paging for new firing groups, restarts it when the
// priority rises, and stops it when the group resolves.
func (p *Service) OnGroupChange(ctx context.Context, btx bot.Tx, g *bot.Group, isNew bool, now time.Time) error {
	tx := p.Store.Join(btx)
	if g.Status == bot.Resolved {
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
	case bot.ErrorCode(err) == bot.ENotFound:
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
func (p *Service) act(ctx context.Context, groupID int64, kind string, a bot.Actor, now time.Time, detail string, fn func(tx Tx, g *bot.Group) error) (*bot.Group, error) {
	var out *bot.Group
	err := p.Store.Update(ctx, func(tx Tx) (err error) {
		out, err = p.actTx(tx, groupID, kind, a, now, detail, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.acted(groupID, kind, a)
	return out, nil
}

// actTx is act inside the caller's transaction; the caller calls acted after the commit.
func (p *Service) actTx(tx Tx, groupID int64, kind string, a bot.Actor, now time.Time, detail string, fn func(tx Tx, g *bot.Group) error) (*bot.Group, error) {
	g, err := tx.Group(groupID)
	if err != nil {
		return nil, err
	}
	if err := fn(tx, g); err != nil {
		return nil, err
	}
	g.Version++
	g.UpdatedAt = now
	if err := tx.SaveGroup(g); err != nil {
		return nil, err
	}
	if err := tx.RecordAction(g.ID, kind, bot.Action{Actor: a, At: now}, detail); err != nil {
		return nil, err
	}
	return g, markGroupDirty(tx, g, now)
}

func (p *Service) acted(groupID int64, kind string, a bot.Actor) {
	bot.Wake(p.Trigger)
	p.Log.Info("alert "+kind, "group", groupID, "user", a.UserID, "via", a.Via)
}

// Acknowledge records that a person owns the group and stops every pending
// page for it in the same transaction.
func (p *Service) Acknowledge(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error) {
	return p.act(ctx, groupID, "acknowledged", a, now, "", acknowledge(p.Metrics, a, now))
}

func acknowledge(m *metrics.Metrics, a bot.Actor, now time.Time) func(tx Tx, g *bot.Group) error {
	return func(tx Tx, g *bot.Group) error {
		if g.Status != bot.Firing {
			return bot.Errorf(bot.EConflict, "%s is already resolved; nothing to acknowledge", g.Title())
		}
		if g.Ack != nil {
			return bot.Errorf(bot.EConflict, "%s was already acknowledged by %s %s", g.Title(), bot.UserRef(g.Ack.UserID), bot.TimeRef(g.Ack.At, bot.TimeRelative))
		}
		g.Ack = &bot.Action{Actor: a, At: now}
		m.Acknowledged(g.Priority.String(), now.Sub(g.StartedAt()))
		if _, err := tx.CancelPages(g.ID); err != nil {
			return err
		}
		return tx.StopEscalation(g.ID)
	}
}

// Unacknowledge hands the group back: paging starts again from the first step.
func (p *Service) Unacknowledge(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error) {
	return p.act(ctx, groupID, "unacknowledged", a, now, "", func(tx Tx, g *bot.Group) error {
		if g.Ack == nil {
			return bot.Errorf(bot.EConflict, "%s is not acknowledged", g.Title())
		}
		if g.Status != bot.Firing {
			return bot.Errorf(bot.EConflict, "%s is already resolved", g.Title())
		}
		g.Ack = nil
		return p.startEscalation(tx, g, now)
	})
}

// Resolve marks the group resolved by hand. Its alerts count as resolved:
// Alertmanager's repeats of the same alerts do not reopen it; a new firing does.
func (p *Service) Resolve(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error) {
	return p.act(ctx, groupID, "resolved", a, now, "", func(tx Tx, g *bot.Group) error {
		if g.Status != bot.Firing {
			return bot.Errorf(bot.EConflict, "%s is already resolved", g.Title())
		}
		for i := range g.Alerts {
			if g.Alerts[i].Status == bot.Firing {
				g.Alerts[i].Status, g.Alerts[i].EndsAt = bot.Resolved, now
			}
		}
		g.Status, g.ResolvedAt, g.ResolvedBy = bot.Resolved, now, &bot.Action{Actor: a, At: now}
		if _, err := tx.CancelPages(g.ID); err != nil {
			return err
		}
		return tx.StopEscalation(g.ID)
	})
}

// EscalateNow runs the group's next escalation step at once.
func (p *Service) EscalateNow(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error) {
	var out *bot.Group
	err := p.Store.Update(ctx, func(tx Tx) (err error) {
		out, err = p.escalateTx(ctx, tx, groupID, a, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	bot.Wake(p.Trigger)
	return out, nil
}

func (p *Service) escalateTx(ctx context.Context, tx Tx, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error) {
	g, err := tx.Group(groupID)
	if err != nil {
		return nil, err
	}
	if g.Status != bot.Firing {
		return nil, bot.Errorf(bot.EConflict, "%s is resolved; nothing to escalate", g.Title())
	}
	if len(p.people().Policies[g.Priority].Steps) == 0 {
		return nil, bot.Errorf(bot.EConflict, "%s priority has no escalation policy configured", g.Priority)
	}
	if g.Ack != nil {
		g.Ack = nil // escalating hands the alert on
		g.Version++
		if err := tx.SaveGroup(g); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Escalation(g.ID); bot.ErrorCode(err) == bot.ENotFound {
		if err := p.startEscalation(tx, g, now); err != nil {
			return nil, err
		}
	}
	if err := p.advance(ctx, tx, g.ID, now, true); err != nil {
		return nil, err
	}
	if err := tx.RecordAction(g.ID, "escalate requested", bot.Action{Actor: a, At: now}, ""); err != nil {
		return nil, err
	}
	return tx.Group(g.ID)
}

// SetSilence records the Alertmanager silence made for a group.
func (p *Service) SetSilence(ctx context.Context, groupID int64, s *bot.Silence, a bot.Actor, now time.Time) (*bot.Group, error) {
	kind, detail := "silenced", ""
	if s == nil {
		kind = "unsilenced"
	} else {
		detail = fmt.Sprintf("until %s (silence %s)", s.Until.UTC().Format(time.RFC3339), s.ID)
	}
	return p.act(ctx, groupID, kind, a, now, detail, func(tx Tx, g *bot.Group) error {
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

// ErrCallInFlight is in PhoneKeypress's error when the call was placed but
// its sid is not recorded yet: retrying within a second or two succeeds.
var ErrCallInFlight = errors.New("call sid not recorded yet")

// PhoneKeypressWindow is how long after a page call was placed a key
// pressed on it still acts: a person answers a page within minutes, and a
// callback much later is a replay or a forgotten line, not an answer.
const PhoneKeypressWindow = time.Hour

// Phone keypress answers.
const (
	sayAcked        = "Acknowledged. Thank you. The Discord card shows it now."
	sayEscalating   = "Escalating to the next responder."
	sayAlreadyAcked = "This page was already acknowledged from this call. Thank you."
	sayAlreadyEscal = "This call already escalated the page. Goodbye."
	keyAck          = "1" // phone.DigitAck
	keyEscalate     = "2" // phone.DigitEscalate
)

// PhoneKeypress acts on a key pressed during a page call: 1 acknowledges,
// 2 escalates. It returns what the call says back.
//
// The callback is trusted only as far as it matches what Klaxon did:
// callSID must be the call placed for pageID (else EForbidden), and the
// page must still be active — its call placed less than
// PhoneKeypressWindow ago, its group firing and unacknowledged (else
// ENotFound). A call whose sid is not recorded yet (the provider's answer
// is being stored) is EUnavailable: retry. A call acts once: the key is recorded on the page in the same
// transaction as the acknowledgement or escalation, and a repeated
// callback of that call answers as the first did without acting again.
func (p *Service) PhoneKeypress(ctx context.Context, pageID int64, callSID, digits string, now time.Time) (string, error) {
	if digits != keyAck && digits != keyEscalate {
		return "", bot.Errorf(bot.EInvalid, "press 1 to acknowledge or 2 to escalate")
	}
	var say, kind string
	var a bot.Actor
	var groupID int64
	err := p.Store.Update(ctx, func(tx Tx) error {
		pg, err := tx.PageRecord(pageID)
		if err != nil {
			return err
		}
		if pg.Via == bot.ViaPhone && pg.Status == PageSent && pg.CallSID == "" && pg.Keypress == "" {
			// The provider placed the call but its answer (the sid) is not
			// recorded yet: a few milliseconds; the caller may retry.
			return bot.WrapError(bot.EUnavailable, ErrCallInFlight, "the call for page %d is being recorded; try again", pageID)
		}
		if pg.Via != bot.ViaPhone || pg.CallSID == "" || subtle.ConstantTimeCompare([]byte(pg.CallSID), []byte(callSID)) != 1 {
			return bot.Errorf(bot.EForbidden, "call %s is not the call placed for page %d", callSID, pageID)
		}
		groupID = pg.GroupID
		switch pg.Keypress {
		case keyAck:
			say = sayAlreadyAcked
			return nil
		case keyEscalate:
			say = sayAlreadyEscal
			return nil
		}
		if pg.Status != PageSent || pg.SentAt.IsZero() || now.Sub(pg.SentAt) > PhoneKeypressWindow {
			return bot.Errorf(bot.ENotFound, "page %d is no longer active (status %s, placed %s)", pageID, pg.Status, pg.SentAt.Format(time.RFC3339))
		}
		g, err := tx.Group(pg.GroupID)
		if err != nil {
			return err
		}
		if g.Status != bot.Firing {
			return bot.Errorf(bot.ENotFound, "page %d is no longer active: %s is resolved", pageID, g.Title())
		}
		if g.Ack != nil {
			return bot.Errorf(bot.ENotFound, "page %d is no longer active: %s is acknowledged", pageID, g.Title())
		}
		a = bot.Actor{UserID: pg.UserID, Via: "phone"}
		if c, ok := p.people().Directory[pg.UserID]; ok {
			a.Name = c.Name
		}
		if digits == keyAck {
			kind, say = "acknowledged", sayAcked
			_, err = p.actTx(tx, g.ID, kind, a, now, "", acknowledge(p.Metrics, a, now))
		} else {
			kind, say = "escalate requested", sayEscalating
			_, err = p.escalateTx(ctx, tx, g.ID, a, now)
		}
		if err != nil {
			return err
		}
		pg.Keypress, pg.AnsweredAt = digits, now
		return tx.UpdatePage(pg)
	})
	if err != nil {
		return "", err
	}
	if kind != "" {
		p.acted(groupID, kind, a)
	}
	return say, nil
}

// PageTarget pages one target for a group at once (the /page command), outside its policy.
func (p *Service) PageTarget(ctx context.Context, groupID int64, t Target, a bot.Actor, now time.Time) error {
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
		if err := tx.RecordAction(g.ID, "paged", bot.Action{Actor: a, At: now}, fmt.Sprintf("%+v", t)); err != nil {
			return err
		}
		return markGroupDirty(tx, g, now)
	})
	if err == nil {
		bot.Wake(p.Trigger)
	}
	return err
}
