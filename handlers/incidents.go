package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/postmortem"
)

// MessageReader reads a Discord message (what a 📌 reaction points at), and
// edits Klaxon's own (a triage message once handled).
type MessageReader interface {
	Message(ctx context.Context, channelID, messageID string) (*discordgo.Message, error)
	Edit(ctx context.Context, channelID, messageID string, m bot.Message, buttons []bot.Button) error
}

// Incidents answers /incident, /incidents, /report, the "Add to timeline"
// message command, the incident buttons and 📌 reactions.
type Incidents struct {
	Incidents IncidentService
	Triage    TriageService
	Actions   ActionItemReader // an incident's open post-mortem action items; nil: none shown
	Clock     bot.Clock
	Messages  MessageReader // nil: 📌 reactions are ignored, triage messages are not edited
	Gate      *Gate         // authorizes 📌 reactions (interactions pass the router's gate); nil refuses them
	Log       *slog.Logger
}

// PinEmoji is the reaction that adds a message to its incident's timeline.
const PinEmoji = "📌"

// AddToTimeline is the name of the message command that adds a message to
// its thread's incident timeline.
const AddToTimeline = "Add to timeline"

// incidentsFeature is the commands of incident response: /incident
// (declare, status, priority, assign, update, note, link, mitigate,
// resolve, timeline), /incidents, /report and the "Add to timeline"
// message command, with the incident and triage buttons; Incidents.Register
// adds their routes.
func incidentsFeature() Feature {
	incident := func() *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "incident",
			Description: "The incident, e.g. INC-42 (not needed inside its thread)", Autocomplete: true, MaxLength: 100}
	}
	text := func(name, desc string, max int) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: name, Description: desc,
			Required: true, MaxLength: max}
	}
	optional := func(o *discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		o.Required = false
		return o
	}
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	statuses := []*discordgo.ApplicationCommandOptionChoice{
		{Name: "investigating", Value: "investigating"}, {Name: "mitigated", Value: "mitigated"},
		{Name: "resolved", Value: "resolved"}, {Name: "post-mortem", Value: "post-mortem"}, {Name: "closed", Value: "closed"},
	}
	return Feature{Name: "incidents", Commands: []*discordgo.ApplicationCommand{
		{
			Name: "incident", Description: "Run an incident: declare, update, assign roles, resolve",
			Options: []*discordgo.ApplicationCommandOption{
				sub("declare", "Declare an incident: Klaxon opens its thread and pins a summary",
					text("title", "What is wrong, in a few words", 150),
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "priority",
						Description: "How bad (default: the alert's, or P2)", Choices: priorityChoices},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "from",
						Description: "Start from this alert (its card gets the thread)", Autocomplete: true},
					optional(text("impact", "Who or what is affected", 500)),
					optional(text("services", "Affected services, comma-separated", 200)),
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "commander",
						Description: "Who leads the response (you can assign later)"},
				),
				sub("status", "Show an incident, or move it to another status",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "status",
						Description: "The new status (leave out to see the incident)", Choices: statuses},
					optional(text("note", "Why (goes on the timeline)", 1000)),
					incident()),
				sub("priority", "Reclassify an incident: priority and impact",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "priority",
						Description: "The new priority", Required: true, Choices: priorityChoices},
					optional(text("impact", "Who or what is affected", 500)),
					incident()),
				sub("assign", "Give someone a role: commander, communications, scribe",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "role",
						Description: "The role", Required: true, Autocomplete: true, MaxLength: 32},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "user",
						Description: "Who takes it", Required: true},
					incident()),
				sub("update", "Post a status update to the thread and the status channel",
					text("text", "What is affected, what we do, when the next update comes", 1800), incident()),
				sub("note", "Add a note to the timeline", text("text", "The note", 1800), incident()),
				sub("link", "Link an alert to the incident",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "alert",
						Description: "The alert to link", Required: true, Autocomplete: true},
					incident()),
				sub("mitigate", "The impact is under control (the cause may not be fixed)",
					optional(text("note", "What mitigated it", 1000)), incident()),
				sub("resolve", "The incident is over: close the response, post the summary",
					optional(text("note", "How it was resolved", 1000)), incident()),
				sub("timeline", "Show the incident's timeline", incident()),
			},
		},
		{Name: "incidents", Description: "List open incidents with status, commander and age",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionBoolean, Name: "all", Description: "Include resolved and closed ones"},
			}},
		{Name: "problem", Description: "Tell the staff about a problem (lag, outage, bug): the on-call team triages it",
			Options: []*discordgo.ApplicationCommandOption{text("what", "What is wrong, where, since when", 1000)}},
		// /report is /problem's old name, kept for one release (players
		// confused it with /report-sla); the README's upgrade notes say so.
		{Name: "report", Description: "Old name of /problem (goes away in the next release): tell the staff about a problem",
			Options: []*discordgo.ApplicationCommandOption{text("problem", "What is wrong, where, since when", 1000)}},
		{Name: AddToTimeline, Type: discordgo.MessageApplicationCommand},
	},
		Public: []string{"problem", "report"}, // players report problems (/report: the old name)
		Components: []string{customid.IncidentDeclare, customid.IncidentSnooze, customid.IncidentCommander, customid.IncidentResolve,
			customid.IncidentInvestigate, customid.IncidentUpdate, customid.ReportDeclare, customid.ReportLinkMenu, customid.ReportLink,
			customid.ReportDismiss},
		Modals: []string{customid.IncidentUpdateForm},
	}
}

