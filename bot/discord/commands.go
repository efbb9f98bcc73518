package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// RegisterCommands replaces the application's commands with cmds (Klaxon's
// are handlers.Commands(): each feature declares its commands beside the
// routes that answer them): in one guild (updates are instant) or globally
// when guildID is "".
func RegisterCommands(ctx context.Context, s *discordgo.Session, appID, guildID string, cmds []*discordgo.ApplicationCommand) ([]*discordgo.ApplicationCommand, error) {
	body := make([]commandJSON, len(cmds))
	for i, c := range cmds {
		body[i] = commandJSON{ApplicationCommand: c}
		if c.DefaultMemberPermissions != nil {
			body[i].DefaultMemberPermissions = json.RawMessage(strconv.FormatInt(*c.DefaultMemberPermissions, 10))
		}
	}
	endpoint := discordgo.EndpointApplicationGlobalCommands(appID)
	if guildID != "" {
		endpoint = discordgo.EndpointApplicationGuildCommands(appID, guildID)
	}
	raw, err := s.RequestWithBucketID("PUT", endpoint, body, endpoint, discordgo.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("register commands: %w", err)
	}
	var resp []commandJSON
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("register commands: read Discord's answer: %w", err)
	}
	got := make([]*discordgo.ApplicationCommand, len(resp))
	for i, c := range resp {
		got[i] = c.ApplicationCommand
		var perms json.Number
		if len(c.DefaultMemberPermissions) > 0 && string(c.DefaultMemberPermissions) != "null" {
			if err := json.Unmarshal(bytes.Trim(c.DefaultMemberPermissions, `"`), &perms); err == nil {
				if n, err := perms.Int64(); err == nil {
					got[i].DefaultMemberPermissions = &n
				}
			}
		}
	}
	return got, nil
}

// commandJSON is a command as Discord's API describes it: discordgo v0.29.0
// sends default_member_permissions as a string, the API spec wants an
// integer (and Discord answers with a string).
type commandJSON struct {
	*discordgo.ApplicationCommand
	DefaultMemberPermissions json.RawMessage `json:"default_member_permissions,omitempty"`
}
