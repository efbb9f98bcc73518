package main

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
	"github.com/marola-rp/klaxon/bot/metrics"
	"github.com/marola-rp/klaxon/handlers"
)

// WatchdogConfig is the `watchdog:` section (absent: no dead-man's switch):
//
//	watchdog:
//	  matchers: {alertname: Watchdog}   # default
//	  timeout: 5m                       # silent this long → P0 "monitoring pipeline silent"
//	  priority: P0                      # default
//	  runbook: service-down
type WatchdogConfig struct {
	Matchers map[string]string `yaml:"matchers"`
	Timeout  Duration          `yaml:"timeout"`
	Priority string            `yaml:"priority"`
	Runbook  string            `yaml:"runbook"`
}

// HeartbeatConfig is one monitor of the `heartbeats:` list.
type HeartbeatConfig struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Period      Duration `yaml:"period"`
	Cron        string   `yaml:"cron"`
	TimeZone    string   `yaml:"time_zone"`
	Grace       Duration `yaml:"grace"`
	Priority    string   `yaml:"priority"`
	Runbook     string   `yaml:"runbook"`
	MaxDuration Duration `yaml:"max_duration"`
}

// heartbeatSetup is what the two sections build.
type heartbeatSetup struct {
	Monitors []heartbeat.Monitor
	Watchdog *heartbeat.Watchdog
}

// buildHeartbeats checks the watchdog and heartbeats sections. runbookKnown
// says whether a runbook reference names a runbook (URLs always do).
func (c *Config) buildHeartbeats(runbookKnown func(string) bool) (*heartbeatSetup, Problems) {
	var ps Problems
	bad := func(msg string, path ...string) {
		ps = append(ps, Problem{File: c.file, Line: c.line(path...), Message: msg})
	}
	prio := func(s string, def bot.Priority, label string, path ...string) bot.Priority {
		if s == "" {
			return def
		}
		p, err := bot.ParsePriority(s)
		if err != nil {
			bad(label+": "+bot.ErrorMessage(err), path...)
		}
		return p
	}
	runbook := func(ref string, label string, path ...string) string {
		ref = strings.TrimSpace(ref)
		if ref != "" && !strings.HasPrefix(ref, "http://") && !strings.HasPrefix(ref, "https://") && !runbookKnown(ref) {
			bad(fmt.Sprintf("%s: no runbook %q (not an embedded runbook, nor one in runbooks.dir; or give an https:// URL)", label, ref), path...)
		}
		return ref
	}
	hs := &heartbeatSetup{}
	if w := c.Watchdog; w != nil {
		wd := &heartbeat.Watchdog{Matchers: w.Matchers, Timeout: time.Duration(w.Timeout),
			Priority: prio(w.Priority, bot.P0, "watchdog.priority", "watchdog", "priority"), Runbook: runbook(w.Runbook, "watchdog.runbook", "watchdog", "runbook")}
		if len(wd.Matchers) == 0 {
			wd.Matchers = heartbeat.DefaultWatchdogMatchers()
		}
		for k, v := range wd.Matchers {
			if k == "" || v == "" {
				bad(fmt.Sprintf("watchdog.matchers: %q: %q: label names and values must not be empty", k, v), "watchdog", "matchers")
			}
		}
		switch {
		case w.Timeout == 0:
			bad("watchdog.timeout is missing: how long without the Watchdog means the pipeline is silent, e.g. 5m (more than Alertmanager's repeat_interval for it)", "watchdog")
		case wd.Timeout < time.Minute:
			bad(fmt.Sprintf("watchdog.timeout %s is shorter than 1m: Alertmanager cannot repeat the Watchdog that often reliably", wd.Timeout), "watchdog", "timeout")
		}
		hs.Watchdog = wd
	}
	seen := map[string]bool{}
	for i, hc := range c.Heartbeats {
		at := func(f string) []string { return []string{"heartbeats", strconv.Itoa(i), f} }
		where := fmt.Sprintf("heartbeats[%d] (%s)", i, hc.Name)
		m := heartbeat.Monitor{Name: hc.Name, Description: strings.TrimSpace(hc.Description), Period: time.Duration(hc.Period),
			Grace: time.Duration(hc.Grace), Priority: prio(hc.Priority, bot.P2, fmt.Sprintf("heartbeats[%d].priority", i), at("priority")...),
			Runbook:     runbook(hc.Runbook, fmt.Sprintf("heartbeats[%d].runbook", i), at("runbook")...),
			MaxDuration: time.Duration(hc.MaxDuration)}
		if seen[hc.Name] {
			bad(fmt.Sprintf("heartbeats: the name %s is used twice", hc.Name), at("name")...)
		}
		seen[hc.Name] = true
		if hc.Cron != "" {
			cr, err := bot.ParseCron(hc.Cron, hc.TimeZone)
			if err != nil {
				field := "cron"
				if strings.Contains(bot.ErrorMessage(err), "time zone") {
					field = "time_zone"
				}
				bad(where+": "+bot.ErrorMessage(err), at(field)...)
				continue
			}
			m.Cron = cr
		} else if hc.TimeZone != "" {
			bad(where+": time_zone applies to cron only; a period counts from the last ping", at("time_zone")...)
		}
		if err := m.Validate(); err != nil {
			field := "name"
			switch msg := bot.ErrorMessage(err); {
			case strings.Contains(msg, "either period"), strings.Contains(msg, "period"):
				field = "period"
			case strings.Contains(msg, "grace"):
				field = "grace"
			case strings.Contains(msg, "max_duration"):
				field = "max_duration"
			}
			bad(fmt.Sprintf("heartbeats[%d]: %s", i, bot.ErrorMessage(err)), at(field)...)
			continue
		}
		hs.Monitors = append(hs.Monitors, m)
	}
	if len(c.Heartbeats) > 0 && c.Env.HeartbeatToken == "" {
		ps = append(ps, Problem{File: c.file, Line: c.line("heartbeats"), Warning: true,
			Message: "heartbeats are configured but KLAXON_HEARTBEAT_TOKEN is not set: every ping will be refused (401); set it to a long random secret"})
	}
	return hs, ps
}

