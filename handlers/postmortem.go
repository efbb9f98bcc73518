package handlers

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/postmortem"
)

// Postmortems answers /postmortem (create, show, edit, export, publish,
// history, action add/list/done), the edit/export/publish buttons
// (pmedit:, pmexport:, pmpublish:) and the edit modal (pmedit:<id>:<section>:<revision>).
type Postmortems struct {
	Core  PostmortemService
	Clock bot.Clock
	Log   *slog.Logger
}

func incidentOption() *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "incident",
		Description: "Incident, e.g. INC-42 (default: this incident thread's)", MaxLength: 20, Autocomplete: true}
}

// postmortemsFeature is /postmortem with its buttons and edit form;
// Postmortems.Register adds their routes.
func postmortemsFeature() Feature {
	sub := discordgo.ApplicationCommandOptionSubCommand
	var sections []*discordgo.ApplicationCommandOptionChoice
	for _, s := range postmortem.Sections {
		sections = append(sections, &discordgo.ApplicationCommandOptionChoice{Name: s.Title, Value: s.Key})
	}
	one := 1.0
	return Feature{Name: "postmortems", Commands: []*discordgo.ApplicationCommand{
		{Name: "postmortem", Description: "Post-mortems of resolved incidents, and their action items", Options: []*discordgo.ApplicationCommandOption{
			{Type: sub, Name: "create", Description: "Draft the post-mortem from the incident's record", Options: []*discordgo.ApplicationCommandOption{incidentOption()}},
			{Type: sub, Name: "show", Description: "Show the post-mortem with edit buttons", Options: []*discordgo.ApplicationCommandOption{
				incidentOption(),
				{Type: discordgo.ApplicationCommandOptionBoolean, Name: "post", Description: "Post it here for everyone"},
			}},
			{Type: sub, Name: "edit", Description: "Edit a section in a form", Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "section", Description: "Which section", Required: true, Choices: sections},
				incidentOption(),
			}},
			{Type: sub, Name: "export", Description: "The post-mortem as a Markdown file", Options: []*discordgo.ApplicationCommandOption{incidentOption()}},
			{Type: sub, Name: "publish", Description: "Publish to the knowledge-base forum (kept up to date)", Options: []*discordgo.ApplicationCommandOption{incidentOption()}},
			{Type: sub, Name: "history", Description: "Revisions: who changed what, when", Options: []*discordgo.ApplicationCommandOption{incidentOption()}},
			{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "action", Description: "Action items of the incident", Options: []*discordgo.ApplicationCommandOption{
				{Type: sub, Name: "add", Description: "Add an action item with an owner and a due date", Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionUser, Name: "owner", Description: "Who does it", Required: true},
					{Type: discordgo.ApplicationCommandOptionString, Name: "due", Description: "When: 2026-04-01, 3d, 2w", Required: true, MaxLength: 20},
					{Type: discordgo.ApplicationCommandOptionString, Name: "text", Description: "What needs doing", Required: true, MaxLength: postmortem.MaxActionText},
					incidentOption(),
				}},
				{Type: sub, Name: "list", Description: "List the action items", Options: []*discordgo.ApplicationCommandOption{
					incidentOption(),
					{Type: discordgo.ApplicationCommandOptionBoolean, Name: "all", Description: "Include done items"},
				}},
				{Type: sub, Name: "done", Description: "Mark an action item done", Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionInteger, Name: "id", Description: "Action item number, e.g. 3", Required: true, MinValue: &one, Autocomplete: true},
				}},
			}},
		}},
	},
		Components: []string{customid.PostmortemEdit, customid.PostmortemExport, customid.PostmortemPublish},
		Modals:     []string{customid.PostmortemEditForm},
	}
}

// Register declares postmortemsFeature and adds its routes to the router.
func (h *Postmortems) Register(x *Interactions) {
	x.Declare(postmortemsFeature())
	x.Command("postmortem create", ActPostmortemCreate, false, h.create)
	x.Command("postmortem show", ActPostmortemView, true, h.show)
	x.Command("postmortem edit", ActPostmortemEdit, true, h.editCommand)
	x.Command("postmortem export", ActPostmortemView, false, h.export)
	x.Command("postmortem publish", ActPostmortemPublish, false, h.publish)
	x.Command("postmortem history", ActPostmortemView, true, h.history)
	x.Command("postmortem action add", ActPostmortemAction, false, h.actionAdd)
	x.Command("postmortem action list", ActPostmortemView, true, h.actionList)
	x.Command("postmortem action done", ActPostmortemAction, false, h.actionDone)
	x.Component(customid.PostmortemEdit, ActPostmortemEdit, h.editButton)
	x.Component(customid.PostmortemExport, ActPostmortemView, h.exportButton)
	x.Component(customid.PostmortemPublish, ActPostmortemPublish, h.publishButton)
	x.Modal(customid.PostmortemEditForm, ActPostmortemEdit, true, h.editSubmit)
	for _, c := range []string{"create", "show", "edit", "export", "publish", "history", "action add", "action list", "action done"} {
		x.Autocomplete("postmortem "+c, ActPostmortemView, h.autocomplete) // incidents and action items: internal
	}
}

