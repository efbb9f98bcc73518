package bot

import (
	"context"
	"fmt"
	"time"
)

// maxMessageAttempts bounds retries of a message Discord keeps refusing
// (4xx): about an hour and a half of backoff, then it is dropped and logged.
const maxMessageAttempts = 12

// deliverMessages sends due plain messages, most urgent first.
func (e *Engine) deliverMessages(ctx context.Context, now time.Time) error {
	if e.Messenger == nil {
		return nil
	}
	var due []Outgoing
	if err := e.Store.View(ctx, func(tx Tx) (err error) {
		due, err = tx.DueMessages(now, e.Batch)
		return err
	}); err != nil {
		return fmt.Errorf("read message queue: %w", err)
	}
	blocked := map[string]bool{}
	for _, m := range due {
		if ctx.Err() != nil {
			return nil
		}
		key := m.ChannelID
		if key == "" {
			key = "dm:" + m.UserID
		}
		if blocked[key] {
			continue
		}
		if prep := e.Prepare[m.Kind]; prep != nil {
			ready := true
			if err := e.Store.View(ctx, func(tx Tx) (err error) { ready, err = prep(ctx, tx, &m); return err }); err != nil {
				return fmt.Errorf("prepare message %d: %w", m.ID, err)
			}
			if !ready {
				if err := e.Store.Update(ctx, func(tx Tx) error { return tx.DeferMessage(m.ID, now.Add(2*time.Second), false, "") }); err != nil {
					return err
				}
				continue
			}
		}
		sctx, cancel := context.WithTimeout(ctx, e.StepTimeout)
		var id string
		var err error
		if m.ChannelID != "" {
			id, err = e.Messenger.Send(sctx, m.ChannelID, m.Message)
		} else {
			id, err = e.Messenger.DM(sctx, m.UserID, m.Message)
		}
		cancel()
		log := e.Log.With("message", m.ID, "kind", m.Kind, "ref", m.Ref)
		hook := e.Hooks[m.Kind]
		if err == nil {
			if uerr := e.Store.Update(ctx, func(tx Tx) error {
				if hook != nil {
					if err := hook(ctx, tx, m, id, nil, now); err != nil {
						return err
					}
				}
				return tx.MessageSent(m.ID)
			}); uerr != nil {
				return fmt.Errorf("record message %d sent: %w", m.ID, uerr)
			}
			continue
		}
		se := AsSendError(err)
		uerr := e.Store.Update(ctx, func(tx Tx) error {
			switch {
			case se.Paced:
				blocked[key] = true
				return tx.DeferMessage(m.ID, now.Add(max(se.RetryAfter, 100*time.Millisecond)), false, "")
			case se.Temporary:
				if se.RetryAfter > 0 {
					blocked[key] = true
				}
				log.Warn("message delivery failed; will retry", "attempt", m.Attempts+1, "err", err)
				return tx.DeferMessage(m.ID, now.Add(max(Backoff(m.Attempts), se.RetryAfter)), true, se.Error())
			case se.Code == 50007 || m.Attempts+1 >= maxMessageAttempts:
				// Final: tell the feature (it may fall back), keep a record.
				log.Error("message dropped", "status", se.Status, "code", se.Code, "err", err)
				if hook != nil {
					if err := hook(ctx, tx, m, "", se, now); err != nil {
						return err
					}
				}
				return tx.DropMessage(m.ID, se.Error())
			default:
				log.Error("discord refused message; will retry slowly", "status", se.Status, "code", se.Code, "err", err)
				return tx.DeferMessage(m.ID, now.Add(Backoff(m.Attempts+3)), true, se.Error())
			}
		})
		if uerr != nil {
			return fmt.Errorf("record message %d failure: %w", m.ID, uerr)
		}
	}
	return nil
}