// Register declares incidentsFeature and adds its routes to the router.
func (h *Incidents) Register(x *Interactions) {
	x.Declare(incidentsFeature())
	x.Command("incident declare", ActIncidentDeclare, false, h.declare)
	x.Command("incident status", ActIncidentStatus, true, h.status)
	x.Command("incident priority", ActIncidentPriority, true, h.priority)
	x.Command("incident assign", ActIncidentAssign, true, h.assign)
	x.Command("incident update", ActIncidentUpdate, true, h.update)
	x.Command("incident note", ActIncidentNote, true, h.note)
	x.Command("incident link", ActIncidentLink, true, h.link)
	x.Command("incident mitigate", ActIncidentStatus, true, h.mitigate)
	x.Command("incident resolve", ActIncidentStatus, true, h.resolve)
	x.Command("incident timeline", ActIncidentView, true, h.timeline)
	x.Command("incidents", ActIncidentView, true, h.list)
	x.Command("problem", ActReport, true, h.report)
	x.Command("report", ActReport, true, h.report) // the old name of /problem, for one release
	x.Command(AddToTimeline, ActIncidentNote, true, h.addToTimeline)
	for _, sub := range []string{"declare", "status", "priority", "assign", "update", "note", "link", "mitigate", "resolve", "timeline"} {
		// Choices name incidents and alerts: internal, whatever the subcommand.
		x.Autocomplete("incident "+sub, ActIncidentView, h.autocomplete)
	}
	x.Component(customid.IncidentDeclare, ActIncidentDeclare, h.declareButton)
	x.Component(customid.IncidentSnooze, ActIncidentSnooze, h.snoozeButton)
	x.Component(customid.IncidentCommander, ActIncidentAssign, h.commanderButton)
	x.Component(customid.IncidentResolve, ActIncidentStatus, h.statusButton)
	x.Component(customid.IncidentInvestigate, ActIncidentStatus, h.statusButton)
	x.Component(customid.IncidentUpdate, ActIncidentUpdate, h.updateButton)
	x.Modal(customid.IncidentUpdateForm, ActIncidentUpdate, true, h.updateModal)
	x.Component(customid.ReportDeclare, ActIncidentDeclare, h.reportDeclare)
	x.Component(customid.ReportLinkMenu, ActIncidentLink, h.reportLinkMenu)
	x.Component(customid.ReportLink, ActIncidentLink, h.reportLink)
	x.Component(customid.ReportDismiss, ActIncidentTriage, h.reportDismiss)
}

