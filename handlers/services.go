package handlers

import (
	"context"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/postmortem"
)

// The services handlers call.
//
// Rule: a handler reaches the core only through a narrow interface declared
// here, by its consumer (what the handler needs, not everything a service
// offers), and implemented by a service in bot or one of its feature
// packages that owns its transactions (wtf style). No handler struct holds
// a store or a transaction, and no handler opens a transaction. The one
// exception is a port the core itself needs from several adapters (such as
// bot.Silencer): that is declared in bot.

// IngestService stores Alertmanager's notifications as alert groups
// (implemented by *bot.Ingester).
type IngestService interface {
	Ingest(ctx context.Context, n bot.Notification, now time.Time) (bot.IngestResult, error)
}

// OverrideService creates, lists and removes on-call overrides
// (implemented by *paging.Overrides).
type OverrideService interface {
	CreateOverride(ctx context.Context, ov *paging.Override) error
	Overrides(ctx context.Context, schedule string, from time.Time) ([]paging.Override, error)
	RemoveOverride(ctx context.Context, id int64) error
}

// PageService pages people by hand (implemented by *paging.Service).
type PageService interface {
	PageManually(ctx context.Context, n bot.Notification, t paging.Target, a bot.Actor, now time.Time) (int64, error)
	CanReach(via bot.Via) bool
}

// ChecklistService finds the incident of a thread and runs runbook
// checklists in it (implemented by *incident.Checklists).
type ChecklistService interface {
	ThreadIncident(ctx context.Context, channelID string) (*bot.Incident, []*bot.Group, error)
	Start(ctx context.Context, incidentID int64, runbookID, title string, steps []string, channelID string, by bot.Actor, now time.Time) (*incident.Checklist, error)
	Toggle(ctx context.Context, incidentID, checklistID int64, step int, by bot.Actor, now time.Time) (*incident.Checklist, bool, error)
}

// SilenceService makes and ends Alertmanager silences of alert groups
// (implemented by *paging.Silences, which drives the bot.Silencer port).
// Cover gives the matchers and the most urgent priority they can cover, for
// the permission check the handler makes before Silence.
type SilenceService interface {
	Configured() bool
	Cover(g *bot.Group) (map[string]string, bot.Priority)
	Silence(ctx context.Context, g *bot.Group, matchers map[string]string, d time.Duration, comment string, actor bot.Actor, now time.Time) (string, error)
	Unsilence(ctx context.Context, g *bot.Group, actor bot.Actor, now time.Time) error
}

// AlertService reads alert groups and acts on them: acknowledge,
// unacknowledge, resolve, escalate (implemented by *paging.Service).
type AlertService interface {
	Group(ctx context.Context, id int64) (*bot.Group, error)
	OpenGroups(ctx context.Context, limit int) ([]*bot.Group, error)
	Acknowledge(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error)
	Unacknowledge(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error)
	Resolve(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error)
	EscalateNow(ctx context.Context, groupID int64, a bot.Actor, now time.Time) (*bot.Group, error)
}

// PostmortemService drafts, edits and publishes post-mortems and their
// action items, and reads what the post-mortem commands show (implemented
// by *postmortem.Service).
type PostmortemService interface {
	Incident(ctx context.Context, id int64) (*bot.Incident, error)
	IncidentByThread(ctx context.Context, channelID string) (*bot.Incident, error)
	OfIncident(ctx context.Context, incidentID int64) (*postmortem.Postmortem, error)
	Get(ctx context.Context, id int64) (*postmortem.Postmortem, error)
	Revisions(ctx context.Context, id int64) ([]postmortem.Revision, error)
	ActionItems(ctx context.Context, incidentID int64, open bool) ([]*postmortem.ActionItem, error)
	Markdown(ctx context.Context, incidentID int64) (string, *postmortem.Record, error)
	Create(ctx context.Context, incidentID int64, by bot.Actor, now time.Time) (*postmortem.Postmortem, error)
	Edit(ctx context.Context, postmortemID int64, key, text string, base int, by bot.Actor, now time.Time) (*postmortem.Postmortem, error)
	Publish(ctx context.Context, postmortemID int64, by bot.Actor, now time.Time) (*postmortem.Postmortem, error)
	AddActionItem(ctx context.Context, incidentID int64, ownerID string, due time.Time, text string, by bot.Actor, now time.Time) (*postmortem.ActionItem, error)
	CompleteActionItem(ctx context.Context, id int64, by bot.Actor, now time.Time) (*postmortem.ActionItem, error)
	// Incidents and OpenActionItems are what autocomplete offers.
	Incidents(ctx context.Context, limit int) ([]*bot.Incident, error)
	OpenActionItems(ctx context.Context, incidents int) ([]*postmortem.ActionItem, error)
}

