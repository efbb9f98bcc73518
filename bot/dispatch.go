package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// The queue's one retry policy, decided from the adapter's classification
// of each failure (SendError):
//
//   - paced (a rate-limit bucket is empty, nothing was sent): the item waits
//     for the bucket; the rest of its channel waits with it for this pass.
//   - temporary with a wait (429): the item waits what Discord asked.
//   - temporary (5xx, timeout, network): Discord is down. The failure is the
//     destination's, not the item's: the queue stops sending, probes with the
//     most urgent item after OutageBackoff (doubling, capped at a few
//     seconds), and when a probe succeeds releases everything at once, most
//     urgent first. Items keep their place; none waits out a timer of its own.
//   - permanent (missing access, invalid request, cannot DM) or gone (the
//     channel or message was deleted) after the sender had its chance to
//     handle it: the item becomes a dead letter with the reason — logged,
//     counted, shown by /readyz and check-config --online, told to its
//     feature (a page records "not sent, because …" on the card) — and is
//     retried only on reload, by `klaxon requeue`, or when its target changes.
const (
	// OutageBackoffMin is the first wait after Discord fails.
	OutageBackoffMin = 500 * time.Millisecond
	// OutageBackoffMax caps the wait between probes during an outage.
	OutageBackoffMax = 3 * time.Second
	// ProbeTimeout bounds a request sent while Discord is failing, so that a
	// hung Discord is noticed quickly and a recovery without delay.
	ProbeTimeout = 3 * time.Second
)

// MarkEvery is how often, at most, the dispatcher records before a send
// that it is sending (outbound_state): sends within MarkEvery after a
// record are covered by it.
const MarkEvery = time.Second

// WaitError is returned by a Sender that cannot send its item yet (the
// card a page replies to is not posted yet, a thread does not exist yet).
// The item waits For without counting an attempt.
type WaitError struct {
	For time.Duration
	Why string
}

func (e *WaitError) Error() string { return "waiting: " + e.Why }

// outage is the queue's view of Discord's health: temporary failures are
// counted per destination (Discord as a whole), not per item.
type outage struct {
	failures int
	since    time.Time // first failure of this outage
	until    time.Time // no request before then
	lastErr  string
}

// OutageBackoff is the wait before probe number failures+1.
func OutageBackoff(failures int) time.Duration {
	d := OutageBackoffMin
	for i := 1; i < failures && d < OutageBackoffMax; i++ {
		d *= 2
	}
	return min(d, OutageBackoffMax)
}

// Outage reports whether Discord is failing now, since when, and the last error.
func (e *Engine) Outage() (down bool, since time.Time, lastErr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.failures > 0, e.out.since, e.out.lastErr
}

func (e *Engine) sender(k ItemKind) Sender {
	switch k {
	case ItemPost:
		if e.Discord == nil {
			return nil
		}
		return postSender{e}
	case ItemMessage:
		if e.Messenger == nil && e.Threads == nil {
			return nil
		}
		return messageSender{e}
	}
	return e.Senders[k]
}

// dispatch sends due queue items, most urgent first. It returns early when
// new work arrives (a trigger), so that a fresh P0 waits for at most one
// request in flight, and when Discord fails.
func (e *Engine) dispatch(ctx context.Context, now time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("dispatch panicked: %v\n%s", r, debug.Stack())
		}
	}()
	e.mu.Lock()
	probeOnly := e.out.failures > 0
	wait := e.out.until
	e.mu.Unlock()
	if probeOnly && now.Before(wait) {
		return nil
	}
	var due []Item
	if err := e.Store.View(ctx, func(tx Tx) (err error) { due, err = tx.DueItems(now, e.Batch); return err }); err != nil {
		return fmt.Errorf("read the outbound queue: %w", err)
	}
	blocked := map[string]bool{}
	for _, it := range due {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-e.kick:
			e.kickDispatch() // run again right away, from the most urgent work
			return nil
		default:
		}
		key := it.destination()
		if blocked[key] {
			continue
		}
		s := e.sender(it.Kind)
		if s == nil {
			continue // nothing in this process sends this kind (a test engine); it waits
		}
		timeout := e.StepTimeout
		if probeOnly {
			timeout = min(timeout, ProbeTimeout)
		}
		stop, err := e.sendOne(ctx, s, it, now, timeout, blocked)
		if err != nil {
			return err
		}
		probeOnly = false
		if stop {
			return nil
		}
	}
	return nil
}

