package postmortem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/text"
)

// Section is one editable, narrative part of a post-mortem. The facts
// (impact figures, timeline, alerts, action items, runbooks used) are
// rendered from the incident record every time, so they never go stale.
type Section struct {
	Key   string // stored key and custom_id part, e.g. "root_cause"
	Title string // heading, e.g. "Root cause analysis"
	Hint  string // what belongs here (modal placeholder)
}

// Sections are the editable sections, in document order. There
// are five: one Discord modal can hold them all.
var Sections = []Section{
	{"summary", "Summary", "What happened, in three or four sentences anyone can read"},
	{"impact", "Impact", "Who and what was affected, for how long, how badly"},
	{"root_cause", "Root cause analysis", "Why it happened: keep asking why; contributing factors"},
	{"process_improvements", "Process improvements", "Detection, response, tooling and runbooks to change"},
	{"lessons_learned", "Lessons learned", "What went well, what went badly, where we got lucky"},
}

// SectionByKey returns the section with this key.
func SectionByKey(key string) (Section, bool) {
	for _, s := range Sections {
		if s.Key == key {
			return s, true
		}
	}
	return Section{}, false
}

// MaxSectionRunes is the longest section text: a Discord modal text input
// holds 4,000 characters, and every section must stay editable there.
const MaxSectionRunes = 4000

// Postmortem is an incident's post-mortem document: its narrative sections
// (revisioned) plus publication state.
type Postmortem struct {
	ID          int64
	IncidentID  int64
	Revision    int               // current revision, from 1
	Sections    map[string]string // by Section.Key
	LLMModel    string            // model that drafted sections, "" for the template
	LLMSections []string          // sections still as the LLM drafted them
	DraftNote   string            // why the LLM draft was not used, if it was tried
	CreatedBy   bot.Actor
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt time.Time // zero until /postmortem publish
	PublishedBy bot.Actor

	// Forum publication (the knowledge base), kept in step by PublishJob.
	ForumChannelID  string
	ForumThreadID   string // the forum post; its starter message has the same id
	PublishedHash   string // hash of the document last confirmed by Discord
	PublishDirty    bool   // the forum post must be created or updated
	PublishNextAt   time.Time
	PublishAttempts int
	PublishError    string // last refusal, shown by /postmortem show
}

// Published reports whether someone published the post-mortem.
func (p *Postmortem) Published() bool { return !p.PublishedAt.IsZero() }

// Revision is one saved state of a post-mortem.
type Revision struct {
	PostmortemID int64
	Revision     int
	Sections     map[string]string
	Markdown     string // the whole document as rendered then
	Changed      string // section key edited; "" for the first draft
	Note         string
	Actor        bot.Actor
	At           time.Time
}

// Action item statuses.
const (
	ActionOpen = "open"
	ActionDone = "done"
)

// ActionItem is a follow-up from an incident, owned by one person, due at a time.
type ActionItem struct {
	ID             int64
	IncidentID     int64
	Text           string
	OwnerID        string
	DueAt          time.Time
	Status         string
	CreatedBy      bot.Actor
	CreatedAt      time.Time
	DoneAt         time.Time
	DoneBy         bot.Actor
	Reminders      int       // reminders sent so far
	NextReminderAt time.Time // zero: none planned
}

// Overdue reports whether the item is open past its due time.
func (a *ActionItem) Overdue(now time.Time) bool {
	return a.Status == ActionOpen && !now.Before(a.DueAt)
}

// Due is the due policy's state for one incident.
type Due struct {
	IncidentID int64
	DueAt      time.Time
	Reminders  int
	NextAt     time.Time
	State      string // "pending", "done", "skipped"
}

