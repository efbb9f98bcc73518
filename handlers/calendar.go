package handlers

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/discord"
)

// Calendar answers /reminder, /slo and /report-sla. A nil service means
// that part of the calendar is not configured; its commands say so.
type Calendar struct {
	Reminders ReminderService
	SLOs      SLOService
	Reports   SLAReportService
	Clock     bot.Clock
}

// calendarFeature is the slash commands of the SRE calendar: /reminder
// (add, list, remove, pause, resume), /slo and /report-sla; Calendar.Register
// adds their routes.
func calendarFeature() Feature {
	reminderName := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name",
			Description: desc, Required: true, Autocomplete: true, MaxLength: 32}
	}
	one := 1
	return Feature{Name: "calendar", Commands: []*discordgo.ApplicationCommand{
		{
			Name:        "reminder",
			Description: "Recurring reminders of the SRE calendar: restore tests, DR exercises, reviews",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "add", Description: "Add a reminder on a cron schedule",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "Short name, e.g. restore-test (lower case, digits, - or _)",
							Required: true, MinLength: &one, MaxLength: 32},
						{Type: discordgo.ApplicationCommandOptionString, Name: "schedule", Description: "Cron: minute hour day month weekday, e.g. 0 10 * * MON; or @weekly",
							Required: true, MaxLength: 100},
						{Type: discordgo.ApplicationCommandOptionString, Name: "message", Description: "What to remind people of",
							Required: true, MaxLength: 1500},
						{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel", Description: "Where to post it (default: this channel)",
							ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews}},
						{Type: discordgo.ApplicationCommandOptionRole, Name: "role", Description: "Role to mention"},
						{Type: discordgo.ApplicationCommandOptionString, Name: "timezone", Description: "IANA time zone of the schedule, e.g. Europe/Berlin (default: configured)",
							Autocomplete: true, MaxLength: 64},
					}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "list", Description: "List reminders and their next runs"},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "remove", Description: "Remove a reminder added with /reminder add",
					Options: []*discordgo.ApplicationCommandOption{reminderName("The reminder to remove")}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "pause", Description: "Pause a reminder",
					Options: []*discordgo.ApplicationCommandOption{reminderName("The reminder to pause")}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "resume", Description: "Resume a paused reminder",
					Options: []*discordgo.ApplicationCommandOption{reminderName("The reminder to resume")}},
			},
		},
		{
			Name:        "slo",
			Description: "Error budgets this month: availability, budget spent and left, burn rate",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "service", Description: "One service in detail (default: all)",
					Autocomplete: true, MaxLength: 64},
			},
		},
		{
			Name:        "report-sla",
			Description: "SLA report of a month: availability vs SLO, budgets, MTTA/MTTR, top alerts, chart",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "month", Description: "e.g. 2026-03, March 2026 or last (default: this month to date)",
					Autocomplete: true, MaxLength: 32},
			},
		},
	}}
}

// Register declares calendarFeature and adds its routes to x.
func (c *Calendar) Register(x *Interactions) {
	x.Declare(calendarFeature())
	x.Command("reminder add", ActReminderManage, true, c.reminderAdd)
	x.Command("reminder list", ActReminderView, true, c.reminderList)
	x.Command("reminder remove", ActReminderManage, true, c.reminderRemove)
	x.Command("reminder pause", ActReminderManage, true, func(ctx context.Context, r *Request) (*Reply, error) { return c.reminderPause(ctx, r, true) })
	x.Command("reminder resume", ActReminderManage, true, func(ctx context.Context, r *Request) (*Reply, error) { return c.reminderPause(ctx, r, false) })
	for _, p := range []string{"reminder remove", "reminder pause", "reminder resume"} {
		x.Autocomplete(p, ActReminderView, c.reminderNames)
	}
	x.Autocomplete("reminder add", ActReminderManage, c.zoneChoices)
	x.Command("slo", ActSLOView, false, c.slo)
	x.Autocomplete("slo", ActSLOView, c.serviceChoices)
	x.Command("report-sla", ActSLOView, false, c.reportSLA)
	x.Autocomplete("report-sla", ActSLOView, c.monthChoices)
}