// runbookKnown looks a reference up in the configured runbooks.
func (c *Config) runbookKnown(ref string) bool {
	if c.postmortems == nil || c.postmortems.Library == nil {
		return false
	}
	_, ok := c.postmortems.Library.Current().Get(ref)
	return ok
}

// wireHeartbeats builds the heartbeat service, also when neither section is
// configured: a reload may add monitors or the Watchdog (Service.Reconfigure).
// serve routes its HTTP endpoints and adds it to the engine.
func (m *Main) wireHeartbeats(policy *bot.Policy) *heartbeat.Service {
	hs := m.Config.heartbeats
	if hs == nil {
		hs = &heartbeatSetup{}
	}
	log := m.Log.With("component", "heartbeat")
	if hs.Watchdog != nil || len(hs.Monitors) > 0 {
		names := make([]string, 0, len(hs.Monitors))
		for _, mon := range hs.Monitors {
			names = append(names, mon.Name)
		}
		sort.Strings(names)
		log.Info("watching heartbeats", "monitors", strings.Join(names, ","), "watchdog", hs.Watchdog != nil)
	}
	return &heartbeat.Service{Store: m.DB.Heartbeat(), Policy: policy, Monitors: hs.Monitors, Watchdog: hs.Watchdog,
		Started: m.Clock.Now(), Log: log, Metrics: metrics.NewHeartbeats(m.registry), Trigger: m.Engine.Trigger}
}

// routeHeartbeats wires the heartbeat service: its engine job, its HTTP
// endpoints and the webhook's Watchdog, whatever is configured at the
// start: a reload replaces the monitors and the Watchdog.
func (m *Main) routeHeartbeats(mux *http.ServeMux, policy *bot.Policy, webhook *handlers.Webhook) *heartbeat.Service {
	hb := m.wireHeartbeats(policy)
	(&handlers.HeartbeatCommands{Clock: m.Clock, Service: hb}).Register(m.Interactions)
	m.Engine.Jobs = append(m.Engine.Jobs, hb)
	webhook.Watchdog = hb // recognises nothing while no Watchdog is configured
	h := &handlers.Heartbeat{Service: hb, Token: m.Config.Env.HeartbeatToken, Clock: m.Clock,
		Log: m.Log.With("component", "heartbeat"), Metrics: hb.Metrics}
	mux.Handle("POST /heartbeat/{name}", h)
	mux.Handle("POST /heartbeat/{name}/{signal}", h)
	if len(hb.Monitors) > 0 && m.Config.Env.HeartbeatToken == "" {
		m.Log.Warn("KLAXON_HEARTBEAT_TOKEN is not set: every heartbeat is refused (401) and every monitor will go late")
	}
	return hb
}
