package store

import (
	"encoding/json"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

// Runbook checklists, part of incident.Tx.

const checklistCols = `id, incident_id, runbook_id, title, steps, done, channel_id, started_by, started_at`

// stepMark is a done step as stored.
type stepMark struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	Via    string `json:"via"`
	At     int64  `json:"at"`
}

func encodeMarks(done []*incident.StepMark) string {
	out := make([]*stepMark, len(done))
	for i, d := range done {
		if d != nil {
			out[i] = &stepMark{UserID: d.UserID, Name: d.Name, Via: d.Via, At: ts(d.At)}
		}
	}
	return encode(out)
}

// AddChecklist implements incident.ChecklistTx.
func (t *Tx) AddChecklist(c *incident.Checklist) error {
	r, err := t.exec("add checklist", `INSERT INTO runbook_checklists (incident_id, runbook_id, title, steps, done, channel_id, started_by, started_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.IncidentID, c.RunbookID, c.Title, encode(nonNilList(c.Steps)), encodeMarks(c.Done), c.ChannelID,
		encode(c.StartedBy), ts(c.StartedAt))
	if err != nil {
		return err
	}
	c.ID, err = r.LastInsertId()
	return t.dbErrorOrNil("add checklist", err)
}

func (t *Tx) scanChecklists(op, q string, args ...any) ([]*incident.Checklist, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*incident.Checklist
	for rows.Next() {
		c := &incident.Checklist{}
		var steps, done, startedBy string
		var started int64
		if err := rows.Scan(&c.ID, &c.IncidentID, &c.RunbookID, &c.Title, &steps, &done, &c.ChannelID, &startedBy, &started); err != nil {
			return nil, t.dbError(op, err)
		}
		c.StartedAt = fromTS(started)
		var marks []*stepMark
		var e1, e2, e3 error
		c.Steps, e1 = decodeList(steps)
		e2 = json.Unmarshal([]byte(done), &marks)
		e3 = json.Unmarshal([]byte(startedBy), &c.StartedBy)
		if err := firstErr(e1, e2, e3); err != nil {
			return nil, t.dbError(op, err)
		}
		c.Done = make([]*incident.StepMark, len(c.Steps))
		for i, m := range marks {
			if m != nil && i < len(c.Done) {
				c.Done[i] = &incident.StepMark{Actor: bot.Actor{UserID: m.UserID, Name: m.Name, Via: m.Via}, At: fromTS(m.At)}
			}
		}
		out = append(out, c)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// Checklist implements incident.ChecklistTx.
func (t *Tx) Checklist(id int64) (*incident.Checklist, error) {
	cs, err := t.scanChecklists("checklist", "SELECT "+checklistCols+" FROM runbook_checklists WHERE id = ?", id)
	return one(cs, err, bot.Errorf(bot.ENotFound, "checklist %d no longer exists", id))
}

// SaveChecklistDone implements incident.ChecklistTx.
func (t *Tx) SaveChecklistDone(c *incident.Checklist) error {
	_, err := t.exec("save checklist", "UPDATE runbook_checklists SET done = ? WHERE id = ?", encodeMarks(c.Done), c.ID)
	return err
}

// Checklists implements incident.ChecklistTx.
func (t *Tx) Checklists(incidentID int64) ([]*incident.Checklist, error) {
	return t.scanChecklists("checklists", "SELECT "+checklistCols+" FROM runbook_checklists WHERE incident_id = ? ORDER BY id", incidentID)
}