func (c *Calendar) now() time.Time {
	if c.Clock != nil {
		return c.Clock.Now()
	}
	return time.Now()
}

func (c *Calendar) reminderAdd(ctx context.Context, r *Request) (*Reply, error) {
	if c.Reminders == nil {
		return nil, bot.Errorf(bot.EUnavailable, "reminders are not configured on this Klaxon")
	}
	channel := r.String("channel")
	if channel == "" {
		channel = r.ChannelID
	}
	rem := calendar.Reminder{Name: r.String("name"), Cron: r.String("schedule"), TimeZone: r.String("timezone"), ChannelID: channel,
		Message: r.String("message"), CreatedBy: r.Actor().UserID}
	if role := r.String("role"); role != "" {
		rem.Roles = []string{role}
	}
	added, next, err := c.Reminders.Add(ctx, rem, c.now())
	if err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("⏰ Reminder **%s** added: `%s` (%s) in <#%s>%s.\nNext runs:\n%s",
		added.Name, added.Cron, zoneName(added.TimeZone), added.ChannelID, mentionSuffix(added.Roles), runLines(next, added.TimeZone)), Ephemeral: true}, nil
}

func zoneName(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

func mentionSuffix(roles []string) string {
	if len(roles) == 0 {
		return ""
	}
	var out []string
	for _, r := range roles {
		out = append(out, bot.RoleRef(r))
	}
	return ", mentioning " + strings.Join(out, " ")
}

// runLines lists run times in the reminder's zone and, through Discord's
// timestamp markup, relative to the reader.
func runLines(ts []time.Time, tz string) string {
	loc, err := bot.LoadZone(tz)
	if err != nil {
		loc = time.UTC
	}
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "• %s (<t:%d:R>)\n", t.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), t.Unix())
	}
	return strings.TrimRight(b.String(), "\n")
}

func (c *Calendar) reminderList(ctx context.Context, r *Request) (*Reply, error) {
	if c.Reminders == nil {
		return nil, bot.Errorf(bot.EUnavailable, "reminders are not configured on this Klaxon")
	}
	list, err := c.Reminders.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return &Reply{Content: "No reminders. Add one with `/reminder add`.", Ephemeral: true}, nil
	}
	var b strings.Builder
	for _, rem := range list {
		state := fmt.Sprintf("next <t:%d:f>", rem.NextAt.Unix())
		if rem.Paused {
			state = "⏸️ paused"
		}
		src := ""
		if rem.Source == calendar.FromConfig {
			src = " · from the configuration"
		}
		line := fmt.Sprintf("**%s** `%s` (%s) in <#%s> — %s%s\n", rem.Name, rem.Cron, zoneName(rem.TimeZone), rem.ChannelID, state, src)
		if b.Len()+len(line) > 1900 {
			b.WriteString("…")
			break
		}
		b.WriteString(line)
	}
	return &Reply{Content: b.String(), Ephemeral: true}, nil
}

func (c *Calendar) reminderRemove(ctx context.Context, r *Request) (*Reply, error) {
	if c.Reminders == nil {
		return nil, bot.Errorf(bot.EUnavailable, "reminders are not configured on this Klaxon")
	}
	name := r.String("name")
	if err := c.Reminders.Remove(ctx, name); err != nil {
		return nil, err
	}
	return &Reply{Content: fmt.Sprintf("🗑️ Reminder **%s** removed.", strings.ToLower(strings.TrimSpace(name))), Ephemeral: true}, nil
}

func (c *Calendar) reminderPause(ctx context.Context, r *Request, pause bool) (*Reply, error) {
	if c.Reminders == nil {
		return nil, bot.Errorf(bot.EUnavailable, "reminders are not configured on this Klaxon")
	}
	rem, next, err := c.Reminders.SetPaused(ctx, r.String("name"), pause, c.now())
	if err != nil {
		return nil, err
	}
	if pause {
		return &Reply{Content: fmt.Sprintf("⏸️ Reminder **%s** paused. `/reminder resume name:%s` starts it again.", rem.Name, rem.Name), Ephemeral: true}, nil
	}
	return &Reply{Content: fmt.Sprintf("▶️ Reminder **%s** resumed (runs missed while paused are not made up). Next runs:\n%s",
		rem.Name, runLines(next, rem.TimeZone)), Ephemeral: true}, nil
}

