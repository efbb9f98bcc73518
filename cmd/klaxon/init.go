package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discord"
)

const initUsage = `Usage: klaxon init --guild ID [--out FILE] [--force] [--non-interactive]
                   [--channel P0=#name-or-id ...] [--staff-role name-or-id] [--mention-role name-or-id]
  write a configuration for your Discord server: lists its channels and roles with the
  bot token (KLAXON_DISCORD_TOKEN or KLAXON_DISCORD_TOKEN_FILE) and asks which channel each
  priority posts to and which role is staff — or takes them from the flags.
  --channel P0=#alerts sets one priority; --channel all=#alerts every priority not set otherwise.

Flags:
`

// channelFlags collects --channel P0=#name (repeatable).
type channelFlags map[string]string

func (c channelFlags) String() string { return "" }
func (c channelFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	k = strings.ToUpper(strings.TrimSpace(k))
	if !ok || val == "" {
		return fmt.Errorf("want PRIORITY=#channel (e.g. P0=#alerts-critical), got %q", v)
	}
	switch k {
	case "P0", "P1", "P2", "P3", "ALL":
	default:
		return fmt.Errorf("%q is not P0, P1, P2, P3 or all", k)
	}
	c[k] = strings.TrimSpace(val)
	return nil
}

// initAnswers is what init needs to know, by name or id, before it resolves
// them against the guild.
type initAnswers struct {
	channels    [4]*discordgo.Channel
	staff       *discordgo.Role
	mention     *discordgo.Role // pinged on P0/P1 cards and paged by escalation; may be nil
	guild       *discordgo.Guild
	generatedAt time.Time
}

var priorityMeaning = [4]string{"critical outage", "major issue", "minor issue", "warning"}

