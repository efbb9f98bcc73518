package heartbeat

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/metrics"
)

// Tx is what the heartbeat feature needs from a transaction: the core's
// (to raise alert groups through bot.IngestTx) and its own state rows.
// store.Tx implements it.
type Tx interface {
	bot.Tx
	// HeartbeatState returns a monitor's state, or an ENotFound error.
	HeartbeatState(name string) (*State, error)
	// HeartbeatStates returns every stored state, by name.
	HeartbeatStates() ([]*State, error)
	// SaveHeartbeatState inserts or replaces a state.
	SaveHeartbeatState(s *State) error
}

// Store runs the feature's transactions (store.DB.Heartbeat).
type Store = bot.TxStore[Tx]

// SignalKind is what a ping says.
type SignalKind string

// Signals a job sends.
const (
	Success SignalKind = "success" // POST /heartbeat/{name}
	Start   SignalKind = "start"   // POST /heartbeat/{name}/start
	Fail    SignalKind = "fail"    // POST /heartbeat/{name}/fail
)

// Signal is one ping.
type Signal struct {
	Kind     SignalKind
	ExitCode int    // Fail only; NoExitCode when the job gave none
	Log      string // Fail only: the end of the job's output
}

// NoExitCode is the exit code of a failure reported without one.
const NoExitCode = -1

// MaxLog bounds a failure's stored log excerpt (the HTTP handler refuses
// larger bodies with 413).
const MaxLog = 10 << 10

// Service records pings and the Watchdog, answers the slash commands, and
// is the engine job that notices silence. State lives in the store.
type Service struct {
	Store    Store
	Policy   *bot.Policy
	Monitors []Monitor
	Watchdog *Watchdog // nil: no dead-man's switch
	// Started is when this Klaxon started: it counts like a ping, so a
	// restart waits one full schedule step before judging anything.
	Started time.Time
	Log     *slog.Logger
	Metrics *metrics.Heartbeats // nil records nothing
	Trigger func()              // wakes the engine after an alert was raised or resolved; may be nil

	live atomic.Pointer[Watched] // set by Reconfigure; nil: Monitors and Watchdog
}

// Watched is what the service watches: the part a configuration reload
// replaces.
type Watched struct {
	Monitors []Monitor
	Watchdog *Watchdog // nil: no dead-man's switch
}

// watched is the monitors and Watchdog in force: one snapshot per ping,
// command or engine run.
func (s *Service) watched() Watched {
	if w := s.live.Load(); w != nil {
		return *w
	}
	return Watched{Monitors: s.Monitors, Watchdog: s.Watchdog}
}

// Reconfigure replaces the monitors and the Watchdog while the service
// runs (a configuration reload). A changed monitor keeps its state (its
// last ping, its open alerts) and is judged by its new schedule from the
// next engine run. The open alerts of a monitor that is gone, or of the
// Watchdog when it is gone, are resolved: nothing is left to clear them.
// It returns the names whose alerts it resolved.
func (s *Service) Reconfigure(ctx context.Context, w Watched, now time.Time) ([]string, error) {
	old := s.watched()
	s.live.Store(&w)
	keep := map[string]bool{}
	for _, m := range w.Monitors {
		keep[m.Name] = true
	}
	var resolved []string
	changed := false
	err := s.Store.Update(ctx, func(tx Tx) error {
		for _, m := range old.Monitors {
			if keep[m.Name] {
				continue
			}
			st, err := tx.HeartbeatState(m.Name)
			if bot.ErrorCode(err) == bot.ENotFound {
				continue
			} else if err != nil {
				return err
			}
			if st.ProblemSince.IsZero() && st.LongSince.IsZero() {
				continue
			}
			if !st.ProblemSince.IsZero() {
				if err := s.ingest(ctx, tx, problemNotification(m, st, st.Status, s.Started, now, true), now); err != nil {
					return err
				}
				st.ProblemSince = time.Time{}
			}
			if !st.LongSince.IsZero() {
				if err := s.ingest(ctx, tx, longRunNotification(m, st, st.LongLimit(m), now, true), now); err != nil {
					return err
				}
				st.LongSince = time.Time{}
			}
			st.Updated, changed = now, true
			resolved = append(resolved, m.Name)
			if err := tx.SaveHeartbeatState(st); err != nil {
				return err
			}
		}
		if old.Watchdog == nil || w.Watchdog != nil {
			return nil
		}
		st, err := tx.HeartbeatState(watchdogName)
		if bot.ErrorCode(err) == bot.ENotFound || (err == nil && st.ProblemSince.IsZero()) {
			return nil
		} else if err != nil {
			return err
		}
		if err := s.ingest(ctx, tx, silentNotification(old.Watchdog, st, s.Started, now, true), now); err != nil {
			return err
		}
		st.ProblemSince, st.Updated, changed = time.Time{}, now, true
		resolved = append(resolved, "watchdog")
		return tx.SaveHeartbeatState(st)
	})
	if changed {
		s.trigger()
	}
	if err != nil {
		return resolved, fmt.Errorf("resolve the alerts of removed heartbeat monitors: %w", err)
	}
	return resolved, nil
}

