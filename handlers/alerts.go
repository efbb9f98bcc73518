package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
)

// Actions a role list can guard.
const (
	ActAcknowledge = "acknowledge"
	ActResolve     = "resolve"
	ActSilence     = "silence"
	ActEscalate    = "escalate"
	ActPage        = "page"
)

// Permissions lists, per action and priority, the roles allowed to act;
// an empty list adds no check. The gate applies it (Access.ByPriority).
type Permissions map[string][4][]string

// Alerts answers the alert buttons and the /ack, /resolve, /escalate,
// /silence and /alerts commands.
type Alerts struct {
	Paging   AlertService
	Silences SilenceService // nil or without a Silencer: silencing is not configured
	Clock    bot.Clock
	// Gate is the interactions' gate: it checks a route against its
	// target's priority before the handler runs; a silence is checked again
	// against the most urgent priority its matchers can cover.
	Gate *Gate
	Log  *slog.Logger
	// Threads finds the incident whose thread a command runs in (an alert
	// card's thread is its incident's), so /ack, /unack, /resolve and
	// /escalate there need no alert; nil: the alert option is needed.
	Threads ThreadIncidents
}

// ThreadIncidents finds the incident of a thread (implemented by
// *incident.Service).
type ThreadIncidents interface {
	ByThread(ctx context.Context, channelID string) (*bot.Incident, error)
}

func alertOption(desc string) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "alert",
		Description: desc, Required: true, Autocomplete: true}
}

// threadAlertOption is alertOption, optional inside a card's thread.
func threadAlertOption(desc string) *discordgo.ApplicationCommandOption {
	o := alertOption(desc + " (default in a card's thread: its alert)")
	o.Required = false
	return o
}

var priorityChoices = []*discordgo.ApplicationCommandOptionChoice{
	{Name: "P0 critical outage", Value: "P0"}, {Name: "P1 major issue", Value: "P1"},
	{Name: "P2 minor issue", Value: "P2"}, {Name: "P3 warning", Value: "P3"},
}

// alertsFeature is the slash commands for alerts and the buttons of alert
// cards and pages; Alerts.Register adds their routes.
func alertsFeature() Feature {
	return Feature{Name: "alerts", Commands: []*discordgo.ApplicationCommand{
		{Name: "ack", Description: "Acknowledge an alert: you own it, paging stops",
			Options: []*discordgo.ApplicationCommandOption{threadAlertOption("The alert to acknowledge")}},
		{Name: "unack", Description: "Hand an acknowledged alert back: paging starts again",
			Options: []*discordgo.ApplicationCommandOption{threadAlertOption("The alert to hand back")}},
		{Name: "resolve", Description: "Resolve an alert by hand",
			Options: []*discordgo.ApplicationCommandOption{threadAlertOption("The alert to resolve")}},
		{Name: "escalate", Description: "Run an alert's next escalation step now",
			Options: []*discordgo.ApplicationCommandOption{threadAlertOption("The alert to escalate")}},
		{Name: "silence", Description: "Silence an alert in Alertmanager",
			Options: []*discordgo.ApplicationCommandOption{
				alertOption("The alert to silence"),
				{Type: discordgo.ApplicationCommandOptionString, Name: "duration", Description: "For how long: 30m, 2h, 3d (1 minute to 30 days)", Required: true,
					Choices: nil},
				{Type: discordgo.ApplicationCommandOptionString, Name: "comment", Description: "Why (kept on the silence)", MaxLength: 500},
			}},
		{Name: "alerts", Description: "List open alerts with age, priority and who acknowledged",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "priority", Description: "Only this priority", Choices: priorityChoices},
			}},
	},
		Components: []string{customid.AlertAck, customid.AlertUnack, customid.AlertResolve, customid.AlertEscalate, customid.AlertUnsilence,
			customid.AlertSilenceMenu, customid.AlertSilenceFor, customid.AlertSilenceCustom},
		Modals: []string{customid.AlertSilenceForm},
	}
}

