package discord

import "github.com/bwmarrin/discordgo"

func alertOption(desc string) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "alert",
		Description: desc, Required: true, Autocomplete: true}
}

var priorityChoices = []*discordgo.ApplicationCommandOptionChoice{
	{Name: "P0 critical outage", Value: "P0"}, {Name: "P1 major issue", Value: "P1"},
	{Name: "P2 minor issue", Value: "P2"}, {Name: "P3 warning", Value: "P3"},
}

// AlertCommands are the slash commands for alerts and paging.
func AlertCommands() []*discordgo.ApplicationCommand {
	return []*discordgo.ApplicationCommand{
		{Name: "ack", Description: "Acknowledge an alert: you own it, paging stops",
			Options: []*discordgo.ApplicationCommandOption{alertOption("The alert to acknowledge")}},
		{Name: "unack", Description: "Hand an acknowledged alert back: paging starts again",
			Options: []*discordgo.ApplicationCommandOption{alertOption("The alert to hand back")}},
		{Name: "resolve", Description: "Resolve an alert by hand",
			Options: []*discordgo.ApplicationCommandOption{alertOption("The alert to resolve")}},
		{Name: "escalate", Description: "Run an alert's next escalation step now",
			Options: []*discordgo.ApplicationCommandOption{alertOption("The alert to escalate")}},
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
	}
}