// IncidentCardActions returns the incident button of an alert card: it
// declares an incident from the alert, or points at the one it is part of.
func IncidentCardActions(v bot.View) []discordgo.Button {
	if v.Post.Kind != bot.Card || len(v.Groups) == 0 || v.Groups[0].Status != bot.Firing {
		return nil
	}
	return []discordgo.Button{{Label: "Incident", Style: discordgo.DangerButton, CustomID: customid.Make(customid.IncidentDeclare, v.Groups[0].ID),
		Emoji: &discordgo.ComponentEmoji{Name: "🚨"}}}
}

// WithIncidentButton adds IncidentCardActions to a card's other actions.
func WithIncidentButton(actions func(bot.View) []discordgo.Button) func(bot.View) []discordgo.Button {
	return func(v bot.View) []discordgo.Button {
		var out []discordgo.Button
		if actions != nil {
			out = actions(v)
		}
		return append(out, IncidentCardActions(v)...)
	}
}

func (h *Incidents) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// incident finds the incident a command is about: the incident option, or
// the thread the command runs in.
func (h *Incidents) incident(ctx context.Context, r *Request) (*bot.Incident, error) {
	if ref := r.String("incident"); ref != "" {
		id, err := incident.ParseRef(ref)
		if err != nil {
			return nil, err
		}
		inc, err := h.Incidents.Get(ctx, id)
		if bot.ErrorCode(err) == bot.ENotFound {
			return nil, bot.Errorf(bot.ENotFound, "there is no INC-%d: see /incidents for the open ones", id)
		}
		return inc, err
	}
	inc, err := h.Incidents.ByThread(ctx, r.ChannelID)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil, bot.Errorf(bot.EInvalid, "which incident? Run this in the incident's thread, or pick one in the incident option (see /incidents)")
	}
	return inc, err
}

func (h *Incidents) now() time.Time { return h.Clock.Now() }

func where(inc *bot.Incident) string {
	if inc.ThreadID != "" {
		return " in <#" + inc.ThreadID + ">"
	}
	return ""
}

func parseGroupRef(s string) (int64, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if f := strings.Fields(t); len(f) > 0 {
		t = f[0]
	}
	id, err := strconv.ParseInt(t, 10, 64)
	if err != nil || id <= 0 {
		return 0, bot.Errorf(bot.EInvalid, "%q is not an alert: pick one from the list as you type, or give its number from /alerts", s)
	}
	return id, nil
}