// Register adds the handlers to the router.
func (a *Alerts) Register(x *Interactions) {
	x.Declare(alertsFeature())
	prio := TargetPriority(a.priority)                                   // the permissions section applies per priority
	x.Component(customid.AlertAck, ActAlertAck, a.button, prio, AllowDM) // a page's Acknowledge, also in a DM
	x.Component(customid.AlertUnack, ActAlertAck, a.button, prio)
	x.Component(customid.AlertResolve, ActAlertResolve, a.button, prio)
	x.Component(customid.AlertEscalate, ActAlertEscalate, a.button, prio)
	x.Component(customid.AlertUnsilence, ActAlertSilence, a.button, prio)
	x.Component(customid.AlertSilenceMenu, ActAlertSilence, a.silenceMenu, prio)
	x.Component(customid.AlertSilenceFor, ActAlertSilence, a.silenceButton, prio)
	x.Component(customid.AlertSilenceCustom, ActAlertSilence, a.silenceModal, prio)
	x.Modal(customid.AlertSilenceForm, ActAlertSilence, true, a.silenceModalSubmit, prio)
	x.Command("ack", ActAlertAck, true, a.command, prio)
	x.Command("unack", ActAlertAck, true, a.command, prio)
	x.Command("resolve", ActAlertResolve, true, a.command, prio)
	x.Command("escalate", ActAlertEscalate, true, a.command, prio)
	x.Command("silence", ActAlertSilence, true, a.silenceCommand, prio)
	x.Command("alerts", ActAlertView, true, a.list)
	for _, c := range []string{"ack", "unack", "resolve", "escalate", "silence"} {
		x.Autocomplete(c, ActAlertView, a.autocomplete) // alert text is internal
	}
}

// CardActions returns the interactive buttons of an alert card.
func CardActions(v bot.View) []discordgo.Button {
	if v.Post.Kind != bot.Card || len(v.Groups) == 0 {
		return nil
	}
	g := v.Groups[0]
	if g.Status != bot.Firing {
		return nil
	}
	id := strconv.FormatInt(g.ID, 10)
	var bs []discordgo.Button
	if g.Ack == nil {
		bs = append(bs, discordgo.Button{Label: "Acknowledge", Style: discordgo.PrimaryButton, CustomID: customid.Make(customid.AlertAck, id), Emoji: &discordgo.ComponentEmoji{Name: "👀"}})
	} else {
		bs = append(bs, discordgo.Button{Label: "Unacknowledge", Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.AlertUnack, id)})
	}
	bs = append(bs,
		discordgo.Button{Label: "Resolve", Style: discordgo.SuccessButton, CustomID: customid.Make(customid.AlertResolve, id), Emoji: &discordgo.ComponentEmoji{Name: "✅"}},
		discordgo.Button{Label: "Escalate now", Style: discordgo.DangerButton, CustomID: customid.Make(customid.AlertEscalate, id), Emoji: &discordgo.ComponentEmoji{Name: "📣"}},
	)
	if g.Silence == nil {
		bs = append(bs, discordgo.Button{Label: "Silence", Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.AlertSilenceMenu, id), Emoji: &discordgo.ComponentEmoji{Name: "🔕"}})
	} else {
		bs = append(bs, discordgo.Button{Label: "Unsilence", Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.AlertUnsilence, id)})
	}
	return bs
}

func (a *Alerts) group(ctx context.Context, ref string) (*bot.Group, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(ref, "#")), 10, 64)
	if err != nil || id <= 0 {
		return nil, bot.Errorf(bot.EInvalid, "%q is not an alert: pick one from the list as you type, or give its number from /alerts", ref)
	}
	g, err := a.Paging.Group(ctx, id)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil, bot.Errorf(bot.ENotFound, "there is no alert #%d: see /alerts for the open ones", id)
	}
	return g, err
}

