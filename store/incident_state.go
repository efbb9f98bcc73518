package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

// IncidentState implements incident.Tx.
func (t *Tx) IncidentState(incidentID int64) (*incident.State, error) {
	s := &incident.State{IncidentID: incidentID}
	var snoozed, reminded, cmd, nudged int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT source, post_id, announce_id, summary_version, archived, snoozed_until,
		update_reminded_at, commander_reminded_at, nudged_at, thread_error FROM incident_state WHERE incident_id = ?`, incidentID).
		Scan(&s.Source, &s.PostID, &s.AnnounceID, &s.SummaryVersion, &s.Archived, &snoozed, &reminded, &cmd, &nudged, &s.ThreadError)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, t.dbError("incident state", err)
	}
	s.SnoozedUntil, s.UpdateRemindedAt, s.CommanderRemindedAt, s.NudgedAt = fromTS(snoozed), fromTS(reminded), fromTS(cmd), fromTS(nudged)
	return s, nil
}

// SaveIncidentState implements incident.Tx.
func (t *Tx) SaveIncidentState(s *incident.State) error {
	_, err := t.exec("save incident state", `INSERT OR REPLACE INTO incident_state (incident_id, source, post_id, announce_id,
		summary_version, archived, snoozed_until, update_reminded_at, commander_reminded_at, nudged_at, thread_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.IncidentID, s.Source, s.PostID, s.AnnounceID, s.SummaryVersion, s.Archived,
		ts(s.SnoozedUntil), ts(s.UpdateRemindedAt), ts(s.CommanderRemindedAt), ts(s.NudgedAt), s.ThreadError)
	return err
}

// IncidentsToSync implements incident.Tx.
func (t *Tx) IncidentsToSync(limit int) ([]*bot.Incident, error) {
	return t.scanIncidents("incidents to sync", "SELECT "+prefixed("i.", incidentCols)+` FROM incidents i
		LEFT JOIN incident_state s ON s.incident_id = i.id
		WHERE i.status != 'closed' OR (i.thread_id != '' AND COALESCE(s.archived, 0) = 0)
		   OR COALESCE(s.summary_version, 0) < i.version
		ORDER BY i.id LIMIT ?`, limit)
}

// AddThreadMember implements incident.Tx.
func (t *Tx) AddThreadMember(incidentID int64, userID string) error {
	_, err := t.exec("add thread member", "INSERT OR IGNORE INTO incident_members (incident_id, user_id) VALUES (?, ?)", incidentID, userID)
	return err
}

// PendingThreadMembers implements incident.Tx.
func (t *Tx) PendingThreadMembers(incidentID int64) ([]string, error) {
	return column[string](t, "pending thread members", "SELECT user_id FROM incident_members WHERE incident_id = ? AND result = '' ORDER BY rowid", incidentID)
}

// ThreadMemberAdded implements incident.Tx.
func (t *Tx) ThreadMemberAdded(incidentID int64, userID, result string) error {
	if result == "" {
		result = "added"
	}
	_, err := t.exec("thread member added", "UPDATE incident_members SET result = ? WHERE incident_id = ? AND user_id = ?", result, incidentID, userID)
	return err
}

// GroupActionsSeen implements incident.Tx.
func (t *Tx) GroupActionsSeen(incidentID, groupID int64) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, "SELECT seen FROM incident_group_actions WHERE incident_id = ? AND group_id = ?", incidentID, groupID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, t.dbErrorOrNil("group actions seen", err)
}

// SetGroupActionsSeen implements incident.Tx.
func (t *Tx) SetGroupActionsSeen(incidentID, groupID int64, n int) error {
	_, err := t.exec("set group actions seen", "INSERT OR REPLACE INTO incident_group_actions (incident_id, group_id, seen) VALUES (?, ?, ?)", incidentID, groupID, n)
	return err
}

// LastTimelineEvent implements incident.Tx.
func (t *Tx) LastTimelineEvent(incidentID int64, ref string, kinds ...string) (*bot.TimelineEvent, error) {
	q := `SELECT id, incident_id, at, kind, user_id, user_name, via, text, ref FROM timeline WHERE incident_id = ? AND ref = ?`
	args := []any{incidentID, ref}
	if len(kinds) > 0 {
		q += " AND kind IN (?" + strings.Repeat(", ?", len(kinds)-1) + ")"
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	var e bot.TimelineEvent
	var at int64
	err := t.tx.QueryRowContext(t.ctx, q+" ORDER BY at DESC, id DESC LIMIT 1", args...).
		Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor.UserID, &e.Actor.Name, &e.Actor.Via, &e.Text, &e.Ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENotFound, "no timeline event %s", ref)
	}
	if err != nil {
		return nil, t.dbError("last timeline event", err)
	}
	e.At = fromTS(at)
	return &e, nil
}