func (s *Service) log() *slog.Logger { return bot.OrDiscard(s.Log) }

func (s *Service) trigger() { bot.Wake(s.Trigger) }

// Monitor returns the configured monitor of this name, or an ENotFound error naming it.
func (s *Service) Monitor(name string) (Monitor, error) {
	ms := s.watched().Monitors
	for _, m := range ms {
		if m.Name == name {
			return m, nil
		}
	}
	if len(ms) == 0 {
		return Monitor{}, bot.Errorf(bot.ENotFound, "no heartbeat monitor named %q: none are configured (heartbeats: in the configuration)", name)
	}
	return Monitor{}, bot.Errorf(bot.ENotFound, "no heartbeat monitor named %q; configured: %s", name, sortedNames(s.Names()))
}

// state loads a state, or a fresh one for a monitor never seen.
func state(tx Tx, name string, now time.Time) (*State, error) {
	st, err := tx.HeartbeatState(name)
	switch {
	case bot.ErrorCode(err) == bot.ENotFound:
		return &State{Name: name, Status: New, Created: now, Updated: now}, nil
	case err != nil:
		return nil, fmt.Errorf("read heartbeat %s: %w", name, err)
	}
	return st, nil
}

func (s *Service) ingest(ctx context.Context, tx Tx, n bot.Notification, now time.Time) error {
	if _, err := bot.IngestTx(ctx, tx, s.Policy, n, now); err != nil {
		return fmt.Errorf("raise %s: %w", n.GroupKey, err)
	}
	return nil
}

// Ping records a job's signal and raises or resolves its alerts, in one
// transaction. An unknown name is an ENotFound error naming it.
func (s *Service) Ping(ctx context.Context, name string, sig Signal, now time.Time) (*State, error) {
	m, err := s.Monitor(name)
	if err != nil {
		return nil, err
	}
	if len(sig.Log) > MaxLog {
		return nil, bot.Errorf(bot.EInvalid, "log excerpt is %d bytes, at most %d are kept: send the end of the log (tail -c %d)", len(sig.Log), MaxLog, MaxLog)
	}
	var out *State
	changed := false
	err = s.Store.Update(ctx, func(tx Tx) error {
		st, err := state(tx, name, now)
		if err != nil {
			return err
		}
		changed, err = s.apply(ctx, tx, m, st, sig, now)
		if err != nil {
			return err
		}
		st.Updated = now
		out = st
		return tx.SaveHeartbeatState(st)
	})
	if err != nil {
		return nil, fmt.Errorf("heartbeat %s %s: %w", name, sig.Kind, err)
	}
	if changed {
		s.trigger()
	}
	s.log().Debug("heartbeat", "monitor", name, "signal", string(sig.Kind), "status", string(out.Status))
	return out, nil
}

