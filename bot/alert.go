package bot

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Status is the state of an alert or alert group as Alertmanager reports it.
type Status string

// Alert statuses.
const (
	Firing   Status = "firing"
	Resolved Status = "resolved"
)

// Alert is one alert of an Alertmanager notification. An alert episode is
// identified by (Fingerprint, StartsAt): the same fingerprint with a later
// StartsAt is the same alert firing again.
type Alert struct {
	Fingerprint  string
	Status       Status
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time // zero while firing
	GeneratorURL string
}

// Name is the alert's alertname label, or its fingerprint when it has none.
func (a Alert) Name() string {
	if n := a.Labels["alertname"]; n != "" {
		return n
	}
	return a.Fingerprint
}

// Summary is the first non-empty of the summary, description and message annotations.
func (a Alert) Summary() string {
	for _, k := range []string{"summary", "description", "message"} {
		if v := strings.TrimSpace(a.Annotations[k]); v != "" {
			return v
		}
	}
	return ""
}

// Notification is one webhook delivery from Alertmanager, already decoded.
type Notification struct {
	Receiver          string
	Status            Status
	GroupKey          string
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	TruncatedAlerts   int
	Alerts            []Alert
}

// Group is one episode of an Alertmanager alert group, identified by its
// groupKey: it starts when the group first fires and ends when all its
// alerts are resolved. A later firing of the same key is a new episode.
type Group struct {
	ID                int64
	Key               string
	Receiver          string
	Status            Status
	Priority          Priority
	PrioritySource    string // why it has this priority, shown on the card
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	TruncatedAlerts   int
	Alerts            []Alert // sorted by fingerprint
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ResolvedAt        time.Time // zero while firing
	Version           int64     // bumped on every change

	Ack        *Action  // who acknowledged, nil when nobody has
	ResolvedBy *Action  // who resolved it by hand, nil when Alertmanager did
	Silence    *Silence // the Alertmanager silence Klaxon made for it
	Overdue    bool     // the acknowledgement deadline passed unacknowledged
	Escalated  int      // escalation steps run so far
	Notes      []string // problems shown on the card, e.g. "user 123 has no phone"
}

// Action is a recorded human (or engine) action on a group.
type Action struct {
	Actor
	At time.Time
}

// Silence is an Alertmanager silence created from Discord.
type Silence struct {
	ID        string
	Until     time.Time
	CreatedBy Actor
}

// Title is a short name for the group: its alertname, or its group labels.
func (g *Group) Title() string {
	if n := g.CommonLabels["alertname"]; n != "" {
		return n
	}
	if n := g.GroupLabels["alertname"]; n != "" {
		return n
	}
	if len(g.Alerts) > 0 {
		return g.Alerts[0].Name()
	}
	return g.Key
}

// Summary is the common summary of the group, or that of its first alert.
func (g *Group) Summary() string {
	a := Alert{Annotations: g.CommonAnnotations}
	if s := a.Summary(); s != "" {
		return s
	}
	for _, a := range g.Alerts {
		if s := a.Summary(); s != "" {
			return s
		}
	}
	return ""
}

// Counts returns how many of the group's alerts fire and how many are resolved.
func (g *Group) Counts() (firing, resolved int) {
	for _, a := range g.Alerts {
		if a.Status == Firing {
			firing++
		} else {
			resolved++
		}
	}
	return firing, resolved
}

// Label returns a label common to the group's alerts, or "" when they differ.
func (g *Group) Label(name string) string {
	if v, ok := g.CommonLabels[name]; ok {
		return v
	}
	return g.GroupLabels[name]
}

// Classifier decides the priority of an alert from its labels.
type Classifier struct {
	Default  Priority
	Severity map[string]Priority // lower-cased severity label value -> priority
}

// DefaultSeverityMap is the severity mapping used when the configuration gives none.
func DefaultSeverityMap() map[string]Priority {
	return map[string]Priority{
		"critical": P0, "page": P0, "emergency": P0, "disaster": P0,
		"error": P1, "major": P1, "high": P1,
		"warning": P2, "minor": P2, "medium": P2,
		"info": P3, "low": P3, "none": P3,
	}
}