// Tx is what the post-mortem feature does inside a transaction: the core's
// operations, the incidents' (it reads incidents, timelines and runbook
// checklists), and its own post-mortems, revisions, action items and due
// policy.
type Tx interface {
	incident.Tx

	// AddPostmortem stores a new post-mortem and its first revision
	// (setting p.ID); EConflict when the incident already has one.
	AddPostmortem(p *Postmortem, first *Revision) error
	// Postmortem returns a post-mortem by id, or ENotFound.
	Postmortem(id int64) (*Postmortem, error)
	// PostmortemOfIncident returns the incident's post-mortem, or ENotFound.
	PostmortemOfIncident(incidentID int64) (*Postmortem, error)
	// SavePostmortem saves every field of p.
	SavePostmortem(p *Postmortem) error
	// AddRevision stores a revision; EConflict when that number exists.
	AddRevision(r *Revision) error
	// Revisions returns a post-mortem's revisions, oldest first.
	Revisions(postmortemID int64) ([]Revision, error)
	// DuePublications returns post-mortems whose forum post must be created
	// or updated at now.
	DuePublications(now time.Time, limit int) ([]*Postmortem, error)

	// AddActionItem stores a new action item (setting a.ID).
	AddActionItem(a *ActionItem) error
	// ActionItem returns an action item by id, or ENotFound.
	ActionItem(id int64) (*ActionItem, error)
	// ActionItems returns an incident's action items by id; open ones only when openOnly.
	ActionItems(incidentID int64, openOnly bool) ([]*ActionItem, error)
	// SaveActionItem saves every field of a.
	SaveActionItem(a *ActionItem) error
	// DueActionItems returns open items whose next reminder is due at now.
	DueActionItems(now time.Time, limit int) ([]*ActionItem, error)

	// UnplannedDue returns resolved incidents of these priorities that have
	// no due-policy state yet, oldest first.
	UnplannedDue(priorities []bot.Priority, limit int) ([]*bot.Incident, error)
	// SavePostmortemDue inserts or updates the due-policy state of an incident.
	SavePostmortemDue(d *Due) error
	// PostmortemDueOf returns an incident's due-policy state, or ENotFound.
	PostmortemDueOf(incidentID int64) (*Due, error)
	// DuePostmortemReminders returns pending states whose next reminder is due at now.
	DuePostmortemReminders(now time.Time, limit int) ([]*Due, error)
}

// Policy configures post-mortems.
type Policy struct {
	// ForumChannel is the forum channel post-mortems are published to; ""
	// publishes them in Klaxon only.
	ForumChannel string
	// DueAfter is how long after resolution a post-mortem must be published
	// for the priorities in Require. Default 5 days.
	DueAfter time.Duration
	Require  []bot.Priority // default P0 and P1
	// RemindEvery spaces overdue reminders (action items and due policy). Default 24h.
	RemindEvery time.Duration
	// Sensitive are label and annotation names (path.Match patterns, case
	// insensitive) whose values are never sent to the LLM.
	Sensitive []string
	// SendUserNames lets Discord user names, mentions and ids reach the
	// LLM; by default each person is "responder N" there (llm.send_user_names).
	SendUserNames bool
	// DraftTimeout bounds the LLM draft. Default 60s.
	DraftTimeout time.Duration
	// SLOs and Weights estimate the error budget an incident spent.
	SLOs    []bot.SLO
	Weights [4]float64
}

func (p Policy) dueAfter() time.Duration {
	if p.DueAfter <= 0 {
		return 5 * 24 * time.Hour
	}
	return p.DueAfter
}

func (p Policy) remindEvery() time.Duration {
	if p.RemindEvery <= 0 {
		return 24 * time.Hour
	}
	return p.RemindEvery
}

func (p Policy) draftTimeout() time.Duration {
	if p.DraftTimeout <= 0 {
		return 60 * time.Second
	}
	return p.DraftTimeout
}

func (p Policy) requires(pr bot.Priority) bool {
	req := p.Require
	if req == nil {
		req = []bot.Priority{bot.P0, bot.P1}
	}
	return slices.Contains(req, pr)
}

// Service is the post-mortem feature: drafting from the record, edits
// with revisions, publication, action items, and the engine job that sends
// reminders (Run). Its methods take the time as an argument.
type Service struct {
	Store   bot.TxStore[Tx]
	Policy  Policy
	Drafter Drafter // nil: the template only
	Log     *slog.Logger
	Trigger func() // asks the engine for a cycle (publication, messages); may be nil
	// Legacy turns the chat markup that versions before reference tokens
	// stored in text into tokens (bot/discord's LegacyRefs), so that
	// redaction finds the people in old timelines too; nil: as is.
	Legacy func(string) string
}

