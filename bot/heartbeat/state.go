package heartbeat

import (
	"slices"
	"time"
)

// Status is a monitor's state.
type Status string

// Monitor states. A paused monitor keeps its status; Paused says it is not judged.
const (
	New    Status = "new"    // no ping yet: waiting for the first deadline
	Up     Status = "up"     // the last signal was a success, in time
	Late   Status = "late"   // the deadline passed without a ping
	Failed Status = "failed" // the job reported a failure
)

// Statuses are all states, for the state gauge (paused is reported as a state of its own).
var Statuses = []Status{New, Up, Late, Failed, "paused"}

// State is what the store keeps per monitor (and for the Watchdog).
type State struct {
	Name         string
	Status       Status
	Created      time.Time       // when Klaxon first watched it
	LastPing     time.Time       // the last success (for the Watchdog: the last firing Watchdog)
	RunningSince time.Time       // a /start without its success or failure yet; zero when idle
	LastFail     time.Time       // the last /fail
	ExitCode     int             // of the last /fail
	FailLog      string          // the log excerpt of the last /fail
	LastDuration time.Duration   // of the last finished run (start → success or failure)
	Durations    []time.Duration // of recent successful runs, oldest first
	ProblemSince time.Time       // start of the open late/failed alert episode; zero when none
	LongSince    time.Time       // start of the open long-run alert episode; zero when none
	Paused       bool
	PausedBy     string    // who paused it
	Resumed      time.Time // when it was last resumed; counts like a ping
	Updated      time.Time
}

// Baseline is the time the next deadline counts from: the last ping, the
// start of watching, the last resume, or Klaxon's own start — whichever is
// latest. Counting Klaxon's start like a ping means a restart never raises
// a false alarm: a healthy job has one full schedule step to report in.
func (s *State) Baseline(started time.Time) time.Time {
	b := s.Created
	for _, t := range []time.Time{s.LastPing, s.Resumed, started} {
		if t.After(b) {
			b = t
		}
	}
	return b
}

// LongLimit is how long a run may take before it is flagged: the
// monitor's MaxDuration, else twice the median of recent runs (zero: no
// limit yet).
func (s *State) LongLimit(m Monitor) time.Duration {
	if m.MaxDuration > 0 {
		return m.MaxDuration
	}
	if len(s.Durations) < MinRuns {
		return 0
	}
	d := slices.Clone(s.Durations)
	slices.Sort(d)
	med := d[len(d)/2]
	if len(d)%2 == 0 {
		med = (d[len(d)/2-1] + d[len(d)/2]) / 2
	}
	return 2 * med
}

func (s *State) addDuration(d time.Duration) {
	s.LastDuration = d
	s.Durations = append(s.Durations, d)
	if len(s.Durations) > keepRuns {
		s.Durations = slices.Clone(s.Durations[len(s.Durations)-keepRuns:])
	}
}

// Shown is the status people see: paused, or the status.
func (s *State) Shown() Status {
	if s.Paused {
		return "paused"
	}
	return s.Status
}
