package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discordtest"
)

// check-config --online checks the guild, every channel (from the roles and
// overwrites: view, post, embed, threads), role and user, and prints a
// table of them; each failure is also an error at its line.
func TestCheckConfigOnlineTable(t *testing.T) {
	fake := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Error(err) }})
	defer fake.Close()
	g := fake.AddGuild("Marola")
	fake.SetGuildOwner(g, fake.AddUser("owner")) // else the bot, as owner, may do everything
	botRole := fake.AddRole(g, "klaxon")
	fake.AddMember(g, fake.BotUserID(), botRole)
	fake.SetRolePermissions(g, discordgo.PermissionViewChannel|discordgo.PermissionSendMessages)
	fake.SetRolePermissions(botRole, discordgo.PermissionEmbedLinks|discordgo.PermissionCreatePublicThreads|discordgo.PermissionSendMessagesInThreads)
	alerts := fake.AddChannel(g, "alerts", discordgo.ChannelTypeGuildText)
	quiet := fake.AddChannel(g, "quiet", discordgo.ChannelTypeGuildText)
	fake.SetOverwrite(quiet, discordtest.Overwrite{ID: g, Type: 0, Deny: discordgo.PermissionSendMessages}) // @everyone may not post here
	hidden := fake.AddChannel(g, "staff-only", discordgo.ChannelTypeGuildText)
	fake.SetOverwrite(hidden, discordtest.Overwrite{ID: botRole, Type: 0, Deny: discordgo.PermissionViewChannel})
	voice := fake.AddChannel(g, "voice", discordgo.ChannelTypeGuildVoice)
	staff := fake.AddRole(g, "staff")
	anna := fake.AddUser("anna")
	fake.AddMember(g, anna, staff)
	stranger := fake.AddUser("stranger")

	cfg := filepath.Join(t.TempDir(), "k.yaml")
	writeFile(t, cfg, fmt.Sprintf(`discord: {guild_id: %q}
priorities:
  P0: {channel: %q, mention_roles: [%q]}
  P1: {channel: %q}
  P2: {channel: %q}
  P3: {channel: %q, mention_users: [%q, %q]}
access: {staff_roles: [%q, "123456789012345678"]}
`, g, alerts, staff, quiet, hidden, voice, anna, stranger, staff))
	env := map[string]string{"KLAXON_DISCORD_TOKEN": "t", "KLAXON_DISCORD_API_URL": fake.APIBase(), "KLAXON_DB": filepath.Join(t.TempDir(), "none.db")}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--online", "--config", cfg}, func(k string) string { return env[k] }, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	table := fmt.Sprintf(`KIND     ID                   NAME         RESULT
guild    %[1]s  Marola       ok: the bot is a member
channel  %[2]s  #alerts      ok: view, post, embed, threads
channel  %[3]s  #quiet       the bot lacks Send Messages here: allow them for its role in the channel's permissions
channel  %[4]s  #staff-only  the bot lacks View Channel here: allow them for its role in the channel's permissions
channel  %[5]s  #voice       not a text channel (type 2): choose a text or announcement channel
role     %[6]s  @staff       ok
role     123456789012345678   -            no such role in Marola (Server Settings → Roles → right-click → Copy Role ID)
user     %[7]s  anna         ok: a member
user     %[8]s  -            not a member of Marola: Discord does not know this id (404 Unknown Member)
`, g, alerts, quiet, hidden, voice, staff, anna, stranger)
	if !strings.HasPrefix(out.String(), table+"\n") {
		t.Errorf("output:\n%s\nwant it to start with:\n%s", out.String(), table)
	}
	for _, want := range []string{
		cfg + ":4: error: priorities.P1.channel " + quiet + ": the bot lacks Send Messages here",
		cfg + ":6: error: priorities.P3.channel " + voice + ": not a text channel",
		cfg + ":7: error: access.staff_roles[1] 123456789012345678: no such role in Marola",
		cfg + ":6: error: priorities.P3.mention_users[1] " + stranger + ": not a member of Marola",
		cfg + ": 5 error(s)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestEffectivePermissions(t *testing.T) {
	const (
		view, send, embed = discordgo.PermissionViewChannel, discordgo.PermissionSendMessages, discordgo.PermissionEmbedLinks
	)
	g := &discordgo.Guild{ID: "1", OwnerID: "9", Roles: []*discordgo.Role{{ID: "1", Permissions: view | send}, {ID: "2", Permissions: embed}, {ID: "3", Permissions: discordgo.PermissionAdministrator}}}
	ow := func(id string, typ discordgo.PermissionOverwriteType, allow, deny int64) *discordgo.PermissionOverwrite {
		return &discordgo.PermissionOverwrite{ID: id, Type: typ, Allow: allow, Deny: deny}
	}
	role, member := discordgo.PermissionOverwriteTypeRole, discordgo.PermissionOverwriteTypeMember
	cases := []struct {
		name  string
		user  string
		roles []string
		ows   []*discordgo.PermissionOverwrite
		want  int64
	}{
		{"@everyone only", "5", nil, nil, view | send},
		{"plus a role", "5", []string{"2"}, nil, view | send | embed},
		{"@everyone overwrite denies", "5", []string{"2"}, []*discordgo.PermissionOverwrite{ow("1", role, 0, send)}, view | embed},
		{"role overwrite allows back", "5", []string{"2"}, []*discordgo.PermissionOverwrite{ow("1", role, 0, send), ow("2", role, send, 0)}, view | send | embed},
		{"member overwrite wins", "5", []string{"2"}, []*discordgo.PermissionOverwrite{ow("2", role, send, 0), ow("5", member, 0, send|view)}, embed},
		{"overwrite of a role not held", "5", nil, []*discordgo.PermissionOverwrite{ow("2", role, 0, view)}, view | send},
		{"administrator ignores overwrites", "5", []string{"3"}, []*discordgo.PermissionOverwrite{ow("1", role, 0, view)}, -1},
		{"owner", "9", nil, []*discordgo.PermissionOverwrite{ow("9", member, 0, view)}, -1},
	}
	for _, tc := range cases {
		got := effectivePermissions(g, &discordgo.Channel{PermissionOverwrites: tc.ows}, tc.user, tc.roles)
		if tc.want == -1 {
			if got&(view|send|embed|discordgo.PermissionSendMessagesInThreads) != view|send|embed|discordgo.PermissionSendMessagesInThreads {
				t.Errorf("%s: %b, want everything", tc.name, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: %b, want %b", tc.name, got, tc.want)
		}
	}
}