// autocomplete offers incidents (the incident option: the newest first, with
// their status and whether they have a post-mortem) and open action items
// (action done's id: in an incident's thread that incident's first).
func (h *Postmortems) autocomplete(ctx context.Context, r *Request) (*Reply, error) {
	if r.Focused == nil {
		return &Reply{}, nil
	}
	q := strings.ToLower(strings.TrimSpace(fmt.Sprint(r.Focused.Value)))
	var cs []*discordgo.ApplicationCommandOptionChoice
	add := func(name string, value any) {
		if len(cs) < 25 && (q == "" || strings.Contains(strings.ToLower(name), q)) {
			cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(name, 100), Value: value})
		}
	}
	switch r.Focused.Name {
	case "incident":
		incs, err := h.Core.Incidents(ctx, 100)
		if err != nil {
			return nil, err
		}
		for _, inc := range incs {
			add(fmt.Sprintf("%s · %s · %s (%s)", inc.Ref(), inc.Priority, inc.Title, inc.Status), inc.Ref())
		}
	case "id":
		items, err := h.Core.OpenActionItems(ctx, 100)
		if err != nil {
			return nil, err
		}
		if here, err := h.Core.IncidentByThread(ctx, r.ChannelID); err == nil {
			slices.SortStableFunc(items, func(a, b *postmortem.ActionItem) int {
				return cmpBool(b.IncidentID == here.ID, a.IncidentID == here.ID)
			})
		}
		for _, a := range items {
			add(fmt.Sprintf("#%d INC-%d · %s (due %s)", a.ID, a.IncidentID, oneLineText(a.Text), a.DueAt.UTC().Format("2006-01-02")), a.ID)
		}
	}
	return &Reply{Choices: cs}, nil
}

// cmpBool orders true before false.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// oneLineText is s on one line (autocomplete names are one line).
func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

// incident finds the incident a command is about: the incident option, or
// the thread it was run in.
func (h *Postmortems) incident(ctx context.Context, r *Request) (*bot.Incident, error) {
	ref := strings.TrimSpace(r.String("incident"))
	if ref != "" {
		n, perr := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(strings.TrimPrefix(ref, "#")), "INC-"), 10, 64)
		if perr != nil || n <= 0 {
			return nil, bot.Errorf(bot.EInvalid, "%q is not an incident: write it like INC-42", ref)
		}
		return h.Core.Incident(ctx, n)
	}
	inc, err := h.Core.IncidentByThread(ctx, r.ChannelID)
	if bot.ErrorCode(err) == bot.ENotFound {
		return inc, bot.Errorf(bot.EInvalid, "run this in the incident's thread, or name the incident: incident: INC-42")
	}
	return inc, err
}

func (h *Postmortems) postmortemOf(ctx context.Context, inc *bot.Incident) (*postmortem.Postmortem, error) {
	return h.Core.OfIncident(ctx, inc.ID)
}

