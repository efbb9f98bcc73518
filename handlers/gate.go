package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Action is what an interaction does, as the access configuration names it
// ("alert.ack", "incident.update"). The names are stable: configurations
// refer to them.
type Action string

// Kind groups actions: by default one role list covers a whole kind.
type Kind string

// The kinds of action. Public actions are open to every member of the
// server; every other kind defaults to access.staff_roles.
const (
	KindPublic   Kind = "public"   // /report: players
	KindRespond  Kind = "respond"  // work alerts, page, read internal state
	KindIncident Kind = "incident" // command incidents and post-mortems
	KindOnCall   Kind = "oncall"   // manage on-call: overrides
	KindCalendar Kind = "calendar" // reminders
	KindAdmin    Kind = "admin"    // administer Klaxon
)

// The actions every route declares.
const (
	ActAlertAck      Action = "alert.ack" // acknowledge and unacknowledge
	ActAlertResolve  Action = "alert.resolve"
	ActAlertEscalate Action = "alert.escalate"
	ActAlertSilence  Action = "alert.silence" // silence and unsilence
	ActAlertView     Action = "alert.view"    // /alerts and alert autocomplete: alert text is internal
	ActAlertPage     Action = "alert.page"    // /page

	ActOnCallView     Action = "oncall.view"     // /oncall now, overrides, schedule autocomplete
	ActOnCallOverride Action = "oncall.override" // take or give the pager
	ActOnCallRemove   Action = "oncall.remove"   // remove an override

	ActIncidentDeclare  Action = "incident.declare"
	ActIncidentStatus   Action = "incident.status" // status, mitigate, resolve
	ActIncidentPriority Action = "incident.priority"
	ActIncidentAssign   Action = "incident.assign" // roles: commander, communications, scribe
	ActIncidentUpdate   Action = "incident.update" // status updates, also to the status channel
	ActIncidentNote     Action = "incident.note"   // notes, 📌, "Add to timeline"
	ActIncidentLink     Action = "incident.link"   // link alerts and reports
	ActIncidentTriage   Action = "incident.triage" // dismiss a /report
	ActIncidentSnooze   Action = "incident.snooze" // snooze update reminders
	ActIncidentView     Action = "incident.view"   // timeline, /incidents, incident autocomplete

	ActPostmortemCreate  Action = "postmortem.create"
	ActPostmortemEdit    Action = "postmortem.edit"
	ActPostmortemPublish Action = "postmortem.publish"
	ActPostmortemAction  Action = "postmortem.action" // add and close action items
	ActPostmortemView    Action = "postmortem.view"   // show, export, history, action list

	ActRunbookView Action = "runbook.view"
	ActRunbookRun  Action = "runbook.run" // post a checklist, tick its steps

	ActReminderManage Action = "reminder.manage" // add, remove, pause, resume
	ActReminderView   Action = "reminder.view"
	ActSLOView        Action = "slo.view" // /slo, /report-sla

	ActHeartbeatView   Action = "heartbeat.view"   // /heartbeat list, monitor autocomplete
	ActHeartbeatManage Action = "heartbeat.manage" // /heartbeat pause, resume

	ActRunbookReload Action = "runbook.reload"
	ActConfigReload  Action = "config.reload" // /admin reload: the whole configuration file

	ActReport Action = "report.create" // /report: players
)

type actionInfo struct {
	kind Kind
	what string // for refusals: "only <@&1> may <what>"
}