func (h *Incidents) declare(ctx context.Context, r *Request) (*Reply, error) {
	d := incident.Declaration{Title: r.String("title"), Priority: -1, Impact: r.String("impact"), Commander: r.String("commander"), Source: "command"}
	if p := r.String("priority"); p != "" {
		pr, err := bot.ParsePriority(p)
		if err != nil {
			return nil, bot.Errorf(bot.EInvalid, "priority %q: choose P0, P1, P2 or P3", p)
		}
		d.Priority = pr
	}
	if from := r.String("from"); from != "" {
		id, err := parseGroupRef(from)
		if err != nil {
			return nil, err
		}
		d.GroupID = id
	} else if d.Priority < 0 {
		d.Priority = bot.P2
	}
	for _, s := range strings.Split(r.String("services"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			d.Services = append(d.Services, s)
		}
	}
	inc, err := h.Incidents.Declare(ctx, d, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("🚨 **%s declared** · %s %s · %s\nKlaxon is opening its thread with a pinned summary; you are added to it. Next: assign a commander (`/incident assign`).",
		inc.Ref(), inc.Priority, inc.Priority.Meaning(), escapeLine(inc.Title))
	if d.Commander != "" {
		text = fmt.Sprintf("🚨 **%s declared** · %s %s · %s\nCommander: <@%s>. Klaxon is opening its thread with a pinned summary.",
			inc.Ref(), inc.Priority, inc.Priority.Meaning(), escapeLine(inc.Title), d.Commander)
	}
	return &Reply{Content: text}, nil
}

func (h *Incidents) declareButton(ctx context.Context, r *Request) (*Reply, error) {
	gid, err := idParam(r, hintIncidents)
	if err != nil {
		return nil, err
	}
	if existing, err := h.Incidents.OfGroup(ctx, gid); err == nil {
		return &Reply{Content: fmt.Sprintf("This alert is part of **%s** (%s)%s.", existing.Ref(), existing.Status, where(existing)), Ephemeral: true}, nil
	} else if bot.ErrorCode(err) != bot.ENotFound {
		return nil, err
	}
	inc, err := h.Incidents.Declare(ctx, incident.Declaration{GroupID: gid, Priority: -1, Source: "button"}, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("🚨 You declared **%s** (%s) from this alert. Its thread opens on the card; assign a commander with `/incident assign`.",
		inc.Ref(), inc.Priority), Ephemeral: true}, nil
}

func (h *Incidents) status(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	to := r.String("status")
	if to == "" {
		return h.show(ctx, inc)
	}
	st, err := incident.ParseStatus(to)
	if err != nil {
		return nil, err
	}
	return h.move(ctx, r, inc.ID, st, r.String("note"))
}

func (h *Incidents) move(ctx context.Context, r *Request, id int64, to bot.IncidentStatus, note string) (*Reply, error) {
	inc, err := h.Incidents.SetStatus(ctx, id, to, note, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("**%s** is now **%s**.", inc.Ref(), inc.Status), Ephemeral: true}, nil
}

func (h *Incidents) show(ctx context.Context, inc *bot.Incident) (*Reply, error) {
	d, err := h.Incidents.Detail(ctx, inc)
	if err != nil {
		return nil, err
	}
	groups, st := d.Groups, d.State
	var actions []*postmortem.ActionItem
	if h.Actions != nil {
		if actions, err = h.Actions.ActionItems(ctx, inc.ID, true); err != nil {
			return nil, err
		}
	}
	now := h.now()
	e := embedOf(h.Incidents.IncidentSummary(inc, groups, now))
	if len(actions) > 0 { // the post-mortem's open follow-ups, visible on the incident
		var lines []string
		for _, a := range actions {
			line := fmt.Sprintf("**#%d** %s — <@%s>, due <t:%d:D>", a.ID, truncateRunes(a.Text, 120), a.OwnerID, a.DueAt.Unix())
			if a.Overdue(now) {
				line = "⚠️ " + line + " (**overdue**)"
			}
			lines = append(lines, line)
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: fmt.Sprintf("Open action items (%d)", len(actions)),
			Value: truncateRunes(strings.Join(lines, "\n"), 1024)})
	}
	if st.ThreadError != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "⚠️ Thread problem", Value: truncateRunes(st.ThreadError, 1000)})
	}
	return &Reply{Embeds: []*discordgo.MessageEmbed{e}, Ephemeral: true}, nil
}

func embedOf(m bot.Message) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{Title: truncateRunes(m.Title, 256), Description: truncateRunes(m.Description, 4000), Color: discord.ToneColor(m.Tone)}
	for _, f := range m.Fields {
		v := f.Value
		if v == "" {
			v = "—"
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: truncateRunes(f.Name, 256), Value: truncateRunes(v, 1024), Inline: f.Inline})
	}
	if m.Footer != "" {
		e.Footer = &discordgo.MessageEmbedFooter{Text: truncateRunes(m.Footer, 2048)}
	}
	return e
}

func (h *Incidents) priority(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	p, err := bot.ParsePriority(r.String("priority"))
	if err != nil {
		return nil, bot.Errorf(bot.EInvalid, "priority %q: choose P0, P1, P2 or P3", r.String("priority"))
	}
	inc, err = h.Incidents.SetPriority(ctx, inc.ID, p, r.String("impact"), r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("**%s** is %s %s now.", inc.Ref(), inc.Priority, inc.Priority.Meaning()), Ephemeral: true}, nil
}

func (h *Incidents) assign(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	role, user := strings.ToLower(strings.TrimSpace(r.String("role"))), r.String("user")
	inc, err = h.Incidents.Assign(ctx, inc.ID, role, user, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("<@%s> is %s of **%s**; Klaxon sends them the role's instructions by DM.", user, role, inc.Ref()), Ephemeral: true}, nil
}

func (h *Incidents) update(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	return h.postUpdate(ctx, r, inc.ID, r.String("text"))
}

