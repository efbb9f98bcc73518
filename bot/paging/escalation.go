package paging

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/metrics"
	"github.com/marola-rp/klaxon/bot/text"
)

// Target is who one escalation step pages: a role (mentioned in the
// channel), the current on-call of a schedule, or a named user.
type Target struct {
	Role     string
	Schedule string
	User     string
	Via      []bot.Via // for schedule and user targets; default mention + dm
}

// EscalationStep pages its targets Delay after the previous step.
type EscalationStep struct {
	Delay   time.Duration
	Targets []Target
}

// EscalationPolicy is what happens while a group stays unacknowledged.
type EscalationPolicy struct {
	Steps       []EscalationStep
	Repeat      int           // how many times the steps run again after the last
	RepeatAfter time.Duration // wait after the last step before repeating; default 5m
}

// Escalation is a group's escalation state, stored, advanced by the engine.
type Escalation struct {
	GroupID  int64
	Priority bot.Priority
	Step     int // the next step to run
	Loop     int // how many times all steps ran
	NextAt   time.Time
	Deadline time.Time // acknowledgement deadline
	Overdue  bool
	Done     bool
}

// PageRecord is one attempt to reach one person or role for a group.
type PageRecord struct {
	ID        int64
	GroupID   int64
	Step      int
	Via       bot.Via
	UserID    string
	RoleID    string
	Schedule  string
	Status    string // queued, sent, failed, skipped, cancelled
	Detail    string // for failed and skipped: "not sent: " and why, worded as what to fix
	CallSID   string
	CreatedAt time.Time
	SentAt    time.Time
	// Keypress is the key that acted on this page's call ("" until one
	// did), AnsweredAt when: a call acts once, however often its callback
	// is delivered.
	Keypress   string
	AnsweredAt time.Time
}

// Page statuses.
const (
	PageQueued    = "queued"
	PageSent      = "sent"
	PageFailed    = "failed"
	PageCancelled = "cancelled"
	// PageSkipped: never attempted, because it could not go out (no
	// provider for its channel, no phone number or e-mail address,
	// throttled). Detail says why and what to fix.
	PageSkipped = "skipped"
)

// Tx is what the paging feature does inside a transaction: the core's
// operations (alert groups, their cards, the queue), escalations, pages and
// the action log, and on-call overrides and handoffs (ScheduleTx).
type Tx interface {
	bot.Tx
	ScheduleTx

	// StartEscalation stores a new escalation (replacing a finished one).
	StartEscalation(e Escalation) error
	// Escalation returns a group's escalation, or ENotFound.
	Escalation(groupID int64) (*Escalation, error)
	// SaveEscalation updates an escalation.
	SaveEscalation(e *Escalation) error
	// StopEscalation ends a group's escalation (acknowledged or resolved).
	StopEscalation(groupID int64) error
	// DueEscalations returns active escalations whose next step or
	// deadline is due at now.
	DueEscalations(now time.Time, limit int) ([]Escalation, error)
	// AddPage stores a page (setting its ID).
	AddPage(p *PageRecord) error
	// Page returns a page by id, or ENotFound.
	PageRecord(id int64) (*PageRecord, error)
	// UpdatePage saves a page's status, detail, call id and sent time.
	UpdatePage(p *PageRecord) error
	// QueuedPages returns pages waiting for a channel (phone, email).
	QueuedPages(via bot.Via, limit int) ([]PageRecord, error)
	// CancelPages cancels a group's pages not yet sent, and deletes their
	// queued Discord messages; it returns how many it cancelled.
	CancelPages(groupID int64) (int, error)
	// PagesSince counts pages to a user by a channel since t (for throttling).
	PagesSince(userID string, via bot.Via, since time.Time) (int, error)
	// UnsentPages returns pages skipped or failed since t, newest first.
	UnsentPages(since time.Time, limit int) ([]PageRecord, error)
	// RecordAction appends to a group's action log.
	RecordAction(groupID int64, kind string, a bot.Action, detail string) error
	// Actions returns a group's action log, oldest first.
	Actions(groupID int64) ([]ActionRecord, error)
}

