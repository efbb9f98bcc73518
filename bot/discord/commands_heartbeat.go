package discord

import "github.com/bwmarrin/discordgo"

// HeartbeatCommands is /heartbeat (list, pause, resume): the heartbeat
// monitors of scheduled jobs. Handlers are in handlers.HeartbeatCommands.
func HeartbeatCommands() []*discordgo.ApplicationCommand {
	monitor := func(desc string) []*discordgo.ApplicationCommandOption {
		return []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "name",
			Description: desc, Required: true, Autocomplete: true, MaxLength: 63}}
	}
	return []*discordgo.ApplicationCommand{{
		Name:        "heartbeat",
		Description: "Heartbeat monitors of scheduled jobs (backups, restore tests): state, pause, resume",
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "list", Description: "Every monitor: state, last ping, next expected, last run"},
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "pause", Description: "Pause a monitor (maintenance): resolves its alerts, raises none",
				Options: monitor("The monitor to pause")},
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "resume", Description: "Resume a paused monitor: it has one full schedule step to report in",
				Options: monitor("The monitor to resume")},
		},
	}}
}
