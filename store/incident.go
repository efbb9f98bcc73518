package store

import (
	"encoding/json"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

var _ incident.Tx = (*Tx)(nil)

// Incident returns db as the incident feature's store.
func (db *DB) Incident() bot.TxStore[incident.Tx] {
	return Feature(db, func(t *Tx) incident.Tx { return t })
}

const incidentCols = `id, title, priority, impact, services, status, roles, channel_id, thread_id, summary_id, created_by,
	started_at, detected_at, acked_at, mitigated_at, resolved_at, closed_at, last_update_at, version`

// SaveIncident implements incident.Tx.
func (t *Tx) SaveIncident(i *bot.Incident) error {
	roles := i.Roles
	if roles == nil {
		roles = map[string]string{}
	}
	args := []any{i.Title, int(i.Priority), i.Impact, encode(nonNilList(i.Services)), string(i.Status), encode(roles),
		i.ChannelID, i.ThreadID, i.SummaryID, encode(i.CreatedBy), ts(i.StartedAt), ts(i.DetectedAt), ts(i.AckedAt),
		ts(i.MitigatedAt), ts(i.ResolvedAt), ts(i.ClosedAt), ts(i.LastUpdateAt), i.Version}
	if i.ID == 0 {
		r, err := t.exec("insert incident", `INSERT INTO incidents (title, priority, impact, services, status, roles, channel_id,
			thread_id, summary_id, created_by, started_at, detected_at, acked_at, mitigated_at, resolved_at, closed_at,
			last_update_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return err
		}
		if i.ID, err = r.LastInsertId(); err != nil {
			return t.dbError("insert incident", err)
		}
	} else if _, err := t.exec("update incident", `UPDATE incidents SET title = ?, priority = ?, impact = ?, services = ?, status = ?,
		roles = ?, channel_id = ?, thread_id = ?, summary_id = ?, created_by = ?, started_at = ?, detected_at = ?, acked_at = ?,
		mitigated_at = ?, resolved_at = ?, closed_at = ?, last_update_at = ?, version = ? WHERE id = ?`, append(args, i.ID)...); err != nil {
		return err
	}
	if _, err := t.exec("link groups", "DELETE FROM incident_groups WHERE incident_id = ?", i.ID); err != nil {
		return err
	}
	for _, g := range i.GroupIDs {
		if _, err := t.exec("link groups", "INSERT INTO incident_groups (incident_id, group_id) VALUES (?, ?)", i.ID, g); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) scanIncidents(op, q string, args ...any) ([]*bot.Incident, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	var out []*bot.Incident
	for rows.Next() {
		i := &bot.Incident{}
		var services, status, roles, createdBy string
		var started, detected, acked, mitigated, resolved, closed, updated int64
		if err := rows.Scan(&i.ID, &i.Title, &i.Priority, &i.Impact, &services, &status, &roles, &i.ChannelID, &i.ThreadID,
			&i.SummaryID, &createdBy, &started, &detected, &acked, &mitigated, &resolved, &closed, &updated, &i.Version); err != nil {
			rows.Close()
			return nil, t.dbError(op, err)
		}
		i.Status = bot.IncidentStatus(status)
		i.StartedAt, i.DetectedAt, i.AckedAt, i.MitigatedAt = fromTS(started), fromTS(detected), fromTS(acked), fromTS(mitigated)
		i.ResolvedAt, i.ClosedAt, i.LastUpdateAt = fromTS(resolved), fromTS(closed), fromTS(updated)
		var e1, e2, e3 error
		i.Services, e1 = decodeList(services)
		i.Roles = map[string]string{}
		e2 = json.Unmarshal([]byte(roles), &i.Roles)
		e3 = json.Unmarshal([]byte(createdBy), &i.CreatedBy)
		if e1 != nil || e2 != nil || e3 != nil {
			rows.Close()
			return nil, t.dbError(op, firstErr(e1, e2, e3))
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, t.dbError(op, err)
	}
	rows.Close()
	for _, i := range out {
		if i.GroupIDs, err = column[int64](t, op, "SELECT group_id FROM incident_groups WHERE incident_id = ? ORDER BY group_id", i.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Incident implements incident.Tx.
func (t *Tx) Incident(id int64) (*bot.Incident, error) {
	is, err := t.scanIncidents("incident", "SELECT "+incidentCols+" FROM incidents WHERE id = ?", id)
	return one(is, err, bot.Errorf(bot.ENotFound, "there is no incident INC-%d", id))
}

// IncidentByThread implements incident.Tx.
func (t *Tx) IncidentByThread(threadID string) (*bot.Incident, error) {
	is, err := t.scanIncidents("incident by thread", "SELECT "+incidentCols+" FROM incidents WHERE thread_id = ? AND thread_id != ''", threadID)
	return one(is, err, bot.Errorf(bot.ENotFound, "this thread is not an incident's thread"))
}

// IncidentOfGroup implements incident.Tx.
func (t *Tx) IncidentOfGroup(groupID int64) (*bot.Incident, error) {
	is, err := t.scanIncidents("incident of group", "SELECT "+prefixed("i.", incidentCols)+` FROM incidents i
		JOIN incident_groups ig ON ig.incident_id = i.id WHERE ig.group_id = ?`, groupID)
	return one(is, err, bot.Errorf(bot.ENotFound, "alert group %d is not linked to an incident", groupID))
}

// Incidents implements incident.Tx.
func (t *Tx) Incidents(openOnly bool, limit int) ([]*bot.Incident, error) {
	q := "SELECT " + incidentCols + " FROM incidents"
	if openOnly {
		q += " WHERE status IN ('detected', 'investigating', 'mitigated')"
	}
	return t.scanIncidents("incidents", q+" ORDER BY id DESC LIMIT ?", limit)
}

// IncidentsBetween implements incident.Tx.
func (t *Tx) IncidentsBetween(from, to time.Time) ([]*bot.Incident, error) {
	return t.scanIncidents("incidents between", "SELECT "+incidentCols+` FROM incidents
		WHERE (CASE WHEN started_at = 0 THEN detected_at ELSE started_at END) < ? AND (resolved_at = 0 OR resolved_at >= ?)
		ORDER BY id`, ts(to), ts(from))
}

// AddTimelineEvent implements incident.Tx.
func (t *Tx) AddTimelineEvent(e *bot.TimelineEvent) error {
	r, err := t.exec("add timeline event", `INSERT INTO timeline (incident_id, at, kind, user_id, user_name, via, text, ref)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.IncidentID, ts(e.At), e.Kind, e.Actor.UserID, e.Actor.Name, e.Actor.Via, e.Text, e.Ref)
	if err != nil {
		return err
	}
	e.ID, err = r.LastInsertId()
	return t.dbErrorOrNil("add timeline event", err)
}

// Timeline implements incident.Tx.
func (t *Tx) Timeline(incidentID int64) ([]bot.TimelineEvent, error) {
	rows, err := t.query("timeline", `SELECT id, incident_id, at, kind, user_id, user_name, via, text, ref FROM timeline
		WHERE incident_id = ? ORDER BY at, id`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.TimelineEvent
	for rows.Next() {
		var e bot.TimelineEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor.UserID, &e.Actor.Name, &e.Actor.Via, &e.Text, &e.Ref); err != nil {
			return nil, t.dbError("timeline", err)
		}
		e.At = fromTS(at)
		out = append(out, e)
	}
	return out, t.dbErrorOrNil("timeline", rows.Err())
}

// PreviousEpisode implements incident.Tx.
func (t *Tx) PreviousEpisode(key string, beforeID int64) (*bot.Group, error) {
	gs, err := t.scanGroups("previous episode", "SELECT "+groupCols+" FROM alert_groups WHERE group_key = ? AND id < ? ORDER BY id DESC LIMIT 1", key, beforeID)
	return one(gs, err, notFound("earlier episode of", key))
}