// ActionRecord is one entry of a group's action log.
type ActionRecord struct {
	Kind   string
	Action bot.Action
	Detail string
}

// OnCallResolver says who is on call for a schedule at a time.
type OnCallResolver interface {
	OnCallAt(ctx context.Context, tx Tx, schedule string, t time.Time) (userID string, err error)
}

// Service is the acknowledgement and escalation feature: its policies, who
// can be reached how, and the engine job that runs due steps.
type Service struct {
	Store     bot.TxStore[Tx]
	Policy    *bot.Policy
	Policies  [4]EscalationPolicy
	OnCall    OnCallResolver // nil: schedule targets page nobody and say so
	Directory map[string]bot.Contact
	Log       *slog.Logger
	Trigger   func()
	// Channels holds the vias that have a provider, i.e. whose job runs:
	// ViaPhone with a phone: section, ViaEmail with an email: section.
	// Mention and dm need none and are always available. A page by a via
	// not in Channels is recorded as skipped, never queued.
	Channels map[bot.Via]bool

	// Metrics counts pages; nil records nothing.
	Metrics *metrics.Metrics

	swept atomic.Bool // skipUnserved ran

	live atomic.Pointer[People] // set by Reconfigure; nil: Policies and Directory
}

// People is the part of the paging configuration a reload replaces: the
// escalation policies and the users' contact directory.
type People struct {
	Policies  [4]EscalationPolicy
	Directory map[string]bot.Contact
}

// Reconfigure replaces the escalation policies and the directory, atomically
// and safely while the service runs (a configuration reload).
func (p *Service) Reconfigure(pp People) { p.live.Store(&pp) }

// people returns the escalation policies and directory in force.
func (p *Service) people() People {
	if l := p.live.Load(); l != nil {
		return *l
	}
	return People{Policies: p.Policies, Directory: p.Directory}
}

// CanReach reports whether pages by via can go out: mention and dm always,
// phone and email when their provider is configured (in Channels).
func (p *Service) CanReach(via bot.Via) bool {
	c, ok := bot.ChannelOf(via)
	return ok && (c.Provider == "" || p.Channels[via])
}

// Name implements Job.
func (p *Service) Name() string { return "escalation" }

// Run implements Job: run every due escalation step and mark missed
// deadlines; pages queued for a channel without a provider become skipped.
func (p *Service) Run(ctx context.Context, now time.Time) error {
	if !p.swept.Load() {
		if err := p.skipUnserved(ctx, now); err != nil {
			return err
		}
		p.swept.Store(true)
	}
	var due []Escalation
	if err := p.Store.View(ctx, func(tx Tx) (err error) {
		due, err = tx.DueEscalations(now, 100)
		return err
	}); err != nil {
		return err
	}
	for _, e := range due {
		if err := p.Store.Update(ctx, func(tx Tx) error { return p.advance(ctx, tx, e.GroupID, now, false) }); err != nil {
			return fmt.Errorf("escalate group %d: %w", e.GroupID, err)
		}
	}
	return nil
}

// startEscalation begins paging for a newly firing group.
func (p *Service) startEscalation(tx Tx, g *bot.Group, now time.Time) error {
	pol := p.people().Policies[g.Priority]
	if len(pol.Steps) == 0 {
		return nil
	}
	return tx.StartEscalation(Escalation{GroupID: g.ID, Priority: g.Priority, NextAt: now.Add(pol.Steps[0].Delay),
		Deadline: g.CreatedAt.Add(p.Policy.Route(g.Priority).AckWithin)})
}

