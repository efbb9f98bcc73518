package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.yaml.in/yaml/v3"
)

// discordRef is one Discord id the configuration uses, where it first
// appears.
type discordRef struct {
	Kind string // guild, channel, role, user
	ID   string
	Path string
	Line int
}

var indexSuffix = regexp.MustCompile(`(\[\d+\])+$`)

// discordRefs lists the guild, channels, roles and users the configuration
// names (each id once, at its first place), by the keys that hold them.
func (c *Config) discordRefs() []discordRef {
	var out []discordRef
	seen := map[string]bool{}
	add := func(kind, id, path string, line int) {
		if !snowflake.MatchString(id) || seen[kind+id] {
			return
		}
		seen[kind+id] = true
		out = append(out, discordRef{Kind: kind, ID: id, Path: path, Line: line})
	}
	walkYAML(&c.root, "", func(n, k *yaml.Node, path string) {
		if k != nil && strings.HasPrefix(path, "users.") && strings.Count(path, ".") == 1 {
			add("user", k.Value, path, k.Line) // users: {"<id>": {...}}
		}
		if n.Kind != yaml.ScalarNode {
			return
		}
		p := indexSuffix.ReplaceAllString(path, "")
		key := p[strings.LastIndex(p, ".")+1:]
		switch {
		case p == "discord.guild_id":
			add("guild", n.Value, path, n.Line)
		case key == "channel" || strings.HasSuffix(key, "_channel"):
			add("channel", n.Value, path, n.Line)
		case key == "role" || strings.HasSuffix(key, "_roles") || strings.HasPrefix(p, "access.") || strings.HasPrefix(p, "permissions."):
			add("role", n.Value, path, n.Line)
		case key == "user" || key == "mention_users" || key == "participants":
			add("user", n.Value, path, n.Line)
		}
	})
	order := map[string]int{"guild": 0, "channel": 1, "role": 2, "user": 3}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Kind] < order[out[j].Kind] })
	return out
}

// What Klaxon needs in a channel: see its cards, post them with embeds,
// open threads on them (incidents, storm digests) and write in those
// threads.
var channelNeeds = []struct {
	perm int64
	name string
}{
	{discordgo.PermissionViewChannel, "View Channel"},
	{discordgo.PermissionSendMessages, "Send Messages"},
	{discordgo.PermissionEmbedLinks, "Embed Links"},
	{discordgo.PermissionCreatePublicThreads, "Create Public Threads"},
	{discordgo.PermissionSendMessagesInThreads, "Send Messages in Threads"},
}

// effectivePermissions computes a member's permissions in a channel from
// the guild's roles and the channel's overwrites, as Discord does
// (https://discord.com/developers/docs/topics/permissions): the owner and
// Administrator have everything; else @everyone's permissions | the
// member's roles'; then the channel's @everyone overwrite, the member's
// roles' overwrites (denies, then allows), and the member's own overwrite.
func effectivePermissions(g *discordgo.Guild, ch *discordgo.Channel, userID string, memberRoles []string) int64 {
	if userID == g.OwnerID {
		return math.MaxInt64 // every bit: discordgo.PermissionAll lacks the thread permissions
	}
	var perms int64
	for _, r := range g.Roles {
		if r.ID == g.ID || containsString(memberRoles, r.ID) {
			perms |= r.Permissions
		}
	}
	if perms&discordgo.PermissionAdministrator != 0 {
		return math.MaxInt64 // every bit: discordgo.PermissionAll lacks the thread permissions
	}
	var allow, deny int64
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeRole && o.ID == g.ID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeRole && o.ID != g.ID && containsString(memberRoles, o.ID) {
			allow |= o.Allow
			deny |= o.Deny
		}
	}
	perms = perms&^deny | allow
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == userID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	return perms
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// onlineRow is one line of check-config --online's table.
type onlineRow struct {
	Kind, ID, Name, Result string
	OK                     bool
}

