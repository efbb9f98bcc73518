package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/metrics"
)

// Tx implements bot.Tx on one SQL transaction.
type Tx struct {
	ctx context.Context
	tx  *sql.Tx
	m   *metrics.Metrics // where errors are counted; nil: nowhere
}

var _ bot.Tx = (*Tx)(nil)

func (t *Tx) exec(op, q string, args ...any) (sql.Result, error) {
	r, err := t.tx.ExecContext(t.ctx, q, args...)
	if err != nil {
		return nil, t.dbError(op, err)
	}
	return r, nil
}

func (t *Tx) query(op, q string, args ...any) (*sql.Rows, error) {
	r, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, t.dbError(op, err)
	}
	return r, nil
}

// ts stores a time as Unix nanoseconds; the zero time is 0.
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings and string slices always marshal
	}
	return string(b)
}

func decodeMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	return m, json.Unmarshal([]byte(s), &m)
}

func encodeOptional[T any](v *T) string {
	if v == nil {
		return ""
	}
	return encode(v)
}

func decodeOptional[T any](s string) (*T, error) {
	if s == "" {
		return nil, nil
	}
	v := new(T)
	return v, json.Unmarshal([]byte(s), v)
}

func decodeList(s string) ([]string, error) {
	var l []string
	if s == "" || s == "null" {
		return nil, nil
	}
	return l, json.Unmarshal([]byte(s), &l)
}

func notFound(what string, id any) error {
	return bot.Errorf(bot.ENotFound, "%s %v not found", what, id)
}

const groupCols = `id, group_key, receiver, status, priority, priority_source, group_labels, common_labels,
	common_annotations, external_url, truncated_alerts, created_at, updated_at, resolved_at, version,
	ack, resolved_by, silence, overdue, escalated, notes`

