package incident

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Role is a role people take in an incident, and what Klaxon tells
// them (by DM) when they get it.
type Role struct {
	Name         string // lower case, e.g. "commander"
	Instructions string
}

// CommanderRole is the role that owns an incident. Assigning it counts as
// acknowledging the incident.
const CommanderRole = "commander"

// Policy is the configuration of the incident feature.
type Policy struct {
	// ChannelID is the incidents channel (text or forum) where incidents
	// without an alert card get their thread. "" uses the priority's alert channel.
	ChannelID string
	// StatusChannelID is where status updates are announced to players and
	// staff; "" posts them only in the thread.
	StatusChannelID string
	// TriageChannelID is where /report items go; "" uses ChannelID.
	TriageChannelID string
	// AutoOpen: alert groups of these priorities open an incident themselves.
	AutoOpen [4]bool
	// Roles people can be assigned; the commander is always one of them.
	Roles []Role
	// UpdateEvery: remind the commander when no status update was posted
	// for this long, by priority (0: never).
	UpdateEvery [4]time.Duration
	// CommanderAfter: remind when an incident of a CommanderFor priority
	// has no commander this long after detection (0: never).
	CommanderAfter time.Duration
	CommanderFor   [4]bool
	// ArchiveAfter: archive the thread this long after resolution (0: never).
	ArchiveAfter time.Duration
	// MitigatedNudge: nudge incidents left in mitigated this often (0: never).
	MitigatedNudge time.Duration
}

// DefaultRoles are the roles when the configuration names none.
func DefaultRoles() []Role {
	return []Role{
		{Name: CommanderRole, Instructions: "You lead the response. Decide, delegate and keep the thread focused:\n" +
			"1. Confirm the priority (`/incident priority`) and the impact.\n" +
			"2. Assign communications and scribe (`/incident assign`).\n" +
			"3. Post an update at least every 30 minutes on a P0 (`/incident update`).\n" +
			"4. Mitigate first, fix later (`/incident mitigate`, then `/incident resolve`)."},
		{Name: "communications", Instructions: "You keep players and staff informed. Post status updates with `/incident update` " +
			"(they go to the thread and the status channel); say what is affected, what we do, and when the next update comes."},
		{Name: "scribe", Instructions: "You keep the record. Add decisions and findings with `/incident note`, and pin useful " +
			"messages with 📌 (or right-click → Apps → Add to timeline). `/incident timeline` shows what is recorded."},
	}
}

// DefaultPolicy is the policy with nothing configured.
func DefaultPolicy() Policy {
	return Policy{
		AutoOpen:       [4]bool{true, true, false, false},
		Roles:          DefaultRoles(),
		UpdateEvery:    [4]time.Duration{30 * time.Minute, time.Hour, 0, 0},
		CommanderAfter: 10 * time.Minute,
		CommanderFor:   [4]bool{true, true, false, false},
		ArchiveAfter:   24 * time.Hour,
		MitigatedNudge: 24 * time.Hour,
	}
}

// Role returns the configured role with this name (any case).
func (p Policy) Role(name string) (Role, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, r := range p.Roles {
		if r.Name == name {
			return r, true
		}
	}
	if name == CommanderRole {
		return Role{Name: CommanderRole}, true
	}
	return Role{}, false
}

// RoleNames lists the configured roles, commander first.
func (p Policy) RoleNames() []string {
	out := []string{CommanderRole}
	for _, r := range p.Roles {
		if r.Name != CommanderRole {
			out = append(out, r.Name)
		}
	}
	return out
}

// Statuses lists the statuses in lifecycle order.
var Statuses = []bot.IncidentStatus{bot.Detected, bot.Investigating, bot.Mitigated, bot.IncResolved, bot.PostMortem, bot.Closed}

// incidentNext is the lifecycle: where each status may go. Forward steps
// may be skipped (a quick fix goes straight to resolved); going back is
// allowed only where the procedure needs it (a mitigation that did not
// hold, a resolution that did not hold).
var incidentNext = map[bot.IncidentStatus][]bot.IncidentStatus{
	bot.Detected:      {bot.Investigating, bot.Mitigated, bot.IncResolved},
	bot.Investigating: {bot.Mitigated, bot.IncResolved},
	bot.Mitigated:     {bot.Investigating, bot.IncResolved},
	bot.IncResolved:   {bot.Investigating, bot.PostMortem, bot.Closed},
	bot.PostMortem:    {bot.Closed},
	bot.Closed:        nil,
}