func (h *Postmortems) create(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	pm, err := h.Core.Create(ctx, inc.ID, r.Actor(), h.Clock.Now())
	if err != nil {
		return nil, err
	}
	rep, err := h.showReply(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	how := "from the template"
	switch {
	case pm.LLMModel != "":
		how = fmt.Sprintf("with an LLM (`%s`) — a draft for humans to review: check every statement before publishing", pm.LLMModel)
	case pm.DraftNote != "":
		how = "from the template (" + pm.DraftNote + ")"
	}
	rep.Content = fmt.Sprintf("📝 Drafted the post-mortem of **%s** %s. Edit the sections with the buttons or `/postmortem edit`, add follow-ups with `/postmortem action add`, then `/postmortem publish`.", inc.Ref(), how)
	rep.Ephemeral = false
	return rep, nil
}

func (h *Postmortems) show(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	rep, err := h.showReply(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	if o, ok := r.Args["post"]; ok {
		if post, _ := o.Value.(bool); post {
			rep.Ephemeral = false
		}
	}
	return rep, nil
}

// showReply is the document's preview with its state and the edit, export
// and publish buttons.
func (h *Postmortems) showReply(ctx context.Context, incidentID int64) (*Reply, error) {
	md, rec, err := h.Core.Markdown(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	inc, pm := rec.Incident, rec.Postmortem
	body := md
	if i := strings.Index(body, "\n"); strings.HasPrefix(body, "# ") && i > 0 {
		body = strings.TrimLeft(body[i:], "\n")
	}
	if len([]rune(body)) > 3500 {
		body = truncateRunes(body, 3500) + "\n\n*… export it for the whole document.*"
	}
	state := "Draft"
	if pm.Published() {
		state = fmt.Sprintf("Published <t:%d:R> by %s", pm.PublishedAt.Unix(), pmMention(pm.PublishedBy))
		switch {
		case pm.ForumThreadID != "":
			state += fmt.Sprintf(" · forum post <#%s>", pm.ForumThreadID)
		case pm.ForumChannelID != "" && pm.PublishError != "":
			state += " · ⚠️ forum post failed: " + truncateRunes(pm.PublishError, 300)
		case pm.ForumChannelID != "":
			state += " · forum post pending"
		}
	}
	open := 0
	for _, a := range rec.Actions {
		if a.Status == postmortem.ActionOpen {
			open++
		}
	}
	e := &discordgo.MessageEmbed{Title: truncateRunes(fmt.Sprintf("📝 Post-mortem %s — %s", inc.Ref(), inc.Title), 256), Description: body,
		Color: 0x5865F2, Fields: []*discordgo.MessageEmbedField{
			{Name: "Status", Value: truncateRunes(state, 1024), Inline: true},
			{Name: "Revision", Value: fmt.Sprintf("%d · <t:%d:R>", pm.Revision, pm.UpdatedAt.Unix()), Inline: true},
			{Name: "Open action items", Value: strconv.Itoa(open), Inline: true},
		}}
	id := strconv.FormatInt(pm.ID, 10)
	var edits []discordgo.MessageComponent
	for _, s := range postmortem.Sections {
		edits = append(edits, discordgo.Button{Label: truncateRunes("Edit "+strings.ToLower(s.Title[:1])+s.Title[1:], 80), Style: discordgo.SecondaryButton,
			CustomID: customid.Make(customid.PostmortemEdit, id, s.Key)})
	}
	publish := "Publish"
	if pm.Published() {
		publish = "Publish again"
	}
	return &Reply{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{e}, Components: []discordgo.MessageComponent{
		discordgo.ActionsRow{Components: edits},
		discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Export .md", Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.PostmortemExport, id), Emoji: &discordgo.ComponentEmoji{Name: "📎"}},
			discordgo.Button{Label: publish, Style: discordgo.PrimaryButton, CustomID: customid.Make(customid.PostmortemPublish, id), Emoji: &discordgo.ComponentEmoji{Name: "📢"}},
		}},
	}}, nil
}

func pmMention(a bot.Actor) string { return bot.ActorRef(a) }

func (h *Postmortems) editCommand(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	pm, err := h.postmortemOf(ctx, inc)
	if err != nil {
		return nil, err
	}
	return editModal(pm, r.String("section"))
}

func (h *Postmortems) editButton(ctx context.Context, r *Request) (*Reply, error) {
	parts, err := params(r, 2, hintPostmortem)
	if err != nil {
		return nil, err
	}
	id, ok := parseID(parts[0])
	if !ok {
		return nil, malformed(r, hintPostmortem)
	}
	pm, err := h.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	return editModal(pm, parts[1])
}

// button is the post-mortem a button such as "pmexport:7" names.
func (h *Postmortems) button(ctx context.Context, r *Request) (*postmortem.Postmortem, error) {
	id, err := idParam(r, "use /postmortem show")
	if err != nil {
		return nil, err
	}
	return h.byID(ctx, id)
}

func (h *Postmortems) byID(ctx context.Context, id int64) (*postmortem.Postmortem, error) {
	return h.Core.Get(ctx, id)
}

// editModal opens a form for one section, filled with its current text.
// The custom_id carries the revision it starts from, to catch concurrent edits.
func editModal(pm *postmortem.Postmortem, key string) (*Reply, error) {
	sec, ok := postmortem.SectionByKey(key)
	if !ok {
		return nil, bot.Errorf(bot.EInvalid, "there is no section %q", key)
	}
	return &Reply{Modal: &discordgo.InteractionResponseData{
		CustomID: customid.Make(customid.PostmortemEditForm, pm.ID, sec.Key, pm.Revision),
		Title:    truncateRunes("Post-mortem: "+sec.Title, 45),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{
			CustomID: "text", Label: truncateRunes(sec.Title, 45), Style: discordgo.TextInputParagraph, Required: false,
			MaxLength: postmortem.MaxSectionRunes, Value: truncateRunes(pm.Sections[sec.Key], postmortem.MaxSectionRunes), Placeholder: truncateRunes(sec.Hint, 100),
		}}}},
	}}, nil
}