// advance runs the group's next escalation step when it is due (or at once
// when force is set), and marks a missed deadline.
func (p *Service) advance(ctx context.Context, tx Tx, groupID int64, now time.Time, force bool) error {
	e, err := tx.Escalation(groupID)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if e.Done && force {
		e.Done, e.Step, e.Loop = false, 0, 0 // escalate by hand after the policy ran out: start over
	}
	g, err := tx.Group(groupID)
	if err != nil {
		return err
	}
	if g.Status != bot.Firing || g.Ack != nil {
		return tx.StopEscalation(groupID)
	}
	pol := p.people().Policies[e.Priority]
	changed := false
	if !e.Overdue && !e.Deadline.IsZero() && !now.Before(e.Deadline) {
		e.Overdue, g.Overdue = true, true
		force = true // a missed deadline runs the next step at once
		changed = true
		p.Log.Warn("acknowledgement overdue", "group", g.ID, "priority", g.Priority.String())
	}
	if !e.Done && (force || !now.Before(e.NextAt)) && len(pol.Steps) > 0 && e.Loop <= pol.Repeat {
		step := pol.Steps[e.Step%len(pol.Steps)]
		if err := p.page(ctx, tx, g, e.Step, step, now); err != nil {
			return err
		}
		g.Escalated++
		changed = true
		e.Step++
		if e.Step >= len(pol.Steps) {
			e.Step = 0
			e.Loop++
			wait := pol.RepeatAfter
			if wait <= 0 {
				wait = 5 * time.Minute
			}
			e.NextAt = now.Add(wait)
			if e.Loop > pol.Repeat {
				e.Done = true
			}
		} else {
			e.NextAt = now.Add(pol.Steps[e.Step].Delay)
		}
	}
	if err := tx.SaveEscalation(e); err != nil {
		return err
	}
	if changed {
		g.Version++
		g.UpdatedAt = now
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		if err := markGroupDirty(tx, g, now); err != nil {
			return err
		}
		bot.Wake(p.Trigger)
	}
	return nil
}

// page queues the pages of one step: Discord mentions and DMs as queued
// messages, phone calls and e-mails as queued pages.
func (p *Service) page(ctx context.Context, tx Tx, g *bot.Group, stepNo int, step EscalationStep, now time.Time) error {
	route := p.Policy.Route(g.Priority)
	var roles, users []string
	var notes []string
	for _, t := range step.Targets {
		if t.Role != "" {
			roles = append(roles, t.Role)
			continue
		}
		user := t.User
		if t.Schedule != "" {
			if p.OnCall == nil {
				notes = append(notes, fmt.Sprintf("schedule %s: no on-call schedules configured", t.Schedule))
				continue
			}
			u, err := p.OnCall.OnCallAt(ctx, tx, t.Schedule, now)
			if err != nil || u == "" {
				notes = append(notes, fmt.Sprintf("schedule %s has nobody on call", t.Schedule))
				continue
			}
			user = u
		}
		via := t.Via
		if len(via) == 0 {
			via = []bot.Via{bot.ViaMention, bot.ViaDM}
		}
		for _, v := range via {
			pg := &PageRecord{GroupID: g.ID, Step: stepNo, Via: v, UserID: user, Schedule: t.Schedule, Status: PageQueued, CreatedAt: now}
			if v == bot.ViaMention {
				users = append(users, user)
				continue
			}
			if why, fix := p.cannotReach(user, v); why != "" {
				if err := p.notSent(tx, g, pg, PageSkipped, why, fix, now); err != nil {
					return err
				}
				continue
			}
			if err := tx.AddPage(pg); err != nil {
				return err
			}
			if v == bot.ViaDM {
				// The DM carries its own Acknowledge: the person paged can
				// answer from their phone's notification (the gate allows
				// ack: in a DM from a member of the server).
				m := PageMessage(g, route, stepNo, bot.Mentions{})
				m.Buttons = []bot.Button{{Label: "Acknowledge", CustomID: customid.Make(customid.AlertAck, g.ID), Emoji: "👀", Style: "primary"}}
				if err := tx.Enqueue(&bot.Outgoing{UserID: user, Priority: g.Priority, Kind: "page", Ref: pageRef(g.ID, pg.ID),
					Message: m, DueAt: now, CreatedAt: now}); err != nil {
					return err
				}
			}
		}
	}
	p.Log.Info("escalation step", "group", g.ID, "priority", g.Priority.String(), "step", stepNo,
		"mention_roles", uniq(roles), "mention_users", uniq(users), "targets", len(step.Targets), "unreached", notes)
	if len(roles) > 0 || len(users) > 0 {
		m := bot.Mentions{Roles: uniq(roles), Users: uniq(users)}
		pg := &PageRecord{GroupID: g.ID, Step: stepNo, Via: bot.ViaMention, RoleID: strings.Join(m.Roles, ","), UserID: strings.Join(m.Users, ","), Status: PageQueued, CreatedAt: now}
		if err := tx.AddPage(pg); err != nil {
			return err
		}
		if err := tx.Enqueue(&bot.Outgoing{ChannelID: route.ChannelID, Priority: g.Priority, Kind: "page", Ref: pageRef(g.ID, pg.ID),
			Message: PageMessage(g, route, stepNo, m), DueAt: now, CreatedAt: now}); err != nil {
			return err
		}
	}
	for _, n := range notes {
		if !slices.Contains(g.Notes, n) {
			g.Notes = append(g.Notes, n)
		}
	}
	return tx.RecordAction(g.ID, "escalated", bot.Action{Actor: bot.Actor{Via: "engine"}, At: now}, fmt.Sprintf("step %d", stepNo+1))
}

