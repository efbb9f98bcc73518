package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/runbooks"
)

// Runbooks answers /runbook (show, list, run, reload), the runbook button
// on alert cards (rb:<id>) and the checklist step buttons (rbstep:<checklist>:<step>).
type Runbooks struct {
	Library *runbooks.Library
	// Checklists finds incident threads and runs checklists.
	Checklists ChecklistService
	Clock      bot.Clock
	// AdminRoles may run /runbook reload. With none, members with the
	// Manage Server permission may.
	AdminRoles []string
	Log        *slog.Logger
}

func runbookOption(required bool) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name",
		Description: "Runbook: id, title or alias (type to search)", Required: required, Autocomplete: true, MaxLength: 100}
}

// runbooksFeature is /runbook and the runbook buttons (alert cards,
// checklists); Runbooks.Register adds their routes.
func runbooksFeature() Feature {
	sub := discordgo.ApplicationCommandOptionSubCommand
	return Feature{Name: "runbooks", Commands: []*discordgo.ApplicationCommand{
		{Name: "runbook", Description: "Incident runbooks: show, list, run as a checklist, reload", Options: []*discordgo.ApplicationCommandOption{
			{Type: sub, Name: "show", Description: "Show a runbook (only to you, unless you post it)", Options: []*discordgo.ApplicationCommandOption{
				runbookOption(true),
				{Type: discordgo.ApplicationCommandOptionBoolean, Name: "post", Description: "Post it here for everyone (e.g. in the incident thread)"},
			}},
			{Type: sub, Name: "list", Description: "List the runbooks (this incident's first)"},
			{Type: sub, Name: "run", Description: "Post a runbook's steps as a checklist in this incident thread", Options: []*discordgo.ApplicationCommandOption{
				runbookOption(false),
			}},
			{Type: sub, Name: "reload", Description: "Reload the runbook directory (keeps the current set if it has errors)"},
		}},
	},
		Components: []string{customid.Runbook, customid.RunbookRun, customid.RunbookStep},
	}
}

// Register declares runbooksFeature and adds its routes to the router.
func (h *Runbooks) Register(x *Interactions) {
	x.Declare(runbooksFeature())
	x.Command("runbook show", ActRunbookView, true, h.show)
	x.Command("runbook list", ActRunbookView, true, h.list)
	x.Command("runbook run", ActRunbookRun, false, h.run)
	x.Command("runbook reload", ActRunbookReload, true, h.reload)
	x.Autocomplete("runbook show", ActRunbookView, h.autocomplete)
	x.Autocomplete("runbook run", ActRunbookView, h.autocomplete)
	x.Component(customid.Runbook, ActRunbookView, h.button)
	x.Component(customid.RunbookRun, ActRunbookRun, h.runButton)
	x.Component(customid.RunbookStep, ActRunbookRun, h.step)
}

func (h *Runbooks) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// Reload reloads the runbook directory, for SIGHUP. On errors the current
// set stays and the errors (file:line each) are returned and logged.
func (h *Runbooks) Reload() error {
	set, errs := h.Library.Reload()
	if len(errs) > 0 {
		for _, e := range errs {
			h.log().Error("runbook reload: kept the current runbooks", "problem", e.Error())
		}
		return fmt.Errorf("runbooks not reloaded, %d problem(s); keeping the %d current runbooks: %w", len(errs), set.Len(), errors.Join(errs...))
	}
	h.log().Info("runbooks reloaded", "dir", h.Library.Dir(), "runbooks", set.Len())
	return nil
}

// RunbookFor returns the runbook of an alert group: the one its `runbook`
// label or annotation or its `runbook_url` annotation names, else the best
// matcher match, else nil.
func RunbookFor(set *runbooks.Set, g *bot.Group) *runbooks.Runbook {
	for _, ref := range incident.RunbookRefs(g) {
		if rb, ok := set.Resolve(ref); ok {
			return rb
		}
	}
	return set.Match(incident.RunbookLabels(g))
}

// LinkedRunbooks returns the runbooks of an incident's alert groups, without duplicates.
func LinkedRunbooks(set *runbooks.Set, groups []*bot.Group) []*runbooks.Runbook {
	var out []*runbooks.Runbook
	for _, g := range groups {
		if rb := RunbookFor(set, g); rb != nil && !slices.Contains(out, rb) {
			out = append(out, rb)
		}
	}
	return out
}