func (h *Postmortems) editSubmit(ctx context.Context, r *Request) (*Reply, error) {
	// "pmedit:<post-mortem>:<section>:<revision the editor opened>": the
	// revision is checked by the core against the stored history.
	parts, err := params(r, 3, hintPostmortem)
	if err != nil {
		return nil, err
	}
	id, ok1 := parseID(parts[0])
	base, ok2 := parseID(parts[2])
	if !ok1 || !ok2 || base > math.MaxInt32 {
		return nil, malformed(r, hintPostmortem)
	}
	text := ModalValues(r.Interaction)["text"]
	pm, err := h.Core.Edit(ctx, id, parts[1], text, int(base), r.Actor(), h.Clock.Now())
	if err != nil {
		if bot.ErrorCode(err) == bot.EConflict {
			// Give the text back so nothing typed is lost.
			return &Reply{Ephemeral: true, Content: truncateRunes("⚠️ "+bot.ErrorMessage(err)+"\nYour text:\n```\n"+strings.ReplaceAll(text, "```", "ˋˋˋ"), 1990) + "\n```"}, nil
		}
		return nil, err
	}
	sec, _ := postmortem.SectionByKey(parts[1])
	msg := fmt.Sprintf("✅ Saved the %s: revision %d.", sec.Title, pm.Revision)
	if pm.Published() && pm.ForumChannelID != "" {
		msg += " The forum post will be updated."
	}
	return &Reply{Ephemeral: true, Content: msg}, nil
}

func (h *Postmortems) export(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	return h.exportReply(ctx, inc.ID)
}

func (h *Postmortems) exportButton(ctx context.Context, r *Request) (*Reply, error) {
	pm, err := h.button(ctx, r)
	if err != nil {
		return nil, err
	}
	rep, err := h.exportReply(ctx, pm.IncidentID)
	if err == nil {
		rep.Ephemeral = true
	}
	return rep, err
}

