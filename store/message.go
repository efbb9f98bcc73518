package store

import (
	"encoding/json"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Enqueue implements bot.MessageTx.
func (t *Tx) Enqueue(m *bot.Outgoing) error {
	body, err := json.Marshal(m.Message)
	if err != nil {
		return dbError("enqueue", err)
	}
	r, err := t.exec("enqueue", `INSERT INTO messages (channel_id, user_id, priority, body, kind, ref, due_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.ChannelID, m.UserID, int(m.Priority), string(body), m.Kind, m.Ref,
		ts(m.DueAt), ts(m.CreatedAt))
	if err != nil {
		return err
	}
	m.ID, err = r.LastInsertId()
	return dbErrorOrNil("enqueue", err)
}

// DueMessages implements bot.MessageTx.
func (t *Tx) DueMessages(now time.Time, limit int) ([]bot.Outgoing, error) {
	rows, err := t.query("due messages", `SELECT id, channel_id, user_id, priority, body, kind, ref, due_at, attempts,
		last_error, created_at FROM messages WHERE due_at <= ? ORDER BY priority, id LIMIT ?`, ts(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.Outgoing
	for rows.Next() {
		var m bot.Outgoing
		var body string
		var due, created int64
		if err := rows.Scan(&m.ID, &m.ChannelID, &m.UserID, &m.Priority, &body, &m.Kind, &m.Ref, &due, &m.Attempts,
			&m.LastError, &created); err != nil {
			return nil, dbError("due messages", err)
		}
		if err := json.Unmarshal([]byte(body), &m.Message); err != nil {
			return nil, dbError("due messages", err)
		}
		m.DueAt, m.CreatedAt = fromTS(due), fromTS(created)
		out = append(out, m)
	}
	return out, dbErrorOrNil("due messages", rows.Err())
}

// MessageSent implements bot.MessageTx.
func (t *Tx) MessageSent(id int64) error {
	_, err := t.exec("message sent", "DELETE FROM messages WHERE id = ?", id)
	return err
}

// DeferMessage implements bot.MessageTx.
func (t *Tx) DeferMessage(id int64, due time.Time, attempt bool, lastErr string) error {
	inc := 0
	if attempt {
		inc = 1
	}
	_, err := t.exec("defer message", `UPDATE messages SET due_at = ?, attempts = attempts + ?,
		last_error = CASE WHEN ? = '' THEN last_error ELSE ? END WHERE id = ?`, ts(due), inc, lastErr, lastErr, id)
	return err
}

// DropMessage implements bot.MessageTx.
func (t *Tx) DropMessage(id int64, reason string) error {
	if _, err := t.exec("drop message", `INSERT INTO dropped_messages (channel_id, user_id, kind, ref, body, reason, dropped_at)
		SELECT channel_id, user_id, kind, ref, body, ?, ? FROM messages WHERE id = ?`, reason, ts(time.Now()), id); err != nil {
		return err
	}
	return t.MessageSent(id)
}
