package handlers

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/customid"
)

// Feature is one feature's part of Discord's interface, declared beside the
// routes that answer it (each feature's Register declares its Feature, then
// its routes): the commands it adds to Discord's menus, as Discord's schema,
// and the custom_id prefixes of the controls its messages carry.
// Interactions.Check fails on a command, autocompleted option or prefix
// without a route, and on a route that nothing declares.
type Feature struct {
	Name     string
	Commands []*discordgo.ApplicationCommand
	// Public are the commands every member of the server sees (their routes
	// must perform public actions); Discord hides the others from members
	// without StaffPermissions.
	Public []string
	// Components and Modals are the custom_id prefixes (bot/customid) of
	// the feature's buttons and select menus, and of its modal forms.
	Components, Modals []string
}

// Features returns every feature's declaration, in the order Discord's
// menus list them: what register-commands tells Discord. serve registers
// the features it runs (Register), each of which declares its own.
func Features() []Feature {
	return []Feature{alertsFeature(), onCallFeature(), calendarFeature(), runbooksFeature(), postmortemsFeature(), incidentsFeature(), heartbeatFeature()}
}

// StaffPermissions is the default_member_permissions of every command but
// the public ones: Discord shows staff commands only to members with Manage
// Messages (and administrators) until the server's admin changes it under
// Server Settings → Integrations → Klaxon. Who may act is decided by the
// gate, whatever Discord shows.
const StaffPermissions int64 = discordgo.PermissionManageMessages

// Commands returns the commands of features (every feature when none is
// given) ready for Discord: guild-installed and usable only in a guild, the
// staff ones hidden by default_member_permissions.
func Commands(features ...Feature) []*discordgo.ApplicationCommand {
	if len(features) == 0 {
		features = Features()
	}
	var out []*discordgo.ApplicationCommand
	for _, f := range features {
		for _, c := range f.Commands {
			guildOnly := []discordgo.InteractionContextType{discordgo.InteractionContextGuild}
			guildInstall := []discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall}
			c.Contexts, c.IntegrationTypes = &guildOnly, &guildInstall
			c.DefaultMemberPermissions = nil
			if !slices.Contains(f.Public, c.Name) {
				perms := StaffPermissions
				c.DefaultMemberPermissions = &perms
			}
			out = append(out, c)
		}
	}
	return out
}

// Declare adds a feature's schema and custom_id prefixes: its Register
// calls it beside the routes that answer them.
func (x *Interactions) Declare(f Feature) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.features = append(x.features, f)
}

// Declared returns the features declared so far.
func (x *Interactions) Declared() []Feature {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Clone(x.features)
}

// CommandPath is a path the router sees ("oncall override", "postmortem
// action add", "Add to timeline") and whether an option at it is
// autocompleted.
type CommandPath struct {
	Path         string
	Autocomplete bool
}

// CommandPaths walks a command's subcommand groups and subcommands to its
// leaves: the paths a route answers.
func CommandPaths(c *discordgo.ApplicationCommand) []CommandPath {
	var out []CommandPath
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
			out = append(out, CommandPath{Path: path, Autocomplete: auto})
		}
	}
	walk(c.Name, c.Options)
	return out
}

// Check joins the declared features with the registered routes. It fails,
// naming each, on: a command path without a route, an autocompleted option
// without an autocomplete route, a custom_id prefix without a route; a
// route that no declared command, autocompleted option or prefix needs; a
// prefix that is not one of bot/customid's; a path or prefix declared
// twice; a public command whose route is not public, or the reverse.
// serve refuses to start when it fails.
func (x *Interactions) Check() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	paths := map[string]string{}    // declared command path → feature
	tops := map[string]string{}     // declared command path → its command's name
	autos := map[string]bool{}      // declared paths with an autocompleted option
	public := map[string]bool{}     // declared commands every member sees
	prefixes := map[string]string{} // "component ack" → feature
	known := map[string]bool{}
	for _, p := range customid.Components() {
		known["component "+p] = true
	}
	for _, p := range customid.Modals() {
		known["modal "+p] = true
	}
	for _, f := range x.features {
		for _, c := range f.Commands {
			for _, p := range CommandPaths(c) {
				if other, dup := paths[p.Path]; dup {
					bad("command /%s is declared twice (features %s and %s)", p.Path, other, f.Name)
				}
				paths[p.Path], tops[p.Path], autos[p.Path] = f.Name, c.Name, p.Autocomplete
			}
		}
		for _, name := range f.Public {
			if !slices.ContainsFunc(f.Commands, func(c *discordgo.ApplicationCommand) bool { return c.Name == name }) {
				bad("feature %s makes /%s public but declares no such command", f.Name, name)
			}
			public[name] = true
		}
		for typ, ps := range map[string][]string{"component": f.Components, "modal": f.Modals} {
			for _, p := range ps {
				key := typ + " " + p
				if other, dup := prefixes[key]; dup {
					bad("%s custom_id prefix %q is declared twice (features %s and %s)", typ, p, other, f.Name)
				}
				prefixes[key] = f.Name
				if !known[key] {
					bad("feature %s declares %s custom_id prefix %q, which is not one of bot/customid's", f.Name, typ, p)
				}
			}
		}
	}
	for p, feature := range paths {
		rt, ok := x.commands[p]
		if !ok {
			bad("command /%s (feature %s) has no route", p, feature)
		} else if public[tops[p]] != (actionTable[rt.action].kind == KindPublic) {
			bad("command /%s: Discord shows it to every member: %v, but its route's action %q is of kind %q", p, public[tops[p]], rt.action, actionTable[rt.action].kind)
		}
		if _, ok := x.autocomplete[p]; autos[p] && !ok {
			bad("command /%s (feature %s) has an autocompleted option but no autocomplete route", p, feature)
		}
	}
	for p := range x.commands {
		if _, ok := paths[p]; !ok {
			bad("route for command /%s has no schema: no feature declares it", p)
		}
	}
	for p := range x.autocomplete {
		if !autos[p] {
			bad("autocomplete route for /%s has no schema: no feature declares an autocompleted option at that path", p)
		}
	}
	for typ, m := range map[string]map[string]route{"component": x.components, "modal": x.modals} {
		for p := range m {
			if _, ok := prefixes[typ+" "+p]; !ok {
				bad("%s route for custom_id prefix %q: no feature declares it", typ, p)
			}
		}
	}
	for key, feature := range prefixes {
		typ, p, _ := strings.Cut(key, " ")
		m := x.components
		if typ == "modal" {
			m = x.modals
		}
		if _, ok := m[p]; !ok {
			bad("%s custom_id prefix %q (feature %s) has no route", typ, p, feature)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	slices.Sort(errs)
	return fmt.Errorf("commands and routes do not match: %w", errors.New(strings.Join(errs, "; ")))
}
