package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// OnCall answers /oncall (who holds the pager, overrides) and /page.
type OnCall struct {
	Overrides OverrideService
	Schedules *paging.LiveSchedules // the schedules in force; a reload replaces them
	Paging    PageService
	Clock     bot.Clock
	Log       *slog.Logger
}

func scheduleOption(required bool) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "schedule",
		Description: "On-call schedule", Required: required, Autocomplete: true}
}

// onCallFeature is /oncall and /page; OnCall.Register adds their routes.
func onCallFeature() Feature {
	sub := discordgo.ApplicationCommandOptionSubCommand
	return Feature{Name: "oncall", Commands: []*discordgo.ApplicationCommand{
		{Name: "oncall", Description: "Who holds the pager, and overrides", Options: []*discordgo.ApplicationCommandOption{
			{Type: sub, Name: "now", Description: "Who is on call now and next", Options: []*discordgo.ApplicationCommandOption{scheduleOption(false)}},
			{Type: sub, Name: "override", Description: "Take (or give) the pager for a while", Options: []*discordgo.ApplicationCommandOption{
				scheduleOption(true),
				{Type: discordgo.ApplicationCommandOptionString, Name: "duration", Description: "How long: 4h, 2d", Required: true},
				{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: "Who holds it (default: you)"},
				{Type: discordgo.ApplicationCommandOptionString, Name: "start", Description: "When: now, 18:00, 2026-03-02 18:00 (schedule's zone)"},
				{Type: discordgo.ApplicationCommandOptionString, Name: "reason", Description: "Why", MaxLength: 200},
			}},
			{Type: sub, Name: "overrides", Description: "List current and upcoming overrides", Options: []*discordgo.ApplicationCommandOption{scheduleOption(false)}},
			{Type: sub, Name: "remove", Description: "Remove an override", Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "id", Description: "Override number from /oncall overrides", Required: true, Autocomplete: true},
			}},
		}},
		{Name: "page", Description: "Page a person or the on-call of a schedule (manual P0/P1)", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "message", Description: "What is wrong", Required: true, MaxLength: 500},
			{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: "Person to page"},
			scheduleOption(false),
			{Type: discordgo.ApplicationCommandOptionString, Name: "priority", Description: "P0 also phones; default P1",
				Choices: priorityChoices[:2]},
		}},
	}}
}

// Register declares onCallFeature and adds its routes to the router.
func (o *OnCall) Register(x *Interactions) {
	x.Declare(onCallFeature())
	x.Command("oncall now", ActOnCallView, true, o.now)
	x.Command("oncall override", ActOnCallOverride, false, o.override)
	x.Command("oncall overrides", ActOnCallView, true, o.overrides)
	x.Command("oncall remove", ActOnCallRemove, false, o.remove)
	x.Command("page", ActAlertPage, false, o.page, TargetPriority(pagePriority))
	for _, c := range []string{"oncall now", "oncall override", "oncall overrides", "oncall remove", "page"} {
		x.Autocomplete(c, ActOnCallView, o.autocomplete)
	}
}

func (o *OnCall) schedule(name string) (*paging.Schedule, error) {
	schedules := o.Schedules.List()
	if name == "" && len(schedules) > 0 {
		return schedules[0], nil
	}
	for _, s := range schedules {
		if strings.EqualFold(s.Name, name) {
			return s, nil
		}
	}
	if len(schedules) == 0 {
		return nil, bot.Errorf(bot.ENotFound, "no on-call schedules are configured: add them under schedules in klaxon.yaml")
	}
	names := make([]string, len(schedules))
	for i, s := range schedules {
		names[i] = s.Name
	}
	return nil, bot.Errorf(bot.EInvalid, "there is no schedule %q: choose one of %s", name, strings.Join(names, ", "))
}

