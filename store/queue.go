package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Enqueue implements bot.QueueTx.
func (t *Tx) Enqueue(m *bot.Outgoing) error {
	body, err := json.Marshal(m.Message)
	if err != nil {
		return t.dbError("enqueue", err)
	}
	buttons := m.Buttons
	if buttons == nil {
		buttons = []bot.Button{}
	}
	r, err := t.exec("enqueue", `INSERT INTO queue (kind, priority, channel_id, user_id, incident_id, body, buttons, tag, ref, due_at, created_at)
		VALUES ('message', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, int(m.Priority), m.ChannelID, m.UserID, m.IncidentID, string(body),
		encode(buttons), m.Kind, m.Ref, ts(m.DueAt), ts(m.CreatedAt))
	if err != nil {
		return err
	}
	m.ID, err = r.LastInsertId()
	return t.dbErrorOrNil("enqueue", err)
}

// MarkDirty implements bot.QueueTx.
func (t *Tx) MarkDirty(postID int64, p bot.Priority, now time.Time) error {
	return t.MarkItem(bot.ItemPost, postID, p, now)
}

// MarkItem implements bot.QueueTx. A change to a target whose item waits
// out a failure does not make it due sooner: the queue's retry policy
// decides that.
func (t *Tx) MarkItem(kind bot.ItemKind, target int64, p bot.Priority, now time.Time) error {
	_, err := t.exec("mark item", `INSERT INTO queue (kind, target, priority, due_at, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, target) WHERE target IS NOT NULL DO UPDATE SET version = queue.version + 1,
			priority = MIN(queue.priority, excluded.priority),
			due_at = CASE WHEN queue.attempts = 0 OR queue.dead_at != 0 THEN MIN(queue.due_at, excluded.due_at) ELSE queue.due_at END,
			dead_at = 0`,
		string(kind), target, int(p), ts(now), ts(now))
	return err
}

const itemCols = `id, kind, target, priority, version, channel_id, user_id, incident_id, body, buttons, tag, ref, due_at, attempts,
	sends, last_error, dead_at, created_at`

func (t *Tx) scanItems(op, q string, args ...any) ([]bot.Item, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.Item
	for rows.Next() {
		var it bot.Item
		var target sql.NullInt64
		var m bot.Outgoing
		var body, buttons string
		var due, dead, created int64
		if err := rows.Scan(&it.ID, &it.Kind, &target, &it.Priority, &it.Version, &m.ChannelID, &m.UserID, &m.IncidentID,
			&body, &buttons, &m.Kind, &m.Ref, &due, &it.Attempts, &it.Sends, &it.LastError, &dead, &created); err != nil {
			return nil, t.dbError(op, err)
		}
		it.Target = target.Int64
		it.DueAt, it.DeadAt, it.CreatedAt = fromTS(due), fromTS(dead), fromTS(created)
		if it.Kind == bot.ItemMessage {
			if err := errors.Join(json.Unmarshal([]byte(body), &m.Message), json.Unmarshal([]byte(buttons), &m.Buttons)); err != nil {
				return nil, t.dbError(op, err)
			}
			if m.Message.Tone == bot.ToneNone {
				m.Message.Tone = legacyTone(body)
			}
			m.ID, m.Priority, m.DueAt, m.CreatedAt = it.ID, it.Priority, it.DueAt, it.CreatedAt
			m.Attempts, m.LastError = it.Attempts, it.LastError
			it.Message = &m
		}
		out = append(out, it)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// DueItems implements bot.QueueTx.
func (t *Tx) DueItems(now time.Time, limit int) ([]bot.Item, error) {
	// Within a priority: cards first, then the incident threads started on
	// them, then messages (pages reply to cards, thread messages need the thread).
	return t.scanItems("due items", "SELECT "+itemCols+` FROM queue WHERE dead_at = 0 AND due_at <= ?
		ORDER BY priority, CASE kind WHEN 'post' THEN 0 WHEN 'incident' THEN 1 ELSE 2 END, created_at, id LIMIT ?`, ts(now), limit)
}

// ItemDone implements bot.QueueTx.
func (t *Tx) ItemDone(id, version int64) error {
	_, err := t.exec("item done", "DELETE FROM queue WHERE id = ? AND version = ?", id, version)
	if err != nil {
		return err
	}
	// Changed meanwhile: the next round starts afresh.
	_, err = t.exec("item done", "UPDATE queue SET attempts = 0, sends = 0, last_error = '' WHERE id = ?", id)
	return err
}

// RemoveItem implements bot.QueueTx.
func (t *Tx) RemoveItem(id int64) error {
	_, err := t.exec("remove item", "DELETE FROM queue WHERE id = ?", id)
	return err
}

// EnsureItem implements bot.QueueTx.
func (t *Tx) EnsureItem(kind bot.ItemKind, target int64, p bot.Priority, now time.Time) error {
	_, err := t.exec("ensure item", `INSERT INTO queue (kind, target, priority, due_at, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, target) WHERE target IS NOT NULL DO NOTHING`, string(kind), target, int(p), ts(now), ts(now))
	return err
}

// RetryItem implements bot.QueueTx.
func (t *Tx) RetryItem(id int64, due time.Time, attempt bool, lastErr string) error {
	inc := 0
	if attempt {
		inc = 1
	}
	_, err := t.exec("retry item", `UPDATE queue SET due_at = ?, attempts = attempts + ?,
		last_error = CASE WHEN ? = '' THEN last_error ELSE ? END WHERE id = ?`, ts(due), inc, lastErr, lastErr, id)
	return err
}

// ItemSending implements bot.QueueTx.
func (t *Tx) ItemSending(id int64) error {
	r, err := t.exec("item sending", "UPDATE queue SET sends = sends + 1 WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return bot.Errorf(bot.ENotFound, "queue item %d is gone", id)
	}
	return nil
}

// MarkSent implements bot.QueueTx.
func (t *Tx) MarkSent(at time.Time) error {
	_, err := t.exec("mark sent", "UPDATE outbound_state SET last_sent = max(last_sent, ?) WHERE id = 1", ts(at))
	return err
}

// LastSent implements bot.QueueTx.
func (t *Tx) LastSent() (time.Time, error) {
	var n int64
	if err := t.tx.QueryRowContext(t.ctx, "SELECT last_sent FROM outbound_state WHERE id = 1").Scan(&n); err != nil {
		return time.Time{}, t.dbError("last sent", err)
	}
	return fromTS(n), nil
}

// ItemNotSent implements bot.QueueTx.
func (t *Tx) ItemNotSent(id int64) error {
	_, err := t.exec("item not sent", "UPDATE queue SET sends = max(sends - 1, 0) WHERE id = ?", id)
	return err
}

// DeadItem implements bot.QueueTx.
func (t *Tx) DeadItem(id int64, reason string, now time.Time) error {
	_, err := t.exec("dead item", "UPDATE queue SET dead_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?", ts(now), reason, id)
	return err
}

// DeadItems implements bot.QueueTx.
func (t *Tx) DeadItems(limit int) ([]bot.Item, error) {
	return t.scanItems("dead items", "SELECT "+itemCols+" FROM queue WHERE dead_at != 0 ORDER BY dead_at DESC, id DESC LIMIT ?", limit)
}

// RequeueDead implements bot.QueueTx.
func (t *Tx) RequeueDead(now time.Time) (int, error) {
	r, err := t.exec("requeue dead", "UPDATE queue SET dead_at = 0, due_at = ?, attempts = 0 WHERE dead_at != 0", ts(now))
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), t.dbErrorOrNil("requeue dead", err)
}

// QueueStats implements bot.QueueTx.
func (t *Tx) QueueStats() (int, time.Time, int, error) {
	var n, dead int
	var oldest sql.NullInt64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FILTER (WHERE dead_at = 0), MIN(created_at) FILTER (WHERE dead_at = 0),
		count(*) FILTER (WHERE dead_at != 0) FROM queue`).Scan(&n, &oldest, &dead); err != nil {
		return 0, time.Time{}, 0, t.dbError("queue stats", err)
	}
	return n, fromTS(oldest.Int64), dead, nil
}