func (h *Incidents) postUpdate(ctx context.Context, r *Request, id int64, text string) (*Reply, error) {
	inc, err := h.Incidents.PostUpdate(ctx, id, text, r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	out := fmt.Sprintf("📣 Update posted to **%s**%s", inc.Ref(), where(inc))
	if h.Incidents.StatusChannel() != "" {
		out += " and <#" + h.Incidents.StatusChannel() + ">"
	}
	return &Reply{Content: out + ".", Ephemeral: true}, nil
}

func (h *Incidents) note(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	if _, err := h.Incidents.AddNote(ctx, inc.ID, r.String("text"), r.Actor(), h.now()); err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("📝 Note added to **%s**'s timeline.", inc.Ref()), Ephemeral: true}, nil
}

func (h *Incidents) link(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	gid, err := parseGroupRef(r.String("alert"))
	if err != nil {
		return nil, err
	}
	if inc, err = h.Incidents.Link(ctx, inc.ID, gid, r.Actor(), h.now()); err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("🔗 Alert #%d linked to **%s**.", gid, inc.Ref()), Ephemeral: true}, nil
}

func (h *Incidents) mitigate(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	return h.move(ctx, r, inc.ID, bot.Mitigated, r.String("note"))
}

func (h *Incidents) resolve(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	return h.move(ctx, r, inc.ID, bot.IncResolved, r.String("note"))
}

func (h *Incidents) timeline(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	inc, tl, err := h.Incidents.Timeline(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	lines := incident.TimelineLines(tl)
	// Newest last; when it does not fit, the oldest are left out.
	var b []string
	size := 0
	for i := len(lines) - 1; i >= 0; i-- {
		if size+len(lines[i])+1 > 3800 {
			b = append(b, fmt.Sprintf("… %d earlier events", i+1))
			break
		}
		b = append(b, lines[i])
		size += len(lines[i]) + 1
	}
	slices.Reverse(b)
	if len(b) == 0 {
		b = []string{"(empty)"}
	}
	return &Reply{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{{
		Title:       truncateRunes(fmt.Sprintf("🕒 Timeline · %s · %s", inc.Ref(), inc.Title), 256),
		Description: strings.Join(b, "\n"),
		Footer:      &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("%d events · add with /incident note, 📌 or right-click → Apps → Add to timeline", len(tl))},
	}}}, nil
}

