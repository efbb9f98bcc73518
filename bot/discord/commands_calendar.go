package discord

import "github.com/bwmarrin/discordgo"

// CalendarCommands are the slash commands of the SRE calendar: /reminder
// (add, list, remove, pause, resume), /slo and /report-sla. Handlers are in
// handlers.Calendar.
func CalendarCommands() []*discordgo.ApplicationCommand {
	reminderName := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name",
			Description: desc, Required: true, Autocomplete: true, MaxLength: 32}
	}
	guildOnly := []discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	return []*discordgo.ApplicationCommand{
		{
			Name:        "reminder",
			Description: "Recurring reminders of the SRE calendar: restore tests, DR exercises, reviews",
			Contexts:    &guildOnly,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "add", Description: "Add a reminder on a cron schedule",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "Short name, e.g. restore-test (lower case, digits, - or _)",
							Required: true, MinLength: calPtr(1), MaxLength: 32},
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
			Contexts:    &guildOnly,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "service", Description: "One service in detail (default: all)",
					Autocomplete: true, MaxLength: 64},
			},
		},
		{
			Name:        "report-sla",
			Description: "SLA report of a month: availability vs SLO, budgets, MTTA/MTTR, top alerts, chart",
			Contexts:    &guildOnly,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "month", Description: "e.g. 2026-03, March 2026 or last (default: this month to date)",
					Autocomplete: true, MaxLength: 32},
			},
		},
	}
}

func calPtr[T any](v T) *T { return &v }
