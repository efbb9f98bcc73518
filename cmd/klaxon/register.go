package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/handlers"
)

// registerCommands replaces the application's slash commands with Klaxon's:
// in the configured guild (instant) or, with --global, everywhere (Discord
// may take up to an hour to show global changes).
func registerCommands(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("register-commands", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("KLAXON_CONFIG"), "configuration file (YAML)")
	global := fs.Bool("global", false, "register globally instead of in discord.guild_id")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	cfg, problems := LoadConfig(*configPath, getenv)
	if len(problems.Errors()) > 0 {
		fmt.Fprintln(stderr, problems.Errors().Error())
		return 1
	}
	if cfg.Env.DiscordToken == "" {
		fmt.Fprintln(stderr, "register-commands: KLAXON_DISCORD_TOKEN is not set")
		return 1
	}
	guild := cfg.Discord.GuildID
	if *global {
		guild = ""
	} else if guild == "" {
		fmt.Fprintln(stderr, "register-commands: set discord.guild_id in the configuration, or pass --global")
		return 2
	}
	s, err := discord.NewSession(cfg.Env.DiscordToken, cfg.Env.DiscordAPIURL)
	if err != nil {
		fmt.Fprintf(stderr, "register-commands: %v\n", err)
		return 1
	}
	app := cfg.Discord.ApplicationID
	if app == "" {
		u, err := s.User("@me")
		if err != nil {
			fmt.Fprintf(stderr, "register-commands: who am I: %v (is the token right?)\n", err)
			return 1
		}
		app = u.ID // a bot's user id is its application id
	}
	got, err := discord.RegisterCommands(ctx, s, app, guild, handlers.Commands())
	if err != nil {
		fmt.Fprintf(stderr, "register-commands: %v\n", err)
		return 1
	}
	where := "guild " + guild
	if guild == "" {
		where = "globally"
	}
	for _, c := range got {
		fmt.Fprintf(stdout, "/%s\n", c.Name)
	}
	fmt.Fprintf(stdout, "registered %d commands %s\n", len(got), where)
	return 0
}