var _ bot.Job = (*Service)(nil)

func (p *Service) log() *slog.Logger { return bot.OrDiscard(p.Log) }

func (p *Service) trigger() { bot.Wake(p.Trigger) }

// incidentOver reports whether an incident is over (resolved or later).
func incidentOver(inc *bot.Incident) bool {
	switch inc.Status {
	case bot.IncResolved, bot.PostMortem, bot.Closed:
		return true
	}
	return false
}

// Record loads everything a post-mortem is rendered from.
func (p *Service) Record(tx Tx, incidentID int64) (*Record, error) {
	inc, err := tx.Incident(incidentID)
	if err != nil {
		return nil, err
	}
	rec := &Record{Incident: inc}
	for _, id := range inc.GroupIDs {
		g, err := tx.Group(id)
		if bot.ErrorCode(err) == bot.ENotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		rec.Groups = append(rec.Groups, g)
	}
	if rec.Timeline, err = tx.Timeline(incidentID); err != nil {
		return nil, err
	}
	if rec.Actions, err = tx.ActionItems(incidentID, false); err != nil {
		return nil, err
	}
	if rec.Checklists, err = tx.Checklists(incidentID); err != nil {
		return nil, err
	}
	rec.Budget = p.budget(inc)
	pm, err := tx.PostmortemOfIncident(incidentID)
	switch {
	case err == nil:
		rec.Postmortem = pm
	case bot.ErrorCode(err) != bot.ENotFound:
		return nil, err
	}
	return rec, nil
}

// Markdown renders the incident's post-mortem as it stands.
func (p *Service) Markdown(ctx context.Context, incidentID int64) (string, *Record, error) {
	var rec *Record
	err := p.Store.View(ctx, func(tx Tx) (err error) {
		rec, err = p.Record(tx, incidentID)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	if rec.Postmortem == nil {
		return "", nil, bot.Errorf(bot.ENotFound, "%s has no post-mortem yet: run /postmortem create in its thread once it is resolved", rec.Incident.Ref())
	}
	return Render(rec), rec, nil
}

// Create drafts an incident's post-mortem from its record — with the LLM
// when one is configured, falling back to the template — and stores it as
// revision 1.
func (p *Service) Create(ctx context.Context, incidentID int64, by bot.Actor, now time.Time) (*Postmortem, error) {
	var rec *Record
	err := p.Store.View(ctx, func(tx Tx) (err error) {
		rec, err = p.Record(tx, incidentID)
		return err
	})
	if err != nil {
		return nil, err
	}
	inc := rec.Incident
	if !incidentOver(inc) {
		return nil, bot.Errorf(bot.EConflict, "%s is still %s: resolve it first, then run /postmortem create", inc.Ref(), inc.Status)
	}
	if rec.Postmortem != nil {
		return nil, bot.Errorf(bot.EConflict, "%s already has a post-mortem (revision %d): see /postmortem show, or change it with /postmortem edit", inc.Ref(), rec.Postmortem.Revision)
	}
	pm := &Postmortem{IncidentID: inc.ID, Revision: 1, Sections: TemplateSections(rec), CreatedBy: by, CreatedAt: now, UpdatedAt: now,
		ForumChannelID: p.Policy.ForumChannel}
	if p.Drafter != nil {
		p.draft(ctx, rec, pm)
	}
	rec.Postmortem = pm
	first := &Revision{Revision: 1, Sections: pm.Sections, Markdown: Render(rec), Actor: by, At: now,
		Note: draftSummary(pm)}
	err = p.Store.Update(ctx, func(tx Tx) error {
		if err := tx.AddPostmortem(pm, first); err != nil {
			return err
		}
		if err := tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: now, Kind: "post-mortem", Actor: by,
			Text: "Post-mortem drafted (" + draftSummary(pm) + ")", Ref: fmt.Sprintf("postmortem:%d", pm.ID)}); err != nil {
			return err
		}
		// A resolved incident moves on to its post-mortem (the lifecycle's
		// next step); one already post-mortem or closed stays where it is.
		cur, err := tx.Incident(inc.ID)
		if err != nil || cur.Status != bot.IncResolved {
			return err
		}
		cur.Status = bot.PostMortem
		cur.Version++ // the pinned summary shows the new status
		if err := tx.SaveIncident(cur); err != nil {
			return err
		}
		return tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: now, Kind: "status changed", Actor: by,
			Text: fmt.Sprintf("%s → %s: post-mortem drafted", bot.IncResolved, bot.PostMortem), Ref: "status:" + string(bot.PostMortem)})
	})
	if err != nil {
		return nil, err
	}
	p.trigger()
	return pm, nil
}

