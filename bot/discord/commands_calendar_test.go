package discord_test

import (
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
)

func TestCalendarCommandsPassDiscordValidation(t *testing.T) {
	srv := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Error("violation:", err) }})
	defer srv.Close()
	guild := srv.AddGuild("ops")
	dg, err := srv.NewSession("Bot token")
	if err != nil {
		t.Fatal(err)
	}
	cmds := discord.CalendarCommands()
	got, err := dg.ApplicationCommandBulkOverwrite(srv.ApplicationID(), guild, cmds)
	if err != nil {
		t.Fatalf("bulk overwrite: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("%d commands registered", len(got))
	}
	names := map[string]bool{}
	for _, c := range srv.Commands(guild) {
		names[c.Name] = true
	}
	for _, want := range []string{"reminder", "slo", "report-sla"} {
		if !names[want] {
			t.Errorf("command %s missing", want)
		}
	}
	var subs []string
	for _, o := range cmds[0].Options {
		if o.Type != discordgo.ApplicationCommandOptionSubCommand {
			t.Errorf("reminder option %s is not a subcommand", o.Name)
		}
		subs = append(subs, o.Name)
	}
	if len(subs) != 5 {
		t.Errorf("reminder subcommands %v", subs)
	}
	// Discord's limits, checked here too: lower-case names of at most 32, descriptions of 1 to 100.
	name := regexp.MustCompile(`^[-_a-z0-9]{1,32}$`)
	var walk func(path string, n, d string, opts []*discordgo.ApplicationCommandOption)
	walk = func(path, n, d string, opts []*discordgo.ApplicationCommandOption) {
		if !name.MatchString(n) {
			t.Errorf("%s: name %q", path, n)
		}
		if l := utf8.RuneCountInString(d); l < 1 || l > 100 {
			t.Errorf("%s: description has %d characters", path, l)
		}
		if len(opts) > 25 {
			t.Errorf("%s: %d options", path, len(opts))
		}
		for _, o := range opts {
			walk(path+" "+o.Name, o.Name, o.Description, o.Options)
		}
	}
	for _, c := range cmds {
		walk(c.Name, c.Name, c.Description, c.Options)
	}
}