var actionTable = map[Action]actionInfo{
	ActAlertAck:      {KindRespond, "acknowledge alerts"},
	ActAlertResolve:  {KindRespond, "resolve alerts"},
	ActAlertEscalate: {KindRespond, "escalate alerts"},
	ActAlertSilence:  {KindRespond, "silence alerts"},
	ActAlertView:     {KindRespond, "see alerts"},
	ActAlertPage:     {KindRespond, "page people"},

	ActOnCallView:     {KindRespond, "see who is on call"},
	ActOnCallOverride: {KindOnCall, "set on-call overrides"},
	ActOnCallRemove:   {KindOnCall, "remove on-call overrides"},

	ActIncidentDeclare:  {KindIncident, "declare incidents"},
	ActIncidentStatus:   {KindIncident, "change an incident's status"},
	ActIncidentPriority: {KindIncident, "change an incident's priority"},
	ActIncidentAssign:   {KindIncident, "assign incident roles"},
	ActIncidentUpdate:   {KindIncident, "post incident status updates"},
	ActIncidentNote:     {KindIncident, "add to an incident's timeline"},
	ActIncidentLink:     {KindIncident, "link alerts and reports to incidents"},
	ActIncidentTriage:   {KindIncident, "triage reports"},
	ActIncidentSnooze:   {KindRespond, "snooze incident reminders"},
	ActIncidentView:     {KindRespond, "see incidents"},

	ActPostmortemCreate:  {KindIncident, "create post-mortems"},
	ActPostmortemEdit:    {KindIncident, "edit post-mortems"},
	ActPostmortemPublish: {KindIncident, "publish post-mortems"},
	ActPostmortemAction:  {KindIncident, "manage post-mortem action items"},
	ActPostmortemView:    {KindRespond, "see post-mortems"},

	ActRunbookView: {KindRespond, "see runbooks"},
	ActRunbookRun:  {KindRespond, "run runbooks"},

	ActReminderManage: {KindCalendar, "manage reminders"},
	ActReminderView:   {KindRespond, "see reminders"},
	ActSLOView:        {KindRespond, "see SLOs and SLA reports"},

	ActHeartbeatView:   {KindRespond, "see heartbeat monitors"},
	ActHeartbeatManage: {KindCalendar, "pause and resume heartbeat monitors"},

	ActRunbookReload: {KindAdmin, "reload runbooks"},
	ActConfigReload:  {KindAdmin, "reload the configuration"},

	ActReport: {KindPublic, "report problems"},
}

// Actions returns every action name, sorted.
func Actions() []Action {
	out := make([]Action, 0, len(actionTable))
	for a := range actionTable {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// ConfigurableKinds are the kinds access configuration may give roles to.
func ConfigurableKinds() []Kind {
	return []Kind{KindRespond, KindIncident, KindOnCall, KindCalendar, KindAdmin}
}

// KindOf returns the kind of an action, and whether the action exists.
func KindOf(a Action) (Kind, bool) {
	info, ok := actionTable[a]
	return info.kind, ok
}

// Access says who may do what, and from where. Role lists replace each
// other from the most specific: Actions[a], then Kinds[kind of a], then
// Staff. Public actions are open to every member of the guild.
type Access struct {
	GuildID string              // the only server Klaxon answers in
	Staff   []string            // access.staff_roles: the default for every kind
	Kinds   map[Kind][]string   // access.<kind>
	Actions map[Action][]string // access.actions
	// ByPriority is the permissions section: per alert action and
	// priority, the roles that may act on top of the lists above.
	ByPriority Permissions
}

// priorityKey names the actions of the permissions section, and how a
// refusal says what was refused ("resolve a P0 alert").
var priorityKey = map[Action]struct{ key, what string }{
	ActAlertAck:      {ActAcknowledge, "acknowledge a %s alert"},
	ActAlertResolve:  {ActResolve, "resolve a %s alert"},
	ActAlertSilence:  {ActSilence, "silence a %s alert"},
	ActAlertEscalate: {ActEscalate, "escalate a %s alert"},
	ActAlertPage:     {ActPage, "page a %s"},
}

// CheckPriority applies the permissions section to an action on a target
// of priority p, for a member whose roles passed Check.
func (g *Gate) CheckPriority(act Action, p bot.Priority, roles []string) error {
	pk, ok := priorityKey[act]
	if g == nil || g.access() == nil || !ok || p < bot.P0 || p > bot.P3 {
		return nil
	}
	need := g.access().ByPriority[pk.key][p]
	if len(need) == 0 || slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(need, r) }) {
		return nil
	}
	info := actionTable[act]
	return bot.Errorf(bot.EForbidden, "only %s may %s (action `%s`, kind `%s`; set in permissions.%s.%s)",
		mentionRoles(need), fmt.Sprintf(pk.what, p), act, info.kind, pk.key, p)
}

