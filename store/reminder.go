package store

import (
	"database/sql"
	"errors"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
)

var _ calendar.Tx = (*Tx)(nil)

// Calendar returns db as the SRE calendar's store.
func (db *DB) Calendar() bot.TxStore[calendar.Tx] {
	return Feature(db, func(t *Tx) calendar.Tx { return t })
}

const reminderCols = `id, name, cron, time_zone, channel_id, message, roles, paused, source, next_at, last_run_at,
	created_by, created_at, updated_at`

func (t *Tx) scanReminders(op, q string, args ...any) ([]calendar.Reminder, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []calendar.Reminder
	for rows.Next() {
		var r calendar.Reminder
		var roles string
		var next, last, created, updated int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Cron, &r.TimeZone, &r.ChannelID, &r.Message, &roles, &r.Paused, &r.Source,
			&next, &last, &r.CreatedBy, &created, &updated); err != nil {
			return nil, t.dbError(op, err)
		}
		if r.Roles, err = decodeList(roles); err != nil {
			return nil, t.dbError(op, err)
		}
		r.NextAt, r.LastRunAt, r.CreatedAt, r.UpdatedAt = fromTS(next), fromTS(last), fromTS(created), fromTS(updated)
		out = append(out, r)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// AddReminder implements calendar.ReminderTx.
func (t *Tx) AddReminder(r *calendar.Reminder) error {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, "SELECT count(*) FROM reminders WHERE name = ?", r.Name).Scan(&n); err != nil {
		return t.dbError("add reminder", err)
	}
	if n > 0 {
		return bot.Errorf(bot.EConflict, "a reminder named %s exists already: choose another name, or remove it first with /reminder remove", r.Name)
	}
	res, err := t.exec("add reminder", `INSERT INTO reminders (name, cron, time_zone, channel_id, message, roles, paused, source,
		next_at, last_run_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Name, r.Cron, r.TimeZone, r.ChannelID, r.Message, encode(nonNilList(r.Roles)), r.Paused, r.Source,
		ts(r.NextAt), ts(r.LastRunAt), r.CreatedBy, ts(r.CreatedAt), ts(r.UpdatedAt))
	if err != nil {
		return err
	}
	r.ID, err = res.LastInsertId()
	return t.dbErrorOrNil("add reminder", err)
}

// Reminder implements calendar.ReminderTx.
func (t *Tx) Reminder(name string) (*calendar.Reminder, error) {
	rs, err := t.scanReminders("reminder", "SELECT "+reminderCols+" FROM reminders WHERE name = ?", name)
	r, err := one(rs, err, notFound("reminder", name))
	return &r, err
}

// ReminderByID implements calendar.ReminderTx.
func (t *Tx) ReminderByID(id int64) (*calendar.Reminder, error) {
	rs, err := t.scanReminders("reminder", "SELECT "+reminderCols+" FROM reminders WHERE id = ?", id)
	r, err := one(rs, err, notFound("reminder", id))
	return &r, err
}

// Reminders implements calendar.ReminderTx.
func (t *Tx) Reminders() ([]calendar.Reminder, error) {
	return t.scanReminders("reminders", "SELECT "+reminderCols+" FROM reminders ORDER BY name")
}

// DueReminders implements calendar.ReminderTx.
func (t *Tx) DueReminders(now time.Time, limit int) ([]calendar.Reminder, error) {
	return t.scanReminders("due reminders", "SELECT "+reminderCols+` FROM reminders
		WHERE paused = 0 AND next_at > 0 AND next_at <= ? ORDER BY next_at, id LIMIT ?`, ts(now), limit)
}

// SaveReminder implements calendar.ReminderTx.
func (t *Tx) SaveReminder(r *calendar.Reminder) error {
	_, err := t.exec("save reminder", `UPDATE reminders SET cron = ?, time_zone = ?, channel_id = ?, message = ?, roles = ?,
		paused = ?, next_at = ?, last_run_at = ?, updated_at = ? WHERE id = ?`,
		r.Cron, r.TimeZone, r.ChannelID, r.Message, encode(nonNilList(r.Roles)), r.Paused, ts(r.NextAt), ts(r.LastRunAt),
		ts(r.UpdatedAt), r.ID)
	return err
}

// RemoveReminder implements calendar.ReminderTx.
func (t *Tx) RemoveReminder(name string) error {
	res, err := t.exec("remove reminder", "DELETE FROM reminders WHERE name = ?", name)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.dbError("remove reminder", err)
	} else if n == 0 {
		return notFound("reminder", name)
	}
	return nil
}

// RecordRun implements calendar.ReminderTx.
func (t *Tx) RecordRun(r calendar.Run) (bool, error) {
	res, err := t.exec("record run", `INSERT INTO calendar_runs (job, scheduled_at, status, skipped, detail, at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job, scheduled_at) DO NOTHING`,
		r.Job, ts(r.ScheduledAt), r.Status, r.Skipped, r.Detail, ts(r.At))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, t.dbErrorOrNil("record run", err)
}

// Runs implements calendar.ReminderTx.
func (t *Tx) Runs(job string, limit int) ([]calendar.Run, error) {
	rows, err := t.query("runs", `SELECT job, scheduled_at, status, skipped, detail, at FROM calendar_runs
		WHERE job = ? ORDER BY id DESC LIMIT ?`, job, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []calendar.Run
	for rows.Next() {
		var r calendar.Run
		var sched, at int64
		if err := rows.Scan(&r.Job, &sched, &r.Status, &r.Skipped, &r.Detail, &at); err != nil {
			return nil, t.dbError("runs", err)
		}
		r.ScheduledAt, r.At = fromTS(sched), fromTS(at)
		out = append(out, r)
	}
	return out, t.dbErrorOrNil("runs", rows.Err())
}

// CalendarState implements calendar.ReminderTx.
func (t *Tx) CalendarState(job string) (calendar.State, error) {
	s := calendar.State{Job: job}
	var next, last int64
	err := t.tx.QueryRowContext(t.ctx, "SELECT spec, next_at, last_run_at FROM calendar_state WHERE job = ?", job).
		Scan(&s.Spec, &next, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, t.dbError("calendar state", err)
	}
	s.NextAt, s.LastRunAt = fromTS(next), fromTS(last)
	return s, nil
}

// SaveCalendarState implements calendar.ReminderTx.
func (t *Tx) SaveCalendarState(s calendar.State) error {
	_, err := t.exec("save calendar state", `INSERT INTO calendar_state (job, spec, next_at, last_run_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET spec = excluded.spec, next_at = excluded.next_at, last_run_at = excluded.last_run_at`,
		s.Job, s.Spec, ts(s.NextAt), ts(s.LastRunAt))
	return err
}