// priority is the priority of the alert a request acts on, for the gate:
// the alert option of a command, or the group id at the start of a
// custom_id's id ("42" in "sild:42:1h0m0s").
func (a *Alerts) priority(ctx context.Context, r *Request) (bot.Priority, bool) {
	ref := r.String("alert")
	if r.CustomID != "" {
		ref, _, _ = strings.Cut(r.ID, ":")
	} else if ref == "" {
		ref, _ = a.threadAlert(ctx, r)
	}
	g, err := a.group(ctx, ref)
	if err != nil {
		return 0, false // the handler says what is wrong
	}
	return g.Priority, true
}

func (a *Alerts) button(ctx context.Context, r *Request) (*Reply, error) {
	id, err := idParam(r, hintAlerts)
	if err != nil {
		return nil, err
	}
	return a.act(ctx, r, customid.Prefix(r.CustomID), strconv.FormatInt(id, 10))
}

func (a *Alerts) command(ctx context.Context, r *Request) (*Reply, error) {
	verb := map[string]string{"ack": customid.AlertAck, "unack": customid.AlertUnack, "resolve": customid.AlertResolve, "escalate": customid.AlertEscalate}[r.Path]
	ref := r.String("alert")
	if ref == "" {
		var err error
		if ref, err = a.threadAlert(ctx, r); err != nil {
			return nil, err
		}
	}
	return a.act(ctx, r, verb, ref)
}

// threadAlert is the alert a command without one acts on: in an incident's
// thread (an alert card's thread is one), the incident's one alert, or its
// one still firing.
func (a *Alerts) threadAlert(ctx context.Context, r *Request) (string, error) {
	choose := bot.Errorf(bot.EInvalid, "which alert? Pick one from the list as you type, or run this in an alert card's thread")
	if a.Threads == nil {
		return "", choose
	}
	inc, err := a.Threads.ByThread(ctx, r.ChannelID)
	if bot.ErrorCode(err) == bot.ENotFound {
		return "", choose
	}
	if err != nil {
		return "", err
	}
	ids := inc.GroupIDs
	if len(ids) > 1 {
		var firing []int64
		for _, id := range ids {
			if g, err := a.Paging.Group(ctx, id); err == nil && g.Status == bot.Firing {
				firing = append(firing, id)
			}
		}
		ids = firing
	}
	switch len(ids) {
	case 1:
		return strconv.FormatInt(ids[0], 10), nil
	case 0:
		return "", bot.Errorf(bot.EInvalid, "%s has no alert to act on: pick one from the list as you type", inc.Ref())
	}
	return "", bot.Errorf(bot.EInvalid, "%s has %d firing alerts: pick one from the list as you type", inc.Ref(), len(ids))
}

func (a *Alerts) act(ctx context.Context, r *Request, verb, ref string) (*Reply, error) {
	g, err := a.group(ctx, ref)
	if err != nil {
		return nil, err
	}
	now := a.Clock.Now()
	actor := r.Actor()
	var done string
	switch verb {
	case customid.AlertAck, customid.AlertUnack:
		if verb == customid.AlertAck {
			_, err = a.Paging.Acknowledge(ctx, g.ID, actor, now)
			done = "👀 You acknowledged **%s**: paging has stopped."
		} else {
			_, err = a.Paging.Unacknowledge(ctx, g.ID, actor, now)
			done = "↩️ **%s** is unacknowledged: paging starts again."
		}
	case customid.AlertResolve:
		_, err = a.Paging.Resolve(ctx, g.ID, actor, now)
		done = "✅ You resolved **%s** by hand. If Alertmanager fires it again, it comes back as a new alert."
	case customid.AlertEscalate:
		_, err = a.Paging.EscalateNow(ctx, g.ID, actor, now)
		done = "📣 Escalated **%s** to the next step."
	case customid.AlertUnsilence:
		return a.unsilence(ctx, r, g)
	default:
		return nil, bot.Errorf(bot.EInvalid, "unknown action %q", verb)
	}
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf(done, g.Title()), Ephemeral: true}, nil
}

// silenceDurations are the choices the Silence button offers.
var silenceDurations = []struct {
	label string
	d     time.Duration
}{{"1 hour", time.Hour}, {"4 hours", 4 * time.Hour}, {"24 hours", 24 * time.Hour}}