// ActionItemReader reads an incident's post-mortem action items, which the
// incident commands show (implemented by *postmortem.Service).
type ActionItemReader interface {
	ActionItems(ctx context.Context, incidentID int64, open bool) ([]*postmortem.ActionItem, error)
}

// IncidentService declares, runs and reads incidents (implemented by
// *incident.Service).
type IncidentService interface {
	Get(ctx context.Context, id int64) (*bot.Incident, error)
	ByThread(ctx context.Context, channelID string) (*bot.Incident, error)
	OfGroup(ctx context.Context, groupID int64) (*bot.Incident, error)
	List(ctx context.Context, open bool, limit int) ([]*bot.Incident, error)
	Detail(ctx context.Context, inc *bot.Incident) (incident.Detail, error)
	Timeline(ctx context.Context, id int64) (*bot.Incident, []bot.TimelineEvent, error)
	Measures(ctx context.Context, from, to time.Time) ([4]incident.Means, error)
	OpenGroupsWithoutIncident(ctx context.Context, limit int) ([]*bot.Group, error)
	IncidentSummary(inc *bot.Incident, groups []*bot.Group, now time.Time) bot.Message
	StatusChannel() string
	RoleNames() []string

	Declare(ctx context.Context, d incident.Declaration, a bot.Actor, now time.Time) (*bot.Incident, error)
	SetStatus(ctx context.Context, id int64, to bot.IncidentStatus, note string, a bot.Actor, now time.Time) (*bot.Incident, error)
	SetPriority(ctx context.Context, id int64, p bot.Priority, impact string, a bot.Actor, now time.Time) (*bot.Incident, error)
	Assign(ctx context.Context, id int64, role, userID string, a bot.Actor, now time.Time) (*bot.Incident, error)
	PostUpdate(ctx context.Context, id int64, text string, a bot.Actor, now time.Time) (*bot.Incident, error)
	AddNote(ctx context.Context, id int64, text string, a bot.Actor, now time.Time) (*bot.Incident, error)
	AddMessage(ctx context.Context, id int64, m incident.PinnedMessage, a bot.Actor, now time.Time) (*bot.Incident, error)
	Link(ctx context.Context, id, groupID int64, a bot.Actor, now time.Time) (*bot.Incident, error)
	Snooze(ctx context.Context, id int64, d time.Duration, a bot.Actor, now time.Time) (*bot.Incident, error)
}

// TriageService takes players' /report and settles each: declared as an
// incident, linked to an open one, or dismissed (implemented by
// *incident.Service).
type TriageService interface {
	Report(ctx context.Context, text, fromChannel string, a bot.Actor, now time.Time) (*incident.UserReport, error)
	DeclareFromReport(ctx context.Context, reportID int64, p bot.Priority, a bot.Actor, now time.Time) (*incident.UserReport, *bot.Incident, error)
	LinkReport(ctx context.Context, reportID, incidentID int64, a bot.Actor, now time.Time) (*incident.UserReport, *bot.Incident, error)
	DismissReport(ctx context.Context, reportID int64, a bot.Actor, now time.Time) (*incident.UserReport, error)
}

// ReminderService adds, lists, removes and pauses the SRE calendar's
// reminders (implemented by *calendar.Reminders).
type ReminderService interface {
	Add(ctx context.Context, r calendar.Reminder, now time.Time) (*calendar.Reminder, []time.Time, error)
	List(ctx context.Context) ([]calendar.Reminder, error)
	Remove(ctx context.Context, name string) error
	SetPaused(ctx context.Context, name string, paused bool, now time.Time) (*calendar.Reminder, []time.Time, error)
}

// SLOService reads services' SLOs and error budgets (implemented by
// *calendar.SLOs).
type SLOService interface {
	Budgets(ctx context.Context, month, now time.Time) ([]calendar.Budget, error)
	Service(name string) (bot.SLO, bool)
	Services() []bot.SLO
	Location() *time.Location
}

// SLAReportService renders the monthly SLA report (implemented by
// *calendar.Reports).
type SLAReportService interface {
	SLAReport(ctx context.Context, month, now time.Time) (bot.Message, error)
}