func (t *Tx) scanGroups(op string, q string, args ...any) ([]*bot.Group, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	var out []*bot.Group
	for rows.Next() {
		g := &bot.Group{}
		var status, gl, cl, ca, ack, resolvedBy, silence, notes string
		var created, updated, resolved int64
		if err := rows.Scan(&g.ID, &g.Key, &g.Receiver, &status, &g.Priority, &g.PrioritySource, &gl, &cl, &ca,
			&g.ExternalURL, &g.TruncatedAlerts, &created, &updated, &resolved, &g.Version,
			&ack, &resolvedBy, &silence, &g.Overdue, &g.Escalated, &notes); err != nil {
			rows.Close()
			return nil, t.dbError(op, err)
		}
		g.Status = bot.Status(status)
		g.CreatedAt, g.UpdatedAt, g.ResolvedAt = fromTS(created), fromTS(updated), fromTS(resolved)
		var e1, e2, e3 error
		g.GroupLabels, e1 = decodeMap(gl)
		g.CommonLabels, e2 = decodeMap(cl)
		g.CommonAnnotations, e3 = decodeMap(ca)
		var e4, e5, e6, e7 error
		g.Ack, e4 = decodeOptional[bot.Action](ack)
		g.ResolvedBy, e5 = decodeOptional[bot.Action](resolvedBy)
		g.Silence, e6 = decodeOptional[bot.Silence](silence)
		g.Notes, e7 = decodeList(notes)
		if err := errors.Join(e1, e2, e3, e4, e5, e6, e7); err != nil {
			rows.Close()
			return nil, t.dbError(op, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, t.dbError(op, err)
	}
	rows.Close()
	for _, g := range out {
		if err := t.loadAlerts(g); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *Tx) loadAlerts(g *bot.Group) error {
	rows, err := t.query("load alerts", `SELECT fingerprint, status, labels, annotations, starts_at, ends_at, generator_url
		FROM alerts WHERE group_id = ? ORDER BY fingerprint`, g.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	g.Alerts = g.Alerts[:0]
	for rows.Next() {
		var a bot.Alert
		var status, l, an string
		var s, e int64
		if err := rows.Scan(&a.Fingerprint, &status, &l, &an, &s, &e, &a.GeneratorURL); err != nil {
			return t.dbError("load alerts", err)
		}
		a.Status, a.StartsAt, a.EndsAt = bot.Status(status), fromTS(s), fromTS(e)
		var e1, e2 error
		a.Labels, e1 = decodeMap(l)
		a.Annotations, e2 = decodeMap(an)
		if err := errors.Join(e1, e2); err != nil {
			return t.dbError("load alerts", err)
		}
		g.Alerts = append(g.Alerts, a)
	}
	return t.dbErrorOrNil("load alerts", rows.Err())
}

func (t *Tx) dbError(op string, err error) error { return dbErrorIn(t.m, op, err) }

func (t *Tx) dbErrorOrNil(op string, err error) error {
	return dbErrorOrNilIn(t.m, op, err)
}

// ptr returns &v, or nil when err is set, so callers never see a zero value as found.
func ptr[T any](v T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func one[T any](list []T, err error, notFoundErr error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(list) == 0 {
		return zero, notFoundErr
	}
	return list[0], nil
}

// LatestGroup implements bot.Tx.
func (t *Tx) LatestGroup(key string) (*bot.Group, error) {
	gs, err := t.scanGroups("latest group", "SELECT "+groupCols+" FROM alert_groups WHERE group_key = ? ORDER BY id DESC LIMIT 1", key)
	return one(gs, err, notFound("alert group", key))
}

// Group implements bot.Tx.
func (t *Tx) Group(id int64) (*bot.Group, error) {
	gs, err := t.scanGroups("group", "SELECT "+groupCols+" FROM alert_groups WHERE id = ?", id)
	return one(gs, err, notFound("alert group", id))
}

// OpenGroups implements bot.Tx.
func (t *Tx) OpenGroups(limit int) ([]*bot.Group, error) {
	return t.scanGroups("open groups", "SELECT "+groupCols+" FROM alert_groups WHERE status = 'firing' ORDER BY priority, id LIMIT ?", limit)
}

// checkGroupTimes refuses a group holding a time the store cannot keep
// exactly (it would read back as another date), before anything is written.
func checkGroupTimes(g *bot.Group) error {
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"created_at", g.CreatedAt}, {"updated_at", g.UpdatedAt}, {"resolved_at", g.ResolvedAt}} {
		if err := bot.CheckStorable(f.t); err != nil {
			return bot.Errorf(bot.EInvalid, "save group %s: %s: %v", g.Key, f.name, err)
		}
	}
	for _, a := range g.Alerts {
		if err := bot.CheckStorable(a.StartsAt); err != nil {
			return bot.Errorf(bot.EInvalid, "save group %s: alert %s: startsAt: %v", g.Key, a.Fingerprint, err)
		}
		if err := bot.CheckStorable(a.EndsAt); err != nil {
			return bot.Errorf(bot.EInvalid, "save group %s: alert %s: endsAt: %v", g.Key, a.Fingerprint, err)
		}
	}
	return nil
}

// SaveGroup implements bot.Tx.
func (t *Tx) SaveGroup(g *bot.Group) error {
	if err := checkGroupTimes(g); err != nil {
		return err
	}
	args := []any{g.Key, g.Receiver, string(g.Status), int(g.Priority), g.PrioritySource, encode(nonNil(g.GroupLabels)),
		encode(nonNil(g.CommonLabels)), encode(nonNil(g.CommonAnnotations)), g.ExternalURL, g.TruncatedAlerts,
		ts(g.CreatedAt), ts(g.UpdatedAt), ts(g.ResolvedAt), g.Version,
		encodeOptional(g.Ack), encodeOptional(g.ResolvedBy), encodeOptional(g.Silence), g.Overdue, g.Escalated,
		encode(nonNilList(g.Notes))}
	if g.ID == 0 {
		r, err := t.exec("insert group", `INSERT INTO alert_groups (group_key, receiver, status, priority, priority_source,
			group_labels, common_labels, common_annotations, external_url, truncated_alerts, created_at, updated_at,
			resolved_at, version, ack, resolved_by, silence, overdue, escalated, notes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return err
		}
		if g.ID, err = r.LastInsertId(); err != nil {
			return t.dbError("insert group", err)
		}
	} else {
		if _, err := t.exec("update group", `UPDATE alert_groups SET group_key = ?, receiver = ?, status = ?, priority = ?,
			priority_source = ?, group_labels = ?, common_labels = ?, common_annotations = ?, external_url = ?,
			truncated_alerts = ?, created_at = ?, updated_at = ?, resolved_at = ?, version = ?, ack = ?, resolved_by = ?,
			silence = ?, overdue = ?, escalated = ?, notes = ? WHERE id = ?`,
			append(args, g.ID)...); err != nil {
			return err
		}
	}
	if len(g.Alerts) == 0 {
		return nil
	}
	// One prepared statement for all alerts: a group can hold tens of
	// thousands, and preparing the upsert for each was half of the work.
	stmt, err := t.tx.PrepareContext(t.ctx, `INSERT INTO alerts (group_id, fingerprint, status, labels, annotations, starts_at,
		ends_at, generator_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (group_id, fingerprint) DO UPDATE SET status = excluded.status, labels = excluded.labels,
		annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
		generator_url = excluded.generator_url`)
	if err != nil {
		return t.dbError("save alert", err)
	}
	defer stmt.Close()
	for _, a := range g.Alerts {
		if _, err := stmt.ExecContext(t.ctx, g.ID, a.Fingerprint, string(a.Status), encode(nonNil(a.Labels)),
			encode(nonNil(a.Annotations)), ts(a.StartsAt), ts(a.EndsAt), a.GeneratorURL); err != nil {
			return t.dbError("save alert", err)
		}
	}
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

const postCols = `id, kind, channel_id, COALESCE(digest_id, 0), seq, priority, mention_roles, mention_users,
	message_id, thread_id, created_at, updated_at, last_error`

func (t *Tx) scanPosts(op, q string, args ...any) ([]bot.Post, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.Post
	for rows.Next() {
		var p bot.Post
		var kind, roles, users string
		var created, updated int64
		if err := rows.Scan(&p.ID, &kind, &p.ChannelID, &p.DigestID, &p.Seq, &p.Priority, &roles, &users,
			&p.MessageID, &p.ThreadID, &created, &updated, &p.LastError); err != nil {
			return nil, t.dbError(op, err)
		}
		p.Kind, p.CreatedAt, p.UpdatedAt = bot.PostKind(kind), fromTS(created), fromTS(updated)
		var e1, e2 error
		p.Mentions.Roles, e1 = decodeList(roles)
		p.Mentions.Users, e2 = decodeList(users)
		if err := errors.Join(e1, e2); err != nil {
			return nil, t.dbError(op, err)
		}
		out = append(out, p)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// CreatePost implements bot.Tx.
func (t *Tx) CreatePost(p *bot.Post, groupIDs ...int64) error {
	var digest any
	if p.DigestID != 0 {
		digest = p.DigestID
	}
	r, err := t.exec("create post", `INSERT INTO posts (kind, channel_id, digest_id, seq, priority, mention_roles,
		mention_users, message_id, thread_id, created_at, updated_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(p.Kind), p.ChannelID, digest, p.Seq, int(p.Priority), encode(nonNilList(p.Mentions.Roles)),
		encode(nonNilList(p.Mentions.Users)), p.MessageID, p.ThreadID, ts(p.CreatedAt), ts(p.UpdatedAt), p.LastError)
	if err != nil {
		return err
	}
	if p.ID, err = r.LastInsertId(); err != nil {
		return t.dbError("create post", err)
	}
	return t.AddToPost(p.ID, groupIDs...)
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Post implements bot.Tx.
func (t *Tx) Post(id int64) (*bot.Post, error) {
	ps, err := t.scanPosts("post", "SELECT "+postCols+" FROM posts WHERE id = ?", id)
	p, err := one(ps, err, notFound("post", id))
	return ptr(p, err)
}

// UpdatePost implements bot.Tx.
func (t *Tx) UpdatePost(p *bot.Post) error {
	_, err := t.exec("update post", `UPDATE posts SET channel_id = ?, message_id = ?, thread_id = ?, priority = ?,
		updated_at = ?, last_error = ? WHERE id = ?`,
		p.ChannelID, p.MessageID, p.ThreadID, int(p.Priority), ts(p.UpdatedAt), p.LastError, p.ID)
	return err
}

// DeletePost implements bot.Tx.
func (t *Tx) DeletePost(id int64) error {
	r, err := t.exec("delete post", "DELETE FROM posts WHERE id = ? AND message_id = ''", id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n > 0 {
		_, err = t.exec("delete post", "DELETE FROM queue WHERE kind = 'post' AND target = ?", id)
	}
	return err
}

// AddToPost implements bot.Tx.
func (t *Tx) AddToPost(postID int64, groupIDs ...int64) error {
	for _, g := range groupIDs {
		if _, err := t.exec("add to post", `INSERT INTO post_groups (post_id, group_id, position)
			VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM post_groups WHERE post_id = ?))
			ON CONFLICT DO NOTHING`, postID, g, postID); err != nil {
			return err
		}
	}
	return nil
}

// PostsOfGroup implements bot.Tx.
func (t *Tx) PostsOfGroup(groupID int64) ([]bot.Post, error) {
	return t.scanPosts("posts of group", "SELECT "+prefixed("p.", postCols)+` FROM posts p
		JOIN post_groups pg ON pg.post_id = p.id WHERE pg.group_id = ? ORDER BY p.id`, groupID)
}

func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		c = strings.TrimSpace(c)
		switch {
		case strings.HasPrefix(c, "COALESCE("):
			parts[i] = "COALESCE(" + prefix + strings.TrimPrefix(c, "COALESCE(")
		case strings.HasSuffix(c, ")"): // the rest of a COALESCE(...)
			parts[i] = c
		default:
			parts[i] = prefix + c
		}
	}
	return strings.Join(parts, ", ")
}

// CountGroups implements bot.Tx.
func (t *Tx) CountGroups(postID int64) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, "SELECT count(*) FROM post_groups WHERE post_id = ?", postID).Scan(&n); err != nil {
		return 0, t.dbError("count groups", err)
	}
	return n, nil
}

// GroupIDs implements bot.Tx.
func (t *Tx) GroupIDs(postID int64) ([]int64, error) {
	return column[int64](t, "group ids", "SELECT group_id FROM post_groups WHERE post_id = ? ORDER BY position", postID)
}

// column runs a query of one column and returns its values.
func column[T any](t *Tx, op, q string, args ...any) ([]T, error) {
	rows, err := t.query(op, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, t.dbError(op, err)
		}
		out = append(out, v)
	}
	return out, t.dbErrorOrNil(op, rows.Err())
}

// GroupsOfPost implements bot.Tx.
func (t *Tx) GroupsOfPost(postID int64) ([]*bot.Group, error) {
	return t.scanGroups("groups of post", "SELECT "+prefixed("g.", groupCols)+` FROM alert_groups g
		JOIN post_groups pg ON pg.group_id = g.id WHERE pg.post_id = ? ORDER BY pg.position`, postID)
}

// DigestStats implements bot.Tx.
func (t *Tx) DigestStats(digestID int64) (bot.DigestStats, error) {
	var st bot.DigestStats
	rows, err := t.query("digest stats", `SELECT g.status, g.priority, count(*) FROM alert_groups g
		JOIN post_groups pg ON pg.group_id = g.id
		WHERE pg.post_id = ? OR pg.post_id IN (SELECT id FROM posts WHERE digest_id = ?)
		GROUP BY g.status, g.priority`, digestID, digestID)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var prio, n int
		if err := rows.Scan(&status, &prio, &n); err != nil {
			return st, t.dbError("digest stats", err)
		}
		st.Groups += n
		if status == string(bot.Firing) && prio >= 0 && prio < 4 {
			st.Firing[prio] += n
		} else {
			st.Resolved += n
		}
	}
	if err := rows.Err(); err != nil {
		return st, t.dbError("digest stats", err)
	}
	var created int64
	if err := t.tx.QueryRowContext(t.ctx, "SELECT (SELECT count(*) FROM posts WHERE digest_id = ?), created_at FROM posts WHERE id = ?",
		digestID, digestID).Scan(&st.Pages, &created); err != nil {
		return st, t.dbError("digest stats", err)
	}
	st.Since = fromTS(created)
	return st, nil
}

// OpenDigest implements bot.Tx.
func (t *Tx) OpenDigest(channelID string) (*bot.Post, error) {
	ps, err := t.scanPosts("open digest", "SELECT "+postCols+" FROM posts WHERE channel_id = ? AND kind = 'digest' ORDER BY id DESC LIMIT 1", channelID)
	p, err := one(ps, err, notFound("digest in channel", channelID))
	return ptr(p, err)
}

// Pages implements bot.Tx.
func (t *Tx) Pages(digestID int64) ([]bot.Post, error) {
	return t.scanPosts("pages", "SELECT "+postCols+" FROM posts WHERE digest_id = ? ORDER BY seq", digestID)
}

// LastPage implements bot.Tx.
func (t *Tx) LastPage(digestID int64) (*bot.Post, error) {
	ps, err := t.scanPosts("last page", "SELECT "+postCols+" FROM posts WHERE digest_id = ? ORDER BY seq DESC LIMIT 1", digestID)
	p, err := one(ps, err, notFound("page of digest", digestID))
	return ptr(p, err)
}

// PendingCards implements bot.Tx.
func (t *Tx) PendingCards(channelID string, min bot.Priority) ([]bot.Post, error) {
	// A card whose create was sent (sends > 0) may be on Discord already:
	// folding it into a digest would show its group twice.
	return t.scanPosts("pending cards", "SELECT "+postCols+` FROM posts
		WHERE channel_id = ? AND kind = 'card' AND message_id = '' AND priority >= ?
		AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.kind = 'post' AND q.target = posts.id AND q.sends > 0)
		ORDER BY id`, channelID, int(min))
}

// Backlog implements bot.Tx.
func (t *Tx) Backlog(min bot.Priority) (map[string]int, error) {
	rows, err := t.query("backlog", `SELECT channel_id, count(*) FROM posts
		WHERE kind = 'card' AND message_id = '' AND priority >= ? GROUP BY channel_id`, int(min))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ch string
		var n int
		if err := rows.Scan(&ch, &n); err != nil {
			return nil, t.dbError("backlog", err)
		}
		out[ch] = n
	}
	return out, t.dbErrorOrNil("backlog", rows.Err())
}

// GroupCounts implements bot.Tx.
func (t *Tx) GroupCounts(resolvedSince time.Time) (map[bot.Priority]map[string]int, error) {
	rows, err := t.query("group counts", `SELECT priority,
		CASE WHEN status = 'resolved' THEN 'resolved' WHEN ack != '' THEN 'acknowledged' ELSE 'firing' END AS state, count(*)
		FROM alert_groups WHERE status = 'firing' OR resolved_at >= ? GROUP BY 1, 2`, ts(resolvedSince))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[bot.Priority]map[string]int{}
	for rows.Next() {
		var p bot.Priority
		var state string
		var n int
		if err := rows.Scan(&p, &state, &n); err != nil {
			return nil, t.dbError("group counts", err)
		}
		if out[p] == nil {
			out[p] = map[string]int{}
		}
		out[p][state] = n
	}
	return out, t.dbErrorOrNil("group counts", rows.Err())
}

// FailedPosts implements bot.Tx.
func (t *Tx) FailedPosts(limit int) ([]bot.Post, error) {
	return t.scanPosts("failed posts", "SELECT "+postCols+" FROM posts WHERE last_error != '' ORDER BY updated_at DESC, id DESC LIMIT ?", limit)
}

// dbErrorOrNilIn is dbErrorIn for an err that may be nil.
func dbErrorOrNilIn(m *metrics.Metrics, op string, err error) error {
	if err == nil {
		return nil
	}
	return dbErrorIn(m, op, err)
}