// NeedRoles returns the roles that may perform a, and where that list comes
// from (for messages). A nil list with a public action means anyone.
func (a *Access) NeedRoles(act Action) (roles []string, from string) {
	info := actionTable[act]
	if info.kind == KindPublic {
		if r, ok := a.Actions[act]; ok {
			return r, "access.actions." + string(act)
		}
		return nil, ""
	}
	if r, ok := a.Actions[act]; ok {
		return r, "access.actions." + string(act)
	}
	if r, ok := a.Kinds[info.kind]; ok {
		return r, "access." + string(info.kind)
	}
	return a.Staff, "access.staff_roles"
}

// Origin is who acted, and where.
type Origin struct {
	GuildID string // "" for a DM
	UserID  string
	Roles   []string // the member's roles; looked up for a DM
	// LookUp says Roles are not known (an event without its member): they
	// are looked up in the guild like a DM's.
	LookUp bool
}

// MemberRoles looks a user up in a guild: their roles, or a bot.ENotFound
// error when they are not a member.
type MemberRoles func(ctx context.Context, guildID, userID string) ([]string, error)

// Gate is the one authorization check every interaction passes before a
// handler runs: where it comes from (the configured guild, or a DM from a
// member of it for DM-allowed routes) and whether the member's roles allow
// the route's action.
type Gate struct {
	Access *Access     // nil: nothing but public actions, and a message telling the admin what to set
	Lookup MemberRoles // for DMs: the user's roles in Access.GuildID
	Now    func() time.Time
	TTL    time.Duration // how long looked-up roles are kept; default 1 minute
	Log    *slog.Logger

	mu    sync.Mutex
	cache map[string]cachedRoles

	live atomic.Pointer[Access] // set by SetAccess; nil: Access
}

// SetAccess replaces the access configuration (a configuration reload),
// safely while interactions are being checked.
func (g *Gate) SetAccess(a *Access) { g.live.Store(a) }

// access returns the access configuration in force.
func (g *Gate) access() *Access {
	if a := g.live.Load(); a != nil {
		return a
	}
	return g.Access
}

type cachedRoles struct {
	roles []string
	err   error
	at    time.Time
}

// errNotConfigured is what everyone but reporters hear until access is configured.
const errNotConfigured = "Klaxon's access control is not configured, so it only takes /report. " +
	"Administrator: set access.staff_roles in klaxon.yaml to the role id(s) of your staff/responders " +
	"(and discord.guild_id to your server's id), check it with `klaxon check-config`, and restart Klaxon."