func (o *OnCall) autocomplete(ctx context.Context, r *Request) (*Reply, error) {
	q := ""
	if r.Focused != nil {
		q = strings.ToLower(fmt.Sprint(r.Focused.Value))
	}
	var cs []*discordgo.ApplicationCommandOptionChoice
	if r.Focused != nil && r.Focused.Name == "id" { // /oncall remove: current and upcoming overrides
		now := o.Clock.Now()
		for _, s := range o.Schedules.List() {
			ovs, err := o.Overrides.Overrides(ctx, s.Name, now)
			if err != nil {
				return nil, err
			}
			for _, ov := range ovs {
				loc := s.TimeZone
				if loc == nil {
					loc = time.UTC
				}
				who := "user …" + ov.UserID[max(0, len(ov.UserID)-4):] // choice names cannot mention
				if ov.UserID == r.Actor().UserID {
					who = "you"
				}
				name := fmt.Sprintf("#%d %s · %s · %s → %s", ov.ID, ov.Schedule, who,
					ov.Start.In(loc).Format("Jan 2 15:04"), ov.End.In(loc).Format("Jan 2 15:04 MST"))
				if ov.Reason != "" {
					name += " · " + ov.Reason
				}
				if len(cs) < 25 && strings.Contains(strings.ToLower(name), q) {
					cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(name, 100), Value: ov.ID})
				}
			}
		}
		return &Reply{Choices: cs}, nil
	}
	for _, s := range o.Schedules.List() {
		if strings.Contains(strings.ToLower(s.Name), q) {
			cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: s.Name, Value: s.Name})
		}
	}
	return &Reply{Choices: cs}, nil
}

func (o *OnCall) now(ctx context.Context, r *Request) (*Reply, error) {
	now := o.Clock.Now()
	var list []*paging.Schedule
	if name := r.String("schedule"); name != "" {
		s, err := o.schedule(name)
		if err != nil {
			return nil, err
		}
		list = []*paging.Schedule{s}
	} else {
		list = o.Schedules.List()
	}
	if len(list) == 0 {
		return nil, bot.Errorf(bot.ENotFound, "no on-call schedules are configured: add them under schedules in klaxon.yaml")
	}
	e := &discordgo.MessageEmbed{Title: "📟 On call", Color: 0x3B82F6}
	for _, s := range list {
		ovs, err := o.Overrides.Overrides(ctx, s.Name, now)
		if err != nil {
			return nil, err
		}
		shifts := paging.Upcoming(s, ovs, now, 2)
		var b strings.Builder
		for i, sh := range shifts {
			who := "nobody ⚠️"
			if sh.UserID != "" {
				who = "<@" + sh.UserID + ">"
			}
			label := "Now"
			if i > 0 {
				label = "Next"
			}
			fmt.Fprintf(&b, "**%s:** %s <t:%d:f> → <t:%d:f>\n", label, who, sh.Start.Unix(), sh.End.Unix())
		}
		if b.Len() == 0 {
			b.WriteString("nobody")
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: s.Name + " (" + s.TimeZone.String() + ")", Value: b.String()})
	}
	return &Reply{Embeds: []*discordgo.MessageEmbed{e}, Ephemeral: true}, nil
}

func (o *OnCall) override(ctx context.Context, r *Request) (*Reply, error) {
	s, err := o.schedule(r.String("schedule"))
	if err != nil {
		return nil, err
	}
	user := r.String("user")
	if user == "" && r.User != nil {
		user = r.User.ID // take the pager yourself
	}
	now := o.Clock.Now()
	start := now
	if v := r.String("start"); v != "" {
		if start, err = parseWhen(v, s.TimeZone, now); err != nil {
			return nil, err
		}
	}
	d, err := ParseSilenceDuration(r.String("duration"))
	if err != nil {
		return nil, bot.Errorf(bot.EInvalid, "duration %q: type how long the override lasts, e.g. 4h or 2d", r.String("duration"))
	}
	ov := &paging.Override{Schedule: s.Name, UserID: user, Start: start, End: start.Add(d), CreatedBy: r.Actor().UserID,
		Reason: r.String("reason"), CreatedAt: now}
	if err := o.Overrides.CreateOverride(ctx, ov); err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("📟 <@%s> holds the pager for **%s** from <t:%d:f> to <t:%d:f> (override #%d, set by <@%s>).",
		user, s.Name, ov.Start.Unix(), ov.End.Unix(), ov.ID, r.Actor().UserID)}, nil
}

// parseWhen reads "now", "2026-03-02 18:00" or "18:00" (today or tomorrow) in loc.
func parseWhen(v string, loc *time.Location, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "now") {
		return now, nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04", v, loc); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("15:04", v, loc); err == nil {
		n := now.In(loc)
		at := time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), 0, 0, loc)
		if at.Before(now) {
			at = at.AddDate(0, 0, 1)
		}
		return at, nil
	}
	return time.Time{}, bot.Errorf(bot.EInvalid, "start %q: type now, 18:00 or 2026-03-02 18:00 (in %s)", v, loc)
}

