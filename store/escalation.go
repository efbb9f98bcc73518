package store

import (
	"strconv"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

var _ paging.Tx = (*Tx)(nil)

// Paging returns db as the paging feature's store.
func (db *DB) Paging() bot.TxStore[paging.Tx] {
	return Feature(db, func(t *Tx) paging.Tx { return t })
}

// StartEscalation implements paging.Tx.
func (t *Tx) StartEscalation(e paging.Escalation) error {
	_, err := t.exec("start escalation", `INSERT INTO escalations (group_id, priority, step, loop, next_at, deadline, overdue, done)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET priority = excluded.priority, step = excluded.step,
		loop = excluded.loop, next_at = excluded.next_at, deadline = excluded.deadline, overdue = excluded.overdue, done = excluded.done`,
		e.GroupID, int(e.Priority), e.Step, e.Loop, ts(e.NextAt), ts(e.Deadline), e.Overdue, e.Done)
	return err
}

const escCols = "group_id, priority, step, loop, next_at, deadline, overdue, done"

func (t *Tx) scanEscalations(op, q string, args ...any) ([]paging.Escalation, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []paging.Escalation
	for rows.Next() {
		var e paging.Escalation
		var next, deadline int64
		if err := rows.Scan(&e.GroupID, &e.Priority, &e.Step, &e.Loop, &next, &deadline, &e.Overdue, &e.Done); err != nil {
			return nil, t.dbError(op, err)
		}
		e.NextAt, e.Deadline = fromTS(next), fromTS(deadline)
		out = append(out, e)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// Escalation implements paging.Tx.
func (t *Tx) Escalation(groupID int64) (*paging.Escalation, error) {
	es, err := t.scanEscalations("escalation", "SELECT "+escCols+" FROM escalations WHERE group_id = ?", groupID)
	e, err := one(es, err, notFound("escalation of group", groupID))
	return ptr(e, err)
}

// SaveEscalation implements paging.Tx.
func (t *Tx) SaveEscalation(e *paging.Escalation) error { return t.StartEscalation(*e) }

// StopEscalation implements paging.Tx.
func (t *Tx) StopEscalation(groupID int64) error {
	_, err := t.exec("stop escalation", "DELETE FROM escalations WHERE group_id = ?", groupID)
	return err
}

// DueEscalations implements paging.Tx.
func (t *Tx) DueEscalations(now time.Time, limit int) ([]paging.Escalation, error) {
	return t.scanEscalations("due escalations", "SELECT "+escCols+` FROM escalations
		WHERE (done = 0 AND next_at <= ?) OR (overdue = 0 AND deadline > 0 AND deadline <= ?)
		ORDER BY priority, next_at LIMIT ?`, ts(now), ts(now), limit)
}

const pageCols = "id, group_id, step, via, user_id, role_id, schedule, status, detail, call_sid, created_at, sent_at, keypress, answered_at"

func (t *Tx) scanPages(op, q string, args ...any) ([]paging.PageRecord, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []paging.PageRecord
	for rows.Next() {
		var p paging.PageRecord
		var created, sent, answered int64
		if err := rows.Scan(&p.ID, &p.GroupID, &p.Step, &p.Via, &p.UserID, &p.RoleID, &p.Schedule, &p.Status, &p.Detail,
			&p.CallSID, &created, &sent, &p.Keypress, &answered); err != nil {
			return nil, t.dbError(op, err)
		}
		p.CreatedAt, p.SentAt, p.AnsweredAt = fromTS(created), fromTS(sent), fromTS(answered)
		out = append(out, p)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// AddPage implements paging.Tx.
func (t *Tx) AddPage(p *paging.PageRecord) error {
	r, err := t.exec("add page", `INSERT INTO pages (group_id, step, via, user_id, role_id, schedule, status, detail, call_sid,
		created_at, sent_at, keypress, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.GroupID, p.Step, p.Via, p.UserID,
		p.RoleID, p.Schedule, p.Status, p.Detail, p.CallSID, ts(p.CreatedAt), ts(p.SentAt), p.Keypress, ts(p.AnsweredAt))
	if err != nil {
		return err
	}
	p.ID, err = r.LastInsertId()
	return t.dbErrorOrNil("add page", err)
}

// PageRecord implements paging.Tx.
func (t *Tx) PageRecord(id int64) (*paging.PageRecord, error) {
	ps, err := t.scanPages("page", "SELECT "+pageCols+" FROM pages WHERE id = ?", id)
	p, err := one(ps, err, notFound("page", id))
	return ptr(p, err)
}

// UpdatePage implements paging.Tx.
func (t *Tx) UpdatePage(p *paging.PageRecord) error {
	_, err := t.exec("update page", "UPDATE pages SET status = ?, detail = ?, call_sid = ?, sent_at = ?, keypress = ?, answered_at = ? WHERE id = ?",
		p.Status, p.Detail, p.CallSID, ts(p.SentAt), p.Keypress, ts(p.AnsweredAt), p.ID)
	return err
}

// QueuedPages implements paging.Tx.
func (t *Tx) QueuedPages(via bot.Via, limit int) ([]paging.PageRecord, error) {
	return t.scanPages("queued pages", "SELECT "+pageCols+" FROM pages WHERE via = ? AND status = 'queued' ORDER BY id LIMIT ?", via, limit)
}

// CancelPages implements paging.Tx.
func (t *Tx) CancelPages(groupID int64) (int, error) {
	r, err := t.exec("cancel pages", "UPDATE pages SET status = 'cancelled' WHERE group_id = ? AND status = 'queued'", groupID)
	if err != nil {
		return 0, err
	}
	n, _ := r.RowsAffected()
	if err := t.CancelMessages("page", "group:"+itoa(groupID)+":page:"); err != nil {
		return 0, err
	}
	return int(n), nil
}

// PagesSince implements paging.Tx.
func (t *Tx) PagesSince(userID string, via bot.Via, since time.Time) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, "SELECT count(*) FROM pages WHERE user_id = ? AND via = ? AND status = 'sent' AND sent_at >= ?",
		userID, via, ts(since)).Scan(&n)
	return n, t.dbErrorOrNil("pages since", err)
}

// UnsentPages implements paging.Tx.
func (t *Tx) UnsentPages(since time.Time, limit int) ([]paging.PageRecord, error) {
	return t.scanPages("unsent pages", "SELECT "+pageCols+` FROM pages WHERE status IN ('skipped', 'failed') AND created_at >= ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, ts(since), limit)
}

// RecordAction implements paging.Tx.
func (t *Tx) RecordAction(groupID int64, kind string, a bot.Action, detail string) error {
	_, err := t.exec("record action", `INSERT INTO actions (group_id, kind, user_id, user_name, via, detail, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, groupID, kind, a.UserID, a.Name, a.Via, detail, ts(a.At))
	return err
}

// Actions implements paging.Tx.
func (t *Tx) Actions(groupID int64) ([]paging.ActionRecord, error) {
	rows, err := t.query("actions", "SELECT kind, user_id, user_name, via, detail, at FROM actions WHERE group_id = ? ORDER BY id", groupID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []paging.ActionRecord
	for rows.Next() {
		var r paging.ActionRecord
		var at int64
		if err := rows.Scan(&r.Kind, &r.Action.UserID, &r.Action.Name, &r.Action.Via, &r.Detail, &at); err != nil {
			return nil, t.dbError("actions", err)
		}
		r.Action.At = fromTS(at)
		out = append(out, r)
	}
	return out, t.dbErrorOrNil("actions", rows.Err())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
