package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/postmortem"
	"github.com/marola-rp/klaxon/handlers"
)

// IncidentsConfig configures incidents:
//
//	incidents:
//	  channel: "100000000000000300"        # incidents channel or forum: threads of incidents without an alert card
//	  status_channel: "100000000000000301" # where /incident update and status changes are announced
//	  triage_channel: "100000000000000302" # where /report items go (default: channel)
//	  auto_open: [P0, P1]                  # alert priorities that open an incident themselves ([] for none)
//	  roles:                               # commander is always a role; instructions are DMed on assignment
//	    - name: commander
//	      instructions: "You lead the response…"
//	    - name: communications
//	    - name: scribe
//	  update_every: {P0: 30m, P1: 1h}      # status-update reminder when the thread got no update this long
//	  commander_after: 10m                 # remind when nobody is commander this long after detection (0 = off)
//	  commander_priorities: [P0, P1]
//	  archive_after: 24h                   # archive the thread this long after resolution (0 = never)
//	  mitigated_nudge: 24h                 # nudge incidents left in mitigated this often (0 = off)
type IncidentsConfig struct {
	Channel             string               `yaml:"channel"`
	StatusChannel       string               `yaml:"status_channel"`
	TriageChannel       string               `yaml:"triage_channel"`
	AutoOpen            *[]string            `yaml:"auto_open"`
	Roles               []IncidentRoleConfig `yaml:"roles"`
	UpdateEvery         map[string]Duration  `yaml:"update_every"`
	CommanderAfter      *Duration            `yaml:"commander_after"`
	CommanderPriorities *[]string            `yaml:"commander_priorities"`
	ArchiveAfter        *Duration            `yaml:"archive_after"`
	MitigatedNudge      *Duration            `yaml:"mitigated_nudge"`
}

// IncidentRoleConfig is one incident role and what its holder is told.
type IncidentRoleConfig struct {
	Name         string `yaml:"name"`
	Instructions string `yaml:"instructions"`
}