// RunbookButton returns the card action that shows an alert's runbook in
// Discord (custom_id rb:<id>, answered ephemerally by Register's handler),
// for alert cards whose group names a runbook of lib or matches one.
// Compose it with CardActions in discord.RenderOptions.Actions.
func RunbookButton(lib *runbooks.Library) func(bot.View) []discordgo.Button {
	return func(v bot.View) []discordgo.Button {
		if lib == nil || v.Post.Kind != bot.Card || len(v.Groups) == 0 {
			return nil
		}
		rb := RunbookFor(lib.Current(), v.Groups[0])
		if rb == nil || len(customid.Make(customid.Runbook, rb.ID)) > 100 {
			return nil
		}
		return []discordgo.Button{{Label: truncateRunes("Runbook: "+rb.Title, 80), Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.Runbook, rb.ID),
			Emoji: &discordgo.ComponentEmoji{Name: "📖"}}}
	}
}

func (h *Runbooks) find(name string) (*runbooks.Runbook, error) {
	set := h.Library.Current()
	if rb, ok := set.Resolve(name); ok {
		return rb, nil
	}
	if hits := set.Search(name, 1); len(hits) == 1 && strings.TrimSpace(name) != "" {
		return hits[0], nil
	}
	return nil, bot.Errorf(bot.ENotFound, "there is no runbook %q: pick one from the list as you type, or see /runbook list", name)
}

func (h *Runbooks) show(ctx context.Context, r *Request) (*Reply, error) {
	rb, err := h.find(r.String("name"))
	if err != nil {
		return nil, err
	}
	post := false
	if o, ok := r.Args["post"]; ok {
		post, _ = o.Value.(bool)
	}
	rep := &Reply{Embeds: []*discordgo.MessageEmbed{runbookEmbed(rb)}, Ephemeral: !post}
	if inc, _, err := h.Checklists.ThreadIncident(ctx, r.ChannelID); err == nil && inc != nil && len(rb.Steps) > 0 {
		rep.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Run as checklist here", Style: discordgo.PrimaryButton, CustomID: customid.Make(customid.RunbookRun, rb.ID), Emoji: &discordgo.ComponentEmoji{Name: "☑️"}},
		}}}
	}
	return rep, nil
}

// button answers the runbook button of an alert card.
func (h *Runbooks) button(ctx context.Context, r *Request) (*Reply, error) {
	rb, ok := h.Library.Current().Get(r.ID)
	if !ok {
		return nil, bot.Errorf(bot.ENotFound, "runbook %q is no longer loaded (the runbooks were reloaded): see /runbook list", r.ID)
	}
	return &Reply{Embeds: []*discordgo.MessageEmbed{runbookEmbed(rb)}, Ephemeral: true}, nil
}

func runbookEmbed(rb *runbooks.Runbook) *discordgo.MessageEmbed {
	body := rb.Render(4000)
	if strings.HasPrefix(body, "## ") { // the embed title says it
		if i := strings.Index(body, "\n"); i > 0 {
			body = strings.TrimLeft(body[i:], "\n")
		}
	}
	return &discordgo.MessageEmbed{Title: truncateRunes("📖 "+rb.Title, 256), Description: body, Color: runbookColor(rb.Priority),
		Footer: &discordgo.MessageEmbedFooter{Text: truncateRunes("Runbook "+rb.ID+" · "+rb.Source, 2048)}}
}

func runbookColor(p string) int {
	switch p {
	case "P0":
		return 0xE01E1E
	case "P1":
		return 0xF2711C
	case "P2":
		return 0xF2C037
	}
	return 0x3B82F6
}

func (h *Runbooks) list(ctx context.Context, r *Request) (*Reply, error) {
	set := h.Library.Current()
	_, groups, err := h.Checklists.ThreadIncident(ctx, r.ChannelID)
	if err != nil {
		return nil, err
	}
	linked := LinkedRunbooks(set, groups)
	var b strings.Builder
	if len(linked) > 0 {
		b.WriteString("**Linked to this incident's alerts**\n")
		for _, rb := range linked {
			fmt.Fprintf(&b, "🔗 %s\n", runbookLine(rb))
		}
		b.WriteString("\n**All runbooks**\n")
	}
	for _, rb := range set.All() {
		fmt.Fprintf(&b, "• %s\n", runbookLine(rb))
	}
	if set.Len() == 0 {
		b.WriteString("No runbooks are loaded.")
	}
	footer := "Show one with /runbook show · run it in an incident thread with /runbook run"
	if d := h.Library.Dir(); d != "" {
		footer += " · directory " + d
	}
	return &Reply{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{{Title: fmt.Sprintf("📚 Runbooks (%d)", set.Len()),
		Description: truncateRunes(b.String(), 4000), Color: 0x3B82F6, Footer: &discordgo.MessageEmbedFooter{Text: footer}}}}, nil
}