// The labels Classify reads.
const (
	PriorityLabel = "priority"
	SeverityLabel = "severity"
)

// Cover returns the most urgent priority an alert could be classified as
// when it matches every equality matcher in matchers (Alertmanager
// semantics: a matcher on "" matches an absent label; labels without a
// matcher can hold anything). A silence with these matchers can mute
// alerts up to that priority, so whoever creates it needs that priority's
// permission. Unless the priority label is pinned, an alert carrying
// priority="P0" matches: Cover is P0.
func (c Classifier) Cover(matchers map[string]string) Priority {
	if v, ok := matchers[PriorityLabel]; !ok {
		return P0
	} else if p, err := ParsePriority(v); err == nil {
		return p
	}
	// The priority label is pinned to a value Classify ignores (or absent):
	// the severity decides.
	if v, ok := matchers[SeverityLabel]; ok {
		if p, ok := c.Severity[strings.ToLower(strings.TrimSpace(v))]; ok {
			return p
		}
		return c.Default
	}
	most := c.Default
	for _, p := range c.Severity {
		most = min(most, p)
	}
	return most
}

// Classify returns the priority of an alert with these labels and the reason,
// e.g. "label priority=P0", "severity=critical" or "default".
func (c Classifier) Classify(labels map[string]string) (Priority, string) {
	if v, ok := labels[PriorityLabel]; ok {
		if p, err := ParsePriority(v); err == nil {
			return p, "priority=" + p.String()
		}
	}
	if v, ok := labels[SeverityLabel]; ok {
		if p, ok := c.Severity[strings.ToLower(strings.TrimSpace(v))]; ok {
			return p, "severity=" + v
		}
	}
	return c.Default, "default"
}

// NewEpisode reports whether n starts a new episode of the resolved group g:
// it carries a firing alert that g has not seen resolved.
func NewEpisode(g *Group, n Notification) bool {
	if g == nil || g.Status != Resolved {
		return false
	}
	idx := alertIndex(g.Alerts)
	for _, a := range n.Alerts {
		if a.Status != Firing {
			continue
		}
		i, ok := idx[a.Fingerprint]
		if !ok || a.StartsAt.After(g.Alerts[i].StartsAt) {
			return true
		}
	}
	return false
}

// alertIndex maps each fingerprint to its alert's index in alerts (the first
// one, should a fingerprint repeat), so that merging a notification into a
// group takes time linear in their sizes: a group can hold tens of thousands
// of alerts, and it is merged while the store's only writer waits.
func alertIndex(alerts []Alert) map[string]int {
	idx := make(map[string]int, len(alerts))
	for i := len(alerts) - 1; i >= 0; i-- {
		idx[alerts[i].Fingerprint] = i
	}
	return idx
}

