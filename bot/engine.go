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

// Engine drives all timed and outbound work. Its loop runs the timed jobs
// and folds storms into digests; beside it, its dispatcher sends the
// outbound queue to Discord, so that a slow or hung Discord never stops
// escalations, reminders or readiness. Work lives in the database; each
// reads the clock once per cycle and acts.
type Engine struct {
	Store       Store
	Discord     Discord
	Messenger   Messenger              // sends queued plain messages; nil: they wait
	Threads     Threads                // sends queued messages with buttons (incident threads)
	Senders     map[ItemKind]Sender    // the senders of ItemIncident and ItemForum, by the features that own them
	Jobs        []Job                  // timed features, run every cycle in order
	Hooks       map[string]SentHook    // by Outgoing.Kind: told of each delivery or dead letter
	Prepare     map[string]PrepareHook // by Outgoing.Kind: may hold a message back or complete it before sending
	Policy      *Policy
	Clock       Clock
	Log         *slog.Logger
	Interval    time.Duration // between cycles when nothing triggers one; default 2s
	Batch       int           // queue items read per dispatch pass; default 100
	StepTimeout time.Duration // per Discord request; default 10s

	// Metrics counts cycles, the queue and dead letters; nil records nothing.
	Metrics *metrics.Metrics

	once        sync.Once
	trigger     chan struct{}
	kick        chan struct{}
	syncReq     chan chan error
	dispatchReq chan chan error
	mu          sync.Mutex
	last        time.Time // when the last cycle ended without error (Clock time)
	lastErr     error
	out         outage
	marked      time.Time // the last MarkSent before a send (dispatcher only)
}

func (e *Engine) init() {
	e.once.Do(func() {
		e.trigger = make(chan struct{}, 1)
		e.kick = make(chan struct{}, 1)
		e.syncReq = make(chan chan error)
		e.dispatchReq = make(chan chan error)
		if e.Interval <= 0 {
			e.Interval = 2 * time.Second
		}
		if e.Batch <= 0 {
			e.Batch = 100
		}
		if e.StepTimeout <= 0 {
			e.StepTimeout = 10 * time.Second
		}
		if e.Clock == nil {
			e.Clock = SystemClock{}
		}
		if e.Log == nil {
			e.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// Trigger asks for a cycle and a dispatch pass as soon as possible. It never blocks.
func (e *Engine) Trigger() {
	e.init()
	select {
	case e.trigger <- struct{}{}:
	default:
	}
	e.kickDispatch()
}

func (e *Engine) kickDispatch() {
	select {
	case e.kick <- struct{}{}:
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

// Run cycles until ctx is done, then returns after the cycle and the
// request in flight. It runs the dispatcher in a goroutine of its own.
func (e *Engine) Run(ctx context.Context) error {
	e.init()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.runDispatcher(ctx)
	}()
	defer wg.Wait()
	t := time.NewTicker(e.Interval)
	defer t.Stop()
	for {
		if err := e.cycle(ctx); err != nil && ctx.Err() == nil {
			e.Log.Error("engine cycle failed", "err", err)
		}
		e.kickDispatch()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.trigger:
		case done := <-e.syncReq:
			// Asked for by CycleAndWait: a cycle, then a dispatch pass.
			err := e.cycle(ctx)
			dd := make(chan error, 1)
			select {
			case e.dispatchReq <- dd:
				err = errors.Join(err, <-dd)
			case <-ctx.Done():
			}
			done <- err
		}
	}
}

// dispatchTick is how often the dispatcher looks for items that became
// due (a paced item, a probe during an outage) without being kicked.
const dispatchTick = 250 * time.Millisecond

// runDispatcher sends the outbound queue whenever kicked, and every
// dispatchTick for items that became due meanwhile.
func (e *Engine) runDispatcher(ctx context.Context) {
	t := time.NewTicker(min(e.Interval, dispatchTick))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.kick:
		case done := <-e.dispatchReq:
			done <- e.pass(ctx)
			continue
		}
		if err := e.pass(ctx); err != nil && ctx.Err() == nil {
			e.Log.Error("dispatch failed", "err", err)
		}
	}
}

// pass is one dispatch pass at the clock's current time.
func (e *Engine) pass(ctx context.Context) error {
	return e.dispatch(ctx, e.Clock.Now())
}

// CycleAndWait asks the running loop for one more cycle and dispatch pass
// and returns their error once they have finished. Tests use it to move a
// fake clock and see the effect, without sleeping.
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

// Cycle runs one engine cycle and then one dispatch pass at the clock's
// current time, in the caller's goroutine.
func (e *Engine) Cycle(ctx context.Context) error {
	e.init()
	return errors.Join(e.cycle(ctx), e.pass(ctx))
}

// cycle runs the jobs and folds storms.
func (e *Engine) cycle(ctx context.Context) (err error) {
	e.init()
	start := time.Now()
	now := e.Clock.Now()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine cycle panicked: %v\n%s", r, debug.Stack())
		}
		e.Metrics.Cycle(time.Since(start))
		e.mu.Lock()
		e.lastErr = err
		if err == nil {
			e.last = now
			e.Metrics.CycleSucceeded(time.Now())
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
	pol := e.Policy.Snapshot() // a reload may replace the policy meanwhile
	if pol.Storm.Threshold <= 0 {
		return nil
	}
	return e.Store.Update(ctx, func(tx Tx) error {
		backlog, err := tx.Backlog(pol.Storm.MinPriority)
		if err != nil {
			return err
		}
		for ch, n := range backlog {
			if n <= pol.Storm.Threshold {
				continue
			}
			folded, err := foldStorm(tx, pol, ch, now)
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

func digestThreadName(v View) string {
	return fmt.Sprintf("Alert storm %s — all groups", v.Now.UTC().Format("2006-01-02 15:04"))
}

func (e *Engine) observe(ctx context.Context, now time.Time) error {
	var depth, dead int
	var oldest time.Time
	var counts map[Priority]map[string]int
	err := e.Store.View(ctx, func(tx Tx) (err error) {
		if depth, oldest, dead, err = tx.QueueStats(); err != nil {
			return err
		}
		counts, err = tx.GroupCounts(now.Add(-24 * time.Hour))
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox stats: %w", err)
	}
	age := 0.0
	if depth > 0 && !oldest.IsZero() {
		age = max(now.Sub(oldest).Seconds(), 0)
	}
	e.Metrics.Outbox(depth, dead, age)
	for _, p := range Priorities {
		for _, state := range []string{"firing", "acknowledged", "resolved"} {
			e.Metrics.AlertGroups(p.String(), state, counts[p][state])
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