func (h *Postmortems) exportReply(ctx context.Context, incidentID int64) (*Reply, error) {
	md, rec, err := h.Core.Markdown(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	return &Reply{
		Content: fmt.Sprintf("📎 Post-mortem of **%s**, revision %d.", rec.Incident.Ref(), rec.Postmortem.Revision),
		Files: []*discordgo.File{{Name: postmortem.FileName(rec.Incident), ContentType: "text/markdown; charset=utf-8",
			Reader: bytes.NewReader([]byte(md))}},
	}, nil
}

func (h *Postmortems) publish(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	pm, err := h.postmortemOf(ctx, inc)
	if err != nil {
		return nil, err
	}
	return h.publishReply(ctx, r, inc, pm.ID)
}

func (h *Postmortems) publishButton(ctx context.Context, r *Request) (*Reply, error) {
	pm, err := h.button(ctx, r)
	if err != nil {
		return nil, err
	}
	inc, err := h.Core.Incident(ctx, pm.IncidentID)
	if err != nil {
		return nil, err
	}
	return h.publishReply(ctx, r, inc, pm.ID)
}

func (h *Postmortems) publishReply(ctx context.Context, r *Request, inc *bot.Incident, id int64) (*Reply, error) {
	pm, err := h.Core.Publish(ctx, id, r.Actor(), h.Clock.Now())
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("📢 %s published the post-mortem of **%s** (revision %d).", pmMention(r.Actor()), inc.Ref(), pm.Revision)
	if pm.ForumChannelID != "" {
		msg += fmt.Sprintf(" It goes to <#%s> in a moment and is updated there whenever it changes.", pm.ForumChannelID)
	} else {
		msg += " (No knowledge-base forum is configured: set postmortems.forum_channel to publish it there.)"
	}
	return &Reply{Content: msg}, nil
}

func (h *Postmortems) history(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	pm, err := h.postmortemOf(ctx, inc)
	if err != nil {
		return nil, err
	}
	revs, err := h.Core.Revisions(ctx, pm.ID)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for i := len(revs) - 1; i >= 0 && b.Len() < 3500; i-- {
		rv := revs[i]
		what := "first draft"
		if rv.Note != "" && rv.Changed == "" {
			what = "first draft (" + rv.Note + ")"
		}
		if s, ok := postmortem.SectionByKey(rv.Changed); ok {
			what = s.Title + " edited"
		}
		fmt.Fprintf(&b, "**r%d** <t:%d:f> · %s · %s\n", rv.Revision, rv.At.Unix(), pmMention(rv.Actor), what)
	}
	return &Reply{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{{Title: fmt.Sprintf("🕓 Post-mortem %s — %d revisions", inc.Ref(), len(revs)),
		Description: b.String(), Color: 0x5865F2}}}, nil
}

// ParseDue reads an action item's due date: a date (2026-04-01, due at the
// end of that day UTC), or a delay from now (3d, 2w, 36h).
func ParseDue(s string, now time.Time) (time.Time, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	bad := bot.Errorf(bot.EInvalid, "%q is not a due date: write a date like 2026-04-01, or a delay like 3d, 2w or 36h", s)
	if d, err := time.Parse("2006-01-02", s); err == nil {
		return d.Add(24*time.Hour - time.Minute), nil
	}
	switch s {
	case "today":
		y, m, d := now.UTC().Date()
		return time.Date(y, m, d, 23, 59, 0, 0, time.UTC), nil
	case "tomorrow":
		y, m, d := now.UTC().Add(24 * time.Hour).Date()
		return time.Date(y, m, d, 23, 59, 0, 0, time.UTC), nil
	}
	if len(s) < 2 {
		return time.Time{}, bad
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 3650 {
		return time.Time{}, bad
	}
	switch s[len(s)-1] {
	case 'h':
		return now.Add(time.Duration(n) * time.Hour), nil
	case 'd':
		return now.Add(time.Duration(n) * 24 * time.Hour), nil
	case 'w':
		return now.Add(time.Duration(n) * 7 * 24 * time.Hour), nil
	}
	return time.Time{}, bad
}

func (h *Postmortems) actionAdd(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	now := h.Clock.Now()
	due, err := ParseDue(r.String("due"), now)
	if err != nil {
		return nil, err
	}
	a, err := h.Core.AddActionItem(ctx, inc.ID, r.String("owner"), due, r.String("text"), r.Actor(), now)
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("📌 Action item **#%d** of %s for <@%s>, due <t:%d:D> (<t:%d:R>):\n> %s\nThey get a reminder a day before it is due, and while it is overdue. Mark it done with `/postmortem action done id:%d`.",
		a.ID, inc.Ref(), a.OwnerID, a.DueAt.Unix(), a.DueAt.Unix(), a.Text, a.ID)}, nil
}

func (h *Postmortems) actionList(ctx context.Context, r *Request) (*Reply, error) {
	inc, err := h.incident(ctx, r)
	if err != nil {
		return nil, err
	}
	all := false
	if o, ok := r.Args["all"]; ok {
		all, _ = o.Value.(bool)
	}
	items, err := h.Core.ActionItems(ctx, inc.ID, !all)
	if err != nil {
		return nil, err
	}
	now := h.Clock.Now()
	var b strings.Builder
	for _, a := range items {
		mark := "⬜"
		switch {
		case a.Status == postmortem.ActionDone:
			mark = "✅"
		case a.Overdue(now):
			mark = "⚠️"
		}
		line := fmt.Sprintf("%s **#%d** %s — <@%s>, due <t:%d:D>", mark, a.ID, truncateRunes(a.Text, 200), a.OwnerID, a.DueAt.Unix())
		if a.Overdue(now) {
			line += " (**overdue**)"
		}
		if b.Len()+len(line) > 3900 {
			b.WriteString("…")
			break
		}
		b.WriteString(line + "\n")
	}
	if len(items) == 0 {
		b.WriteString("No open action items. Add one with `/postmortem action add`.")
	}
	title := fmt.Sprintf("📌 Open action items of %s (%d)", inc.Ref(), len(items))
	if all {
		title = fmt.Sprintf("📌 Action items of %s (%d)", inc.Ref(), len(items))
	}
	return &Reply{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{{Title: title, Description: b.String(), Color: 0x5865F2}}}, nil
}

func (h *Postmortems) actionDone(ctx context.Context, r *Request) (*Reply, error) {
	id, ok := r.Int("id")
	if !ok || id <= 0 {
		return nil, bot.Errorf(bot.EInvalid, "give the action item's number, e.g. id: 3 (see /postmortem action list)")
	}
	a, err := h.Core.CompleteActionItem(ctx, id, r.Actor(), h.Clock.Now())
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("✅ Action item **#%d** done: %s", a.ID, truncateRunes(a.Text, 300))}, nil
}