// Merge applies notification n to group g (a new, empty group has ID 0) and
// reports whether anything a person would see changed. It is idempotent: the
// same notification merged twice changes nothing the second time, and a
// resolved alert episode never goes back to firing.
func Merge(g *Group, n Notification, c Classifier, now time.Time) bool {
	changed := false
	if g.ID == 0 && g.Key == "" {
		g.Key, g.Receiver, g.CreatedAt = n.GroupKey, n.Receiver, now
		g.Priority, g.PrioritySource = P3+1, ""
		changed = true
	}
	idx := alertIndex(g.Alerts)
	had := len(g.Alerts)
	for _, in := range n.Alerts {
		i, ok := idx[in.Fingerprint]
		if !ok {
			idx[in.Fingerprint] = len(g.Alerts)
			g.Alerts = append(g.Alerts, in)
			changed = true
			continue
		}
		cur := &g.Alerts[i]
		switch {
		case in.StartsAt.Before(cur.StartsAt) && (cur.Status == Resolved ||
			(in.Status == Resolved && !in.EndsAt.IsZero() && !in.EndsAt.After(cur.StartsAt))):
			continue // a stale delivery of an earlier episode (it ended before this one began)
		case in.StartsAt.Before(cur.StartsAt):
			// The same episode, reported with an earlier start: Alertmanager
			// keeps the earliest start it has seen (e.g. from the other
			// Prometheus of an HA pair). Take it, and its status.
			*cur = in
			changed = true
		case in.StartsAt.After(cur.StartsAt):
			*cur = in // the alert fired again
			changed = true
		case cur.Status == Resolved && in.Status == Firing:
			continue // resolved is final for an episode (late HA duplicate)
		default:
			if alertChanged(*cur, in) {
				*cur = in
				changed = true
			}
		}
	}
	g.Alerts = sortAlerts(g.Alerts, had)

	if !maps.Equal(g.GroupLabels, n.GroupLabels) || !maps.Equal(g.CommonLabels, n.CommonLabels) ||
		!maps.Equal(g.CommonAnnotations, n.CommonAnnotations) || g.TruncatedAlerts != n.TruncatedAlerts ||
		g.ExternalURL != n.ExternalURL {
		if len(n.Alerts) > 0 {
			g.GroupLabels, g.CommonLabels, g.CommonAnnotations = n.GroupLabels, n.CommonLabels, n.CommonAnnotations
			g.TruncatedAlerts, g.ExternalURL = n.TruncatedAlerts, n.ExternalURL
			changed = true
		}
	}

	// Priority only ever rises within an episode: a resolving P0 stays a P0.
	for _, a := range g.Alerts {
		if p, why := c.Classify(a.Labels); p < g.Priority {
			g.Priority, g.PrioritySource = p, why
			changed = true
		}
	}
	if g.Priority > P3 {
		g.Priority, g.PrioritySource = c.Default, "default"
	}

	firing, _ := g.Counts()
	status := Resolved
	if firing > 0 {
		status = Firing
	}
	if status != g.Status {
		g.Status = status
		changed = true
		if status == Resolved {
			g.ResolvedAt = lastEnd(g.Alerts, now)
		} else {
			g.ResolvedAt = time.Time{}
		}
	}
	if changed {
		g.UpdatedAt = now
		g.Version++
	}
	return changed
}

func byFingerprint(a, b Alert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) }

// sortAlerts sorts alerts by fingerprint, where the first had of them are
// usually sorted already (as the store loads them) and the rest were
// appended: it sorts the new ones and merges the two runs in one pass.
func sortAlerts(alerts []Alert, had int) []Alert {
	head, tail := alerts[:had], alerts[had:]
	if !slices.IsSortedFunc(head, byFingerprint) {
		slices.SortFunc(head, byFingerprint)
	}
	if len(tail) == 0 {
		return alerts
	}
	slices.SortFunc(tail, byFingerprint)
	if len(head) == 0 || byFingerprint(head[len(head)-1], tail[0]) <= 0 {
		return alerts
	}
	out := make([]Alert, 0, len(alerts))
	i, j := 0, 0
	for i < len(head) && j < len(tail) {
		if byFingerprint(tail[j], head[i]) < 0 {
			out = append(out, tail[j])
			j++
		} else {
			out = append(out, head[i])
			i++
		}
	}
	out = append(out, head[i:]...)
	return append(out, tail[j:]...)
}

func alertChanged(a, b Alert) bool {
	return a.Status != b.Status || !a.EndsAt.Equal(b.EndsAt) || a.GeneratorURL != b.GeneratorURL ||
		!maps.Equal(a.Labels, b.Labels) || !maps.Equal(a.Annotations, b.Annotations)
}

// lastEnd is when the last of the alerts ended, or now when none says.
func lastEnd(alerts []Alert, now time.Time) time.Time {
	var t time.Time
	for _, a := range alerts {
		if a.EndsAt.After(t) {
			t = a.EndsAt
		}
	}
	if t.IsZero() || t.After(now) {
		return now
	}
	return t
}

// StartedAt is when the group's earliest alert started.
func (g *Group) StartedAt() time.Time {
	var t time.Time
	for _, a := range g.Alerts {
		if t.IsZero() || (!a.StartsAt.IsZero() && a.StartsAt.Before(t)) {
			t = a.StartsAt
		}
	}
	if t.IsZero() {
		return g.CreatedAt
	}
	return t
}

// Actor is who did something, and from where: "button", "command", "phone", "engine".
type Actor struct {
	UserID string
	Name   string
	Via    string
}