// SaveReport implements incident.Tx.
func (t *Tx) SaveReport(r *incident.UserReport) error {
	args := []any{r.Text, encode(r.Reporter), r.ChannelID, r.Status, r.IncidentID, encode(r.HandledBy), r.TriageChannelID, r.MessageID,
		ts(r.CreatedAt), ts(r.HandledAt)}
	if r.ID == 0 {
		res, err := t.exec("save report", `INSERT INTO user_reports (text, reporter, channel_id, status, incident_id, handled_by,
			triage_channel_id, message_id, created_at, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return err
		}
		r.ID, err = res.LastInsertId()
		return t.dbErrorOrNil("save report", err)
	}
	_, err := t.exec("save report", `UPDATE user_reports SET text = ?, reporter = ?, channel_id = ?, status = ?, incident_id = ?,
		handled_by = ?, triage_channel_id = ?, message_id = ?, created_at = ?, handled_at = ? WHERE id = ?`, append(args, r.ID)...)
	return err
}

const reportCols = `id, text, reporter, channel_id, status, incident_id, handled_by, triage_channel_id, message_id, created_at, handled_at`

func (t *Tx) scanReports(op, q string, args ...any) ([]*incident.UserReport, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*incident.UserReport
	for rows.Next() {
		r := &incident.UserReport{}
		var reporter, handledBy string
		var created, handled int64
		if err := rows.Scan(&r.ID, &r.Text, &reporter, &r.ChannelID, &r.Status, &r.IncidentID, &handledBy, &r.TriageChannelID,
			&r.MessageID, &created, &handled); err != nil {
			return nil, t.dbError(op, err)
		}
		if err := errors.Join(json.Unmarshal([]byte(reporter), &r.Reporter), json.Unmarshal([]byte(handledBy), &r.HandledBy)); err != nil {
			return nil, t.dbError(op, err)
		}
		r.CreatedAt, r.HandledAt = fromTS(created), fromTS(handled)
		out = append(out, r)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// Report implements incident.Tx.
func (t *Tx) Report(id int64) (*incident.UserReport, error) {
	rs, err := t.scanReports("report", "SELECT "+reportCols+" FROM user_reports WHERE id = ?", id)
	return one(rs, err, bot.Errorf(bot.ENotFound, "there is no report #%d", id))
}

// OpenReports implements incident.Tx.
func (t *Tx) OpenReports(limit int) ([]*incident.UserReport, error) {
	return t.scanReports("open reports", "SELECT "+reportCols+" FROM user_reports WHERE status = 'open' ORDER BY id DESC LIMIT ?", limit)
}

// SaveIncidentMeasure implements incident.Tx.
func (t *Tx) SaveIncidentMeasure(m incident.Measure) error {
	_, err := t.exec("save incident measure", `INSERT OR REPLACE INTO incident_measures (incident_id, priority, detected_at,
		time_to_ack, time_to_mitigate, time_to_resolve, impact_duration, acked, mitigated, resolved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.IncidentID, int(m.Priority), ts(m.DetectedAt), int64(m.TimeToAck), int64(m.TimeToMitigate), int64(m.TimeToResolve),
		int64(m.ImpactDuration), m.Acked, m.Mitigated, m.Resolved)
	return err
}

// IncidentMeasures implements incident.Tx.
func (t *Tx) IncidentMeasures(from, to time.Time) ([]incident.Measure, error) {
	rows, err := t.query("incident measures", `SELECT incident_id, priority, detected_at, time_to_ack, time_to_mitigate,
		time_to_resolve, impact_duration, acked, mitigated, resolved FROM incident_measures
		WHERE detected_at >= ? AND detected_at < ? ORDER BY detected_at, incident_id`, ts(from), ts(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []incident.Measure
	for rows.Next() {
		var m incident.Measure
		var detected, tta, ttm, ttr, impact int64
		if err := rows.Scan(&m.IncidentID, &m.Priority, &detected, &tta, &ttm, &ttr, &impact, &m.Acked, &m.Mitigated, &m.Resolved); err != nil {
			return nil, t.dbError("incident measures", err)
		}
		m.DetectedAt = fromTS(detected)
		m.TimeToAck, m.TimeToMitigate, m.TimeToResolve, m.ImpactDuration = time.Duration(tta), time.Duration(ttm), time.Duration(ttr), time.Duration(impact)
		out = append(out, m)
	}
	return out, t.dbErrorOrNil("incident measures", rows.Err())
}
