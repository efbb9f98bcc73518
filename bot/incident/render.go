package incident

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/text"
)

// incTone is an incident's tone: its priority while open, resolved after.
func incTone(inc *bot.Incident) bot.Tone {
	if !IsOpen(inc.Status) {
		return bot.ToneResolved
	}
	return bot.PriorityTone(inc.Priority)
}

// ThreadName is the name of an incident's thread.
func ThreadName(inc *bot.Incident) string {
	return text.Truncate(fmt.Sprintf("%s · %s · %s", inc.Ref(), inc.Priority, strings.ReplaceAll(inc.Title, "\n", " ")), 100)
}

// IncidentSummary is the pinned summary of an incident's thread: status,
// priority, affected services, roles and how long it has run. Relative
// timestamps make Discord show the running time without edits.
func (s *Service) IncidentSummary(inc *bot.Incident, groups []*bot.Group, now time.Time) bot.Message {
	m := bot.Message{
		Title:       text.Truncate(fmt.Sprintf("%s %s · %s · %s", emoji(inc.Status), inc.Ref(), inc.Priority, inc.Title), 256),
		Description: inc.Impact,
		Tone:        incTone(inc),
		Footer:      "Klaxon keeps this summary up to date · /incident update posts an update · 📌 a message to add it to the timeline",
	}
	if m.Description == "" && IsOpen(inc.Status) {
		m.Description = "_Impact not classified yet: `/incident priority` with an impact._"
	}
	status := string(inc.Status)
	if next := NextStatuses(inc.Status); len(next) > 0 {
		names := make([]string, len(next))
		for i, n := range next {
			names[i] = string(n)
		}
		status += " (next: " + strings.Join(names, ", ") + ")"
	}
	m.Fields = append(m.Fields,
		bot.Field{Name: "Status", Value: emoji(inc.Status) + " " + status, Inline: true},
		bot.Field{Name: "Priority", Value: inc.Priority.String() + " " + inc.Priority.Meaning(), Inline: true})
	services := "—"
	if len(inc.Services) > 0 {
		services = strings.Join(inc.Services, ", ")
	}
	m.Fields = append(m.Fields, bot.Field{Name: "Affected services", Value: services, Inline: true})
	var roles []string
	for _, r := range s.policy().RoleNames() {
		who := "_unassigned_"
		if u := inc.Roles[r]; u != "" {
			who = bot.UserRef(u)
		} else if r == CommanderRole && IsOpen(inc.Status) {
			who = "⚠️ **unassigned** — `/incident assign commander`"
		}
		roles = append(roles, fmt.Sprintf("**%s:** %s", r, who))
	}
	var extra []string
	for r, u := range inc.Roles {
		if _, ok := s.policy().Role(r); !ok && u != "" {
			extra = append(extra, fmt.Sprintf("**%s:** %s", r, bot.UserRef(u)))
		}
	}
	sort.Strings(extra)
	roles = append(roles, extra...)
	m.Fields = append(m.Fields, bot.Field{Name: "Roles", Value: strings.Join(roles, "\n")})
	started := inc.StartedAt
	if started.IsZero() {
		started = inc.DetectedAt
	}
	running := fmt.Sprintf("started %s (%s)", bot.TimeRef(started, bot.TimeRelative), bot.TimeRef(started, bot.TimeFull))
	if !inc.ResolvedAt.IsZero() {
		running = fmt.Sprintf("ran %s, resolved %s", FormatSpan(inc.ResolvedAt.Sub(started)), bot.TimeRef(inc.ResolvedAt, bot.TimeFull))
	}
	m.Fields = append(m.Fields, bot.Field{Name: "Running", Value: running, Inline: true})
	last := "none yet"
	if !inc.LastUpdateAt.IsZero() {
		last = bot.TimeRef(inc.LastUpdateAt, bot.TimeRelative)
	}
	m.Fields = append(m.Fields, bot.Field{Name: "Last update", Value: last, Inline: true})
	if len(groups) > 0 {
		var lines []string
		for _, g := range groups {
			mark := "🔥"
			if g.Status == bot.Resolved {
				mark = "✅"
			}
			lines = append(lines, fmt.Sprintf("%s #%d %s (%s)", mark, g.ID, text.Truncate(g.Title(), 80), g.Priority))
		}
		m.Fields = append(m.Fields, bot.Field{Name: "Alerts", Value: text.Truncate(strings.Join(lines, "\n"), 1000)})
	}
	return m
}

// closingSummary is posted in the thread when the incident resolves.
func (s *Service) closingSummary(tx Tx, inc *bot.Incident, now time.Time, note string) bot.Message {
	m := bot.Message{Title: fmt.Sprintf("✅ %s resolved · %s", inc.Ref(), inc.Title), Tone: bot.ToneResolved, Description: note}
	if m.Description == "" {
		m.Description = "The incident is resolved."
	}
	span := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return FormatSpan(max(t.Sub(inc.DetectedAt), 0))
	}
	m.Fields = []bot.Field{
		{Name: "Duration", Value: FormatSpan(max(now.Sub(minTimeInc(inc.StartedAt, inc.DetectedAt)), 0)), Inline: true},
		{Name: "Time to acknowledge", Value: span(inc.AckedAt), Inline: true},
		{Name: "Time to mitigate", Value: span(inc.MitigatedAt), Inline: true},
		{Name: "Time to resolve", Value: span(now), Inline: true},
		{Name: "Priority", Value: inc.Priority.String(), Inline: true},
	}
	var roles []string
	for _, r := range s.policy().RoleNames() {
		if u := inc.Roles[r]; u != "" {
			roles = append(roles, r+" "+bot.UserRef(u))
		}
	}
	if len(roles) > 0 {
		m.Fields = append(m.Fields, bot.Field{Name: "Responders", Value: strings.Join(roles, "\n")})
	}
	if tl, err := tx.Timeline(inc.ID); err == nil {
		counts := map[string]int{}
		for _, e := range tl {
			counts[e.Kind]++
		}
		m.Fields = append(m.Fields, bot.Field{Name: "Timeline", Value: fmt.Sprintf("%d events · %d updates · %d notes · %d pinned messages — `/incident timeline`",
			len(tl), counts["status update"], counts["note"], counts["pinned message"])})
	}
	if s.policy().ArchiveAfter > 0 {
		m.Footer = fmt.Sprintf("This thread is archived %s after resolution; posting in it reopens it. Next: the post-mortem.", FormatSpan(s.policy().ArchiveAfter))
	}
	return m
}

// TimelineLines renders a timeline as lines "time · kind · who: what".
func TimelineLines(tl []bot.TimelineEvent) []string {
	out := make([]string, 0, len(tl))
	for _, e := range tl {
		line := fmt.Sprintf("%s **%s** · %s", bot.TimeRef(e.At, bot.TimeShortTime), e.Kind, bot.ActorRef(e.Actor))
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
