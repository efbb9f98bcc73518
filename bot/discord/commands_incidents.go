package discord

import "github.com/bwmarrin/discordgo"

// AddToTimeline is the name of the message command that adds a message to
// its thread's incident timeline.
const AddToTimeline = "Add to timeline"

// IncidentCommands are the commands of incident response: /incident
// (declare, status, priority, assign, update, note, link, mitigate,
// resolve, timeline), /incidents, /report and the "Add to timeline"
// message command. Handlers are in handlers.Incidents.
func IncidentCommands() []*discordgo.ApplicationCommand {
	guildOnly := []discordgo.InteractionContextType{discordgo.InteractionContextGuild}
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
	return []*discordgo.ApplicationCommand{
		{
			Name: "incident", Description: "Run an incident: declare, update, assign roles, resolve", Contexts: &guildOnly,
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
		{Name: "incidents", Description: "List open incidents with status, commander and age", Contexts: &guildOnly,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionBoolean, Name: "all", Description: "Include resolved and closed ones"},
			}},
		{Name: "report", Description: "Report a problem (lag, outage, bug): the on-call team triages it", Contexts: &guildOnly,
			Options: []*discordgo.ApplicationCommandOption{text("problem", "What is wrong, where, since when", 1000)}},
		{Name: AddToTimeline, Type: discordgo.MessageApplicationCommand, Contexts: &guildOnly},
	}
}
