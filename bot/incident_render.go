package bot

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot/text"
)

// incTone is an incident's tone: its priority while open, resolved after.
func incTone(inc *Incident) Tone {
	if !IncidentIsOpen(inc.Status) {
		return ToneResolved
	}
	return PriorityTone(inc.Priority)
}

// IncidentThreadName is the name of an incident's thread.
func IncidentThreadName(inc *Incident) string {
	return text.Truncate(fmt.Sprintf("%s · %s · %s", inc.Ref(), inc.Priority, strings.ReplaceAll(inc.Title, "\n", " ")), 100)
}

// IncidentSummary is the pinned summary of an incident's thread: status,
// priority, affected services, roles and how long it has run. Relative
// timestamps make Discord show the running time without edits.
func (s *Incidents) IncidentSummary(inc *Incident, groups []*Group, now time.Time) Message {
	m := Message{
		Title:       text.Truncate(fmt.Sprintf("%s %s · %s · %s", inc.Status.emoji(), inc.Ref(), inc.Priority, inc.Title), 256),
		Description: inc.Impact,
		Tone:        incTone(inc),
		Footer:      "Klaxon keeps this summary up to date · /incident update posts an update · 📌 a message to add it to the timeline",
	}
	if m.Description == "" && IncidentIsOpen(inc.Status) {
		m.Description = "_Impact not classified yet: `/incident priority` with an impact._"
	}
	status := string(inc.Status)
	if next := NextIncidentStatuses(inc.Status); len(next) > 0 {
		names := make([]string, len(next))
		for i, n := range next {
			names[i] = string(n)
		}
		status += " (next: " + strings.Join(names, ", ") + ")"
	}
	m.Fields = append(m.Fields,
		Field{Name: "Status", Value: inc.Status.emoji() + " " + status, Inline: true},
		Field{Name: "Priority", Value: inc.Priority.String() + " " + inc.Priority.Meaning(), Inline: true})
	services := "—"
	if len(inc.Services) > 0 {
		services = strings.Join(inc.Services, ", ")
	}
	m.Fields = append(m.Fields, Field{Name: "Affected services", Value: services, Inline: true})
	var roles []string
	for _, r := range s.Policy.RoleNames() {
		who := "_unassigned_"
		if u := inc.Roles[r]; u != "" {
			who = UserRef(u)
		} else if r == CommanderRole && IncidentIsOpen(inc.Status) {
			who = "⚠️ **unassigned** — `/incident assign commander`"
		}
		roles = append(roles, fmt.Sprintf("**%s:** %s", r, who))
	}
	var extra []string
	for r, u := range inc.Roles {
		if _, ok := s.Policy.Role(r); !ok && u != "" {
			extra = append(extra, fmt.Sprintf("**%s:** %s", r, UserRef(u)))
		}
	}
	sort.Strings(extra)
	roles = append(roles, extra...)
	m.Fields = append(m.Fields, Field{Name: "Roles", Value: strings.Join(roles, "\n")})
	started := inc.StartedAt
	if started.IsZero() {
		started = inc.DetectedAt
	}
	running := fmt.Sprintf("started %s (%s)", TimeRef(started, TimeRelative), TimeRef(started, TimeFull))
	if !inc.ResolvedAt.IsZero() {
		running = fmt.Sprintf("ran %s, resolved %s", FormatSpan(inc.ResolvedAt.Sub(started)), TimeRef(inc.ResolvedAt, TimeFull))
	}
	m.Fields = append(m.Fields, Field{Name: "Running", Value: running, Inline: true})
	last := "none yet"
	if !inc.LastUpdateAt.IsZero() {
		last = TimeRef(inc.LastUpdateAt, TimeRelative)
	}
	m.Fields = append(m.Fields, Field{Name: "Last update", Value: last, Inline: true})
	if len(groups) > 0 {
		var lines []string
		for _, g := range groups {
			mark := "🔥"
			if g.Status == Resolved {
				mark = "✅"
			}
			lines = append(lines, fmt.Sprintf("%s #%d %s (%s)", mark, g.ID, text.Truncate(g.Title(), 80), g.Priority))
		}
		m.Fields = append(m.Fields, Field{Name: "Alerts", Value: text.Truncate(strings.Join(lines, "\n"), 1000)})
	}
	return m
}

// closingSummary is posted in the thread when the incident resolves.
func (s *Incidents) closingSummary(tx Tx, inc *Incident, now time.Time, note string) Message {
	m := Message{Title: fmt.Sprintf("✅ %s resolved · %s", inc.Ref(), inc.Title), Tone: ToneResolved, Description: note}
	if m.Description == "" {
		m.Description = "The incident is resolved."
	}
	span := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return FormatSpan(max(t.Sub(inc.DetectedAt), 0))
	}
	m.Fields = []Field{
		{Name: "Duration", Value: FormatSpan(max(now.Sub(minTimeInc(inc.StartedAt, inc.DetectedAt)), 0)), Inline: true},
		{Name: "Time to acknowledge", Value: span(inc.AckedAt), Inline: true},
		{Name: "Time to mitigate", Value: span(inc.MitigatedAt), Inline: true},
		{Name: "Time to resolve", Value: span(now), Inline: true},
		{Name: "Priority", Value: inc.Priority.String(), Inline: true},
	}
	var roles []string
	for _, r := range s.Policy.RoleNames() {
		if u := inc.Roles[r]; u != "" {
			roles = append(roles, r+" "+UserRef(u))
		}
	}
	if len(roles) > 0 {
		m.Fields = append(m.Fields, Field{Name: "Responders", Value: strings.Join(roles, "\n")})
	}
	if tl, err := tx.Timeline(inc.ID); err == nil {
		counts := map[string]int{}
		for _, e := range tl {
			counts[e.Kind]++
		}
		m.Fields = append(m.Fields, Field{Name: "Timeline", Value: fmt.Sprintf("%d events · %d updates · %d notes · %d pinned messages — `/incident timeline`",
			len(tl), counts["status update"], counts["note"], counts["pinned message"])})
	}
	if s.Policy.ArchiveAfter > 0 {
		m.Footer = fmt.Sprintf("This thread is archived %s after resolution; posting in it reopens it. Next: the post-mortem.", FormatSpan(s.Policy.ArchiveAfter))
	}
	return m
}

// TimelineLines renders a timeline as lines "time · kind · who: what".
func TimelineLines(tl []TimelineEvent) []string {
	out := make([]string, 0, len(tl))
	for _, e := range tl {
		line := fmt.Sprintf("%s **%s** · %s", TimeRef(e.At, TimeShortTime), e.Kind, ActorRef(e.Actor))
		if e.Text != "" {
			line += ": " + text.Truncate(strings.ReplaceAll(e.Text, "\n", " "), 300)
		}
		if strings.HasPrefix(e.Ref, "https://") {
			line += " [↗](" + e.Ref + ")"
		}
		out = append(out, line)
	}
	return out
}