// destination is what a pacing wait blocks for the rest of a pass.
func (it Item) destination() string {
	switch {
	case it.Kind != ItemMessage || it.Message == nil:
		return fmt.Sprintf("%s:%d", it.Kind, it.Target)
	case it.Message.ChannelID != "":
		return it.Message.ChannelID
	case it.Message.UserID != "":
		return "dm:" + it.Message.UserID
	default:
		return fmt.Sprintf("incident:%d", it.Message.IncidentID)
	}
}

// sendOne sends one item and applies the retry policy. It reports whether
// the pass must stop (Discord is failing, or a global rate limit).
func (e *Engine) sendOne(ctx context.Context, s Sender, it Item, now time.Time, timeout time.Duration, blocked map[string]bool) (bool, error) {
	// Record, before sending, that Klaxon may be sending: a process killed
	// between Discord's answer and the record of it must still leave its
	// successor's pacer a time to start from. At most one write per
	// MarkEvery; a successor adds MarkEvery to what it reads.
	if t := e.Clock.Now(); t.Sub(e.marked) >= MarkEvery {
		if err := e.Store.Update(ctx, func(tx Tx) error { return tx.MarkSent(t) }); err != nil {
			return true, fmt.Errorf("record an outbound send: %w", err)
		}
		e.marked = t
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	commit, keep, err := s.Send(sctx, it, now)
	cancel()
	log := e.Log.With("item", it.ID, "kind", string(it.Kind), "priority", it.Priority.String())
	if it.Kind == ItemMessage {
		log = log.With("message", it.Message.Kind, "ref", it.Message.Ref)
	} else {
		log = log.With("target", it.Target)
	}
	if ctx.Err() != nil && err != nil {
		// Shutting down: the item stays as it is and goes out after the restart.
		return true, nil
	}
	// What reached Discord is recorded even when a shutdown began meanwhile.
	ctx = context.WithoutCancel(ctx)
	var wait *WaitError
	if errors.As(err, &wait) {
		return false, e.Store.Update(ctx, func(tx Tx) error {
			if commit != nil {
				if err := commit(tx); err != nil {
					return err
				}
			}
			return tx.RetryItem(it.ID, now.Add(wait.For), false, "")
		})
	}
	if err == nil {
		e.recovered(now, log)
		return false, e.Store.Update(ctx, func(tx Tx) error {
			if commit != nil {
				if err := commit(tx); err != nil {
					return err
				}
			}
			if keep {
				return tx.RetryItem(it.ID, now, false, "")
			}
			return tx.ItemDone(it.ID, it.Version)
		})
	}
	se := AsSendError(err)
	record := func(fn func(tx Tx) error) error {
		return e.Store.Update(ctx, func(tx Tx) error {
			if commit != nil {
				if err := commit(tx); err != nil {
					return err
				}
			}
			return fn(tx)
		})
	}
	switch {
	case se.Paced:
		blocked[it.destination()] = true
		e.Metrics.Paced(se.RetryAfter)
		return se.Global, record(func(tx Tx) error {
			return tx.RetryItem(it.ID, now.Add(max(se.RetryAfter, 100*time.Millisecond)), false, "")
		})
	case se.Temporary && se.Status == 429:
		blocked[it.destination()] = true
		log.Warn("discord rate limited a request; waiting as asked", "retry_after", se.RetryAfter, "err", err)
		return se.Global, record(func(tx Tx) error { return tx.RetryItem(it.ID, now.Add(se.RetryAfter), true, se.Error()) })
	case se.Temporary:
		e.failed(now, se, log)
		// The item keeps its place in the queue: it goes first when Discord is back.
		return true, record(func(tx Tx) error { return tx.RetryItem(it.ID, it.DueAt, true, se.Error()) })
	}
	e.recovered(now, log)
	log.Error("discord refused an outbound item for good; kept as a dead letter until requeued (reload, `klaxon requeue`, or a change to it)",
		"status", se.Status, "code", se.Code, "gone", se.Gone, "err", err)
	e.Metrics.DeadLetter(string(it.Kind))
	return false, record(func(tx Tx) error {
		if err := tx.DeadItem(it.ID, se.Error(), now); err != nil {
			return err
		}
		return s.Dead(ctx, tx, it, se, now)
	})
}

// failed records a temporary failure of Discord as a whole.
func (e *Engine) failed(now time.Time, se *SendError, log interface {
	Warn(string, ...any)
}) {
	e.mu.Lock()
	first := e.out.failures == 0
	if first {
		e.out.since = now
	}
	e.out.failures++
	wait := OutageBackoff(e.out.failures)
	e.out.until = now.Add(wait)
	e.out.lastErr = se.Error()
	n := e.out.failures
	e.mu.Unlock()
	e.Metrics.Reachable(false)
	if first || n%20 == 0 {
		log.Warn("discord is failing; holding the outbound queue and probing with the most urgent item",
			"failures", n, "next_probe_in", wait, "err", se)
	}
}

// recovered ends an outage: everything waiting goes out now, most urgent first.
func (e *Engine) recovered(now time.Time, log interface {
	Info(string, ...any)
}) {
	e.mu.Lock()
	was := e.out
	e.out = outage{}
	e.mu.Unlock()
	e.Metrics.Reachable(true)
	if was.failures > 0 {
		log.Info("discord answers again; releasing the outbound queue, most urgent first",
			"outage", now.Sub(was.since), "failed_requests", was.failures)
	}
}

// postSender creates and edits cards, digests and digest pages.
type postSender struct{ e *Engine }

func (s postSender) Send(ctx context.Context, it Item, now time.Time) (func(Tx) error, bool, error) {
	e := s.e
	var v View
	var digest *Post
	ready := true
	err := e.Store.View(ctx, func(tx Tx) error {
		p, err := tx.Post(it.Target)
		if err != nil {
			return err
		}
		v = View{Post: *p, Now: now}
		if v.Groups, err = tx.GroupsOfPost(p.ID); err != nil {
			return err
		}
		switch p.Kind {
		case Digest:
			v.Stats, err = tx.DigestStats(p.ID)
		case Page:
			if digest, err = tx.Post(p.DigestID); err != nil {
				return err
			}
			v.Post.ChannelID = digest.ThreadID
			ready = digest.ThreadID != ""
		}
		return err
	})
	if ErrorCode(err) == ENotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load post %d: %w", it.Target, err)
	}
	if !ready {
		// The digest's thread comes first; its creation marks the pages dirty.
		return nil, false, &WaitError{For: 30 * time.Second, Why: "the digest's thread"}
	}
	create := v.Post.MessageID == ""
	if create {
		v.Nonce = it.Nonce()
		err := e.Store.Update(ctx, func(tx Tx) error { return tx.ItemSending(it.ID) })
		if ErrorCode(err) == ENotFound {
			return nil, false, nil // folded into a digest meanwhile: not sent
		}
		if err != nil {
			return nil, false, err
		}
	}
	msgID, err := e.Discord.Publish(ctx, v)
	if create && err != nil && AsSendError(err).Paced {
		// Held by the pacer, nothing left Klaxon: the card has not been
		// sent, so a storm may still fold it into a digest.
		return func(tx Tx) error { return tx.ItemNotSent(it.ID) }, false, err
	}
	if err != nil && !create && AsSendError(err).MessageGone {
		// Someone deleted the message: post it again at once, as a new
		// item (a new nonce) rather than retrying an edit Discord will never accept.
		e.Log.Warn("discord message was deleted; posting it again", "post", v.Post.ID, "message", v.Post.MessageID)
		return func(tx Tx) error {
			p, err := tx.Post(v.Post.ID)
			if err != nil {
				return err
			}
			p.MessageID, p.LastError = "", ""
			if err := tx.UpdatePost(p); err != nil {
				return err
			}
			if err := tx.RemoveItem(it.ID); err != nil {
				return err
			}
			return tx.MarkDirty(p.ID, p.Priority, now)
		}, false, nil
	}
	if err == nil {
		verb := "edited"
		if create {
			verb = "created"
		}
		e.Log.Info(string(v.Post.Kind)+" "+verb, "channel", v.Post.ChannelID, "post", v.Post.ID, "priority", v.Post.Priority.String(),
			"groups", postGroups(v), "message", msgID)
	}
	threadID := ""
	if err == nil && v.Post.Kind == Digest && v.Post.ThreadID == "" {
		// Idempotent: a message that has a thread already returns that one.
		threadID, err = e.Discord.StartThread(ctx, v.Post.ChannelID, msgID, digestThreadName(v))
		if err != nil {
			err = fmt.Errorf("start digest thread: %w", err)
		}
	}
	created := create && msgID != ""
	commit := func(tx Tx) error {
		if !created && threadID == "" && (err != nil || v.Post.LastError == "") {
			return nil
		}
		p, perr := tx.Post(v.Post.ID)
		if ErrorCode(perr) == ENotFound {
			return nil // deleted meanwhile (its group moved to a digest before it was sent)
		}
		if perr != nil {
			return perr
		}
		if created {
			p.MessageID = msgID
		}
		if threadID != "" {
			p.ThreadID = threadID
			pages, err := tx.Pages(p.ID)
			if err != nil {
				return err
			}
			for _, pg := range pages {
				if err := tx.MarkDirty(pg.ID, pg.Priority, now); err != nil {
					return err
				}
			}
		}
		if err == nil {
			p.LastError = ""
		}
		return tx.UpdatePost(p)
	}
	// A create that was sent before may have reached Discord without its
	// answer reaching us: the nonce made Discord return that first message,
	// whose content may be older than this render. An edit follows to be sure.
	keep := created && it.Sends > 0
	return commit, keep, err
}

