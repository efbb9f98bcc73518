package handlers_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/handlers"
)

// allRoutes registers every feature's handlers, as serve does.
func allRoutes() *handlers.Interactions {
	x := &handlers.Interactions{}
	(&handlers.Alerts{}).Register(x)
	(&handlers.OnCall{}).Register(x)
	(&handlers.Incidents{}).Register(x)
	(&handlers.Calendar{}).Register(x)
	(&handlers.Runbooks{}).Register(x)
	(&handlers.Postmortems{}).Register(x)
	(&handlers.HeartbeatCommands{}).Register(x)
	return x
}

// commandPaths walks a command's subcommand groups and subcommands: the
// paths the router sees ("postmortem action add"), and those of them with
// an autocompleted option.
func commandPaths(c *discordgo.ApplicationCommand) (paths, autocompleted []string) {
	var walk func(path string, opts []*discordgo.ApplicationCommandOption)
	walk = func(path string, opts []*discordgo.ApplicationCommandOption) {
		leaf, auto := true, false
		for _, o := range opts {
			switch o.Type {
			case discordgo.ApplicationCommandOptionSubCommandGroup, discordgo.ApplicationCommandOptionSubCommand:
				leaf = false
				walk(path+" "+o.Name, o.Options)
			default:
				auto = auto || o.Autocomplete
			}
		}
		if leaf {
			paths = append(paths, path)
			if auto {
				autocompleted = append(autocompleted, path)
			}
		}
	}
	walk(c.Name, c.Options)
	return paths, autocompleted
}

// TestEveryRouteDeclaresAnAction walks every command path Klaxon registers
// with Discord (command, subcommand group, subcommand; message commands)
// and every custom_id prefix its code puts on buttons, menus and modals,
// and fails on any that reaches no route or whose route's action the gate
// does not know.
func TestEveryRouteDeclaresAnAction(t *testing.T) {
	x := allRoutes()
	routes := map[string]handlers.RouteInfo{}
	for _, r := range x.Routes() {
		routes[r.Type+" "+r.Key] = r
		if _, ok := handlers.KindOf(r.Action); !ok {
			t.Errorf("%s %q declares action %q, which the gate does not know", r.Type, r.Key, r.Action)
		}
	}
	checked := 0
	for _, c := range discord.Commands() {
		paths, auto := commandPaths(c)
		for _, p := range paths {
			checked++
			if _, ok := routes["command "+p]; !ok {
				t.Errorf("command path %q has no route, so no action", p)
			}
		}
		for _, p := range auto {
			if _, ok := routes["autocomplete "+p]; !ok {
				t.Errorf("autocomplete of %q has no route, so no action", p)
			}
		}
	}
	if checked < 40 {
		t.Errorf("walked only %d command paths", checked)
	}

	// Every custom_id prefix the code builds must reach a component or modal route.
	re := regexp.MustCompile(`CustomID:\s*(?:fmt\.Sprintf\()?"([a-z]+):`)
	prefixes := map[string]string{}
	for _, dir := range []string{".", "../bot", "../bot/discord"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				prefixes[m[1]] = f
			}
		}
	}
	if len(prefixes) < 20 {
		t.Fatalf("found only %d custom_id prefixes: %v", len(prefixes), prefixes)
	}
	for p, f := range prefixes {
		_, comp := routes["component "+p]
		_, modal := routes["modal "+p]
		if !comp && !modal {
			t.Errorf("custom_id prefix %q (built in %s) has no route, so no action", p, f)
		}
	}
	// Only what is addressed to a person may be used from a DM.
	for _, r := range x.Routes() {
		if r.DM && !(r.Type == "component" && r.Key == "ack") {
			t.Errorf("%s %q is allowed from DMs; only a page's Acknowledge is", r.Type, r.Key)
		}
	}
}

func TestRegisterRefusesARouteWithoutAction(t *testing.T) {
	for _, act := range []handlers.Action{"", "alert.everything"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering a route with action %q did not panic", act)
				}
			}()
			(&handlers.Interactions{}).Component("x", act, nil)
		}()
	}
}
