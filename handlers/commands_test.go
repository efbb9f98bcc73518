package handlers_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/handlers"
)

// TestCommandsGuildOnlyAndStaffHidden registers every command with the fake
// Discord (validated against the API spec) and checks what Discord is told:
// guild install, guild context only, and staff commands hidden by
// default_member_permissions while /report stays open to players.
func TestCommandsGuildOnlyAndStaffHidden(t *testing.T) {
	srv := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Error("violation:", err) }})
	defer srv.Close()
	guild := srv.AddGuild("ops")
	dg, err := srv.NewSession("Bot token")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := discord.RegisterCommands(t.Context(), dg, srv.ApplicationID(), guild, handlers.Commands()); err != nil {
		t.Fatalf("register: %v", err)
	}
	var reqBody []map[string]json.RawMessage
	for _, r := range srv.Requests() {
		if r.Method == "PUT" {
			if err := json.Unmarshal(r.Body, &reqBody); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(reqBody) != len(handlers.Commands()) {
		t.Fatalf("sent %d commands, want %d", len(reqBody), len(handlers.Commands()))
	}
	names := map[string]bool{}
	for _, c := range reqBody {
		var name string
		_ = json.Unmarshal(c["name"], &name)
		names[name] = true
		if got := string(c["contexts"]); got != "[0]" {
			t.Errorf("/%s: contexts %s, want [0] (guild only)", name, got)
		}
		if got := string(c["integration_types"]); got != "[0]" {
			t.Errorf("/%s: integration_types %s, want [0] (guild install)", name, got)
		}
		perms, hidden := c["default_member_permissions"]
		switch {
		case (name == "problem" || name == "report") && hidden:
			t.Errorf("/%s: default_member_permissions %s: players must see it", name, perms)
		case name != "problem" && name != "report" && (!hidden || string(perms) == "null"):
			t.Errorf("/%s: no default_member_permissions: Discord shows it to players", name)
		}
	}
	for _, want := range []string{"ack", "oncall", "page", "incident", "problem", "report", handlers.AddToTimeline, "reminder", "slo", "report-sla", "runbook", "postmortem"} {
		if !names[want] {
			t.Errorf("command %s missing", want)
		}
	}
}

// TestCommandsWithinDiscordLimits checks Discord's limits on every command
// too: lower-case names of at most 32, descriptions of 1 to 100, at most 25
// options (message commands have a name of up to 32 in any case and no description).
func TestCommandsWithinDiscordLimits(t *testing.T) {
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
	cmds := handlers.Commands()
	if len(cmds) > 100 {
		t.Errorf("%d commands: Discord takes 100", len(cmds))
	}
	for _, c := range cmds {
		if c.Type == discordgo.MessageApplicationCommand {
			if l := utf8.RuneCountInString(c.Name); l < 1 || l > 32 || c.Description != "" || len(c.Options) > 0 {
				t.Errorf("message command %q: name of %d characters, description %q, %d options", c.Name, l, c.Description, len(c.Options))
			}
			continue
		}
		walk(c.Name, c.Name, c.Description, c.Options)
	}
}

// TestCommandsAndRoutesMatch is the check serve runs at start, on every
// feature: each command path, autocompleted option and custom_id prefix
// has a route, and each route a declaration.
func TestCommandsAndRoutesMatch(t *testing.T) {
	x := allRoutes()
	if err := x.Check(); err != nil {
		t.Fatal(err)
	}
	// Every feature serve can run is in Features (what register-commands
	// registers), and the other way round.
	var declared, all []string
	for _, f := range x.Declared() {
		declared = append(declared, f.Name)
	}
	for _, f := range handlers.Features() {
		all = append(all, f.Name)
	}
	slices.Sort(declared)
	slices.Sort(all)
	if !slices.Equal(declared, all) {
		t.Errorf("the features' Register declare %v; handlers.Features lists %v", declared, all)
	}
	paths := 0
	for _, c := range handlers.Commands() {
		paths += len(handlers.CommandPaths(c))
	}
	if paths < 40 {
		t.Errorf("walked only %d command paths", paths)
	}
}

// TestCheckFailsOnUnmatchedCommandsAndRoutes proves the check can fail: a
// schema without a route (also a subcommand in a group, an autocompleted
// option, a custom_id prefix) and a route without a schema are each named.
func TestCheckFailsOnUnmatchedCommandsAndRoutes(t *testing.T) {
	noop := func(ctx context.Context, r *handlers.Request) (*handlers.Reply, error) { return nil, nil }
	x := &handlers.Interactions{}
	x.Declare(handlers.Feature{Name: "test", Commands: []*discordgo.ApplicationCommand{
		{Name: "widget", Description: "Widgets", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "part", Description: "Parts", Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "add", Description: "Add a part", Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "Part", Autocomplete: true},
				}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "remove", Description: "Remove a part"},
			}},
		}},
		{Name: "report", Description: "Report"},
	}, Public: []string{"report"}, Components: []string{"ack"}, Modals: []string{"nosuch"}})
	x.Command("widget part remove", handlers.ActAlertView, true, noop) // "widget part add" has none
	x.Command("gadget", handlers.ActAlertView, true, noop)             // no schema
	x.Autocomplete("widget part remove", handlers.ActAlertView, noop)  // no autocompleted option there
	x.Command("report", handlers.ActAlertView, true, noop)             // public command, staff action
	x.Component("esc", handlers.ActAlertEscalate, noop)                // declared by no feature
	err := x.Check()
	if err == nil {
		t.Fatal("Check passed")
	}
	for _, want := range []string{
		"command /widget part add (feature test) has no route",
		"command /widget part add (feature test) has an autocompleted option but no autocomplete route",
		"route for command /gadget has no schema",
		"autocomplete route for /widget part remove has no schema",
		`command /report: Discord shows it to every member: true, but its route's action "alert.view"`,
		`component custom_id prefix "ack" (feature test) has no route`,
		`component route for custom_id prefix "esc": no feature declares it`,
		`feature test declares modal custom_id prefix "nosuch", which is not one of bot/customid's`,
		`modal custom_id prefix "nosuch" (feature test) has no route`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check's error does not say %q:\n%v", want, err)
		}
	}
}
