package heartbeat

import (
	"fmt"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/text"
)

// Receiver is the receiver name of the alert groups this package raises.
const Receiver = "klaxon-heartbeat"

// Alert names of the groups this package raises.
const (
	AlertLate     = "HeartbeatLate"
	AlertFailed   = "HeartbeatFailed"
	AlertLongRun  = "HeartbeatLongRun"
	AlertSilent   = "MonitoringPipelineSilent"
	logOnCard     = 900 // characters of a failure's log excerpt shown on its alert
	watchdogGroup = "klaxon/watchdog"
)

// GroupKey is the alert group of a monitor's late or failed episodes.
func GroupKey(name string) string { return "klaxon/heartbeat/" + name }

// LongRunGroupKey is the alert group of a monitor's long runs.
func LongRunGroupKey(name string) string { return "klaxon/heartbeat/" + name + "/long-run" }

// WatchdogGroupKey is the alert group of the silent monitoring pipeline.
func WatchdogGroupKey() string { return watchdogGroup }

// notification is one synthetic alert in its own group, as Alertmanager would send it.
func notification(key, fingerprint string, labels, annotations map[string]string, since, now time.Time, resolved bool) bot.Notification {
	a := bot.Alert{Fingerprint: fingerprint, Status: bot.Firing, Labels: labels, Annotations: annotations, StartsAt: since.UTC()}
	status := bot.Firing
	if resolved {
		status, a.Status, a.EndsAt = bot.Resolved, bot.Resolved, now.UTC()
	}
	return bot.Notification{Receiver: Receiver, Status: status, GroupKey: key,
		GroupLabels: map[string]string{"monitor": labels["monitor"]}, CommonLabels: labels, CommonAnnotations: annotations,
		Alerts: []bot.Alert{a}}
}

func labels(alertname string, m Monitor) map[string]string {
	l := map[string]string{"alertname": alertname, "priority": m.Priority.String(), "klaxon": "heartbeat"}
	if m.Name != watchdogName {
		l["monitor"] = m.Name
	}
	return l
}

func withRunbook(ann map[string]string, runbook string) map[string]string {
	switch {
	case runbook == "":
	case strings.HasPrefix(runbook, "http://"), strings.HasPrefix(runbook, "https://"):
		ann["runbook_url"] = runbook
	default:
		ann["runbook"] = runbook
	}
	return ann
}

// when formats t for an alert, in the monitor's zone (UTC for periods).
func when(m Monitor, t time.Time) string {
	loc := time.UTC
	if m.Cron != nil {
		loc = m.Cron.Location
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// problemNotification is the late or failed alert of a monitor (resolved
// when resolved is set), for the episode that began at st.ProblemSince.
// status is the problem: Late or Failed (when resolving, the one that was open).
func problemNotification(m Monitor, st *State, status Status, started, now time.Time, resolved bool) bot.Notification {
	name := AlertLate
	var summary, desc string
	last := "no ping yet (watching since " + when(m, st.Created) + ")"
	if !st.LastPing.IsZero() {
		last = "last ping " + when(m, st.LastPing)
	}
	switch status {
	case Failed:
		name = AlertFailed
		code := fmt.Sprintf("exit code %d", st.ExitCode)
		if st.ExitCode == NoExitCode {
			code = "no exit code given"
		}
		summary = fmt.Sprintf("%s failed (%s) at %s", m.Name, code, when(m, st.LastFail))
		desc = last
		if st.FailLog != "" {
			desc += "\nLog (end):\n" + text.Truncate(tail(st.FailLog, logOnCard), logOnCard)
		}
	default:
		deadline := m.Deadline(st.Baseline(started))
		summary = fmt.Sprintf("%s is late: %s; expected by %s (%s, grace %s)", m.Name, last, when(m, deadline.Add(-m.Grace)), m.Schedule(), m.Grace)
		if !st.RunningSince.IsZero() {
			desc = "A run started " + when(m, st.RunningSince) + " has not finished."
		} else {
			desc = "The job did not report in: it did not run, hung, or cannot reach Klaxon."
		}
	}
	if m.Description != "" {
		desc = m.Description + "\n" + desc
	}
	ann := withRunbook(map[string]string{"summary": summary, "description": desc}, m.Runbook)
	return notification(GroupKey(m.Name), "heartbeat/"+m.Name, labels(name, m), ann, st.ProblemSince, now, resolved)
}

// longRunNotification is the long-run alert of a monitor's current run.
func longRunNotification(m Monitor, st *State, limit time.Duration, now time.Time, resolved bool) bot.Notification {
	usual := "max_duration"
	if m.MaxDuration == 0 {
		usual = "twice the median of the last runs"
	}
	summary := fmt.Sprintf("%s has been running since %s, longer than %s (%s)", m.Name, when(m, st.RunningSince), limit, usual)
	if resolved && st.LastDuration > 0 {
		summary = fmt.Sprintf("%s ran %s (limit %s, %s)", m.Name, st.LastDuration.Round(time.Second), limit, usual)
	}
	ann := withRunbook(map[string]string{"summary": summary, "description": "A run much longer than usual may be hung, or miss its window."}, m.Runbook)
	return notification(LongRunGroupKey(m.Name), "heartbeat/"+m.Name+"/long-run", labels(AlertLongRun, m), ann, st.LongSince, now, resolved)
}

// silentNotification is the "monitoring pipeline silent" alert.
func silentNotification(w *Watchdog, st *State, started, now time.Time, resolved bool) bot.Notification {
	m := w.monitor()
	last := "no Watchdog since Klaxon started at " + when(m, started)
	if !st.LastPing.IsZero() {
		last = "last Watchdog " + when(m, st.LastPing)
	}
	summary := fmt.Sprintf("Monitoring pipeline silent: Alertmanager's Watchdog has not arrived for %s (%s)", w.Timeout, last)
	desc := "Prometheus or Alertmanager may be down, or the route from Alertmanager to Klaxon broken: alerts may not be reaching anyone. " +
		"Check Prometheus (ALERTS{alertname=\"Watchdog\"}), Alertmanager, and its webhook to Klaxon."
	ann := withRunbook(map[string]string{"summary": summary, "description": desc}, w.Runbook)
	return notification(watchdogGroup, "klaxon/watchdog", labels(AlertSilent, m), ann, st.ProblemSince, now, resolved)
}

// tail is the last n bytes of s, cut at a line start when one is near.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < n/4 {
		s = s[i+1:]
	}
	return strings.ToValidUTF8(s, "")
}