// NextStatuses returns the statuses an incident in status s may move to.
func NextStatuses(s bot.IncidentStatus) []bot.IncidentStatus { return slices.Clone(incidentNext[s]) }

// IsOpen reports whether people are still working on it: detected,
// investigating or mitigated.
func IsOpen(s bot.IncidentStatus) bool {
	return s == bot.Detected || s == bot.Investigating || s == bot.Mitigated
}

// CheckTransition refuses a move the lifecycle does not allow, with
// a message that says which moves are allowed now.
func CheckTransition(ref string, from, to bot.IncidentStatus) error {
	if from == to {
		return bot.Errorf(bot.EConflict, "%s is already %s", ref, to)
	}
	next := incidentNext[from]
	if slices.Contains(next, to) {
		return nil
	}
	if len(next) == 0 {
		return bot.Errorf(bot.EConflict, "%s is %s: it cannot change any more; declare a new incident with /incident declare", ref, from)
	}
	names := make([]string, len(next))
	for i, n := range next {
		names[i] = "**" + string(n) + "**"
	}
	return bot.Errorf(bot.EConflict, "%s is %s and cannot go to %s; from %s it can go to %s", ref, from, to, from, orList(names))
}

func orList(l []string) string {
	switch len(l) {
	case 0:
		return ""
	case 1:
		return l[0]
	}
	return strings.Join(l[:len(l)-1], ", ") + " or " + l[len(l)-1]
}

// ParseStatus accepts a status name in any case ("post-mortem",
// "postmortem", "resolved", ...).
func ParseStatus(s string) (bot.IncidentStatus, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.NewReplacer("_", "-", " ", "-").Replace(t)
	if t == "postmortem" {
		t = "post-mortem"
	}
	for _, st := range Statuses {
		if string(st) == t {
			return st, nil
		}
	}
	names := make([]string, len(Statuses))
	for i, st := range Statuses {
		names[i] = string(st)
	}
	return "", bot.Errorf(bot.EInvalid, "%q is not a status: choose one of %s", s, strings.Join(names, ", "))
}

// ParseRef accepts "INC-42", "inc42", "#42" or "42".
func ParseRef(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "#")
	t = strings.TrimPrefix(t, "INC")
	t = strings.TrimPrefix(t, "-")
	if f := strings.Fields(t); len(f) > 0 {
		t = f[0] // "42 · P1 · title" from an autocomplete label
	}
	id, err := strconv.ParseInt(t, 10, 64)
	if err != nil || id <= 0 {
		return 0, bot.Errorf(bot.EInvalid, "%q is not an incident: pick one from the list as you type, or write it like INC-42 (see /incidents)", s)
	}
	return id, nil
}

// emoji is status s's marker in messages.
func emoji(s bot.IncidentStatus) string {
	switch s {
	case bot.Detected:
		return "🔴"
	case bot.Investigating:
		return "🔍"
	case bot.Mitigated:
		return "🟡"
	case bot.IncResolved:
		return "✅"
	case bot.PostMortem:
		return "📝"
	case bot.Closed:
		return "⚫"
	}
	return "❔"
}

// Service is the incident feature: declaring and running incidents, their
// timelines, reminders, and the engine job that keeps their Discord threads.
type Service struct {
	Store   bot.TxStore[Tx]
	Policy  Policy
	Alerts  *bot.Policy // alert routes: channels and who to mention per priority
	Threads bot.Threads // nil: threads wait
	Log     *slog.Logger
	Trigger func() // asks the engine for a cycle

	live atomic.Pointer[Policy] // set by Reconfigure; nil: Policy
}

// Reconfigure replaces the incident policy while the service runs (a
// configuration reload), atomically. Open incidents keep their threads and
// roles; the new channels, reminders and archiving apply from then on.
func (s *Service) Reconfigure(p Policy) { s.live.Store(&p) }

// policy is the incident policy in force.
func (s *Service) policy() Policy {
	if p := s.live.Load(); p != nil {
		return *p
	}
	return s.Policy
}

func (s *Service) log() *slog.Logger { return bot.OrDiscard(s.Log) }

func (s *Service) trigger() { bot.Wake(s.Trigger) }

func (s *Service) route(p bot.Priority) bot.Route {
	if s.Alerts == nil {
		return bot.Route{}
	}
	return s.Alerts.Route(p)
}

func groupRef(id int64) string { return fmt.Sprintf("group:%d", id) }