func (a *Alerts) silenceMenu(ctx context.Context, r *Request) (*Reply, error) {
	gid, err := idParam(r, hintAlerts)
	if err != nil {
		return nil, err
	}
	g, err := a.group(ctx, strconv.FormatInt(gid, 10))
	if err != nil {
		return nil, err
	}
	if _, err := a.maySilence(g, r.RoleIDs); err != nil {
		return nil, err
	}
	id := strconv.FormatInt(g.ID, 10)
	var row []discordgo.MessageComponent
	for _, s := range silenceDurations {
		row = append(row, discordgo.Button{Label: s.label, Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.AlertSilenceFor, id, s.d.String())})
	}
	row = append(row, discordgo.Button{Label: "Custom…", Style: discordgo.SecondaryButton, CustomID: customid.Make(customid.AlertSilenceCustom, id)})
	return &Reply{Content: fmt.Sprintf("🔕 Silence **%s** in Alertmanager for how long?", g.Title()), Ephemeral: true,
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: row}}}, nil
}

func (a *Alerts) silenceButton(ctx context.Context, r *Request) (*Reply, error) {
	gid, d, err := idDurationParam(r, ParseSilenceDuration, hintAlerts)
	if err != nil {
		return nil, err
	}
	return a.silence(ctx, r, strconv.FormatInt(gid, 10), d, "")
}

func (a *Alerts) silenceModal(ctx context.Context, r *Request) (*Reply, error) {
	gid, err := idParam(r, hintAlerts)
	if err != nil {
		return nil, err
	}
	return &Reply{Modal: &discordgo.InteractionResponseData{CustomID: customid.Make(customid.AlertSilenceForm, gid), Title: "Silence in Alertmanager",
		Components: []discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "duration", Label: "For how long (e.g. 90m, 2h, 3d)",
				Style: discordgo.TextInputShort, Required: true, MaxLength: 10, Placeholder: "2h"}}},
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "comment", Label: "Why",
				Style: discordgo.TextInputParagraph, Required: false, MaxLength: 500}}},
		}}}, nil
}

func (a *Alerts) silenceModalSubmit(ctx context.Context, r *Request) (*Reply, error) {
	gid, err := idParam(r, hintAlerts)
	if err != nil {
		return nil, err
	}
	v := ModalValues(r.Interaction)
	d, err := ParseSilenceDuration(v["duration"])
	if err != nil {
		return nil, err
	}
	return a.silence(ctx, r, strconv.FormatInt(gid, 10), d, v["comment"])
}

func (a *Alerts) silenceCommand(ctx context.Context, r *Request) (*Reply, error) {
	d, err := ParseSilenceDuration(r.String("duration"))
	if err != nil {
		return nil, err
	}
	return a.silence(ctx, r, r.String("alert"), d, r.String("comment"))
}

func (a *Alerts) silence(ctx context.Context, r *Request, ref string, d time.Duration, comment string) (*Reply, error) {
	if a.Silences == nil || !a.Silences.Configured() {
		return nil, bot.Errorf(bot.EConflict, "silencing is not configured: set alertmanager.url in Klaxon's configuration")
	}
	g, err := a.group(ctx, ref)
	if err != nil {
		return nil, err
	}
	matchers, err := a.maySilence(g, r.RoleIDs)
	if err != nil {
		return nil, err
	}
	now := a.Clock.Now()
	id, err := a.Silences.Silence(ctx, g, matchers, d, comment, r.Actor(), now)
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("🔕 **%s** is silenced in Alertmanager until <t:%d:f> (silence `%s`).", g.Title(), now.Add(d).Unix(), id), Ephemeral: true}, nil
}