// apply changes st for sig and raises or resolves alerts; changed says
// whether an alert group changed.
func (s *Service) apply(ctx context.Context, tx Tx, m Monitor, st *State, sig Signal, now time.Time) (changed bool, err error) {
	endLong := func() error {
		if st.LongSince.IsZero() {
			return nil
		}
		limit := st.LongLimit(m)
		if limit == 0 {
			limit = now.Sub(st.LongSince)
		}
		err := s.ingest(ctx, tx, longRunNotification(m, st, limit, now, true), now)
		st.LongSince, changed = time.Time{}, true
		return err
	}
	switch sig.Kind {
	case Start:
		if !st.RunningSince.IsZero() && !st.LongSince.IsZero() {
			// A new run begins while the previous one was flagged: that one is over.
			if err := endLong(); err != nil {
				return changed, err
			}
		}
		st.RunningSince = now
		return changed, nil
	case Success:
		if !st.RunningSince.IsZero() {
			d := now.Sub(st.RunningSince)
			limit := st.LongLimit(m) // before this run counts
			st.addDuration(d)
			if st.LongSince.IsZero() && limit > 0 && d > limit {
				// It ended before the engine noticed: on record, not paged.
				s.log().Warn("heartbeat run took much longer than usual", "monitor", m.Name, "duration", d.String(), "limit", limit.String())
			}
		}
		if err := endLong(); err != nil {
			return changed, err
		}
		st.RunningSince = time.Time{}
		prev := st.Status
		st.Status, st.LastPing = Up, now
		if !st.ProblemSince.IsZero() {
			if err := s.ingest(ctx, tx, problemNotification(m, st, prev, s.Started, now, true), now); err != nil {
				return changed, err
			}
			st.ProblemSince, changed = time.Time{}, true
			s.log().Info("heartbeat recovered", "monitor", m.Name, "was", string(prev))
		}
		return changed, nil
	case Fail:
		if !st.RunningSince.IsZero() {
			st.LastDuration = now.Sub(st.RunningSince)
		}
		if err := endLong(); err != nil {
			return changed, err
		}
		st.RunningSince = time.Time{}
		st.Status, st.LastFail, st.ExitCode, st.FailLog = Failed, now, sig.ExitCode, strings.ToValidUTF8(sig.Log, "\uFFFD")
		if st.Paused {
			return changed, nil // recorded; a paused monitor raises nothing
		}
		if st.ProblemSince.IsZero() {
			st.ProblemSince = now
		}
		if err := s.ingest(ctx, tx, problemNotification(m, st, Failed, s.Started, now, false), now); err != nil {
			return changed, err
		}
		s.log().Warn("heartbeat job failed", "monitor", m.Name, "exit_code", sig.ExitCode, "priority", m.Priority.String())
		return true, nil
	}
	return changed, bot.Errorf(bot.EInvalid, "unknown signal %q", sig.Kind)
}

// Entry is one monitor as /heartbeat list shows it.
type Entry struct {
	Monitor Monitor
	State   State
	Next    time.Time     // when the next ping is expected (zero: paused or failed)
	Limit   time.Duration // long-run limit (zero: none yet)
}

// List returns every configured monitor with its state, in configuration order.
func (s *Service) List(ctx context.Context, now time.Time) ([]Entry, error) {
	var states []*State
	if err := s.Store.View(ctx, func(tx Tx) (err error) { states, err = tx.HeartbeatStates(); return err }); err != nil {
		return nil, fmt.Errorf("list heartbeats: %w", err)
	}
	byName := map[string]*State{}
	for _, st := range states {
		byName[st.Name] = st
	}
	ms := s.watched().Monitors
	out := make([]Entry, 0, len(ms))
	for _, m := range ms {
		st := byName[m.Name]
		if st == nil {
			st = &State{Name: m.Name, Status: New, Created: now}
		}
		e := Entry{Monitor: m, State: *st, Limit: st.LongLimit(m)}
		if !st.Paused && st.Status != Failed {
			e.Next = m.Next(st.Baseline(s.Started))
		}
		out = append(out, e)
	}
	return out, nil
}

