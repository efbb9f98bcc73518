package heartbeat

import (
	"fmt"
	"regexp"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Monitor is one configured heartbeat: a job that must report in on a
// schedule. Exactly one of Period and Cron is set.
type Monitor struct {
	Name        string
	Description string        // what the job is, shown on its alert
	Period      time.Duration // a ping is expected at most this long after the previous one
	Cron        *bot.Cron     // or: a ping is expected after each run of this schedule
	Grace       time.Duration // how late a ping may be before the monitor is late
	Priority    bot.Priority
	Runbook     string // a runbook id or URL, put on the alert as the runbook annotation
	// MaxDuration flags a run (start → success) that takes longer; zero:
	// twice the median of the last runs, once there are MinRuns of them.
	MaxDuration time.Duration
}

// MinRuns is how many finished runs a monitor needs before a run longer
// than twice their median is flagged (without a configured MaxDuration).
const MinRuns = 3

// keepRuns is how many run durations are kept per monitor.
const keepRuns = 20

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidName reports whether s can name a monitor: lower case letters,
// digits, - and _, at most 63 characters (it is a URL path element and a
// metric label).
func ValidName(s string) bool { return validName.MatchString(s) }

// Validate checks a monitor; the error is an EInvalid *bot.Error naming the field.
func (m Monitor) Validate() error {
	switch {
	case !ValidName(m.Name):
		return bot.Errorf(bot.EInvalid, "name %q: use lower case letters, digits, - and _ (at most 63), e.g. backup-full", m.Name)
	case (m.Period > 0) == (m.Cron != nil):
		return bot.Errorf(bot.EInvalid, "%s: give either period (e.g. 1h) or cron (e.g. \"0 3 * * *\" with time_zone), not both and not neither", m.Name)
	case m.Period < 0:
		return bot.Errorf(bot.EInvalid, "%s: period must be positive", m.Name)
	case m.Period > 0 && m.Period < time.Minute:
		return bot.Errorf(bot.EInvalid, "%s: period %s is shorter than 1m", m.Name, m.Period)
	case m.Grace < 0:
		return bot.Errorf(bot.EInvalid, "%s: grace must be 0 or more", m.Name)
	case m.MaxDuration < 0:
		return bot.Errorf(bot.EInvalid, "%s: max_duration must be 0 (automatic) or more", m.Name)
	case m.Priority < bot.P0 || m.Priority > bot.P3:
		return bot.Errorf(bot.EInvalid, "%s: priority must be one of P0, P1, P2, P3", m.Name)
	}
	return nil
}

// Next is when the first ping after t is expected: t plus the period, or
// the cron schedule's first run after t.
func (m Monitor) Next(t time.Time) time.Time {
	if m.Cron != nil {
		return m.Cron.Next(t)
	}
	return t.Add(m.Period)
}

// Deadline is when a monitor whose last ping (or start of watching) was at
// baseline becomes late: the next expected ping plus the grace time.
func (m Monitor) Deadline(baseline time.Time) time.Time {
	n := m.Next(baseline)
	if n.IsZero() {
		return n
	}
	return n.Add(m.Grace)
}

// Schedule describes the schedule for people, e.g. "every 1h" or
// "cron 0 3 * * * (Europe/Berlin)".
func (m Monitor) Schedule() string {
	if m.Cron != nil {
		return "cron " + m.Cron.String()
	}
	return fmt.Sprintf("every %s", m.Period)
}

// Watchdog configures the dead-man's switch on Alertmanager's Watchdog.
type Watchdog struct {
	// Matchers select the Watchdog alert by label equality; default
	// alertname=Watchdog.
	Matchers map[string]string
	Timeout  time.Duration // silent this long → the pipeline is silent
	Priority bot.Priority  // default P0
	Runbook  string
}

// DefaultWatchdogMatchers are the matchers of Prometheus' conventional Watchdog alert.
func DefaultWatchdogMatchers() map[string]string { return map[string]string{"alertname": "Watchdog"} }

// Matches reports whether an alert is the Watchdog.
func (w *Watchdog) Matches(a bot.Alert) bool {
	if w == nil || len(w.Matchers) == 0 {
		return false
	}
	for k, v := range w.Matchers {
		if a.Labels[k] != v {
			return false
		}
	}
	return true
}

// monitor is the watchdog as a period monitor, for the shared deadline rules.
func (w *Watchdog) monitor() Monitor {
	return Monitor{Name: watchdogName, Period: w.Timeout, Priority: w.Priority, Runbook: w.Runbook}
}

// watchdogName is the watchdog's row in the store; ':' cannot start a monitor name.
const watchdogName = ":watchdog"
