package postmortem

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

// Record is everything a post-mortem is rendered from.
type Record struct {
	Incident   *bot.Incident
	Groups     []*bot.Group // linked alert groups
	Timeline   []bot.TimelineEvent
	Actions    []*ActionItem
	Checklists []*incident.Checklist
	Budget     []BudgetLine
	Postmortem *Postmortem // nil before /postmortem create
}

// BudgetLine is the error budget an incident spent for one service.
type BudgetLine struct {
	Service   string
	Objective float64       // availability target, e.g. 0.999
	Spent     time.Duration // weighted downtime
	Allowed   time.Duration // the month's budget
}

// budget estimates the error budget the incident spent, per affected
// service with an SLO: its duration (start to mitigation, or resolution)
// weighted by priority, against the budget of the month it started in.
func (p *Service) budget(inc *bot.Incident) []BudgetLine {
	end := inc.MitigatedAt
	if end.IsZero() {
		end = inc.ResolvedAt
	}
	if end.IsZero() || inc.StartedAt.IsZero() || !end.After(inc.StartedAt) || !inc.Priority.Valid() {
		return nil
	}
	var out []BudgetLine
	seen := map[string]bool{}
	for _, svc := range inc.Services {
		for _, slo := range p.Policy.SLOs {
			if !slo.Matches(svc) || seen[slo.Service] || slo.Availability <= 0 || slo.Availability >= 1 {
				continue
			}
			seen[slo.Service] = true
			start, monthEnd := bot.MonthOf(inc.StartedAt, time.UTC)
			allowed := time.Duration(math.Round((1 - slo.Availability) * float64(monthEnd.Sub(start))))
			spent := time.Duration(float64(end.Sub(inc.StartedAt)) * p.Policy.Weights[inc.Priority])
			out = append(out, BudgetLine{Service: slo.Service, Objective: slo.Availability, Spent: spent, Allowed: allowed})
		}
	}
	return out
}