func runbookLine(rb *runbooks.Runbook) string {
	s := fmt.Sprintf("**%s** `%s` %s", rb.Priority, rb.ID, rb.Title)
	if rb.FirstResponse != "" {
		s += " — " + truncateRunes(strings.Join(strings.Fields(rb.FirstResponse), " "), 120)
	}
	return s
}

func (h *Runbooks) autocomplete(ctx context.Context, r *Request) (*Reply, error) {
	q := ""
	if r.Focused != nil {
		q = fmt.Sprint(r.Focused.Value)
	}
	set := h.Library.Current()
	var list []*runbooks.Runbook
	if strings.TrimSpace(q) == "" {
		if _, groups, err := h.Checklists.ThreadIncident(ctx, r.ChannelID); err == nil {
			list = LinkedRunbooks(set, groups)
		}
	}
	for _, rb := range set.Search(q, 25) {
		if !slices.Contains(list, rb) {
			list = append(list, rb)
		}
	}
	var cs []*discordgo.ApplicationCommandOptionChoice
	for _, rb := range list {
		cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(rb.Summary(), 100), Value: rb.ID})
	}
	return &Reply{Choices: cs}, nil
}

func (h *Runbooks) run(ctx context.Context, r *Request) (*Reply, error) {
	return h.startChecklist(ctx, r, r.String("name"))
}

func (h *Runbooks) runButton(ctx context.Context, r *Request) (*Reply, error) {
	return h.startChecklist(ctx, r, r.ID)
}

func (h *Runbooks) startChecklist(ctx context.Context, r *Request, name string) (*Reply, error) {
	inc, groups, err := h.Checklists.ThreadIncident(ctx, r.ChannelID)
	if err != nil {
		return nil, err
	}
	if inc == nil {
		return nil, bot.Errorf(bot.EInvalid, "run checklists inside an incident's thread, so that every step lands on its timeline; to just read a runbook use /runbook show")
	}
	var rb *runbooks.Runbook
	if strings.TrimSpace(name) == "" {
		linked := LinkedRunbooks(h.Library.Current(), groups)
		if len(linked) == 0 {
			return nil, bot.Errorf(bot.EInvalid, "no runbook is linked to %s's alerts: name one, e.g. /runbook run name:service-down", inc.Ref())
		}
		rb = linked[0]
	} else if rb, err = h.find(name); err != nil {
		return nil, err
	}
	c, err := h.Checklists.Start(ctx, inc.ID, rb.ID, rb.Title, rb.Steps, r.ChannelID, r.Actor(), h.Clock.Now())
	if err != nil {
		return nil, err
	}
	h.log().Info("runbook checklist started", "incident", inc.ID, "runbook", rb.ID, "checklist", c.ID)
	rep := checklistReply(c, inc)
	return rep, nil
}

func (h *Runbooks) step(ctx context.Context, r *Request) (*Reply, error) {
	// "rbstep:<checklist>:<step>", clicked in an incident's thread: the
	// checklist must be that incident's (checked in the core's transaction).
	parts, err := params(r, 2, hintChecklist)
	if err != nil {
		return nil, err
	}
	id, ok1 := parseID(parts[0])
	n, ok2 := parseID(parts[1])
	if !ok1 || !ok2 || n > incident.MaxChecklistSteps {
		return nil, malformed(r, hintChecklist)
	}
	inc, _, err := h.Checklists.ThreadIncident(ctx, r.ChannelID)
	if err != nil {
		return nil, err
	}
	if inc == nil {
		return nil, bot.Errorf(bot.EForbidden, "checklist steps are ticked in their incident's thread; this is not an incident thread")
	}
	c, _, err := h.Checklists.Toggle(ctx, inc.ID, id, int(n-1), r.Actor(), h.Clock.Now())
	if err != nil {
		return nil, err
	}
	rep := checklistReply(c, inc)
	rep.Update = true
	return rep, nil
}

