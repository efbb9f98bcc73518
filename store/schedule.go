package store

import (
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/marola-rp/klaxon/bot/paging"
)

// AddOverride implements paging.ScheduleTx.
func (t *Tx) AddOverride(o *paging.Override) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now()
	}
	r, err := t.exec("add override", `INSERT INTO schedule_overrides (schedule, user_id, starts_at, ends_at, created_by,
		reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		o.Schedule, o.UserID, ts(o.Start), ts(o.End), o.CreatedBy, o.Reason, ts(o.CreatedAt))
	if err != nil {
		return err
	}
	o.ID, err = r.LastInsertId()
	return t.dbErrorOrNil("add override", err)
}

// Overrides implements paging.ScheduleTx.
func (t *Tx) Overrides(schedule string, from, to time.Time) ([]paging.Override, error) {
	until := int64(math.MaxInt64)
	if !to.IsZero() {
		until = ts(to)
	}
	rows, err := t.query("overrides", `SELECT id, schedule, user_id, starts_at, ends_at, created_by, reason, created_at
		FROM schedule_overrides WHERE schedule = ? AND ends_at > ? AND starts_at < ? ORDER BY starts_at, id`,
		schedule, ts(from), until)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []paging.Override
	for rows.Next() {
		var o paging.Override
		var start, end, created int64
		if err := rows.Scan(&o.ID, &o.Schedule, &o.UserID, &start, &end, &o.CreatedBy, &o.Reason, &created); err != nil {
			return nil, t.dbError("overrides", err)
		}
		o.Start, o.End, o.CreatedAt = fromTS(start), fromTS(end), fromTS(created)
		out = append(out, o)
	}
	return out, t.dbErrorOrNil("overrides", rows.Err())
}

// RemoveOverride implements paging.ScheduleTx.
func (t *Tx) RemoveOverride(id int64) error {
	r, err := t.exec("remove override", "DELETE FROM schedule_overrides WHERE id = ?", id)
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return t.dbError("remove override", err)
	}
	if n == 0 {
		return notFound("override", id)
	}
	return nil
}

// LastHandoff implements paging.ScheduleTx.
func (t *Tx) LastHandoff(schedule string) (paging.Handoff, error) {
	h := paging.Handoff{Schedule: schedule}
	var start, end, announced int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT user_id, starts_at, ends_at, announced_at FROM schedule_handoffs
		WHERE schedule = ?`, schedule).Scan(&h.UserID, &start, &end, &announced)
	if errors.Is(err, sql.ErrNoRows) {
		return h, nil
	}
	if err != nil {
		return h, t.dbError("last handoff", err)
	}
	h.Start, h.End, h.AnnouncedAt = fromTS(start), fromTS(end), fromTS(announced)
	return h, nil
}

// SetLastHandoff implements paging.ScheduleTx.
func (t *Tx) SetLastHandoff(h paging.Handoff) error {
	_, err := t.exec("set last handoff", `INSERT INTO schedule_handoffs (schedule, user_id, starts_at, ends_at, announced_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (schedule) DO UPDATE SET user_id = excluded.user_id,
		starts_at = excluded.starts_at, ends_at = excluded.ends_at, announced_at = excluded.announced_at`,
		h.Schedule, h.UserID, ts(h.Start), ts(h.End), ts(h.AnnouncedAt))
	return err
}