func (o *OnCall) overrides(ctx context.Context, r *Request) (*Reply, error) {
	s, err := o.schedule(r.String("schedule"))
	if err != nil {
		return nil, err
	}
	ovs, err := o.Overrides.Overrides(ctx, s.Name, o.Clock.Now())
	if err != nil {
		return nil, err
	}
	if len(ovs) == 0 {
		return &Reply{Content: fmt.Sprintf("No current or upcoming overrides for **%s**.", s.Name), Ephemeral: true}, nil
	}
	var b strings.Builder
	for _, ov := range ovs {
		fmt.Fprintf(&b, "`#%d` <@%s> <t:%d:f> → <t:%d:f>", ov.ID, ov.UserID, ov.Start.Unix(), ov.End.Unix())
		if ov.Reason != "" {
			fmt.Fprintf(&b, " — %s", escapeLine(ov.Reason))
		}
		b.WriteString("\n")
	}
	return &Reply{Content: truncateRunes(b.String(), 2000), Ephemeral: true}, nil
}

func (o *OnCall) remove(ctx context.Context, r *Request) (*Reply, error) {
	id, ok := r.Int("id")
	if !ok {
		return nil, bot.Errorf(bot.EInvalid, "give the override's number from /oncall overrides")
	}
	if err := o.Overrides.RemoveOverride(ctx, id); err != nil {
		if bot.ErrorCode(err) == bot.ENotFound {
			return nil, bot.Errorf(bot.ENotFound, "there is no override #%d: see /oncall overrides", id)
		}
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("🗑️ Override #%d removed by <@%s>.", id, r.Actor().UserID)}, nil
}

// pagePriority is the priority /page asks for (default P1), for the gate.
func pagePriority(_ context.Context, r *Request) (bot.Priority, bool) {
	if v := r.String("priority"); v != "" {
		p, err := bot.ParsePriority(v)
		return p, err == nil
	}
	return bot.P1, true
}

// page is /page: a manual P0 or P1 for a person or a schedule, with a message.
func (o *OnCall) page(ctx context.Context, r *Request) (*Reply, error) {
	prio := bot.P1
	if v := r.String("priority"); v != "" {
		p, err := bot.ParsePriority(v)
		if err != nil || p > bot.P1 {
			return nil, bot.Errorf(bot.EInvalid, "priority %q: /page is for P0 or P1", v)
		}
		prio = p
	}
	msg := strings.TrimSpace(r.String("message"))
	if msg == "" {
		return nil, bot.Errorf(bot.EInvalid, "say what is wrong, e.g. message: EU server lagging, players report 2000 ms")
	}
	var target paging.Target
	switch user, sched := r.String("user"), r.String("schedule"); {
	case user != "" && sched != "":
		return nil, bot.Errorf(bot.EInvalid, "page either a user or a schedule, not both")
	case user != "":
		target = paging.Target{User: user, Via: []bot.Via{bot.ViaMention, bot.ViaDM, bot.ViaPhone}}
	case sched != "":
		s, err := o.schedule(sched)
		if err != nil {
			return nil, err
		}
		target = paging.Target{Schedule: s.Name, Via: []bot.Via{bot.ViaMention, bot.ViaDM, bot.ViaPhone}}
	default:
		return nil, bot.Errorf(bot.EInvalid, "say whom to page: user: @someone or schedule: primary")
	}
	if prio != bot.P0 || (o.Paging != nil && !o.Paging.CanReach(bot.ViaPhone)) {
		target.Via = target.Via[:2] // phone calls are for P0, when a phone provider is configured
	}
	now := o.Clock.Now()
	actor := r.Actor()
	labels := map[string]string{"alertname": "ManualPage", "priority": prio.String(), "paged_by": actor.Name}
	n := bot.Notification{GroupKey: "manual:" + r.Interaction.ID, Receiver: "discord", Status: bot.Firing,
		GroupLabels: map[string]string{"alertname": "ManualPage"}, CommonLabels: labels,
		CommonAnnotations: map[string]string{"summary": msg},
		Alerts: []bot.Alert{{Fingerprint: "manual-" + r.Interaction.ID, Status: bot.Firing, Labels: labels,
			Annotations: map[string]string{"summary": msg, "description": "Paged from Discord by " + actor.Name}, StartsAt: now}}}
	groupID, err := o.Paging.PageManually(ctx, n, target, actor, now)
	if err != nil {
		return nil, err
	}
	who := "<@" + target.User + ">"
	if target.Schedule != "" {
		who = "the on-call of **" + target.Schedule + "**"
	}
	return &Reply{Content: fmt.Sprintf("📟 Paged %s (%s) — alert `#%s`: %s", who, prio, strconv.FormatInt(groupID, 10), escapeLine(msg))}, nil
}