// cannotReach says why a page to user by via cannot go out, and what fixes
// it; why is "" when it can. In why, {user} stands for the person.
func (p *Service) cannotReach(user string, via bot.Via) (why, fix string) {
	if c, ok := bot.ChannelOf(via); ok && !p.CanReach(via) {
		return c.NoProvider, c.NoProviderFix
	}
	return p.noContact(user, via)
}

// noContact says why the directory does not let via reach user; "" when it does.
func (p *Service) noContact(user string, via bot.Via) (why, fix string) {
	ch, _ := bot.ChannelOf(via)
	if ch.Address != nil && ch.Address(p.people().Directory[user]) == "" {
		return ch.NoAddress, ch.NoAddressFix
	}
	return "", ""
}

// notSent records a page that did not go out, with status PageSkipped (it
// could not be attempted) or PageFailed (the provider refused it for good):
// the page record (added when new) with Detail "not sent: why (fix)", a note
// on the card (in g.Notes: the caller saves g), a WARN log line naming what
// to fix, klaxon_pages_total{result=status}, and an entry in the group's
// action log. In why, {user} stands for the person paged.
func (p *Service) notSent(tx Tx, g *bot.Group, pg *PageRecord, status, why, fix string, now time.Time) error {
	plain := strings.ReplaceAll(why, "{user}", "user "+pg.UserID)
	pg.Status, pg.Detail = status, "not sent: "+plain
	if fix != "" {
		pg.Detail += " (" + fix + ")"
	}
	var err error
	if pg.ID == 0 {
		err = tx.AddPage(pg)
	} else {
		err = tx.UpdatePage(pg)
	}
	if err != nil {
		return err
	}
	what := viaName(pg.Via) + " page not sent: "
	note := strings.ReplaceAll(why, "{user}", bot.UserRef(pg.UserID))
	note = text.Truncate(note, 120) // the card shows 600 characters of notes: keep room for the fix
	note = what + note
	if fix != "" {
		note += " (" + fix + ")"
	}
	g.Notes = appendNote(g.Notes, note)
	result := "skipped"
	if status == PageFailed {
		result = "failed"
	}
	p.Metrics.Page(string(pg.Via), result, 1)
	p.Log.Warn("page "+result, "group", g.ID, "priority", g.Priority.String(), "via", pg.Via, "user", pg.UserID,
		"page", pg.ID, "reason", plain, "fix", fix)
	kind := "page " + result
	if status == PageFailed && pg.Via == bot.ViaPhone {
		kind = "call failed" // the incident timeline's name for it
	}
	return tx.RecordAction(g.ID, kind, bot.Action{Actor: bot.Actor{Via: "engine"}, At: now}, what+plain)
}