// Render renders the post-mortem document as Markdown: the
// editable sections from rec.Postmortem (the template when it is nil) and
// the facts from the record. The output depends only on rec.
func Render(rec *Record) string {
	inc := rec.Incident
	pm := rec.Postmortem
	var sections map[string]string
	if pm != nil {
		sections = pm.Sections
	} else {
		sections = TemplateSections(rec)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Post-mortem: %s — %s\n\n", inc.Ref(), mdInline(inc.Title))
	if pm != nil {
		state := "draft, not published"
		if pm.Published() {
			state = "published " + mdTime(pm.PublishedAt)
		}
		fmt.Fprintf(&b, "> **%s** %s incident · revision %d · last edited %s · %s\n", inc.Priority, inc.Priority.Meaning(), pm.Revision, mdTime(pm.UpdatedAt), state)
		if len(pm.LLMSections) > 0 {
			var titles []string
			for _, s := range Sections {
				for _, k := range pm.LLMSections {
					if k == s.Key {
						titles = append(titles, s.Title)
					}
				}
			}
			fmt.Fprintf(&b, ">\n> 🤖 **LLM draft — for humans to review.** %s %s drafted by `%s` from the incident's timeline and alerts. "+
				"It may be wrong or incomplete: check every statement against the record and edit it before relying on it. "+
				"Facts (impact figures, timeline, alerts, action items) come from Klaxon's record, not from the LLM.\n",
				strings.Join(titles, ", "), plural3(len(titles), "was", "were"), pm.LLMModel)
		}
		if pm.DraftNote != "" {
			fmt.Fprintf(&b, ">\n> ℹ️ Drafted from the template: %s.\n", pm.DraftNote)
		}
		b.WriteString("\n")
	}

	section := func(key string) {
		s, _ := SectionByKey(key)
		fmt.Fprintf(&b, "## %s\n\n", s.Title)
		if pm != nil && slices.Contains(pm.LLMSections, key) {
			b.WriteString("*LLM draft — review before relying on it.*\n\n")
		}
		text := strings.TrimSpace(sections[key])
		if text == "" {
			text = "_Not written yet._"
		}
		b.WriteString(text)
		b.WriteString("\n\n")
	}

	section("summary")
	section("impact")
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, mdCell(v)) }
	row("Priority", fmt.Sprintf("%s — %s", inc.Priority, inc.Priority.Meaning()))
	if inc.Impact != "" {
		row("Classification", inc.Impact)
	}
	row("Services", orText(strings.Join(inc.Services, ", "), "not recorded"))
	row("Started", mdTime(inc.StartedAt))
	row("Detected", withDelay(inc.DetectedAt, inc.StartedAt))
	row("Acknowledged", withDelay(inc.AckedAt, inc.StartedAt))
	row("Mitigated", withDelay(inc.MitigatedAt, inc.StartedAt))
	row("Resolved", withDelay(inc.ResolvedAt, inc.StartedAt))
	if !inc.ResolvedAt.IsZero() && !inc.StartedAt.IsZero() {
		row("Duration", humanDuration(inc.ResolvedAt.Sub(inc.StartedAt)))
	}
	if len(rec.Budget) == 0 {
		row("Error budget spent", "not known (no SLO covers these services)")
	} else {
		var parts []string
		for _, l := range rec.Budget {
			pct := 0.0
			if l.Allowed > 0 {
				pct = 100 * float64(l.Spent) / float64(l.Allowed)
			}
			parts = append(parts, fmt.Sprintf("%s: %s of %s (%.0f%% of the month's budget for %s)", l.Service, humanDuration(l.Spent),
				humanDuration(l.Allowed), pct, formatObjective(l.Objective)))
		}
		row("Error budget spent", strings.Join(parts, "; "))
	}
	if roles := rolesText(inc.Roles); roles != "" {
		row("Responders", roles)
	}
	b.WriteString("\n")

	b.WriteString("## Timeline\n\nAll times UTC.\n\n")
	events := documentTimeline(rec)
	if len(events) == 0 {
		b.WriteString("_No events recorded._\n\n")
	} else {
		b.WriteString("| Time | Event | Who |\n|---|---|---|\n")
		for _, e := range events {
			what := e.Kind
			if e.Text != "" {
				what = e.Kind + ": " + e.Text
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", e.At.UTC().Format("2006-01-02 15:04:05"), mdCell(what), mdCell(orText(actorLabel(e.Actor), "—")))
		}
		b.WriteString("\n")
	}
	if len(rec.Groups) > 0 {
		b.WriteString("### Alerts\n\n| Alert | Priority | Fired | Resolved | Summary |\n|---|---|---|---|---|\n")
		for _, g := range rec.Groups {
			resolved := "still firing"
			if !g.ResolvedAt.IsZero() {
				resolved = mdTime(g.ResolvedAt)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdCell(g.Title()), g.Priority, mdTime(groupStart(g)), resolved, mdCell(orText(g.Summary(), "—")))
		}
		b.WriteString("\n")
	}
	if len(rec.Checklists) > 0 {
		b.WriteString("### Runbooks used\n\n")
		for _, c := range rec.Checklists {
			fmt.Fprintf(&b, "- %s (`%s`): %d of %d steps done, started %s by %s\n", mdInline(c.Title), c.RunbookID, c.DoneCount(), len(c.Steps),
				mdTime(c.StartedAt), orText(actorLabel(c.StartedBy), "someone"))
		}
		b.WriteString("\n")
	}

	section("root_cause")

	b.WriteString("## Action items\n\n")
	if len(rec.Actions) == 0 {
		b.WriteString("_None yet: add them with `/postmortem action add`._\n\n")
	} else {
		b.WriteString("| # | Action | Owner | Due | Status |\n|---|---|---|---|---|\n")
		for _, a := range rec.Actions {
			status := "open"
			if a.Status == ActionDone {
				status = "done " + a.DoneAt.UTC().Format("2006-01-02")
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", a.ID, mdCell(a.Text), bot.UserRef(a.OwnerID), a.DueAt.UTC().Format("2006-01-02"), status)
		}
		b.WriteString("\n")
	}

	section("process_improvements")
	section("lessons_learned")
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// afterword are timeline kinds about the post-mortem itself, shown in
// their own sections rather than in the incident's timeline.
var afterword = map[string]bool{"post-mortem": true, "action item": true, "action item done": true}

// documentTimeline merges the incident's timeline with the alert record
// (firing, acknowledgement, resolution of linked groups) where the timeline
// does not already say so, oldest first.
func documentTimeline(rec *Record) []bot.TimelineEvent {
	var events []bot.TimelineEvent
	for _, e := range rec.Timeline {
		if !afterword[e.Kind] && e.Ref != "status:"+string(bot.PostMortem) { // moving to post-mortem is about the document, too
			events = append(events, e)
		}
	}
	has := func(kind string, groupID int64) bool {
		id := strconv.FormatInt(groupID, 10)
		for _, e := range rec.Timeline {
			if e.Kind == kind && (e.Ref == id || e.Ref == "group:"+id) {
				return true
			}
		}
		return false
	}
	for _, g := range rec.Groups {
		if !has("alert fired", g.ID) {
			events = append(events, bot.TimelineEvent{At: groupStart(g), Kind: "alert fired", Text: alertText(g), Ref: fmt.Sprintf("group:%d", g.ID)})
		}
		if g.Ack != nil && !has("acknowledged", g.ID) {
			events = append(events, bot.TimelineEvent{At: g.Ack.At, Kind: "acknowledged", Actor: g.Ack.Actor, Text: g.Title(), Ref: fmt.Sprintf("group:%d", g.ID)})
		}
		if !g.ResolvedAt.IsZero() && !has("alert resolved", g.ID) {
			ev := bot.TimelineEvent{At: g.ResolvedAt, Kind: "alert resolved", Text: g.Title(), Ref: fmt.Sprintf("group:%d", g.ID)}
			if g.ResolvedBy != nil {
				ev.Actor = g.ResolvedBy.Actor
			}
			events = append(events, ev)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	return events
}

func alertText(g *bot.Group) string {
	s := fmt.Sprintf("%s (%s)", g.Title(), g.Priority)
	if sum := g.Summary(); sum != "" {
		s += " — " + sum
	}
	return s
}

// groupStart is when a group's problem began: its earliest alert, or when
// Klaxon first saw it.
func groupStart(g *bot.Group) time.Time {
	t := g.CreatedAt
	for _, a := range g.Alerts {
		if !a.StartsAt.IsZero() && (t.IsZero() || a.StartsAt.Before(t)) {
			t = a.StartsAt
		}
	}
	return t
}

// TemplateSections drafts the narrative sections from the record alone.
func TemplateSections(rec *Record) map[string]string {
	inc := rec.Incident
	var sum strings.Builder
	fmt.Fprintf(&sum, "%s: **%s**, a %s (%s) incident", inc.Ref(), inc.Title, inc.Priority.Meaning(), inc.Priority)
	if len(inc.Services) > 0 {
		fmt.Fprintf(&sum, " affecting %s", strings.Join(inc.Services, ", "))
	}
	sum.WriteString(".")
	if !inc.StartedAt.IsZero() {
		fmt.Fprintf(&sum, " It started %s", mdTime(inc.StartedAt))
		if !inc.DetectedAt.IsZero() && inc.DetectedAt.After(inc.StartedAt) {
			fmt.Fprintf(&sum, ", was detected %s later", humanDuration(inc.DetectedAt.Sub(inc.StartedAt)))
		}
		if !inc.ResolvedAt.IsZero() {
			fmt.Fprintf(&sum, " and was resolved %s, after %s", mdTime(inc.ResolvedAt), humanDuration(inc.ResolvedAt.Sub(inc.StartedAt)))
		}
		sum.WriteString(".")
	}
	if len(rec.Groups) > 0 {
		names := make([]string, 0, len(rec.Groups))
		for _, g := range rec.Groups {
			names = append(names, "`"+strings.ReplaceAll(g.Title(), "`", "'")+"`")
		}
		fmt.Fprintf(&sum, " Alerts: %s.", strings.Join(names, ", "))
	}
	sum.WriteString("\n\n_Add what players and staff saw, and what fixed it._")

	impact := "_Describe who was affected (players, staff, regions), what they could not do, for how long, and any data loss or compensation._"
	if inc.Impact != "" {
		impact = inc.Impact + "\n\n" + impact
	}

	var rc strings.Builder
	rc.WriteString("_To be written by the responders. Ask \"why?\" until you reach causes you can act on; list contributing factors too._")
	if len(rec.Groups) > 0 {
		first := rec.Groups[0]
		for _, g := range rec.Groups[1:] {
			if groupStart(g).Before(groupStart(first)) {
				first = g
			}
		}
		fmt.Fprintf(&rc, "\n\nFirst signal: alert `%s` at %s.", strings.ReplaceAll(first.Title(), "`", "'"), mdTime(groupStart(first)))
	}

	var pi strings.Builder
	pi.WriteString("- **Detection:** ")
	if !inc.DetectedAt.IsZero() && !inc.StartedAt.IsZero() {
		fmt.Fprintf(&pi, "detected after %s. ", humanDuration(inc.DetectedAt.Sub(inc.StartedAt)))
	}
	pi.WriteString("Did an alert fire first, or did players tell us?\n- **Response:** ")
	if !inc.AckedAt.IsZero() && !inc.StartedAt.IsZero() {
		fmt.Fprintf(&pi, "acknowledged after %s (target for %s: %s). ", humanDuration(inc.AckedAt.Sub(inc.StartedAt)), inc.Priority,
			humanDuration(inc.Priority.DefaultAckDeadline()))
	}
	pi.WriteString("Were the right people reached quickly?\n- **Runbooks and tooling:** ")
	if len(rec.Checklists) > 0 {
		for i, c := range rec.Checklists {
			if i > 0 {
				pi.WriteString(", ")
			}
			fmt.Fprintf(&pi, "%s (%d/%d steps done)", c.Title, c.DoneCount(), len(c.Steps))
		}
		pi.WriteString(". ")
	}
	pi.WriteString("What was missing or wrong?")

	return map[string]string{
		"summary":              sum.String(),
		"impact":               impact,
		"root_cause":           rc.String(),
		"process_improvements": pi.String(),
		"lessons_learned":      "**What went well**\n- \n\n**What went badly**\n- \n\n**Where we got lucky**\n- ",
	}
}

// humanDuration formats d as "1h 23m", "2d 4h", "45s".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	days := int(d / (24 * time.Hour))
	h := int(d % (24 * time.Hour) / time.Hour)
	m := int(d % time.Hour / time.Minute)
	s := int(d % time.Minute / time.Second)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	if s > 0 && days == 0 && h == 0 {
		parts = append(parts, fmt.Sprintf("%ds", s))
	}
	if len(parts) == 0 {
		return "0s"
	}
	return strings.Join(parts, " ")
}

func mdTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func withDelay(t, start time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if start.IsZero() || !t.After(start) {
		return mdTime(t)
	}
	return fmt.Sprintf("%s (+%s)", mdTime(t), humanDuration(t.Sub(start)))
}

func formatObjective(f float64) string {
	s := strconv.FormatFloat(f*100, 'f', -1, 64)
	return s + "%"
}

func actorLabel(a bot.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	if a.UserID != "" {
		return bot.UserRef(a.UserID)
	}
	return ""
}

func rolesText(roles map[string]string) string {
	keys := make([]string, 0, len(roles))
	for k, v := range roles {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + bot.UserRef(roles[k])
	}
	return strings.Join(parts, ", ")
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// mdInline makes text safe on one Markdown line (headings, list items).
func mdInline(s string) string { return strings.Join(strings.Fields(s), " ") }

func orText(s, alt string) string {
	if strings.TrimSpace(s) == "" {
		return alt
	}
	return s
}

func plural3(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
