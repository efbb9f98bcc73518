package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// PublicCommands are the commands every member of the server may use
// (players): Discord shows them to everyone. Klaxon's authorization gate
// decides anyway; this only keeps Discord's menus in step with it.
var PublicCommands = map[string]bool{"report": true}

// StaffPermissions is the default_member_permissions of every other
// command: Discord shows staff commands only to members with Manage
// Messages (and administrators) until the server's admin changes it under
// Server Settings → Integrations → Klaxon. Who may act is decided by the
// access configuration, whatever Discord shows.
const StaffPermissions int64 = discordgo.PermissionManageMessages

// Commands returns every application command Klaxon offers, as data: all of
// them guild-installed and usable only in a guild (contexts), the staff ones
// hidden by default_member_permissions.
func Commands() []*discordgo.ApplicationCommand {
	var out []*discordgo.ApplicationCommand
	for _, set := range commandSets {
		out = append(out, set()...)
	}
	for _, c := range out {
		guildOnly := []discordgo.InteractionContextType{discordgo.InteractionContextGuild}
		guildInstall := []discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall}
		c.Contexts, c.IntegrationTypes = &guildOnly, &guildInstall
		if !PublicCommands[c.Name] {
			perms := StaffPermissions
			c.DefaultMemberPermissions = &perms
		}
	}
	return out
}

// commandSets are the features' command lists.
var commandSets = []func() []*discordgo.ApplicationCommand{AlertCommands, OnCallCommands, CalendarCommands, RunbookCommands, PostmortemCommands, IncidentCommands, HeartbeatCommands}

// RegisterCommands replaces the application's commands with Commands():
// in one guild (updates are instant) or globally when guildID is "".
func RegisterCommands(ctx context.Context, s *discordgo.Session, appID, guildID string) ([]*discordgo.ApplicationCommand, error) {
	cmds := Commands()
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
