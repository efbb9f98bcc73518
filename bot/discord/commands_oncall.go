package discord

import "github.com/bwmarrin/discordgo"

func scheduleOption(required bool) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "schedule",
		Description: "On-call schedule", Required: required, Autocomplete: true}
}

// OnCallCommands are /oncall and /page.
func OnCallCommands() []*discordgo.ApplicationCommand {
	sub := discordgo.ApplicationCommandOptionSubCommand
	return []*discordgo.ApplicationCommand{
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
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "id", Description: "Override number from /oncall overrides", Required: true},
			}},
		}},
		{Name: "page", Description: "Page a person or the on-call of a schedule (manual P0/P1)", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "message", Description: "What is wrong", Required: true, MaxLength: 500},
			{Type: discordgo.ApplicationCommandOptionUser, Name: "user", Description: "Person to page"},
			scheduleOption(false),
			{Type: discordgo.ApplicationCommandOptionString, Name: "priority", Description: "P0 also phones; default P1",
				Choices: priorityChoices[:2]},
		}},
	}
}