// Check decides whether o may perform act; dm says whether the route may be
// used from a DM. It returns the roles to act with (looked up for a DM), or
// an EForbidden error that says what is needed.
func (g *Gate) Check(ctx context.Context, o Origin, act Action, dm bool) ([]string, error) {
	info, ok := actionTable[act]
	if !ok { // Register refuses these; this is the belt to those braces
		return nil, bot.Errorf(bot.EForbidden, "this action is not known to Klaxon's access control")
	}
	if g == nil || g.access() == nil {
		return nil, bot.Errorf(bot.EForbidden, "%s", errNotConfigured)
	}
	a := g.access()
	if a.GuildID == "" {
		return nil, bot.Errorf(bot.EForbidden, "Klaxon does not know its server: the administrator must set discord.guild_id in klaxon.yaml and restart Klaxon")
	}
	need, from := a.NeedRoles(act)
	public := info.kind == KindPublic && need == nil
	if !public && len(need) == 0 {
		if len(a.Staff) == 0 {
			return nil, bot.Errorf(bot.EForbidden, "%s", errNotConfigured)
		}
		return nil, bot.Errorf(bot.EForbidden, "nobody may %s: %s is empty in Klaxon's configuration (action `%s`, kind `%s`)", info.what, from, act, info.kind)
	}
	// who says who may act, for every refusal: the roles, the action and its kind.
	who := fmt.Sprintf("only %s may %s (action `%s`, kind `%s`; set in %s)", mentionRoles(need), info.what, act, info.kind, from)
	if public {
		who = fmt.Sprintf("every member of Klaxon's server may %s (action `%s`, kind `%s`), there", info.what, act, info.kind)
	}
	roles := o.Roles
	switch {
	case o.GuildID == a.GuildID && !o.LookUp:
	case o.GuildID != "" && o.GuildID != a.GuildID:
		return nil, bot.Errorf(bot.EForbidden, "Klaxon works only in the server it is configured for, not here: %s", who)
	case o.GuildID == "" && !dm:
		return nil, bot.Errorf(bot.EForbidden, "this works only in Klaxon's server, not in a DM: %s", who)
	default: // a DM to a DM-allowed route, or an event without its member
		var err error
		if roles, err = g.memberRoles(ctx, a.GuildID, o.UserID); err != nil {
			if bot.ErrorCode(err) == bot.ENotFound {
				return nil, bot.Errorf(bot.EForbidden, "you are not a member of Klaxon's server: %s", who)
			}
			return nil, bot.Errorf(bot.EUnavailable, "cannot check your roles in the server right now; try again: %v", err)
		}
	}
	if public || slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(need, r) }) {
		return roles, nil
	}
	return nil, bot.Errorf(bot.EForbidden, "%s", who)
}

func mentionRoles(ids []string) string {
	names := make([]string, len(ids))
	for i, r := range ids {
		names[i] = bot.RoleRef(r)
	}
	return strings.Join(names, " or ")
}

func (g *Gate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// memberRoles looks the user up in the guild, keeping answers (also "not a
// member") for TTL.
func (g *Gate) memberRoles(ctx context.Context, guildID, userID string) ([]string, error) {
	if g.Lookup == nil || userID == "" {
		return nil, bot.Errorf(bot.ENotFound, "no member lookup")
	}
	ttl := g.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	key := guildID + "/" + userID
	now := g.now()
	g.mu.Lock()
	c, ok := g.cache[key]
	g.mu.Unlock()
	if ok && now.Sub(c.at) < ttl && now.Sub(c.at) >= 0 {
		return c.roles, c.err
	}
	roles, err := g.Lookup(ctx, guildID, userID)
	if err != nil && bot.ErrorCode(err) != bot.ENotFound {
		return nil, fmt.Errorf("look up member %s in guild %s: %w", userID, guildID, err) // not cached: transient
	}
	g.mu.Lock()
	if g.cache == nil {
		g.cache = map[string]cachedRoles{}
	}
	for k, v := range g.cache { // keep the cache small: drop what has expired
		if now.Sub(v.at) >= ttl {
			delete(g.cache, k)
		}
	}
	g.cache[key] = cachedRoles{roles: roles, err: err, at: now}
	g.mu.Unlock()
	return roles, err
}

// Allow is Check for events that are not interactions (📌 reactions): it
// logs a refusal instead of answering.
func (g *Gate) Allow(ctx context.Context, o Origin, act Action) bool {
	if _, err := g.Check(ctx, o, act, false); err != nil {
		if g != nil && g.Log != nil {
			g.Log.Info("refused", "action", string(act), "user", o.UserID, "guild", o.GuildID, "why", bot.PlainRefs(bot.ErrorMessage(err)))
		}
		return false
	}
	return true
}

// KindsSummary lists the kinds with their actions, for documentation and errors.
func KindsSummary() map[Kind][]Action {
	out := map[Kind][]Action{}
	for a, info := range actionTable {
		out[info.kind] = append(out[info.kind], a)
	}
	for _, l := range out {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	return out
}