// checkRefs asks Discord about every id the configuration names and
// returns the table's rows and a problem for each one that fails.
func checkRefs(ctx context.Context, s *discordgo.Session, cfg *Config) ([]onlineRow, Problems) {
	var rows []onlineRow
	var ps Problems
	fail := func(r discordRef, name, result string) {
		rows = append(rows, onlineRow{Kind: r.Kind, ID: r.ID, Name: name, Result: result})
		ps = append(ps, Problem{File: cfg.file, Line: r.Line, Message: fmt.Sprintf("%s %s: %s", r.Path, r.ID, result)})
	}
	ok := func(r discordRef, name, result string) {
		rows = append(rows, onlineRow{Kind: r.Kind, ID: r.ID, Name: name, Result: result, OK: true})
	}
	opt := func() (discordgo.RequestOption, context.CancelFunc) {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		return discordgo.WithContext(cctx), cancel
	}
	call := func(f func(o discordgo.RequestOption) error) error {
		o, cancel := opt()
		defer cancel()
		return f(o)
	}

	refs := cfg.discordRefs()
	var me *discordgo.User
	if err := call(func(o discordgo.RequestOption) (err error) { me, err = s.User("@me", o); return err }); err != nil {
		return nil, Problems{{File: cfg.file, Message: "discord: who am I: " + describeRESTError(err)}}
	}
	var guild *discordgo.Guild
	var botRoles []string
	guilds := map[string]*discordgo.Guild{}
	loadGuild := func(id string) (*discordgo.Guild, error) {
		if g, ok := guilds[id]; ok {
			return g, nil
		}
		var g *discordgo.Guild
		err := call(func(o discordgo.RequestOption) (err error) { g, err = s.Guild(id, o); return err })
		if err != nil {
			return nil, err
		}
		guilds[id] = g
		return g, nil
	}
	if id := cfg.Discord.GuildID; snowflake.MatchString(id) {
		ref := discordRef{Kind: "guild", ID: id, Path: "discord.guild_id", Line: cfg.line("discord", "guild_id")}
		g, err := loadGuild(id)
		if err != nil {
			fail(ref, "", "not found or the bot is not in it: "+describeRESTError(err)+"; invite the bot (README, Getting started)")
		} else {
			guild = g
			var m *discordgo.Member
			if err := call(func(o discordgo.RequestOption) (err error) { m, err = s.GuildMember(id, me.ID, o); return err }); err == nil {
				botRoles = m.Roles
			}
			ok(ref, g.Name, "ok: the bot is a member")
		}
	}
	for _, r := range refs {
		switch r.Kind {
		case "channel":
			var ch *discordgo.Channel
			if err := call(func(o discordgo.RequestOption) (err error) { ch, err = s.Channel(r.ID, o); return err }); err != nil {
				fail(r, "", describeRESTError(err))
				continue
			}
			name := "#" + ch.Name
			switch ch.Type {
			case discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews, discordgo.ChannelTypeGuildForum,
				discordgo.ChannelTypeGuildPublicThread, discordgo.ChannelTypeGuildPrivateThread, discordgo.ChannelTypeGuildNewsThread:
			default:
				fail(r, name, fmt.Sprintf("not a text channel (type %d): choose a text or announcement channel", ch.Type))
				continue
			}
			if guild != nil && ch.GuildID != guild.ID {
				fail(r, name, fmt.Sprintf("in another server (%s), not discord.guild_id", ch.GuildID))
				continue
			}
			permCh := ch
			if ch.IsThread() && ch.ParentID != "" { // a thread has its parent's permissions
				if err := call(func(o discordgo.RequestOption) (err error) { permCh, err = s.Channel(ch.ParentID, o); return err }); err != nil {
					fail(r, name, "its parent channel: "+describeRESTError(err))
					continue
				}
			}
			g, err := loadGuild(ch.GuildID)
			if err != nil {
				fail(r, name, "its server: "+describeRESTError(err))
				continue
			}
			roles := botRoles
			if guild == nil || g.ID != guild.ID {
				var m *discordgo.Member
				if err := call(func(o discordgo.RequestOption) (err error) { m, err = s.GuildMember(g.ID, me.ID, o); return err }); err == nil {
					roles = m.Roles
				}
			}
			perms := effectivePermissions(g, permCh, me.ID, roles)
			var missing []string
			for _, need := range channelNeeds {
				if perms&need.perm == 0 {
					missing = append(missing, need.name)
				}
			}
			if len(missing) > 0 {
				fail(r, name, "the bot lacks "+strings.Join(missing, ", ")+" here: allow them for its role in the channel's permissions")
				continue
			}
			ok(r, name, "ok: view, post, embed, threads")
		case "role":
			if guild == nil {
				ok(r, "", "not checked: no discord.guild_id")
				continue
			}
			found := false
			for _, gr := range guild.Roles {
				if gr.ID == r.ID {
					found = true
					ok(r, "@"+gr.Name, "ok")
				}
			}
			if !found {
				fail(r, "", fmt.Sprintf("no such role in %s (Server Settings → Roles → right-click → Copy Role ID)", guild.Name))
			}
		case "user":
			if guild == nil {
				var u *discordgo.User
				if err := call(func(o discordgo.RequestOption) (err error) { u, err = s.User(r.ID, o); return err }); err != nil {
					fail(r, "", describeRESTError(err))
				} else {
					ok(r, u.Username, "ok (membership not checked: no discord.guild_id)")
				}
				continue
			}
			var m *discordgo.Member
			if err := call(func(o discordgo.RequestOption) (err error) { m, err = s.GuildMember(guild.ID, r.ID, o); return err }); err != nil {
				fail(r, "", fmt.Sprintf("not a member of %s: %s", guild.Name, describeRESTError(err)))
				continue
			}
			name := ""
			if m.User != nil {
				name = m.User.Username
			}
			ok(r, name, "ok: a member")
		}
	}
	return rows, ps
}

// describeRESTError says what Discord answered, readably.
func describeRESTError(err error) string {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		msg := ""
		if re.Message != nil {
			msg = re.Message.Message
		}
		switch re.Response.StatusCode {
		case http.StatusNotFound:
			return "Discord does not know this id (404 " + msg + ")"
		case http.StatusForbidden:
			return "the bot has no access (403 " + msg + ")"
		case http.StatusUnauthorized:
			return "Discord refused the token (401): check KLAXON_DISCORD_TOKEN"
		}
		return fmt.Sprintf("HTTP %d %s", re.Response.StatusCode, msg)
	}
	return err.Error()
}

// printTable writes the rows as an aligned table.
func printTable(w io.Writer, rows []onlineRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tNAME\tRESULT")
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Kind, r.ID, name, r.Result)
	}
	tw.Flush()
}
