package store

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/postmortem"
)

var _ postmortem.Tx = (*Tx)(nil)

// Postmortem returns db as the post-mortem feature's store.
func (db *DB) Postmortem() bot.TxStore[postmortem.Tx] {
	return Feature(db, func(t *Tx) postmortem.Tx { return t })
}

// ---- post-mortems ----

const postmortemCols = `id, incident_id, revision, sections, llm_model, llm_sections, draft_note, created_by, created_at, updated_at,
	published_at, published_by, forum_channel_id, forum_thread_id, published_hash, publish_dirty, publish_next_at, publish_attempts, publish_error`

func postmortemArgs(p *postmortem.Postmortem) []any {
	sections := p.Sections
	if sections == nil {
		sections = map[string]string{}
	}
	return []any{p.IncidentID, p.Revision, encode(sections), p.LLMModel, encode(nonNilList(p.LLMSections)), p.DraftNote, encode(p.CreatedBy),
		ts(p.CreatedAt), ts(p.UpdatedAt), ts(p.PublishedAt), encode(p.PublishedBy), p.ForumChannelID, p.ForumThreadID, p.PublishedHash,
		boolInt(p.PublishDirty), ts(p.PublishNextAt), p.PublishAttempts, p.PublishError}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AddPostmortem implements postmortem.Tx.
func (t *Tx) AddPostmortem(p *postmortem.Postmortem, first *postmortem.Revision) error {
	if _, err := t.PostmortemOfIncident(p.IncidentID); err == nil {
		return bot.Errorf(bot.EConflict, "INC-%d already has a post-mortem: see /postmortem show", p.IncidentID)
	} else if bot.ErrorCode(err) != bot.ENotFound {
		return err
	}
	r, err := t.exec("add postmortem", `INSERT INTO postmortems (incident_id, revision, sections, llm_model, llm_sections, draft_note,
		created_by, created_at, updated_at, published_at, published_by, forum_channel_id, forum_thread_id, published_hash, publish_dirty,
		publish_next_at, publish_attempts, publish_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, postmortemArgs(p)...)
	if err != nil {
		return err
	}
	if p.ID, err = r.LastInsertId(); err != nil {
		return t.dbError("add postmortem", err)
	}
	if first != nil {
		first.PostmortemID = p.ID
		return t.AddRevision(first)
	}
	return nil
}

func (t *Tx) scanPostmortems(op, q string, args ...any) ([]*postmortem.Postmortem, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*postmortem.Postmortem
	for rows.Next() {
		p := &postmortem.Postmortem{}
		var sections, llmSections, createdBy, publishedBy string
		var created, updated, published, next int64
		var dirty int
		if err := rows.Scan(&p.ID, &p.IncidentID, &p.Revision, &sections, &p.LLMModel, &llmSections, &p.DraftNote, &createdBy, &created,
			&updated, &published, &publishedBy, &p.ForumChannelID, &p.ForumThreadID, &p.PublishedHash, &dirty, &next, &p.PublishAttempts,
			&p.PublishError); err != nil {
			return nil, t.dbError(op, err)
		}
		p.CreatedAt, p.UpdatedAt, p.PublishedAt, p.PublishNextAt = fromTS(created), fromTS(updated), fromTS(published), fromTS(next)
		p.PublishDirty = dirty != 0
		var e1, e2, e3, e4 error
		p.Sections, e1 = decodeMap(sections)
		p.LLMSections, e2 = decodeList(llmSections)
		e3 = json.Unmarshal([]byte(createdBy), &p.CreatedBy)
		e4 = json.Unmarshal([]byte(publishedBy), &p.PublishedBy)
		if err := firstErr(e1, e2, e3, e4); err != nil {
			return nil, t.dbError(op, err)
		}
		out = append(out, p)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// Postmortem implements postmortem.Tx.
func (t *Tx) Postmortem(id int64) (*postmortem.Postmortem, error) {
	ps, err := t.scanPostmortems("postmortem", "SELECT "+postmortemCols+" FROM postmortems WHERE id = ?", id)
	return one(ps, err, bot.Errorf(bot.ENotFound, "there is no post-mortem %d", id))
}

// PostmortemOfIncident implements postmortem.Tx.
func (t *Tx) PostmortemOfIncident(incidentID int64) (*postmortem.Postmortem, error) {
	ps, err := t.scanPostmortems("postmortem of incident", "SELECT "+postmortemCols+" FROM postmortems WHERE incident_id = ?", incidentID)
	return one(ps, err, bot.Errorf(bot.ENotFound, "INC-%d has no post-mortem yet: run /postmortem create in its thread", incidentID))
}

// SavePostmortem implements postmortem.Tx.
func (t *Tx) SavePostmortem(p *postmortem.Postmortem) error {
	_, err := t.exec("save postmortem", `UPDATE postmortems SET incident_id = ?, revision = ?, sections = ?, llm_model = ?, llm_sections = ?,
		draft_note = ?, created_by = ?, created_at = ?, updated_at = ?, published_at = ?, published_by = ?, forum_channel_id = ?,
		forum_thread_id = ?, published_hash = ?, publish_dirty = ?, publish_next_at = ?, publish_attempts = ?, publish_error = ?
		WHERE id = ?`, append(postmortemArgs(p), p.ID)...)
	return err
}

// AddRevision implements postmortem.Tx.
func (t *Tx) AddRevision(r *postmortem.Revision) error {
	sections := r.Sections
	if sections == nil {
		sections = map[string]string{}
	}
	_, err := t.exec("add revision", `INSERT INTO postmortem_revisions (postmortem_id, revision, sections, markdown, changed, note,
		user_id, user_name, via, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.PostmortemID, r.Revision, encode(sections), r.Markdown,
		r.Changed, r.Note, r.Actor.UserID, r.Actor.Name, r.Actor.Via, ts(r.At))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return bot.WrapError(bot.EConflict, err, "revision %d of this post-mortem already exists: someone saved at the same time; try again", r.Revision)
	}
	return err
}

// Revisions implements postmortem.Tx.
func (t *Tx) Revisions(postmortemID int64) ([]postmortem.Revision, error) {
	rows, err := t.query("revisions", `SELECT postmortem_id, revision, sections, markdown, changed, note, user_id, user_name, via, at
		FROM postmortem_revisions WHERE postmortem_id = ? ORDER BY revision`, postmortemID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []postmortem.Revision
	for rows.Next() {
		var r postmortem.Revision
		var sections string
		var at int64
		if err := rows.Scan(&r.PostmortemID, &r.Revision, &sections, &r.Markdown, &r.Changed, &r.Note, &r.Actor.UserID, &r.Actor.Name,
			&r.Actor.Via, &at); err != nil {
			return nil, t.dbError("revisions", err)
		}
		r.At = fromTS(at)
		if r.Sections, err = decodeMap(sections); err != nil {
			return nil, t.dbError("revisions", err)
		}
		out = append(out, r)
	}
	return out, t.dbErrorOrNil("revisions", rows.Err())
}

// DuePublications implements postmortem.Tx.
func (t *Tx) DuePublications(now time.Time, limit int) ([]*postmortem.Postmortem, error) {
	return t.scanPostmortems("due publications", "SELECT "+postmortemCols+` FROM postmortems
		WHERE publish_dirty = 1 AND publish_next_at <= ? AND forum_channel_id != '' ORDER BY publish_next_at, id LIMIT ?`, ts(now), limit)
}

// ---- action items ----

const actionCols = `id, incident_id, text, owner_id, due_at, status, created_by, created_at, done_at, done_by, reminders, next_reminder_at`

// AddActionItem implements postmortem.Tx.
func (t *Tx) AddActionItem(a *postmortem.ActionItem) error {
	if a.Status == "" {
		a.Status = postmortem.ActionOpen
	}
	r, err := t.exec("add action item", `INSERT INTO action_items (incident_id, text, owner_id, due_at, status, created_by, created_at,
		done_at, done_by, reminders, next_reminder_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.IncidentID, a.Text, a.OwnerID,
		ts(a.DueAt), a.Status, encode(a.CreatedBy), ts(a.CreatedAt), ts(a.DoneAt), encode(a.DoneBy), a.Reminders, ts(a.NextReminderAt))
	if err != nil {
		return err
	}
	a.ID, err = r.LastInsertId()
	return t.dbErrorOrNil("add action item", err)
}

func (t *Tx) scanActions(op, q string, args ...any) ([]*postmortem.ActionItem, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*postmortem.ActionItem
	for rows.Next() {
		a := &postmortem.ActionItem{}
		var createdBy, doneBy string
		var due, created, done, next int64
		if err := rows.Scan(&a.ID, &a.IncidentID, &a.Text, &a.OwnerID, &due, &a.Status, &createdBy, &created, &done, &doneBy,
			&a.Reminders, &next); err != nil {
			return nil, t.dbError(op, err)
		}
		a.DueAt, a.CreatedAt, a.DoneAt, a.NextReminderAt = fromTS(due), fromTS(created), fromTS(done), fromTS(next)
		if err := firstErr(json.Unmarshal([]byte(createdBy), &a.CreatedBy), json.Unmarshal([]byte(doneBy), &a.DoneBy)); err != nil {
			return nil, t.dbError(op, err)
		}
		out = append(out, a)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// ActionItem implements postmortem.Tx.
func (t *Tx) ActionItem(id int64) (*postmortem.ActionItem, error) {
	as, err := t.scanActions("action item", "SELECT "+actionCols+" FROM action_items WHERE id = ?", id)
	return one(as, err, bot.Errorf(bot.ENotFound, "there is no action item #%d", id))
}

// ActionItems implements postmortem.Tx.
func (t *Tx) ActionItems(incidentID int64, openOnly bool) ([]*postmortem.ActionItem, error) {
	q := "SELECT " + actionCols + " FROM action_items WHERE incident_id = ?"
	if openOnly {
		q += " AND status = 'open'"
	}
	return t.scanActions("action items", q+" ORDER BY id", incidentID)
}

// SaveActionItem implements postmortem.Tx.
func (t *Tx) SaveActionItem(a *postmortem.ActionItem) error {
	_, err := t.exec("save action item", `UPDATE action_items SET text = ?, owner_id = ?, due_at = ?, status = ?, done_at = ?, done_by = ?,
		reminders = ?, next_reminder_at = ? WHERE id = ?`, a.Text, a.OwnerID, ts(a.DueAt), a.Status, ts(a.DoneAt), encode(a.DoneBy),
		a.Reminders, ts(a.NextReminderAt), a.ID)
	return err
}

// DueActionItems implements postmortem.Tx.
func (t *Tx) DueActionItems(now time.Time, limit int) ([]*postmortem.ActionItem, error) {
	return t.scanActions("due action items", "SELECT "+actionCols+` FROM action_items
		WHERE status = 'open' AND next_reminder_at > 0 AND next_reminder_at <= ? ORDER BY next_reminder_at, id LIMIT ?`, ts(now), limit)
}

// ---- due policy ----

// UnplannedDue implements postmortem.Tx.
func (t *Tx) UnplannedDue(priorities []bot.Priority, limit int) ([]*bot.Incident, error) {
	if len(priorities) == 0 {
		return nil, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(priorities)), ", ")
	args := make([]any, 0, len(priorities)+1)
	for _, p := range priorities {
		args = append(args, int(p))
	}
	args = append(args, limit)
	return t.scanIncidents("unplanned due", "SELECT "+prefixed("i.", incidentCols)+` FROM incidents i
		LEFT JOIN postmortem_due d ON d.incident_id = i.id
		WHERE d.incident_id IS NULL AND i.resolved_at > 0 AND i.status IN ('resolved', 'post-mortem', 'closed')
		AND i.priority IN (`+marks+`) ORDER BY i.resolved_at, i.id LIMIT ?`, args...)
}

// SavePostmortemDue implements postmortem.Tx.
func (t *Tx) SavePostmortemDue(d *postmortem.Due) error {
	_, err := t.exec("save postmortem due", `INSERT INTO postmortem_due (incident_id, due_at, reminders, next_at, state) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET due_at = excluded.due_at, reminders = excluded.reminders, next_at = excluded.next_at,
		state = excluded.state`, d.IncidentID, ts(d.DueAt), d.Reminders, ts(d.NextAt), d.State)
	return err
}

func (t *Tx) scanDue(op, q string, args ...any) ([]*postmortem.Due, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*postmortem.Due
	for rows.Next() {
		d := &postmortem.Due{}
		var due, next int64
		if err := rows.Scan(&d.IncidentID, &due, &d.Reminders, &next, &d.State); err != nil {
			return nil, t.dbError(op, err)
		}
		d.DueAt, d.NextAt = fromTS(due), fromTS(next)
		out = append(out, d)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// PostmortemDueOf implements postmortem.Tx.
func (t *Tx) PostmortemDueOf(incidentID int64) (*postmortem.Due, error) {
	ds, err := t.scanDue("postmortem due", "SELECT incident_id, due_at, reminders, next_at, state FROM postmortem_due WHERE incident_id = ?", incidentID)
	return one(ds, err, bot.Errorf(bot.ENotFound, "INC-%d has no post-mortem due date", incidentID))
}

// DuePostmortemReminders implements postmortem.Tx.
func (t *Tx) DuePostmortemReminders(now time.Time, limit int) ([]*postmortem.Due, error) {
	return t.scanDue("due postmortem reminders", `SELECT incident_id, due_at, reminders, next_at, state FROM postmortem_due
		WHERE state = 'pending' AND next_at > 0 AND next_at <= ? ORDER BY next_at, incident_id LIMIT ?`, ts(now), limit)
}