// Names returns the configured monitor names.
func (s *Service) Names() []string {
	ms := s.watched().Monitors
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// SetPaused pauses or resumes a monitor. Pausing resolves its open alerts
// (nobody is paged for a job that is off on purpose); resuming counts as a
// ping, so the job has one full schedule step to report in.
func (s *Service) SetPaused(ctx context.Context, name string, pause bool, by bot.Actor, now time.Time) (*Entry, error) {
	m, err := s.Monitor(name)
	if err != nil {
		return nil, err
	}
	changed := false
	var out *State
	err = s.Store.Update(ctx, func(tx Tx) error {
		st, err := state(tx, name, now)
		if err != nil {
			return err
		}
		if st.Paused == pause {
			verb := "resumed"
			if pause {
				verb = "paused"
			}
			return bot.Errorf(bot.EConflict, "heartbeat monitor %s is already %s", name, verb)
		}
		st.Paused = pause
		if pause {
			st.PausedBy = by.Name
			if !st.ProblemSince.IsZero() {
				if err := s.ingest(ctx, tx, problemNotification(m, st, st.Status, s.Started, now, true), now); err != nil {
					return err
				}
				st.ProblemSince, changed = time.Time{}, true
			}
			if !st.LongSince.IsZero() {
				if err := s.ingest(ctx, tx, longRunNotification(m, st, st.LongLimit(m), now, true), now); err != nil {
					return err
				}
				st.LongSince, changed = time.Time{}, true
			}
		} else {
			st.PausedBy, st.Resumed = "", now
			if st.Status == Late || st.Status == Failed {
				st.Status = New // judged afresh from now
				if !st.LastPing.IsZero() {
					st.Status = Up
				}
			}
		}
		st.Updated = now
		out = st
		return tx.SaveHeartbeatState(st)
	})
	if err != nil {
		return nil, fmt.Errorf("heartbeat %s: %w", name, err)
	}
	if changed {
		s.trigger()
	}
	s.log().Info("heartbeat monitor paused or resumed", "monitor", name, "paused", pause, "by", by.UserID)
	e := &Entry{Monitor: m, State: *out, Limit: out.LongLimit(m)}
	if !pause {
		e.Next = m.Next(out.Baseline(s.Started))
	}
	return e, nil
}

// IsWatchdog reports whether an alert is the configured Watchdog.
func (s *Service) IsWatchdog(a bot.Alert) bool { return s != nil && s.watched().Watchdog.Matches(a) }

// SplitWatchdog takes the Watchdog's alerts out of a notification: rest is
// the notification without them, firing says whether a firing Watchdog was
// among them. A resolved Watchdog does not count as a sign of life.
func (s *Service) SplitWatchdog(n bot.Notification) (rest bot.Notification, found, firing bool) {
	rest = n
	rest.Alerts = nil
	for _, a := range n.Alerts {
		if !s.IsWatchdog(a) {
			rest.Alerts = append(rest.Alerts, a)
			continue
		}
		found = true
		if a.Status == bot.Firing {
			firing = true
		}
	}
	if !found {
		return n, false, false
	}
	return rest, found, firing
}

// SeenWatchdog records that the Watchdog arrived, and resolves "monitoring
// pipeline silent" when it was raised.
func (s *Service) SeenWatchdog(ctx context.Context, now time.Time) error {
	wd := s.watched().Watchdog
	if wd == nil {
		return nil
	}
	changed := false
	err := s.Store.Update(ctx, func(tx Tx) error {
		st, err := state(tx, watchdogName, now)
		if err != nil {
			return err
		}
		if now.After(st.LastPing) {
			st.LastPing = now
		}
		prev := st.Status
		st.Status, st.Updated = Up, now
		if !st.ProblemSince.IsZero() {
			if err := s.ingest(ctx, tx, silentNotification(wd, st, s.Started, now, true), now); err != nil {
				return err
			}
			st.ProblemSince, changed = time.Time{}, true
			s.log().Info("Watchdog is back: monitoring pipeline alive again", "was", string(prev))
		}
		return tx.SaveHeartbeatState(st)
	})
	if err != nil {
		return fmt.Errorf("record the Watchdog: %w", err)
	}
	s.Metrics.WatchdogSeen(now)
	if changed {
		s.trigger()
	}
	return nil
}

// Name implements bot.Job.
func (s *Service) Name() string { return "heartbeats" }

// Run implements bot.Job: it raises late monitors, long runs and a silent
// Watchdog. It reads first and writes only when something is due.
func (s *Service) Run(ctx context.Context, now time.Time) error {
	w := s.watched() // one snapshot for the whole run
	var due int
	var states []*State
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		states, err = tx.HeartbeatStates()
		if err != nil {
			return err
		}
		due, err = s.check(ctx, tx, w, states, now, true)
		return err
	})
	if err != nil {
		return fmt.Errorf("check heartbeats: %w", err)
	}
	if due > 0 {
		err = s.Store.Update(ctx, func(tx Tx) (err error) {
			states, err = tx.HeartbeatStates()
			if err != nil {
				return err
			}
			_, err = s.check(ctx, tx, w, states, now, false)
			return err
		})
		if err != nil {
			return fmt.Errorf("raise late heartbeats: %w", err)
		}
		s.trigger()
	}
	s.observe(w, states)
	return nil
}