// recordNotSent is notSent for a page queued earlier: it also saves the
// group with its new note and queues an update of its card.
func (p *Service) recordNotSent(tx Tx, pg *PageRecord, status, why, fix string, now time.Time) error {
	g, err := tx.Group(pg.GroupID)
	if err != nil {
		return err
	}
	notes := len(g.Notes)
	if err := p.notSent(tx, g, pg, status, why, fix, now); err != nil {
		return err
	}
	if len(g.Notes) == notes {
		return nil // the card says so already
	}
	g.Version++
	g.UpdatedAt = now
	if err := tx.SaveGroup(g); err != nil {
		return err
	}
	return markGroupDirty(tx, g, now)
}

// skipUnserved marks pages still queued for a channel that has no provider
// (queued before the provider was removed from the configuration, or by a
// version that queued them regardless) as skipped: no job would ever take
// them. Run does it once: page never queues such pages.
func (p *Service) skipUnserved(ctx context.Context, now time.Time) error {
	for _, ch := range bot.Channels {
		via := ch.Via
		if ch.Provider == "" || p.CanReach(via) {
			continue
		}
		for more := true; more; {
			var queued []PageRecord
			if err := p.Store.View(ctx, func(tx Tx) (err error) { queued, err = tx.QueuedPages(via, 100); return err }); err != nil {
				return err
			}
			more = len(queued) == 100
			if len(queued) == 0 {
				break
			}
			if err := p.Store.Update(ctx, func(tx Tx) error {
				for _, pg := range queued {
					cur, err := tx.PageRecord(pg.ID)
					if err != nil {
						return err
					}
					if cur.Status != PageQueued {
						continue
					}
					why, fix := p.cannotReach(cur.UserID, via)
					if err := p.recordNotSent(tx, cur, PageSkipped, why, fix, now); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// viaName is how notes name a way of paging.
func viaName(via bot.Via) string {
	if c, ok := bot.ChannelOf(via); ok {
		return c.Name
	}
	return string(via)
}

func pageRef(groupID, pageID int64) string { return fmt.Sprintf("group:%d:page:%d", groupID, pageID) }

// ParsePageRef returns the group and page ids of a page message's Ref.
func ParsePageRef(ref string) (groupID, pageID int64, ok bool) {
	_, err := fmt.Sscanf(ref, "group:%d:page:%d", &groupID, &pageID)
	return groupID, pageID, err == nil
}

func PageMessage(g *bot.Group, route bot.Route, step int, m bot.Mentions) bot.Message {
	content := fmt.Sprintf("📟 **%s %s**: %s — please acknowledge", g.Priority, g.Priority.Meaning(), g.Title())
	if step > 0 {
		content = fmt.Sprintf("📟 **Escalation step %d** · %s %s: %s is not acknowledged", step+1, g.Priority, g.Priority.Meaning(), g.Title())
	}
	content = bot.MentionPrefix(m) + content
	desc := g.Summary()
	return bot.Message{Content: content, Mentions: m, Title: g.Title(), Description: desc, Tone: bot.PriorityTone(g.Priority),
		Footer: fmt.Sprintf("alert group %d · acknowledge with the button on the card or /ack", g.ID)}
}

func uniq(l []string) []string {
	slices.Sort(l)
	return slices.Compact(l)
}

// markGroupDirty queues an update of every post showing the group.
func markGroupDirty(tx Tx, g *bot.Group, now time.Time) error {
	posts, err := tx.PostsOfGroup(g.ID)
	if err != nil {
		return err
	}
	for _, p := range posts {
		if err := tx.MarkDirty(p.ID, min(p.Priority, g.Priority), now); err != nil {
			return err
		}
		if p.Kind == bot.Page {
			if err := tx.MarkDirty(p.DigestID, p.Priority, now); err != nil {
				return err
			}
		}
	}
	return nil
}