func draftSummary(pm *Postmortem) string {
	switch {
	case pm.LLMModel != "":
		return "LLM draft by " + pm.LLMModel + ", to review"
	case pm.DraftNote != "":
		return "template; " + pm.DraftNote
	default:
		return "template"
	}
}

// draft asks the Drafter for the narrative sections. Whatever goes wrong,
// the template stays and DraftNote says why.
func (p *Service) draft(ctx context.Context, rec *Record, pm *Postmortem) {
	in := p.DraftInput(rec)
	timeout := p.Policy.draftTimeout()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d, err := p.Drafter.Draft(dctx, in)
	if err == nil && (d == nil || len(d.Sections) == 0) {
		err = &DraftRefused{Reason: "the answer had no sections"}
	}
	var refused *DraftRefused
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) || dctx.Err() != nil:
		pm.DraftNote = fmt.Sprintf("the LLM did not answer within %s, so the template was used", timeout)
	case errors.As(err, &refused):
		pm.DraftNote = "the LLM declined to draft (" + text.OneLine(refused.Reason, 200) + "), so the template was used"
	default:
		pm.DraftNote = "the LLM request failed (" + text.OneLine(err.Error(), 200) + "), so the template was used"
	}
	if err != nil {
		p.log().Warn("post-mortem LLM draft not used", "incident", rec.Incident.ID, "err", err)
		return
	}
	for _, s := range Sections {
		body := strings.TrimSpace(d.Sections[s.Key])
		if body == "" {
			continue
		}
		pm.Sections[s.Key] = text.Truncate(body, MaxSectionRunes)
		pm.LLMSections = append(pm.LLMSections, s.Key)
	}
	if len(pm.LLMSections) == 0 {
		pm.DraftNote = "the LLM answer had none of the sections, so the template was used"
		return
	}
	pm.LLMModel = d.Model
	if pm.LLMModel == "" {
		pm.LLMModel = "LLM"
	}
}