// check finds what is due at now: with dry set it only counts (in a read
// transaction); otherwise it records the changes and raises the alerts.
func (s *Service) check(ctx context.Context, tx Tx, w Watched, states []*State, now time.Time, dry bool) (int, error) {
	byName := map[string]*State{}
	for _, st := range states {
		byName[st.Name] = st
	}
	due := 0
	for _, m := range w.Monitors {
		st := byName[m.Name]
		if st == nil {
			// Watching begins: record when, so a restart does not move it.
			due++
			if dry {
				continue
			}
			st = &State{Name: m.Name, Status: New, Created: now, Updated: now}
			if err := tx.SaveHeartbeatState(st); err != nil {
				return due, err
			}
		}
		if st.Paused {
			continue
		}
		save := false
		if (st.Status == New || st.Status == Up) && st.ProblemSince.IsZero() {
			if deadline := m.Deadline(st.Baseline(s.Started)); !deadline.IsZero() && now.After(deadline) {
				due++
				if !dry {
					st.Status, st.ProblemSince, save = Late, deadline, true
					if err := s.ingest(ctx, tx, problemNotification(m, st, Late, s.Started, now, false), now); err != nil {
						return due, err
					}
					s.log().Warn("heartbeat late", "monitor", m.Name, "deadline", deadline, "priority", m.Priority.String())
				}
			}
		}
		if !st.RunningSince.IsZero() && st.LongSince.IsZero() {
			if limit := st.LongLimit(m); limit > 0 && now.Sub(st.RunningSince) > limit {
				due++
				if !dry {
					st.LongSince, save = st.RunningSince.Add(limit), true
					if err := s.ingest(ctx, tx, longRunNotification(m, st, limit, now, false), now); err != nil {
						return due, err
					}
					s.log().Warn("heartbeat run longer than usual", "monitor", m.Name, "running_since", st.RunningSince, "limit", limit.String())
				}
			}
		}
		if save {
			st.Updated = now
			if err := tx.SaveHeartbeatState(st); err != nil {
				return due, err
			}
		}
	}
	if w := w.Watchdog; w != nil {
		st := byName[watchdogName]
		if st == nil {
			st = &State{Name: watchdogName, Status: New} // never seen: judged from Klaxon's start
		}
		m := w.monitor()
		if st.ProblemSince.IsZero() {
			if deadline := m.Deadline(st.Baseline(s.Started)); now.After(deadline) {
				due++
				if !dry {
					st.Status, st.ProblemSince, st.Updated = Late, deadline, now
					if st.Created.IsZero() {
						st.Created = now
					}
					if err := s.ingest(ctx, tx, silentNotification(w, st, s.Started, now, false), now); err != nil {
						return due, err
					}
					if err := tx.SaveHeartbeatState(st); err != nil {
						return due, err
					}
					s.log().Error("monitoring pipeline silent: no Watchdog from Alertmanager", "last_seen", st.LastPing, "timeout", w.Timeout.String(),
						"priority", w.Priority.String())
				}
			}
		}
	}
	return due, nil
}

// observe sets the gauges from the states read this cycle.
func (s *Service) observe(w Watched, states []*State) {
	if s.Metrics == nil {
		return
	}
	byName := map[string]*State{}
	for _, st := range states {
		byName[st.Name] = st
	}
	for _, m := range w.Monitors {
		st := byName[m.Name]
		if st == nil {
			st = &State{Status: New}
		}
		shown := make([]string, len(Statuses))
		for i, x := range Statuses {
			shown[i] = string(x)
		}
		s.Metrics.Monitor(m.Name, st.LastPing, string(st.Shown()), shown)
	}
	if w := byName[watchdogName]; w != nil {
		s.Metrics.WatchdogSeen(w.LastPing)
	}
}

// sortedNames lists names for messages.
func sortedNames(names []string) string {
	n := slices.Clone(names)
	sort.Strings(n)
	return strings.Join(n, ", ")
}
