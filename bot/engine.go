package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/marola-rp/klaxon/bot/metrics"
)

// Engine is the one loop that drives all timed and outbound work: it folds
// storms into digests and delivers the outbox to Discord. Work lives in the
// database; the engine only reads the clock once per cycle and acts.
type Engine struct {
	Store       Store
	Discord     Discord
	Messenger   Messenger              // delivers queued plain messages; nil: they wait
	Jobs        []Job                  // timed features, run every cycle in order
	Hooks       map[string]SentHook    // by Outgoing.Kind: told of each delivery or drop
	Prepare     map[string]PrepareHook // by Outgoing.Kind: may hold a message back or complete it before sending
	Policy      *Policy
	Clock       Clock
	Log         *slog.Logger
	Interval    time.Duration // between cycles when nothing triggers one; default 2s
	Batch       int           // deliveries read per cycle; default 100
	StepTimeout time.Duration // per Discord request; default 15s

	once    sync.Once
	trigger chan struct{}
	syncReq chan chan error
	mu      sync.Mutex
	last    time.Time // when the last cycle ended without error (Clock time)
	lastErr error
}

func (e *Engine) init() {
	e.once.Do(func() {
		e.trigger = make(chan struct{}, 1)
		e.syncReq = make(chan chan error)
		if e.Interval <= 0 {
			e.Interval = 2 * time.Second
		}
		if e.Batch <= 0 {
			e.Batch = 100
		}
		if e.StepTimeout <= 0 {
			e.StepTimeout = 15 * time.Second
		}
		if e.Clock == nil {
			e.Clock = SystemClock{}
		}
		if e.Log == nil {
			e.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// Trigger asks for a cycle as soon as possible. It never blocks.
func (e *Engine) Trigger() {
	e.init()
	select {
	case e.trigger <- struct{}{}:
	default:
	}
}

// LastSuccess returns when the last cycle ended without error, and the
// error of the last cycle if it failed.
func (e *Engine) LastSuccess() (time.Time, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last, e.lastErr
}

// Run cycles until ctx is done, then returns after the cycle in flight.
func (e *Engine) Run(ctx context.Context) error {
	e.init()
	t := time.NewTicker(e.Interval)
	defer t.Stop()
	for {
		if err := e.Cycle(ctx); err != nil && ctx.Err() == nil {
			e.Log.Error("engine cycle failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.trigger:
		case done := <-e.syncReq:
			done <- e.Cycle(ctx) // asked for by CycleAndWait
		}
	}
}

// CycleAndWait asks the running loop for one more cycle and returns its
// error once it has finished. Tests use it to move a fake clock and see
// the effect, without sleeping.
func (e *Engine) CycleAndWait(ctx context.Context) error {
	e.init()
	done := make(chan error, 1)
	select {
	case e.syncReq <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Cycle runs one engine cycle at the clock's current time.
func (e *Engine) Cycle(ctx context.Context) (err error) {
	e.init()
	start := time.Now()
	now := e.Clock.Now()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine cycle panicked: %v\n%s", r, debug.Stack())
		}
		metrics.EngineCycle.Observe(time.Since(start).Seconds())
		e.mu.Lock()
		e.lastErr = err
		if err == nil {
			e.last = now
			metrics.EngineLastSuccess.Set(float64(time.Now().Unix()))
		}
		e.mu.Unlock()
	}()
	if err := e.foldStorms(ctx, now); err != nil {
		return err
	}
	var errs []error
	for _, j := range e.Jobs {
		if err := e.runJob(ctx, j, now); err != nil {
			errs = append(errs, err)
		}
	}
	interrupted, err := e.deliver(ctx, now)
	if err != nil {
		return err
	}
	if interrupted {
		return errors.Join(errs...) // new work came in: the next cycle starts at once, from the most urgent
	}
	if err := e.deliverMessages(ctx, now); err != nil {
		return err
	}
	if err := e.observe(ctx, now); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// Job is timed work the engine runs every cycle: escalations, reminders,
// backups. Run gets the cycle's time; state lives in the database.
type Job interface {
	Name() string
	Run(ctx context.Context, now time.Time) error
}

// runJob runs one job with its own timeout, turning a panic into an error
// so that one broken feature cannot stop paging.
func (e *Engine) runJob(ctx context.Context, j Job, now time.Time) (err error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %s panicked: %v\n%s", j.Name(), r, debug.Stack())
		}
	}()
	if err := j.Run(ctx, now); err != nil {
		return fmt.Errorf("job %s: %w", j.Name(), err)
	}
	return nil
}

func (e *Engine) foldStorms(ctx context.Context, now time.Time) error {
	if e.Policy.Storm.Threshold <= 0 {
		return nil
	}
	return e.Store.Update(ctx, func(tx Tx) error {
		backlog, err := tx.Backlog(e.Policy.Storm.MinPriority)
		if err != nil {
			return err
		}
		for ch, n := range backlog {
			if n <= e.Policy.Storm.Threshold {
				continue
			}
			folded, err := foldStorm(tx, e.Policy, ch, now)
			if err != nil {
				return fmt.Errorf("fold storm in channel %s: %w", ch, err)
			}
			if folded > 0 {
				e.Log.Warn("alert storm: cards folded into a digest", "channel", ch, "groups", folded)
			}
		}
		return nil
	})
}

// deliver sends due outbox entries, most urgent first. It stops early when
// a trigger says new work arrived, so that a fresh P0 waits for at most one
// request in flight.
func (e *Engine) deliver(ctx context.Context, now time.Time) (interrupted bool, err error) {
	var due []Delivery
	if err := e.Store.View(ctx, func(tx Tx) (err error) {
		due, err = tx.DueDeliveries(now, e.Batch)
		return err
	}); err != nil {
		return false, fmt.Errorf("read outbox: %w", err)
	}
	blocked := map[string]bool{}
	for _, d := range due {
		if ctx.Err() != nil {
			return true, nil
		}
		select {
		case <-e.trigger:
			e.Trigger() // run again right away, from the most urgent work
			return true, nil
		default:
		}
		global, err := e.deliverOne(ctx, d, now, blocked)
		if err != nil {
			return false, err
		}
		if global {
			return false, nil
		}
	}
	return false, nil
}

// deliverOne publishes one post. It reports whether a global rate limit stops the cycle.
func (e *Engine) deliverOne(ctx context.Context, d Delivery, now time.Time, blocked map[string]bool) (bool, error) {
	var v View
	var digest *Post
	ready := true
	err := e.Store.View(ctx, func(tx Tx) error {
		p, err := tx.Post(d.PostID)
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
		return false, e.Store.Update(ctx, func(tx Tx) error { return tx.CompleteDelivery(d.PostID, d.Version) })
	}
	if err != nil {
		return false, fmt.Errorf("load post %d: %w", d.PostID, err)
	}
	log := e.Log.With("post", v.Post.ID, "kind", string(v.Post.Kind), "channel", v.Post.ChannelID, "priority", v.Post.Priority.String())
	if !ready {
		// The digest's thread comes first; its creation marks the pages dirty.
		return false, e.Store.Update(ctx, func(tx Tx) error { return tx.DeferDelivery(d.PostID, now.Add(30*time.Second), false, "") })
	}
	if blocked[v.Post.ChannelID] {
		return false, nil
	}

	sctx, cancel := context.WithTimeout(ctx, e.StepTimeout)
	msgID, err := e.Discord.Publish(sctx, v)
	threadID := ""
	if err == nil && v.Post.Kind == Digest && v.Post.ThreadID == "" {
		threadID, err = e.Discord.StartThread(sctx, v.Post.ChannelID, msgID, digestThreadName(v))
		if err != nil {
			err = fmt.Errorf("start digest thread: %w", err)
		}
	}
	cancel()

	created := v.Post.MessageID == "" && msgID != ""
	if err == nil {
		return false, e.Store.Update(ctx, func(tx Tx) error {
			if created || threadID != "" || v.Post.LastError != "" {
				p := v.Post
				if created {
					p.MessageID = msgID
				}
				if threadID != "" {
					p.ThreadID = threadID
				}
				p.LastError = ""
				if p.Kind == Page {
					p.ChannelID = digest.ChannelID
				}
				if err := tx.UpdatePost(&p); err != nil {
					return err
				}
			}
			if threadID != "" {
				pages, err := tx.Pages(v.Post.ID)
				if err != nil {
					return err
				}
				for _, pg := range pages {
					if err := tx.MarkDirty(pg.ID, pg.Priority, now); err != nil {
						return err
					}
				}
			}
			return tx.CompleteDelivery(d.PostID, d.Version)
		})
	}

	se := AsSendError(err)
	var due time.Time
	attempt := true
	if se.Code == codeUnknownMessage && !created && v.Post.MessageID != "" {
		// Someone deleted the message: post it again at once rather than
		// retrying an edit Discord will never accept.
		log.Warn("discord message was deleted; posting it again", "message", v.Post.MessageID)
		return false, e.Store.Update(ctx, func(tx Tx) error {
			p, err := tx.Post(v.Post.ID)
			if err != nil {
				return err
			}
			p.MessageID, p.LastError = "", ""
			if err := tx.UpdatePost(p); err != nil {
				return err
			}
			return tx.DeferDelivery(d.PostID, now, false, "")
		})
	}
	switch {
	case se.Paced:
		blocked[v.Post.ChannelID] = true
		due, attempt = now.Add(max(se.RetryAfter, 100*time.Millisecond)), false
		metrics.PacingWait.Add(se.RetryAfter.Seconds())
	case se.Temporary:
		due = now.Add(Backoff(d.Attempts))
		if se.RetryAfter > 0 {
			due = now.Add(se.RetryAfter)
			blocked[v.Post.ChannelID] = true
		}
		log.Warn("discord delivery failed; will retry", "attempt", d.Attempts+1, "retry_at", due, "err", err)
	default:
		due = now.Add(15 * time.Minute)
		log.Error("discord refused delivery; check the bot's access to the channel", "status", se.Status, "code", se.Code, "err", err)
	}
	uerr := e.Store.Update(ctx, func(tx Tx) error {
		if created {
			p := v.Post
			p.MessageID = msgID
			if p.Kind == Page {
				p.ChannelID = digest.ChannelID
			}
			if err := tx.UpdatePost(&p); err != nil {
				return err
			}
		}
		if !se.Paced && !se.Temporary {
			p, err := tx.Post(v.Post.ID)
			if err != nil {
				return err
			}
			p.LastError = se.Error()
			if err := tx.UpdatePost(p); err != nil {
				return err
			}
		}
		msg := ""
		if attempt {
			msg = se.Error()
		}
		return tx.DeferDelivery(d.PostID, due, attempt, msg)
	})
	return se.Paced && se.Global, uerr
}

// codeUnknownMessage is Discord's "Unknown Message" error code.
const codeUnknownMessage = 10008

// Backoff is the wait before retry number attempts+1 of a temporary failure:
// 1 s doubling to at most 5 minutes.
func Backoff(attempts int) time.Duration {
	d := time.Second
	for i := 0; i < attempts && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

func digestThreadName(v View) string {
	return fmt.Sprintf("Alert storm %s — all groups", v.Now.UTC().Format("2006-01-02 15:04"))
}

func (e *Engine) observe(ctx context.Context, now time.Time) error {
	var depth int
	var oldest time.Time
	var counts map[Priority]map[string]int
	err := e.Store.View(ctx, func(tx Tx) (err error) {
		if depth, oldest, err = tx.OutboxStats(); err != nil {
			return err
		}
		counts, err = tx.GroupCounts(now.Add(-24 * time.Hour))
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox stats: %w", err)
	}
	metrics.OutboxDepth.Set(float64(depth))
	age := 0.0
	if depth > 0 && !oldest.IsZero() {
		age = max(now.Sub(oldest).Seconds(), 0)
	}
	metrics.OutboxOldestAge.Set(age)
	for _, p := range Priorities {
		for _, state := range []string{"firing", "acknowledged", "resolved"} {
			metrics.Alerts.WithLabelValues(p.String(), state).Set(float64(counts[p][state]))
		}
	}
	return nil
}

// ErrStopped is returned by work refused because Klaxon is shutting down.
var ErrStopped = errors.New("klaxon is stopping")

// Every returns j running at most once per d of engine time. The engine
// cycles on every webhook during a storm; bookkeeping jobs (reminders,
// incident threads, reports) need not run that often, paging does.
func Every(j Job, d time.Duration) Job { return &every{Job: j, d: d} }

type every struct {
	Job
	d    time.Duration
	mu   sync.Mutex
	last time.Time
}

func (e *every) Run(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	if !e.last.IsZero() && !now.Before(e.last) && now.Sub(e.last) < e.d {
		e.mu.Unlock()
		return nil
	}
	e.last = now
	e.mu.Unlock()
	return e.Job.Run(ctx, now)
}