// maySilence returns the matchers a silence of g would have, or refuses
// when the person may not silence the most urgent priority those matchers
// can cover (the group's own, or higher when they do not pin it).
func (a *Alerts) maySilence(g *bot.Group, roles []string) (map[string]string, error) {
	if a.Silences == nil {
		return nil, bot.Errorf(bot.EConflict, "silencing is not configured: set alertmanager.url in Klaxon's configuration")
	}
	matchers, need := a.Silences.Cover(g)
	if err := a.Gate.CheckPriority(ActAlertSilence, need, roles); err != nil {
		if need < g.Priority {
			return nil, bot.WrapError(bot.EForbidden, err, "%s; this silence would also cover %s alerts: its matchers (%s) do not pin the priority or severity",
				bot.ErrorMessage(err), need, formatMatchers(matchers))
		}
		return nil, err
	}
	return matchers, nil
}

func formatMatchers(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func (a *Alerts) unsilence(ctx context.Context, r *Request, g *bot.Group) (*Reply, error) {
	if g.Silence == nil {
		return nil, bot.Errorf(bot.EConflict, "%s is not silenced", g.Title())
	}
	if a.Silences == nil {
		return nil, bot.Errorf(bot.EConflict, "silencing is not configured: set alertmanager.url in Klaxon's configuration")
	}
	if err := a.Silences.Unsilence(ctx, g, r.Actor(), a.Clock.Now()); err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("🔔 **%s** is no longer silenced.", g.Title()), Ephemeral: true}, nil
}

func (a *Alerts) openGroups(ctx context.Context) ([]*bot.Group, error) {
	return a.Paging.OpenGroups(ctx, 200)
}

func (a *Alerts) autocomplete(ctx context.Context, r *Request) (*Reply, error) {
	gs, err := a.openGroups(ctx)
	if err != nil {
		return nil, err
	}
	q := ""
	if r.Focused != nil {
		q = strings.ToLower(fmt.Sprint(r.Focused.Value))
	}
	now := a.Clock.Now()
	var cs []*discordgo.ApplicationCommandOptionChoice
	for _, g := range gs {
		name := fmt.Sprintf("#%d %s · %s — %s (%s)", g.ID, g.Priority, g.Title(), g.Summary(), age(now.Sub(g.StartedAt())))
		if q != "" && !strings.Contains(strings.ToLower(name), q) {
			continue
		}
		cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(name, 100), Value: strconv.FormatInt(g.ID, 10)})
		if len(cs) == 25 {
			break
		}
	}
	return &Reply{Choices: cs}, nil
}

func (a *Alerts) list(ctx context.Context, r *Request) (*Reply, error) {
	gs, err := a.openGroups(ctx)
	if err != nil {
		return nil, err
	}
	if p := r.String("priority"); p != "" {
		want, err := bot.ParsePriority(p)
		if err != nil {
			return nil, bot.Errorf(bot.EInvalid, "priority %q: choose P0, P1, P2 or P3", p)
		}
		gs = slices.DeleteFunc(gs, func(g *bot.Group) bool { return g.Priority != want })
	}
	if len(gs) == 0 {
		return &Reply{Content: "🟢 No open alerts.", Ephemeral: true}, nil
	}
	now := a.Clock.Now()
	var b strings.Builder
	shown := 0
	for _, g := range gs {
		line := fmt.Sprintf("`#%d` **%s** %s — %s", g.ID, g.Priority, escapeLine(g.Title()), age(now.Sub(g.StartedAt())))
		switch {
		case g.Ack != nil:
			line += fmt.Sprintf(" · 👀 <@%s>", g.Ack.UserID)
		case g.Overdue:
			line += " · ⏰ **acknowledgement overdue**"
		default:
			line += " · unacknowledged"
		}
		if g.Silence != nil {
			line += " · 🔕"
		}
		if b.Len()+len(line) > 3800 {
			break
		}
		b.WriteString(line + "\n")
		shown++
	}
	if shown < len(gs) {
		fmt.Fprintf(&b, "… and %d more", len(gs)-shown)
	}
	return &Reply{Ephemeral: true, Embeds: []*discordgo.MessageEmbed{{Title: fmt.Sprintf("Open alerts (%d)", len(gs)), Description: b.String()}}}, nil
}

func escapeLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.NewReplacer("*", "\\*", "_", "\\_", "`", "\\`", "~", "\\~", "|", "\\|", ">", "\\>").Replace(truncateRunes(s, 80))
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