func (c *Calendar) reminderNames(ctx context.Context, r *Request) (*Reply, error) {
	if c.Reminders == nil {
		return &Reply{}, nil
	}
	list, err := c.Reminders.List(ctx)
	if err != nil {
		return nil, err
	}
	typed := strings.ToLower(r.String("name"))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, rem := range list {
		if strings.Contains(rem.Name, typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: rem.Name, Value: rem.Name})
		}
	}
	return &Reply{Choices: out}, nil
}

// commonZones are offered when typing a reminder's time zone; any IANA name works.
var commonZones = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Madrid", "Europe/Rome", "Europe/Stockholm", "Europe/Warsaw", "Europe/Helsinki", "Europe/Athens", "Europe/Istanbul",
	"Europe/Moscow", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto",
	"America/Sao_Paulo", "America/Mexico_City", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo",
	"Asia/Seoul", "Australia/Sydney", "Australia/Perth", "Pacific/Auckland", "Africa/Johannesburg"}

func (c *Calendar) zoneChoices(_ context.Context, r *Request) (*Reply, error) {
	if r.Focused == nil || r.Focused.Name != "timezone" {
		return &Reply{}, nil
	}
	typed := strings.ToLower(r.String("timezone"))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, z := range commonZones {
		if strings.Contains(strings.ToLower(z), typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: z, Value: z})
		}
	}
	if len(out) == 0 && typed != "" {
		if _, err := bot.LoadZone(r.String("timezone")); err == nil {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: r.String("timezone"), Value: r.String("timezone")})
		}
	}
	return &Reply{Choices: out}, nil
}

func (c *Calendar) slo(ctx context.Context, r *Request) (*Reply, error) {
	if c.SLOs == nil {
		return nil, bot.Errorf(bot.EUnavailable, "SLOs are not configured on this Klaxon")
	}
	now := c.now()
	budgets, err := c.SLOs.Budgets(ctx, now, now)
	if err != nil {
		return nil, err
	}
	loc := c.SLOs.Location()
	if loc == nil {
		loc = time.UTC
	}
	if name := strings.TrimSpace(r.String("service")); name != "" {
		slo, ok := c.SLOs.Service(name)
		if !ok {
			var names []string
			for _, s := range c.SLOs.Services() {
				names = append(names, s.Service)
			}
			return nil, bot.Errorf(bot.ENotFound, "there is no SLO for service %q; known services: %s", name, strings.Join(names, ", "))
		}
		for _, b := range budgets {
			if b.SLO.Service == slo.Service {
				m := bot.Message{Title: fmt.Sprintf("%s — error budget for %s", b.SLO.Service, b.Start.Format("January 2006")),
					Tone: budgetTone(b), Fields: calendar.BudgetFields(b, loc),
					Footer: fmt.Sprintf("as of %s · downtime weighted by priority", b.AsOf.In(loc).Format("2 Jan 15:04 MST"))}
				return messageReply(m, false), nil
			}
		}
	}
	var fields []bot.Field
	for _, b := range budgets {
		mark := "✅"
		if !b.Met() {
			mark = "❌"
		}
		left := fmt.Sprintf("%s left", calendar.FormatDuration(max(b.Remaining(), 0)))
		if b.Exhausted {
			left = "**exhausted**"
		}
		fields = append(fields, bot.Field{Name: mark + " " + b.SLO.Service, Inline: true,
			Value: fmt.Sprintf("%s (objective %s)\n%s spent · %s\nburn rate %.2f×", calendar.FormatPercent(b.Availability, 3),
				calendar.FormatPercent(b.SLO.Availability, 3), calendar.FormatPercent(b.SpentFraction(), 0), left, b.BurnRate)})
	}
	if len(fields) == 0 {
		return &Reply{Content: "No services have SLOs configured.", Ephemeral: true}, nil
	}
	if len(fields) > 25 {
		fields = fields[:25]
	}
	start, _ := bot.MonthOf(now, loc)
	return messageReply(bot.Message{Title: "Error budgets — " + start.Format("January 2006"), Tone: bot.ToneInfo, Fields: fields,
		Footer: "/slo <service> for details · /report-sla for the month's report"}, false), nil
}

