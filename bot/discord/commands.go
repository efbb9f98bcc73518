package discord

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// Commands returns every application command Klaxon offers, as data.
func Commands() []*discordgo.ApplicationCommand {
	var out []*discordgo.ApplicationCommand
	for _, set := range commandSets {
		out = append(out, set()...)
	}
	return out
}

// commandSets are the features' command lists.
var commandSets = []func() []*discordgo.ApplicationCommand{AlertCommands, OnCallCommands, CalendarCommands, RunbookCommands, PostmortemCommands, IncidentCommands}

// RegisterCommands replaces the application's commands with Commands():
// in one guild (updates are instant) or globally when guildID is "".
func RegisterCommands(ctx context.Context, s *discordgo.Session, appID, guildID string) ([]*discordgo.ApplicationCommand, error) {
	got, err := s.ApplicationCommandBulkOverwrite(appID, guildID, Commands(), discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("register commands: %w", err)
	}
	return got, nil
}
