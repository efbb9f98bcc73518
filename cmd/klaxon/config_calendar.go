package main

import (
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/chart"
	"github.com/marola-rp/klaxon/bot/promquery"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

// RemindersConfig is the `reminders:` section:
//
//	reminders:
//	  time_zone: Europe/Berlin   # of reminders that name none; default UTC
//	  grace: 1h                  # a run missed while Klaxon was down fires once if it is back within this
//	  list:
//	    - name: restore-test
//	      cron: "0 10 * * TUE"
//	      channel: "100000000000000020"
//	      message: "Weekly restore test: …"
//	      mention_roles: ["100000000000000100"]
type RemindersConfig struct {
	TimeZone string           `yaml:"time_zone"`
	Grace    Duration         `yaml:"grace"`
	List     []ReminderConfig `yaml:"list"`
}

// ReminderConfig is one configured reminder.
type ReminderConfig struct {
	Name         string   `yaml:"name"`
	Cron         string   `yaml:"cron"`
	TimeZone     string   `yaml:"time_zone"`
	Channel      string   `yaml:"channel"`
	Message      string   `yaml:"message"`
	MentionRoles []string `yaml:"mention_roles"`
}

// SLOConfig is the `slo:` section. Percentages are written as percent
// (99.9, 0.1); weights as fractions (P2: 0.25).
type SLOConfig struct {
	TimeZone        string             `yaml:"time_zone"` // month boundaries; default UTC
	Channel         string             `yaml:"channel"`   // budget warnings
	MentionRoles    []string           `yaml:"mention_roles"`
	WarnAtRemaining []float64          `yaml:"warn_at_remaining"` // percent of budget left; default [50, 25, 0]
	Weights         map[string]float64 `yaml:"weights"`           // P0..P3 → 0..1; default P0 1, P1 0.5, P2 0.25, P3 0
	PrometheusURL   string             `yaml:"prometheus_url"`
	Services        []SLOServiceConfig `yaml:"services"` // default: game-servers, web, database, cdn
}

// SLOServiceConfig is one service's objectives.
type SLOServiceConfig struct {
	Name            string   `yaml:"name"`
	Match           []string `yaml:"match"`        // values of the alert label `service`; default the name
	Availability    float64  `yaml:"availability"` // percent, e.g. 99.9
	Latency         Duration `yaml:"latency"`      // e.g. 100ms
	ErrorRate       float64  `yaml:"error_rate"`   // percent, e.g. 0.1
	PrometheusQuery string   `yaml:"prometheus_query"`
}

// ReportsConfig is the `reports:` section.
type ReportsConfig struct {
	Channel   string   `yaml:"channel"`
	TimeZone  string   `yaml:"time_zone"` // default: slo.time_zone
	Monthly   string   `yaml:"monthly"`   // cron; default "0 9 1 * *"; "off" for none
	Weekly    string   `yaml:"weekly"`    // cron; default "0 9 * * MON"; "off" for none
	Grace     Duration `yaml:"grace"`     // default 24h
	TopAlerts int      `yaml:"top_alerts"`
}

// BackupConfig is the `backups:` section.
type BackupConfig struct {
	Dir           string   `yaml:"dir"`
	RetentionDays int      `yaml:"retention_days"` // default 30
	Schedule      string   `yaml:"schedule"`       // cron; default "0 3 * * *"
	Verify        string   `yaml:"verify"`         // cron; default "0 4 * * SUN"
	TimeZone      string   `yaml:"time_zone"`
	OpsChannel    string   `yaml:"ops_channel"`
	MentionRoles  []string `yaml:"mention_roles"`
	Grace         Duration `yaml:"grace"`
}

// CalendarSettings are the core values built from the four sections.
type CalendarSettings struct {
	Reminders     []calendar.Reminder
	ReminderZone  string
	ReminderGrace time.Duration
	SLO           calendar.SLOPolicy
	PrometheusURL string
	Reports       calendar.ReportPolicy
	Backups       calendar.BackupPolicy
}

// buildCalendar checks the reminders, slo, reports and backups sections and
// builds the core's values, with every problem found. line gives the line
// of a YAML path (sequence items are passed as their index).
func buildCalendar(file string, line func(path ...string) int, r RemindersConfig, s SLOConfig, rep ReportsConfig, b BackupConfig) (*CalendarSettings, Problems) {
	var ps Problems
	bad := func(msg string, path ...string) {
		ps = append(ps, Problem{File: file, Line: line(path...), Message: msg})
	}
	warn := func(msg string, path ...string) {
		ps = append(ps, Problem{File: file, Line: line(path...), Message: msg, Warning: true})
	}
	zone := func(tz string, path ...string) *time.Location {
		loc, err := bot.LoadZone(tz)
		if err != nil {
			bad(strings.Join(path, ".")+": "+bot.ErrorMessage(err), path...)
			return time.UTC
		}
		return loc
	}
	ids := func(list []string, path ...string) []string {
		for _, id := range list {
			if !snowflake.MatchString(id) {
				bad(fmt.Sprintf("%s: %q is not a Discord id (digits only; no <@&…> or names)", strings.Join(path, "."), id), path...)
			}
		}
		return list
	}
	channel := func(id string, path ...string) string {
		if id != "" && !snowflake.MatchString(id) {
			bad(fmt.Sprintf("%s %q is not a Discord channel id (digits only)", strings.Join(path, "."), id), path...)
		}
		return id
	}
	cronOK := func(expr, tz string, path ...string) string {
		if expr == "" || strings.EqualFold(expr, "off") {
			return expr
		}
		if _, err := bot.ParseCron(expr, tz); err != nil {
			bad(strings.Join(path, ".")+": "+bot.ErrorMessage(err), path...)
		}
		return expr
	}
	cs := &CalendarSettings{}

	// Reminders.
	zone(r.TimeZone, "reminders", "time_zone")
	cs.ReminderZone, cs.ReminderGrace = r.TimeZone, time.Duration(r.Grace)
	if r.Grace < 0 {
		bad("reminders.grace must be positive", "reminders", "grace")
	}
	seen := map[string]bool{}
	for i, rc := range r.List {
		at := func(f string) []string { return []string{"reminders", "list", strconv.Itoa(i), f} }
		rem := calendar.Reminder{Name: rc.Name, Cron: rc.Cron, TimeZone: rc.TimeZone, ChannelID: rc.Channel, Message: strings.TrimSpace(rc.Message), Roles: rc.MentionRoles}
		if rem.TimeZone == "" {
			rem.TimeZone = r.TimeZone
		}
		if seen[rc.Name] {
			bad(fmt.Sprintf("reminders.list: the name %s is used twice", rc.Name), at("name")...)
		}
		seen[rc.Name] = true
		if rc.Channel == "" {
			bad(fmt.Sprintf("reminders.list[%d] (%s): channel is empty: set the Discord channel id", i, rc.Name), at("channel")...)
			continue
		}
		if err := rem.Validate(); err != nil {
			field := "name"
			switch msg := bot.ErrorMessage(err); {
			case strings.Contains(msg, "cron"), strings.Contains(msg, "never runs"), strings.Contains(msg, "more often"):
				field = "cron"
			case strings.Contains(msg, "time zone"):
				field = "time_zone"
			case strings.Contains(msg, "channel"):
				field = "channel"
			case strings.Contains(msg, "message"):
				field = "message"
			case strings.Contains(msg, "role"):
				field = "mention_roles"
			}
			bad(fmt.Sprintf("reminders.list[%d]: %s", i, bot.ErrorMessage(err)), at(field)...)
			continue
		}
		cs.Reminders = append(cs.Reminders, rem)
	}

	// SLOs.
	pol := calendar.DefaultSLOPolicy()
	pol.Location = zone(s.TimeZone, "slo", "time_zone")
	pol.Channel = channel(s.Channel, "slo", "channel")
	pol.Mentions = bot.Mentions{Roles: ids(s.MentionRoles, "slo", "mention_roles")}
	if s.WarnAtRemaining != nil {
		pol.WarnAt = nil
		for _, p := range s.WarnAtRemaining {
			if p < 0 || p >= 100 {
				bad(fmt.Sprintf("slo.warn_at_remaining: %v is not a percentage of the budget left between 0 (exhausted) and 100", p), "slo", "warn_at_remaining")
				continue
			}
			pol.WarnAt = append(pol.WarnAt, p/100)
		}
	}
	for k, w := range s.Weights {
		p, err := bot.ParsePriority(k)
		if err != nil {
			bad("slo.weights: "+bot.ErrorMessage(err), "slo", "weights", k)
			continue
		}
		if w < 0 || w > 1 || math.IsNaN(w) {
			bad(fmt.Sprintf("slo.weights.%s: %v must be between 0 (does not count) and 1 (counts in full)", k, w), "slo", "weights", k)
			continue
		}
		pol.Weights[p] = w
	}
	if s.PrometheusURL != "" {
		if u, err := url.Parse(s.PrometheusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(fmt.Sprintf("slo.prometheus_url %q is not an http(s) URL such as http://prometheus:9090", s.PrometheusURL), "slo", "prometheus_url")
		} else {
			cs.PrometheusURL = s.PrometheusURL
		}
	}
	if s.Services != nil {
		pol.Services = nil
		names := map[string]bool{}
		for i, sc := range s.Services {
			at := func(f string) []string { return []string{"slo", "services", strconv.Itoa(i), f} }
			name := strings.TrimSpace(sc.Name)
			if name == "" {
				bad(fmt.Sprintf("slo.services[%d]: name is empty", i), at("name")...)
				continue
			}
			if names[strings.ToLower(name)] {
				bad(fmt.Sprintf("slo.services: %s is listed twice", name), at("name")...)
			}
			names[strings.ToLower(name)] = true
			if sc.Availability <= 0 || sc.Availability >= 100 {
				bad(fmt.Sprintf("slo.services[%d] (%s): availability %v must be a percentage below 100, e.g. 99.9", i, name, sc.Availability), at("availability")...)
				continue
			}
			if sc.Availability < 50 {
				warn(fmt.Sprintf("slo.services[%d] (%s): availability %v %% is very low: write percent (99.9), not a fraction", i, name, sc.Availability), at("availability")...)
			}
			if sc.ErrorRate < 0 || sc.ErrorRate >= 100 {
				bad(fmt.Sprintf("slo.services[%d] (%s): error_rate %v must be a percentage, e.g. 0.1", i, name, sc.ErrorRate), at("error_rate")...)
			}
			if sc.Latency < 0 {
				bad(fmt.Sprintf("slo.services[%d] (%s): latency must be positive", i, name), at("latency")...)
			}
			if sc.PrometheusQuery != "" && s.PrometheusURL == "" {
				warn(fmt.Sprintf("slo.services[%d] (%s): prometheus_query is set but slo.prometheus_url is not: availability comes from the alert record", i, name), at("prometheus_query")...)
			}
			pol.Services = append(pol.Services, bot.SLO{Service: name, Match: sc.Match, Availability: sc.Availability / 100,
				Latency: time.Duration(sc.Latency), ErrorRate: sc.ErrorRate / 100, Query: sc.PrometheusQuery})
		}
	}
	cs.SLO = pol

	// Reports.
	repTZ := rep.TimeZone
	if repTZ == "" {
		repTZ = s.TimeZone
	}
	cs.Reports = calendar.ReportPolicy{Channel: channel(rep.Channel, "reports", "channel"), Location: zone(repTZ, "reports", "time_zone"),
		Grace: time.Duration(rep.Grace), TopAlerts: rep.TopAlerts,
		Monthly: orDefault(cronOK(rep.Monthly, repTZ, "reports", "monthly"), calendar.DefaultMonthlyReport),
		Weekly:  orDefault(cronOK(rep.Weekly, repTZ, "reports", "weekly"), calendar.DefaultWeeklyReport)}
	if rep.TopAlerts < 0 || rep.TopAlerts > 20 {
		bad("reports.top_alerts must be between 1 and 20", "reports", "top_alerts")
	}
	if rep.Channel == "" && (rep.Monthly != "" || rep.Weekly != "") {
		warn("reports: schedules are set but reports.channel is not: nothing will be posted (/report-sla still works)", "reports")
	}

	// Backups.
	cs.Backups = calendar.BackupPolicy{Dir: b.Dir, Location: zone(b.TimeZone, "backups", "time_zone"),
		OpsChannel: channel(b.OpsChannel, "backups", "ops_channel"), Mentions: bot.Mentions{Roles: ids(b.MentionRoles, "backups", "mention_roles")},
		Snapshot: orDefault(cronOK(b.Schedule, b.TimeZone, "backups", "schedule"), calendar.DefaultBackupSchedule),
		Verify:   orDefault(cronOK(b.Verify, b.TimeZone, "backups", "verify"), calendar.DefaultVerifySchedule),
		Grace:    time.Duration(b.Grace), Retention: calendar.DefaultBackupRetention}
	if b.RetentionDays < 0 {
		bad("backups.retention_days must be 1 or more", "backups", "retention_days")
	} else if b.RetentionDays > 0 {
		cs.Backups.Retention = time.Duration(b.RetentionDays) * 24 * time.Hour
	}
	if b.Dir != "" && b.OpsChannel == "" {
		warn("backups.ops_channel is not set: backup failures will only be logged", "backups", "ops_channel")
	}
	if strings.EqualFold(b.Schedule, "off") || strings.EqualFold(b.Verify, "off") {
		bad("backups: schedule and verify cannot be off; leave backups.dir empty to turn scheduled backups off", "backups")
	}
	return cs, ps
}

// orDefault returns def for "", "" for "off" and expr otherwise.
func orDefault(expr, def string) string {
	switch {
	case expr == "":
		return def
	case strings.EqualFold(expr, "off"):
		return ""
	}
	return expr
}

// CalendarFeature is the wired calendar: engine jobs and command handlers.
type CalendarFeature struct {
	Reminders *calendar.Reminders
	SLOs      *calendar.SLOs
	Reports   *calendar.Reports
	Backups   *calendar.Backups
	Handlers  *handlers.Calendar
}

// Jobs are the engine jobs to append to Engine.Jobs.
func (f *CalendarFeature) Jobs() []bot.Job {
	return []bot.Job{f.Reminders, f.SLOs, f.Reports, f.Backups}
}

// Wire builds the calendar's jobs and handlers on the database. Register
// f.Handlers with the interactions router (it declares the calendar's
// commands with their routes) and append f.Jobs() to the engine's jobs.
func (cs *CalendarSettings) Wire(db *store.DB, clock bot.Clock, log *slog.Logger) *CalendarFeature {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Downtime comes from alert groups labelled with a service and from
	// incidents' affected services (overlaps count once).
	slos := &calendar.SLOs{Store: db.Calendar(), Policy: cs.SLO, Sources: []calendar.OutageSource{calendar.AlertOutages{}, calendar.IncidentOutages{}},
		Log: log.With("component", "slo")}
	if cs.PrometheusURL != "" {
		slos.Prometheus = &promquery.Client{URL: cs.PrometheusURL}
	}
	f := &CalendarFeature{
		Reminders: &calendar.Reminders{Store: db.Calendar(), Configured: cs.Reminders, TimeZone: cs.ReminderZone, Grace: cs.ReminderGrace, Log: log.With("component", "reminders")},
		SLOs:      slos,
		Reports:   &calendar.Reports{Store: db.Calendar(), SLOs: slos, Charter: chart.Charter{}, Policy: cs.Reports, Log: log.With("component", "reports")},
		Backups:   &calendar.Backups{Store: db.Calendar(), Backuper: db, Policy: cs.Backups, Log: log.With("component", "backups")},
	}
	f.Handlers = &handlers.Calendar{Reminders: f.Reminders, SLOs: slos, Reports: f.Reports, Clock: clock}
	return f
}