func (s postSender) Dead(ctx context.Context, tx Tx, it Item, se *SendError, now time.Time) error {
	p, err := tx.Post(it.Target)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	p.LastError = se.Error()
	return tx.UpdatePost(p)
}

// messageSender sends plain messages, DMs and incident-thread messages.
type messageSender struct{ e *Engine }

func (s messageSender) Send(ctx context.Context, it Item, now time.Time) (func(Tx) error, bool, error) {
	e := s.e
	m := *it.Message
	if prep := e.Prepare[m.Kind]; prep != nil {
		ready := true
		if err := e.Store.View(ctx, func(tx Tx) (err error) { ready, err = prep(ctx, tx, &m); return err }); err != nil {
			return nil, false, fmt.Errorf("prepare message %d: %w", it.ID, err)
		}
		if !ready {
			return nil, false, &WaitError{For: 2 * time.Second, Why: "held back by " + m.Kind}
		}
	}
	channel := m.ChannelID
	if channel == "" && m.IncidentID != 0 {
		var inc *Incident
		err := e.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.Incident(m.IncidentID); return err })
		if ErrorCode(err) == ENotFound {
			return nil, false, nil // the incident is gone; so is its thread
		}
		if err != nil {
			return nil, false, err
		}
		if inc.ThreadID == "" {
			return nil, false, &WaitError{For: 2 * time.Second, Why: "the incident's thread"}
		}
		channel = inc.ThreadID
	}
	m.Message.Nonce = it.Nonce()
	var id string
	var err error
	switch {
	case (len(m.Buttons) > 0 || m.IncidentID != 0) && e.Threads != nil:
		id, err = e.Threads.Send(ctx, channel, m.Message, m.Buttons)
	case e.Messenger == nil:
		return nil, false, &WaitError{For: time.Minute, Why: "no Discord messenger"}
	case channel != "":
		id, err = e.Messenger.Send(ctx, channel, m.Message)
	default:
		id, err = e.Messenger.DM(ctx, m.UserID, m.Message)
	}
	if err != nil {
		return nil, false, err
	}
	hook := e.Hooks[m.Kind]
	if hook == nil {
		return nil, false, nil
	}
	return func(tx Tx) error { return hook(ctx, tx, m, id, nil, now) }, false, nil
}

func (s messageSender) Dead(ctx context.Context, tx Tx, it Item, se *SendError, now time.Time) error {
	if hook := s.e.Hooks[it.Message.Kind]; hook != nil {
		return hook(ctx, tx, *it.Message, "", se, now)
	}
	return nil
}

// postGroups is the ids of the groups a view shows, for the log.
func postGroups(v View) []int64 {
	ids := make([]int64, 0, len(v.Groups))
	for _, g := range v.Groups {
		ids = append(ids, g.ID)
	}
	return ids
}
