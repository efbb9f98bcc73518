package discord

import (
	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/postmortem"
)

func runbookOption(required bool) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name",
		Description: "Runbook: id, title or alias (type to search)", Required: required, Autocomplete: true, MaxLength: 100}
}

func incidentOption() *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "incident",
		Description: "Incident, e.g. INC-42 (default: this incident thread's)", MaxLength: 20}
}

// RunbookCommands is /runbook.
func RunbookCommands() []*discordgo.ApplicationCommand {
	sub := discordgo.ApplicationCommandOptionSubCommand
	return []*discordgo.ApplicationCommand{
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
	}
}

// PostmortemCommands is /postmortem.
func PostmortemCommands() []*discordgo.ApplicationCommand {
	sub := discordgo.ApplicationCommandOptionSubCommand
	var sections []*discordgo.ApplicationCommandOptionChoice
	for _, s := range postmortem.Sections {
		sections = append(sections, &discordgo.ApplicationCommandOptionChoice{Name: s.Title, Value: s.Key})
	}
	return []*discordgo.ApplicationCommand{
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
					{Type: discordgo.ApplicationCommandOptionInteger, Name: "id", Description: "Action item number, e.g. 3", Required: true, MinValue: ptrFloat(1)},
				}},
			}},
		}},
	}
}

func ptrFloat(f float64) *float64 { return &f }