// initCmd is `klaxon init`.
func initCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("init", "", "", stdout, stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), initUsage); fs.PrintDefaults() }
	guildID := fs.String("guild", getenv("KLAXON_GUILD_ID"), "the Discord server's id (Developer Mode → right-click the server → Copy Server ID)")
	out := fs.String("out", "klaxon.yaml", "file to write")
	force := fs.Bool("force", false, "overwrite the file if it exists")
	nonInteractive := fs.Bool("non-interactive", false, "never ask: fail naming what the flags did not give")
	chans := channelFlags{}
	fs.Var(chans, "channel", "PRIORITY=#name-or-id: the channel a priority's cards go to (repeatable; all=… for every priority)")
	staffRole := fs.String("staff-role", "", "name or id of the role whose members may acknowledge, resolve, silence… (access.staff_roles)")
	mentionRole := fs.String("mention-role", "", "name or id of the role pinged on P0/P1 cards and paged by escalation (optional; \"none\" for none)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "init: "+format+"\n", a...)
		return 1
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		return fail("%s exists: pass --force to overwrite it, or --out another file", *out)
	}
	token, _, err := readSecret(getenv, "KLAXON_DISCORD_TOKEN")
	if err != nil {
		return fail("%v", err)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return fail("KLAXON_DISCORD_TOKEN (or KLAXON_DISCORD_TOKEN_FILE) is not set: create a bot in the Discord Developer Portal (https://discord.com/developers/applications → New Application → Bot → Reset Token) and invite it to your server first (README, Getting started)")
	}
	api := strings.TrimRight(getenv("KLAXON_DISCORD_API_URL"), "/")
	if api == "" {
		api = "https://discord.com/api/v10"
	}
	s, err := discord.NewSession(token, api)
	if err != nil {
		return fail("discord session: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	o := discordgo.WithContext(cctx)
	if *guildID == "" {
		msg := "--guild is required: the id of your Discord server (Developer Mode → right-click the server → Copy Server ID)"
		if gs, err := s.UserGuilds(100, "", "", false, o); err == nil && len(gs) > 0 {
			var names []string
			for _, g := range gs {
				names = append(names, fmt.Sprintf("%s (--guild %s)", g.Name, g.ID))
			}
			msg += "; the bot is in: " + strings.Join(names, ", ")
		} else if err == nil {
			msg += "; the bot is in no server yet: invite it first (README, Getting started)"
		}
		return fail("%s", msg)
	}
	guild, err := s.Guild(*guildID, o)
	if err != nil {
		return fail("server %s: %s; is the bot invited to it?", *guildID, describeRESTError(err))
	}
	channels, err := s.GuildChannels(*guildID, o)
	if err != nil {
		return fail("list the channels of %s: %s", guild.Name, describeRESTError(err))
	}
	roles, err := s.GuildRoles(*guildID, o)
	if err != nil {
		return fail("list the roles of %s: %s", guild.Name, describeRESTError(err))
	}
	var text []*discordgo.Channel
	for _, c := range channels {
		if c.Type == discordgo.ChannelTypeGuildText || c.Type == discordgo.ChannelTypeGuildNews {
			text = append(text, c)
		}
	}
	sort.SliceStable(text, func(i, j int) bool { return text[i].Position < text[j].Position })
	var pick []*discordgo.Role
	for _, r := range roles {
		if r.ID != guild.ID && !r.Managed { // not @everyone, not a bot's own role
			pick = append(pick, r)
		}
	}
	sort.SliceStable(pick, func(i, j int) bool { return pick[i].Position > pick[j].Position })
	if len(text) == 0 {
		return fail("%s has no text channel the bot can see: create one (e.g. #alerts) or give the bot View Channel", guild.Name)
	}

	a := initAnswers{guild: guild, generatedAt: time.Now().UTC()}
	ask := &asker{in: bufio.NewReader(stdin), out: stdout, interactive: !*nonInteractive}
	var missing []string
	if ask.interactive && (len(chans) < 4 && chans["ALL"] == "" || *staffRole == "") {
		fmt.Fprintf(stdout, "Text channels of %s:\n", guild.Name)
		for i, c := range text {
			fmt.Fprintf(stdout, "  %2d  #%s  (%s)\n", i+1, c.Name, c.ID)
		}
	}
	for i := range 4 {
		name := fmt.Sprintf("P%d", i)
		given := chans[name]
		if given == "" {
			given = chans["ALL"]
		}
		def := ""
		if i > 0 && a.channels[i-1] != nil {
			def = "#" + a.channels[i-1].Name
		}
		for {
			v := given
			if v == "" {
				if !ask.interactive {
					missing = append(missing, fmt.Sprintf("--channel %s=#name", name))
					break
				}
				var err error
				if v, err = ask.question(fmt.Sprintf("Channel for %s (%s) cards [number, #name or id]", name, priorityMeaning[i]), def); err != nil {
					return fail("%v", err)
				}
			}
			c, err := resolveChannel(text, v)
			if err == nil {
				a.channels[i] = c
				break
			}
			if given != "" || !ask.interactive {
				return fail("--channel %s: %v", name, err)
			}
			fmt.Fprintf(stdout, "  %v\n", err)
		}
	}
	roleQ := func(flagVal, flagName, question string, optional bool) (*discordgo.Role, bool) {
		for {
			v := flagVal
			if v == "" {
				if !ask.interactive {
					if !optional {
						missing = append(missing, "--"+flagName+" NAME")
					}
					return nil, true
				}
				var err error
				if v, err = ask.question(question, ""); err != nil {
					fmt.Fprintf(stderr, "init: %v\n", err)
					return nil, false
				}
				if v == "" && optional {
					return nil, true
				}
			}
			if optional && strings.EqualFold(v, "none") {
				return nil, true
			}
			r, err := resolveRole(pick, v)
			if err == nil {
				return r, true
			}
			if flagVal != "" || !ask.interactive {
				fmt.Fprintf(stderr, "init: --%s: %v\n", flagName, err)
				return nil, false
			}
			fmt.Fprintf(stdout, "  %v\n", err)
		}
	}
	if ask.interactive && (*staffRole == "" || *mentionRole == "") {
		fmt.Fprintf(stdout, "Roles of %s:\n", guild.Name)
		for i, r := range pick {
			fmt.Fprintf(stdout, "  %2d  @%s  (%s)\n", i+1, r.Name, r.ID)
		}
	}
	var ok bool
	if a.staff, ok = roleQ(*staffRole, "staff-role", "Staff role: who may acknowledge, resolve, silence, run incidents [number, name or id]", false); !ok {
		return 1
	}
	if a.mention, ok = roleQ(*mentionRole, "mention-role", "Role to ping on P0/P1 cards and to page (e.g. @on-call) [number, name or id; Enter for none]", true); !ok {
		return 1
	}
	if len(missing) > 0 {
		return fail("--non-interactive: missing %s", strings.Join(missing, ", "))
	}

	body := renderInitConfig(a)
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(*out, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fail("%s exists: pass --force to overwrite it, or --out another file", *out)
	}
	if err != nil {
		return fail("write the configuration: %v", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return fail("write %s: %v", *out, err)
	}
	if err := f.Close(); err != nil {
		return fail("write %s: %v", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %s for %s. Next:\n  klaxon check-config --online --config %[1]s\n  klaxon register-commands --config %[1]s\n  klaxon serve --config %[1]s\n", *out, guild.Name)
	return 0
}

// asker asks questions on stdin.
type asker struct {
	in          *bufio.Reader
	out         io.Writer
	interactive bool
}

func (a *asker) question(q, def string) (string, error) {
	if def != "" {
		q += " (Enter: " + def + ")"
	}
	fmt.Fprintf(a.out, "%s: ", q)
	line, err := a.in.ReadString('\n')
	line = strings.TrimSpace(line)
	if err != nil && line == "" {
		if errors.Is(err, io.EOF) {
			return "", errors.New("no answer (stdin ended): answer the questions, or give every choice as a flag (--channel, --staff-role) with --non-interactive")
		}
		return "", fmt.Errorf("read the answer: %w", err)
	}
	if line == "" {
		return def, nil
	}
	return line, nil
}

// resolveChannel finds a text channel by list number, #name, name or id.
func resolveChannel(list []*discordgo.Channel, v string) (*discordgo.Channel, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(list) && len(v) < 6 {
		return list[n-1], nil
	}
	name := strings.TrimPrefix(v, "#")
	var found []*discordgo.Channel
	for _, c := range list {
		if c.ID == v {
			return c, nil
		}
		if strings.EqualFold(c.Name, name) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var names []string
		for _, c := range list {
			names = append(names, "#"+c.Name)
		}
		return nil, fmt.Errorf("no text channel %q; there are %s", v, strings.Join(names, ", "))
	}
	var ids []string
	for _, c := range found {
		ids = append(ids, c.ID)
	}
	return nil, fmt.Errorf("%d channels are called #%s: give the id (%s)", len(found), name, strings.Join(ids, " or "))
}

// resolveRole finds a role by list number, @name, name or id.
func resolveRole(list []*discordgo.Role, v string) (*discordgo.Role, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(list) && len(v) < 6 {
		return list[n-1], nil
	}
	name := strings.TrimPrefix(v, "@")
	var found []*discordgo.Role
	for _, r := range list {
		if r.ID == v {
			return r, nil
		}
		if strings.EqualFold(r.Name, name) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var names []string
		for _, r := range list {
			names = append(names, "@"+r.Name)
		}
		return nil, fmt.Errorf("no role %q; there are %s", v, strings.Join(names, ", "))
	}
	var ids []string
	for _, r := range found {
		ids = append(ids, r.ID)
	}
	return nil, fmt.Errorf("%d roles are called @%s: give the id (%s)", len(found), name, strings.Join(ids, " or "))
}
