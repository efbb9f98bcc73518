package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
)

var _ heartbeat.Tx = (*Tx)(nil)

// Heartbeat returns db as the heartbeat feature's store.
func (db *DB) Heartbeat() bot.TxStore[heartbeat.Tx] {
	return Feature(db, func(t *Tx) heartbeat.Tx { return t })
}

const heartbeatColumns = `name, status, created_at, last_ping, running_since, last_fail, exit_code, fail_log, last_duration,
	durations, problem_since, long_since, paused, paused_by, resumed_at, updated_at`

// HeartbeatState implements heartbeat.Tx.
func (t *Tx) HeartbeatState(name string) (*heartbeat.State, error) {
	rows, err := t.query("heartbeat state", "SELECT "+heartbeatColumns+" FROM heartbeats WHERE name = ?", name)
	if err != nil {
		return nil, err
	}
	list, err := scanHeartbeats(rows)
	if err != nil {
		return nil, t.dbError("heartbeat state", err)
	}
	if len(list) == 0 {
		return nil, bot.Errorf(bot.ENotFound, "heartbeat %q has no state yet", name)
	}
	return list[0], nil
}

// HeartbeatStates implements heartbeat.Tx.
func (t *Tx) HeartbeatStates() ([]*heartbeat.State, error) {
	rows, err := t.query("heartbeat states", "SELECT "+heartbeatColumns+" FROM heartbeats ORDER BY name")
	if err != nil {
		return nil, err
	}
	list, err := scanHeartbeats(rows)
	if err != nil {
		return nil, t.dbError("heartbeat states", err)
	}
	return list, nil
}

// SaveHeartbeatState implements heartbeat.Tx.
func (t *Tx) SaveHeartbeatState(s *heartbeat.State) error {
	for _, at := range []time.Time{s.Created, s.LastPing, s.RunningSince, s.LastFail, s.ProblemSince, s.LongSince, s.Resumed, s.Updated} {
		if err := bot.CheckStorable(at); err != nil && !at.IsZero() {
			return bot.WrapError(bot.EInvalid, err, "heartbeat %s", s.Name)
		}
	}
	ds := make([]int64, len(s.Durations))
	for i, d := range s.Durations {
		ds[i] = int64(d)
	}
	durations, err := json.Marshal(ds)
	if err != nil {
		return fmt.Errorf("encode durations: %w", err)
	}
	_, err = t.exec("save heartbeat", `INSERT OR REPLACE INTO heartbeats (`+heartbeatColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.Name, string(s.Status), ts(s.Created), ts(s.LastPing), ts(s.RunningSince), ts(s.LastFail), s.ExitCode, s.FailLog,
		int64(s.LastDuration), string(durations), ts(s.ProblemSince), ts(s.LongSince), s.Paused, s.PausedBy, ts(s.Resumed), ts(s.Updated))
	return err
}

func scanHeartbeats(rows *sql.Rows) ([]*heartbeat.State, error) {
	defer rows.Close()
	var out []*heartbeat.State
	for rows.Next() {
		var s heartbeat.State
		var status, durations string
		var created, lastPing, running, lastFail, lastDur, problem, long, resumed, updated int64
		if err := rows.Scan(&s.Name, &status, &created, &lastPing, &running, &lastFail, &s.ExitCode, &s.FailLog, &lastDur,
			&durations, &problem, &long, &s.Paused, &s.PausedBy, &resumed, &updated); err != nil {
			return nil, err
		}
		var ds []int64
		if err := json.Unmarshal([]byte(durations), &ds); err != nil {
			return nil, errors.Join(fmt.Errorf("heartbeat %s: durations %q", s.Name, durations), err)
		}
		for _, d := range ds {
			s.Durations = append(s.Durations, time.Duration(d))
		}
		s.Status = heartbeat.Status(status)
		s.Created, s.LastPing, s.RunningSince, s.LastFail = fromTS(created), fromTS(lastPing), fromTS(running), fromTS(lastFail)
		s.LastDuration, s.ProblemSince, s.LongSince = time.Duration(lastDur), fromTS(problem), fromTS(long)
		s.Resumed, s.Updated = fromTS(resumed), fromTS(updated)
		out = append(out, &s)
	}
	return out, rows.Err()
}