var roleName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// buildIncidents validates the incidents section and builds the policy.
func (c *Config) buildIncidents() (incident.Policy, Problems) {
	ic := c.Incidents
	pol := incident.DefaultPolicy()
	var ps Problems
	bad := func(msg string, path ...string) {
		ps = append(ps, Problem{File: c.file, Line: c.line(append([]string{"incidents"}, path...)...), Message: "incidents." + msg})
	}
	channel := func(key, v string) string {
		if v != "" && !snowflake.MatchString(v) {
			bad(fmt.Sprintf("%s %q is not a Discord channel id (digits only; Developer Mode → right-click the channel → Copy Channel ID)", key, v), key)
			return ""
		}
		return v
	}
	pol.ChannelID = channel("channel", ic.Channel)
	pol.StatusChannelID = channel("status_channel", ic.StatusChannel)
	pol.TriageChannelID = channel("triage_channel", ic.TriageChannel)
	priorities := func(key string, l *[]string, into *[4]bool) {
		if l == nil {
			return
		}
		*into = [4]bool{}
		for i, s := range *l {
			p, err := bot.ParsePriority(s)
			if err != nil {
				bad(fmt.Sprintf("%s: %s", key, bot.ErrorMessage(err)), key, strconv.Itoa(i))
				continue
			}
			into[p] = true
		}
	}
	priorities("auto_open", ic.AutoOpen, &pol.AutoOpen)
	priorities("commander_priorities", ic.CommanderPriorities, &pol.CommanderFor)
	if len(ic.Roles) > 0 {
		defaults := map[string]string{}
		for _, r := range incident.DefaultRoles() {
			defaults[r.Name] = r.Instructions
		}
		pol.Roles = nil
		seen := map[string]bool{}
		for i, r := range ic.Roles {
			name := strings.ToLower(strings.TrimSpace(r.Name))
			if !roleName.MatchString(name) {
				bad(fmt.Sprintf("roles: %q is not a role name (lower case letters, digits and -, at most 32)", r.Name), "roles", strconv.Itoa(i))
				continue
			}
			if seen[name] {
				bad(fmt.Sprintf("roles: %s is listed twice", name), "roles", strconv.Itoa(i))
				continue
			}
			seen[name] = true
			ins := strings.TrimSpace(r.Instructions)
			if ins == "" {
				ins = defaults[name]
			}
			if len([]rune(ins)) > 3500 {
				bad(fmt.Sprintf("roles: the instructions of %s are too long for a Discord message (at most 3500 characters)", name), "roles", strconv.Itoa(i))
			}
			pol.Roles = append(pol.Roles, incident.Role{Name: name, Instructions: ins})
		}
		if !seen[incident.CommanderRole] {
			pol.Roles = append([]incident.Role{{Name: incident.CommanderRole, Instructions: defaults[incident.CommanderRole]}}, pol.Roles...)
		}
		if len(pol.Roles) > 25 {
			bad("roles: at most 25 roles (Discord shows 25 choices)", "roles")
		}
	}
	for key, d := range ic.UpdateEvery {
		p, err := bot.ParsePriority(key)
		if err != nil || !strings.HasPrefix(key, "P") {
			bad(fmt.Sprintf("update_every.%s: keys are priorities P0, P1, P2, P3", key), "update_every", key)
			continue
		}
		if d < 0 || (d > 0 && time.Duration(d) < time.Minute) {
			bad(fmt.Sprintf("update_every.%s must be at least 1m (or 0 for no reminders)", key), "update_every", key)
			continue
		}
		pol.UpdateEvery[p] = time.Duration(d)
	}
	dur := func(key string, d *Duration, into *time.Duration) {
		if d == nil {
			return
		}
		if *d < 0 {
			bad(key+" must be 0 (off) or positive", key)
			return
		}
		*into = time.Duration(*d)
	}
	dur("commander_after", ic.CommanderAfter, &pol.CommanderAfter)
	dur("archive_after", ic.ArchiveAfter, &pol.ArchiveAfter)
	dur("mitigated_nudge", ic.MitigatedNudge, &pol.MitigatedNudge)
	if pol.MitigatedNudge > 0 && pol.MitigatedNudge < time.Hour {
		bad("mitigated_nudge must be at least 1h (it is a daily nudge), or 0 for none", "mitigated_nudge")
	}
	return pol, ps
}

// wireIncidents adds the incident feature to a running Main: the group hook
// that opens incidents for urgent alerts, the engine job that keeps threads,
// summaries and reminders, and the interaction and reaction handlers.
func (m *Main) wireIncidents(policy *bot.Policy) error {
	pol, ps := m.Config.buildIncidents()
	if len(ps.Errors()) > 0 {
		return ps.Errors()
	}
	threads := &discord.IncidentThreads{C: m.Discord}
	inc := &incident.Service{Store: m.DB.Incident(), Policy: pol, Alerts: policy, Threads: threads,
		Log: m.Log.With("component", "incidents"), Trigger: m.Engine.Trigger}
	m.incidents = inc // a reload replaces its policy
	policy.OnGroupChange = append(policy.OnGroupChange, inc.OnGroupChange)
	m.Engine.Jobs = append(m.Engine.Jobs, inc)
	if m.Engine.Hooks == nil {
		m.Engine.Hooks = map[string]bot.SentHook{}
	}
	m.Engine.Hooks["incident-role"] = inc.RoleDMSent
	m.Engine.Hooks["triage"] = inc.ReportSent
	m.Engine.Threads = threads
	m.Engine.Senders[bot.ItemIncident] = inc
	// The incident commands show an incident's open post-mortem action
	// items, also when the post-mortem feature is off (they may exist from
	// when it was on): they read them through a post-mortem service.
	actions := &postmortem.Service{Store: m.DB.Postmortem()}
	h := &handlers.Incidents{Incidents: inc, Triage: inc, Actions: actions, Clock: m.Clock, Messages: threads, Gate: m.Interactions.Gate,
		Log: m.Log.With("component", "incidents")}
	h.Register(m.Interactions)
	m.Session.AddHandler(h.OnReaction)
	return nil
}