// Edit replaces one section's text as a new revision. base is the revision
// the editor started from: when someone else changed the same section since,
// the edit is refused (EConflict) rather than silently overwriting theirs; a
// revision the post-mortem never had (forged, or 0) is refused (EInvalid).
func (p *Service) Edit(ctx context.Context, postmortemID int64, key, text string, base int, by bot.Actor, now time.Time) (*Postmortem, error) {
	sec, ok := SectionByKey(key)
	if !ok {
		return nil, bot.Errorf(bot.EInvalid, "there is no section %q: choose one of %s", key, sectionKeys())
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if n := utf8.RuneCountInString(text); n > MaxSectionRunes {
		return nil, bot.Errorf(bot.EInvalid, "the %s is %d characters long; keep each section within %d (move details to a linked document)", sec.Title, n, MaxSectionRunes)
	}
	var pm *Postmortem
	err := p.Store.Update(ctx, func(tx Tx) (err error) {
		if pm, err = tx.Postmortem(postmortemID); err != nil {
			return err
		}
		// base is the revision the editor was opened at, carried back by the
		// client: it must be one this post-mortem has had.
		if base < 1 || base > pm.Revision {
			return bot.Errorf(bot.EInvalid, "this editor claims revision %d, which the post-mortem never had (it is at revision %d); nothing was saved. Open the editor again with /postmortem edit",
				base, pm.Revision)
		}
		if base < pm.Revision {
			revs, err := tx.Revisions(pm.ID)
			if err != nil {
				return err
			}
			for _, r := range revs {
				if r.Revision > base && r.Changed == key && r.Sections[key] != text {
					return bot.Errorf(bot.EConflict, "%s changed the %s after you opened the editor (revision %d); your text was not saved. Open the editor again, it shows their version",
						bot.ActorRef(r.Actor), sec.Title, r.Revision)
				}
			}
		}
		if pm.Sections[key] == text {
			return nil // nothing changed: no new revision
		}
		pm.Sections[key] = text
		pm.Revision++
		pm.UpdatedAt = now
		pm.LLMSections = slices.DeleteFunc(pm.LLMSections, func(k string) bool { return k == key })
		if pm.Published() {
			pm.PublishDirty, pm.PublishNextAt = true, now
		}
		rec, err := p.Record(tx, pm.IncidentID)
		if err != nil {
			return err
		}
		rec.Postmortem = pm
		if err := tx.SavePostmortem(pm); err != nil {
			return err
		}
		return tx.AddRevision(&Revision{PostmortemID: pm.ID, Revision: pm.Revision, Sections: pm.Sections,
			Markdown: Render(rec), Changed: key, Actor: by, At: now})
	})
	if err != nil {
		return nil, err
	}
	p.trigger()
	return pm, nil
}

func sectionKeys() string {
	keys := make([]string, len(Sections))
	for i, s := range Sections {
		keys[i] = s.Key
	}
	return strings.Join(keys, ", ")
}

// Publish marks the post-mortem published, which ends the due policy's
// reminders, and queues its forum post when a forum channel is configured.
// Publishing again re-sends the current document.
func (p *Service) Publish(ctx context.Context, postmortemID int64, by bot.Actor, now time.Time) (*Postmortem, error) {
	var pm *Postmortem
	err := p.Store.Update(ctx, func(tx Tx) (err error) {
		if pm, err = tx.Postmortem(postmortemID); err != nil {
			return err
		}
		first := !pm.Published()
		if first {
			pm.PublishedAt, pm.PublishedBy = now, by
		}
		if pm.ForumChannelID == "" {
			pm.ForumChannelID = p.Policy.ForumChannel
		}
		if pm.ForumChannelID != "" {
			pm.PublishDirty, pm.PublishNextAt, pm.PublishAttempts, pm.PublishError = true, now, 0, ""
		}
		if err := tx.SavePostmortem(pm); err != nil {
			return err
		}
		if d, err := tx.PostmortemDueOf(pm.IncidentID); err == nil && d.State == "pending" {
			d.State, d.NextAt = "done", time.Time{}
			if err := tx.SavePostmortemDue(d); err != nil {
				return err
			}
		} else if err != nil && bot.ErrorCode(err) != bot.ENotFound {
			return err
		}
		if !first {
			return nil
		}
		return tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: pm.IncidentID, At: now, Kind: "post-mortem", Actor: by,
			Text: fmt.Sprintf("Post-mortem published (revision %d)", pm.Revision), Ref: fmt.Sprintf("postmortem:%d", pm.ID)})
	})
	if err != nil {
		return nil, err
	}
	p.trigger()
	return pm, nil
}

// markDirty queues a forum update of the incident's published post-mortem,
// if it has one.
func markDirty(tx Tx, incidentID int64, now time.Time) error {
	pm, err := tx.PostmortemOfIncident(incidentID)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if !pm.Published() || pm.ForumChannelID == "" {
		return nil
	}
	pm.PublishDirty, pm.PublishNextAt = true, now
	return tx.SavePostmortem(pm)
}

// documentHash identifies a rendered document, to skip forum edits that
// would change nothing.
func documentHash(md string) string {
	h := sha256.Sum256([]byte(md))
	return hex.EncodeToString(h[:12])
}