func (h *Incidents) list(ctx context.Context, r *Request) (*Reply, error) {
	all := false
	if o, ok := r.Args["all"]; ok {
		all, _ = o.Value.(bool)
	}
	incs, err := h.Incidents.List(ctx, !all, 25)
	if err != nil {
		return nil, err
	}
	now := h.now()
	e := &discordgo.MessageEmbed{Title: "Open incidents", Color: 0xE01E1E}
	if all {
		e.Title = "Recent incidents"
	}
	var lines []string
	for _, inc := range incs {
		line := fmt.Sprintf("**%s** %s · %s · %s — %s", inc.Ref(), inc.Priority, inc.Status, escapeLine(inc.Title), age(now.Sub(inc.DetectedAt)))
		if c := inc.Roles[incident.CommanderRole]; c != "" {
			line += " · 🫡 <@" + c + ">"
		} else if incident.IsOpen(inc.Status) {
			line += " · no commander"
		}
		if inc.ThreadID != "" {
			line += " · <#" + inc.ThreadID + ">"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		e.Color = 0x2EB67D
		lines = []string{"🟢 No open incidents."}
	}
	e.Description = truncateRunes(strings.Join(lines, "\n"), 4000)
	if means, err := h.Incidents.Measures(ctx, now.AddDate(0, 0, -30), now.Add(time.Second)); err == nil {
		var parts []string
		for _, m := range means {
			if m.Incidents > 0 {
				parts = append(parts, fmt.Sprintf("%s: %d, MTTA %s, MTTR %s", m.Priority, m.Incidents, spanOrDash(m.MTTA, m.Acked), spanOrDash(m.MTTR, m.Resolved)))
			}
		}
		if len(parts) > 0 {
			e.Footer = &discordgo.MessageEmbedFooter{Text: "Last 30 days · " + strings.Join(parts, " · ")}
		}
	}
	return &Reply{Embeds: []*discordgo.MessageEmbed{e}, Ephemeral: true}, nil
}

func spanOrDash(d time.Duration, n int) string {
	if n == 0 {
		return "—"
	}
	return incident.FormatSpan(d)
}

func (h *Incidents) autocomplete(ctx context.Context, r *Request) (*Reply, error) {
	if r.Focused == nil {
		return &Reply{}, nil
	}
	q := strings.ToLower(fmt.Sprint(r.Focused.Value))
	var cs []*discordgo.ApplicationCommandOptionChoice
	add := func(name, value string) {
		if len(cs) < 25 && (q == "" || strings.Contains(strings.ToLower(name), q)) {
			cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(name, 100), Value: value})
		}
	}
	switch r.Focused.Name {
	case "role":
		for _, n := range h.Incidents.RoleNames() {
			add(n, n)
		}
	case "from", "alert":
		gs, err := h.Incidents.OpenGroupsWithoutIncident(ctx, 100)
		if err != nil {
			return nil, err
		}
		now := h.now()
		for _, g := range gs {
			add(fmt.Sprintf("#%d %s · %s (%s)", g.ID, g.Priority, g.Title(), age(now.Sub(g.StartedAt()))), strconv.FormatInt(g.ID, 10))
		}
	default:
		incs, err := h.Incidents.List(ctx, false, 50)
		if err != nil {
			return nil, err
		}
		for _, inc := range incs {
			if incident.IsOpen(inc.Status) {
				add(fmt.Sprintf("%s · %s · %s (%s)", inc.Ref(), inc.Priority, inc.Title, inc.Status), strconv.FormatInt(inc.ID, 10))
			}
		}
		for _, inc := range incs {
			if !incident.IsOpen(inc.Status) {
				add(fmt.Sprintf("%s · %s · %s (%s)", inc.Ref(), inc.Priority, inc.Title, inc.Status), strconv.FormatInt(inc.ID, 10))
			}
		}
	}
	return &Reply{Choices: cs}, nil
}

// Buttons on reminders and nudges.

func (h *Incidents) snoozeButton(ctx context.Context, r *Request) (*Reply, error) {
	id, d, err := idDurationParam(r, ParseSnoozeDuration, hintIncidents)
	if err != nil {
		return nil, err
	}
	now := h.now()
	inc, err := h.Incidents.Snooze(ctx, id, d, r.Actor(), now)
	if err != nil {
		return nil, err
	}
	return &Reply{Update: true, Content: fmt.Sprintf("😴 Update reminders for **%s** snoozed until <t:%d:t> by <@%s>.", inc.Ref(), now.Add(d).Unix(), r.Actor().UserID),
		Components: []discordgo.MessageComponent{}, Embeds: []*discordgo.MessageEmbed{}}, nil
}

func (h *Incidents) commanderButton(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintIncidents)
	if err != nil {
		return nil, err
	}
	a := r.Actor()
	inc, err := h.Incidents.Assign(ctx, id, incident.CommanderRole, a.UserID, a, h.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Update: true, Content: fmt.Sprintf("🫡 <@%s> is commander of **%s**.", a.UserID, inc.Ref()),
		Components: []discordgo.MessageComponent{}, Embeds: []*discordgo.MessageEmbed{}}, nil
}

func (h *Incidents) statusButton(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintIncidents)
	if err != nil {
		return nil, err
	}
	to := bot.IncResolved
	if customid.Prefix(r.CustomID) == customid.IncidentInvestigate {
		to = bot.Investigating
	}
	inc, err := h.Incidents.SetStatus(ctx, id, to, "", r.Actor(), h.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Update: true, Content: fmt.Sprintf("**%s** is now **%s** (by <@%s>).", inc.Ref(), inc.Status, r.Actor().UserID),
		Components: []discordgo.MessageComponent{}, Embeds: []*discordgo.MessageEmbed{}}, nil
}

func (h *Incidents) updateButton(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintIncidents)
	if err != nil {
		return nil, err
	}
	return &Reply{Modal: &discordgo.InteractionResponseData{CustomID: customid.Make(customid.IncidentUpdateForm, id), Title: fmt.Sprintf("Status update · INC-%d", id),
		Components: []discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "text", Label: "What is affected, what we do, next update",
				Style: discordgo.TextInputParagraph, Required: true, MaxLength: 1800}}},
		}}}, nil
}

