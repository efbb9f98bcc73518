package discordtest

import (
	"testing"

	"github.com/bwmarrin/discordgo"
)

// Overwrites, role permissions and the guild owner are returned as Discord
// describes them, and discordgo reads them back.
func TestPermissionsAreListed(t *testing.T) {
	e := newEnv(t, Options{})
	owner := e.srv.AddUser("owner")
	e.srv.SetGuildOwner(e.guild, owner)
	e.srv.SetRolePermissions(e.guild, discordgo.PermissionViewChannel|discordgo.PermissionSendMessages)
	e.srv.SetOverwrite(e.channel, Overwrite{ID: e.guild, Type: 0, Deny: discordgo.PermissionSendMessages})
	e.srv.SetOverwrite(e.channel, Overwrite{ID: e.srv.BotUserID(), Type: 1, Allow: discordgo.PermissionEmbedLinks})
	e.srv.SetOverwrite(e.channel, Overwrite{ID: e.role, Type: 0, Allow: 1}) // then removed:
	e.srv.SetOverwrite(e.channel, Overwrite{ID: e.role, Type: 0})

	ch, err := e.dg.Channel(e.channel)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.PermissionOverwrites) != 2 || ch.PermissionOverwrites[0].Deny != discordgo.PermissionSendMessages ||
		ch.PermissionOverwrites[1].Type != discordgo.PermissionOverwriteTypeMember || ch.PermissionOverwrites[1].Allow != discordgo.PermissionEmbedLinks {
		t.Errorf("overwrites = %+v", ch.PermissionOverwrites)
	}
	g, err := e.dg.Guild(e.guild)
	if err != nil {
		t.Fatal(err)
	}
	if g.OwnerID != owner || g.Roles[0].Permissions != discordgo.PermissionViewChannel|discordgo.PermissionSendMessages {
		t.Errorf("guild owner %s (want %s), roles %+v", g.OwnerID, owner, g.Roles)
	}
	_, body := raw(t, e.srv, "GET", "/channels/"+e.channel, "")
	checkResponse(t, e.srv, "GET", "/channels/{channel_id}", body)
	_, body = raw(t, e.srv, "GET", "/guilds/"+e.guild+"/roles", "")
	checkResponse(t, e.srv, "GET", "/guilds/{guild_id}/roles", body)
	_, body = raw(t, e.srv, "GET", "/guilds/"+e.guild+"/channels", "")
	checkResponse(t, e.srv, "GET", "/guilds/{guild_id}/channels", body)
}