// PendingMessages implements bot.QueueTx.
func (t *Tx) PendingMessages(incidentID int64) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, "SELECT count(*) FROM queue WHERE incident_id = ? AND kind = 'message' AND dead_at = 0", incidentID).Scan(&n)
	return n > 0, t.dbErrorOrNil("pending messages", err)
}

// CancelMessages implements bot.QueueTx.
func (t *Tx) CancelMessages(tag, refPrefix string) error {
	_, err := t.exec("cancel messages", "DELETE FROM queue WHERE kind = 'message' AND tag = ? AND substr(ref, 1, ?) = ?", tag, len(refPrefix), refPrefix)
	return err
}

// legacyColors are the embed colours that messages queued before bot.Tone
// carried (as "Color"), mapped to the tone that renders the same colour.
var legacyColors = map[int]bot.Tone{
	0xE01E1E: bot.ToneP0, 0xF2711C: bot.ToneP1, 0xF2C037: bot.ToneP2, 0x3B82F6: bot.ToneP3,
	0x2EB67D: bot.ToneResolved, 0xF0A202: bot.ToneWarning, 0x808080: bot.ToneMuted,
	0x4A90D9: bot.ToneInfo, 0x5865F2: bot.ToneDocument,
}

// legacyTone is the tone of a message queued by a version that stored its
// colour: a restart across the upgrade keeps the colour of what was queued.
func legacyTone(body string) bot.Tone {
	var old struct{ Color int }
	if json.Unmarshal([]byte(body), &old) != nil {
		return bot.ToneNone
	}
	return legacyColors[old.Color]
}