// checklistReply renders a checklist: the steps with who did them and
// when, and one button per step (green when done).
func checklistReply(c *incident.Checklist, inc *bot.Incident) *Reply {
	per := 3800/max(len(c.Steps), 1) - 60
	per = min(max(per, 40), 300)
	var b strings.Builder
	for i, s := range c.Steps {
		if d := c.Done[i]; d != nil {
			by := d.Name
			if d.UserID != "" {
				by = "<@" + d.UserID + ">"
			}
			fmt.Fprintf(&b, "✅ **%d.** ~~%s~~ — %s <t:%d:t>\n", i+1, truncateRunes(s, per), by, d.At.Unix())
		} else {
			fmt.Fprintf(&b, "⬜ **%d.** %s\n", i+1, truncateRunes(s, per))
		}
	}
	done := c.DoneCount()
	color := 0xF2C037
	if done == len(c.Steps) {
		color = 0x2EB67D
	}
	e := &discordgo.MessageEmbed{Title: truncateRunes(fmt.Sprintf("☑️ %s — %s", c.Title, inc.Ref()), 256), Description: truncateRunes(b.String(), 4000),
		Color: color, Footer: &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("%d/%d done · runbook %s · each click is recorded on the incident timeline", done, len(c.Steps), c.RunbookID)}}
	var rows []discordgo.MessageComponent
	var row []discordgo.MessageComponent
	for i := range c.Steps {
		if i == incident.MaxChecklistSteps {
			break
		}
		btn := discordgo.Button{Label: strconv.Itoa(i + 1), Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.RunbookStep, c.ID, i+1)}
		if c.Done[i] != nil {
			btn.Style, btn.Emoji = discordgo.SuccessButton, &discordgo.ComponentEmoji{Name: "✅"}
		}
		row = append(row, btn)
		if len(row) == 5 {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	return &Reply{Embeds: []*discordgo.MessageEmbed{e}, Components: rows}
}

func (h *Runbooks) reload(ctx context.Context, r *Request) (*Reply, error) {
	if err := h.mayReload(r); err != nil {
		return nil, err
	}
	if h.Library.Dir() == "" {
		return &Reply{Ephemeral: true, Content: "Only the built-in runbooks are loaded: set runbooks.dir in klaxon.yaml to load your own."}, nil
	}
	set, errs := h.Library.Reload()
	if len(errs) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "⚠️ The runbooks in `%s` have %d problem(s), so the current %d runbooks stay loaded. Fix these and reload:\n```\n", h.Library.Dir(), len(errs), set.Len())
		for i, e := range errs {
			if i == 15 {
				fmt.Fprintf(&b, "… and %d more\n", len(errs)-15)
				break
			}
			b.WriteString(truncateRunes(e.Error(), 200) + "\n")
		}
		b.WriteString("```")
		h.log().Warn("runbook reload refused", "by", r.Actor().UserID, "problems", len(errs))
		return &Reply{Ephemeral: true, Content: b.String()}, nil
	}
	h.log().Info("runbooks reloaded", "by", r.Actor().UserID, "runbooks", set.Len())
	return &Reply{Ephemeral: true, Content: fmt.Sprintf("✅ Reloaded %d runbooks from `%s`.", set.Len(), h.Library.Dir())}, nil
}

func (h *Runbooks) mayReload(r *Request) error {
	if len(h.AdminRoles) > 0 {
		if slices.ContainsFunc(r.RoleIDs, func(id string) bool { return slices.Contains(h.AdminRoles, id) }) {
			return nil
		}
		names := make([]string, len(h.AdminRoles))
		for i, id := range h.AdminRoles {
			names[i] = "<@&" + id + ">"
		}
		return bot.Errorf(bot.EForbidden, "only %s may reload the runbooks", strings.Join(names, " or "))
	}
	if r.Member != nil && r.Member.Permissions&(discordgo.PermissionManageGuild|discordgo.PermissionAdministrator) != 0 {
		return nil
	}
	return bot.Errorf(bot.EForbidden, "only members with Manage Server may reload the runbooks (or set runbooks.admin_roles in klaxon.yaml)")
}