func (h *Incidents) updateModal(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintIncidents)
	if err != nil {
		return nil, err
	}
	return h.postUpdate(ctx, r, id, ModalValues(r.Interaction)["text"])
}

// Timeline from messages.

func messageLink(guildID, channelID, messageID string) string {
	return fmt.Sprintf("https://discord.com/channels/%s/%s/%s", guildID, channelID, messageID)
}

func pinnedOf(guildID string, m *discordgo.Message) incident.PinnedMessage {
	p := incident.PinnedMessage{Link: messageLink(guildID, m.ChannelID, m.ID), Content: m.Content, At: m.Timestamp}
	if m.Author != nil {
		p.AuthorID, p.Author = m.Author.ID, m.Author.Username
	}
	if p.Content == "" && len(m.Embeds) > 0 {
		p.Content = strings.TrimSpace(m.Embeds[0].Title + " " + m.Embeds[0].Description)
	}
	return p
}

func (h *Incidents) addToTimeline(ctx context.Context, r *Request) (*Reply, error) {
	d := r.ApplicationCommandData()
	var msg *discordgo.Message
	if d.Resolved != nil {
		msg = d.Resolved.Messages[d.TargetID]
	}
	if msg == nil {
		return nil, bot.Errorf(bot.EInvalid, "Discord did not send the message; try again, or use /incident note")
	}
	if msg.ChannelID == "" {
		msg.ChannelID = r.ChannelID
	}
	inc, err := h.Incidents.ByThread(ctx, msg.ChannelID)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil, bot.Errorf(bot.EInvalid, "this message is not in an incident's thread: use it on messages in the thread, or /incident note")
	}
	if err != nil {
		return nil, err
	}
	if _, err := h.Incidents.AddMessage(ctx, inc.ID, pinnedOf(r.GuildID, msg), r.Actor(), h.now()); err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("📌 Added to **%s**'s timeline.", inc.Ref()), Ephemeral: true}, nil
}

// OnReaction is a discordgo handler for MESSAGE_REACTION_ADD: 📌 on a
// message in an incident's thread adds it to the timeline.
func (h *Incidents) OnReaction(s *discordgo.Session, ev *discordgo.MessageReactionAdd) {
	if ev.MessageReaction == nil || ev.Emoji.Name != PinEmoji || h.Messages == nil {
		return
	}
	if s != nil && s.State != nil && s.State.User != nil && ev.UserID == s.State.User.ID {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// A reaction is not an interaction, but it is an action: the same gate.
	o := Origin{GuildID: ev.GuildID, UserID: ev.UserID, LookUp: ev.Member == nil}
	if ev.Member != nil {
		o.Roles = ev.Member.Roles
	}
	if !h.Gate.Allow(ctx, o, ActIncidentNote) {
		return
	}
	inc, err := h.Incidents.ByThread(ctx, ev.ChannelID)
	if err != nil {
		if bot.ErrorCode(err) != bot.ENotFound {
			h.log().Error("📌 reaction: find incident", "channel", ev.ChannelID, "err", err)
		}
		return
	}
	m, err := h.Messages.Message(ctx, ev.ChannelID, ev.MessageID)
	if err != nil {
		h.log().Warn("📌 reaction: read message", "incident", inc.Ref(), "message", ev.MessageID, "err", err)
		return
	}
	if m.ChannelID == "" {
		m.ChannelID = ev.ChannelID
	}
	a := bot.Actor{UserID: ev.UserID, Via: "reaction"}
	if ev.Member != nil && ev.Member.User != nil {
		a.Name = ev.Member.User.Username
	}
	if _, err := h.Incidents.AddMessage(ctx, inc.ID, pinnedOf(ev.GuildID, m), a, h.now()); err != nil && bot.ErrorCode(err) != bot.EConflict {
		h.log().Error("📌 reaction: add to timeline", "incident", inc.Ref(), "err", err)
	}
}