func budgetTone(b calendar.Budget) bot.Tone {
	switch f := b.RemainingFraction(); {
	case b.Exhausted:
		return bot.ToneAlarm
	case f <= 0.5:
		return bot.ToneWarning
	}
	return bot.ToneResolved
}

func (c *Calendar) serviceChoices(_ context.Context, r *Request) (*Reply, error) {
	if c.SLOs == nil {
		return &Reply{}, nil
	}
	typed := strings.ToLower(r.String("service"))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, s := range c.SLOs.Services() {
		if strings.Contains(strings.ToLower(s.Service), typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{
				Name:  fmt.Sprintf("%s (%s)", s.Service, calendar.FormatPercent(s.Availability, 3)),
				Value: s.Service})
		}
	}
	return &Reply{Choices: out}, nil
}

func (c *Calendar) reportSLA(ctx context.Context, r *Request) (*Reply, error) {
	if c.Reports == nil {
		return nil, bot.Errorf(bot.EUnavailable, "reports are not configured on this Klaxon")
	}
	now := c.now()
	month, err := calendar.ParseMonth(r.String("month"), now, c.loc())
	if err != nil {
		return nil, err
	}
	m, err := c.Reports.SLAReport(ctx, month, now)
	if err != nil {
		return nil, err
	}
	return messageReply(m, false), nil
}

func (c *Calendar) loc() *time.Location {
	if c.SLOs != nil && c.SLOs.Location() != nil {
		return c.SLOs.Location()
	}
	return time.UTC
}

func (c *Calendar) monthChoices(_ context.Context, r *Request) (*Reply, error) {
	start, _ := bot.MonthOf(c.now(), c.loc())
	typed := strings.ToLower(r.String("month"))
	var out []*discordgo.ApplicationCommandOptionChoice
	for i := range 13 {
		m := start.AddDate(0, -i, 0)
		name := m.Format("January 2006")
		if i == 0 {
			name += " (to date)"
		}
		if strings.Contains(strings.ToLower(name), typed) || strings.Contains(m.Format("2006-01"), typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: name, Value: m.Format("2006-01")})
		}
	}
	return &Reply{Choices: out}, nil
}

// messageReply turns a core message into an interaction reply: one embed,
// its attachments as files (an attached image is shown in the embed).
func messageReply(m bot.Message, ephemeral bool) *Reply {
	e := &discordgo.MessageEmbed{Title: truncateRunes(m.Title, 256), Description: truncateRunes(m.Description, 4096), Color: discord.ToneColor(m.Tone), URL: m.URL}
	for i, f := range m.Fields {
		if i == 25 {
			break
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: truncateRunes(f.Name, 256), Value: truncateRunes(f.Value, 1024), Inline: f.Inline})
	}
	if m.Footer != "" {
		e.Footer = &discordgo.MessageEmbedFooter{Text: truncateRunes(m.Footer, 2048)}
	}
	rep := &Reply{Content: m.Content, Embeds: []*discordgo.MessageEmbed{e}, Ephemeral: ephemeral}
	for _, f := range m.Files {
		rep.Files = append(rep.Files, &discordgo.File{Name: f.Name, ContentType: f.ContentType, Reader: bytes.NewReader(f.Data)})
		if e.Image == nil && strings.HasPrefix(f.ContentType, "image/") {
			e.Image = &discordgo.MessageEmbedImage{URL: "attachment://" + f.Name}
		}
	}
	return rep
}
