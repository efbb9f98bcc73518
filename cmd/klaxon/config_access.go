package main

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/marola-rp/klaxon/handlers"
)

// The access section is read from its YAML node so that an unknown kind or
// action is reported with the list of valid names:
//
//	access:
//	  staff_roles: ["111"]        # the default for every kind
//	  incident: ["222"]           # respond, incident, oncall, calendar, admin
//	  actions:
//	    incident.update: ["222", "333"]

func accessKeys() []string {
	keys := []string{"staff_roles"}
	for _, k := range handlers.ConfigurableKinds() {
		keys = append(keys, string(k))
	}
	return append(keys, "actions")
}

func actionNamesList() string {
	var names []string
	for _, a := range handlers.Actions() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}

// buildAccess reads the access section; it returns nil when the section is absent.
func (c *Config) buildAccess() (*handlers.Access, Problems) {
	var ps Problems
	bad := func(n *yaml.Node, msg string) {
		ps = append(ps, Problem{File: c.file, Line: n.Line, Message: msg})
	}
	n := &c.Access
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	acc := &handlers.Access{GuildID: c.Discord.GuildID, Kinds: map[handlers.Kind][]string{}, Actions: map[handlers.Action][]string{}}
	if n.Kind != yaml.MappingNode {
		bad(n, "access must be a mapping with staff_roles, "+strings.Join(accessKeys()[1:], ", "))
		return acc, ps
	}
	roles := func(key string, v *yaml.Node) []string {
		if v.Kind != yaml.SequenceNode {
			bad(v, fmt.Sprintf("%s must be a list of role ids, e.g. [\"123456789012345678\"]", key))
			return nil
		}
		out := []string{}
		for _, r := range v.Content {
			if r.Kind != yaml.ScalarNode || !snowflake.MatchString(r.Value) {
				bad(r, fmt.Sprintf("%s: %q is not a Discord role id (digits only; Developer Mode → right-click the role → Copy Role ID)", key, r.Value))
				continue
			}
			out = append(out, r.Value)
		}
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch key := k.Value; {
		case key == "staff_roles":
			acc.Staff = roles("access.staff_roles", v)
		case key == "actions":
			if v.Kind != yaml.MappingNode {
				bad(v, "access.actions must map action names to role lists, e.g. incident.update: [\"123\"]")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				an, av := v.Content[j], v.Content[j+1]
				act := handlers.Action(an.Value)
				if _, ok := handlers.KindOf(act); !ok {
					bad(an, fmt.Sprintf("access.actions.%s: unknown action; the actions are %s", an.Value, actionNamesList()))
					continue
				}
				acc.Actions[act] = roles("access.actions."+an.Value, av)
			}
		case slices.Contains(accessKeys(), key):
			acc.Kinds[handlers.Kind(key)] = roles("access."+key, v)
		default:
			bad(k, fmt.Sprintf("access.%s: unknown key; the keys are %s (kinds: respond, incident, oncall, calendar, admin; per-action lists go under actions)",
				key, strings.Join(accessKeys(), ", ")))
		}
	}
	return acc, ps
}

// validateAccess checks the access section and warns loudly when it is missing.
func (c *Config) validateAccess() Problems {
	acc, ps := c.buildAccess()
	warn := func(msg string, path ...string) {
		ps = append(ps, Problem{File: c.file, Line: c.line(path...), Message: msg, Warning: true})
	}
	if acc == nil || len(acc.Staff) == 0 {
		warn("access.staff_roles is not set: Klaxon refuses every command, button and menu except /problem (and its old name /report) until it is. "+
			"Add access: {staff_roles: [\"<role id of your staff/responders>\"]} (see README, Security model)", "access")
	}
	if c.Discord.GuildID == "" {
		warn("discord.guild_id is not set: Klaxon refuses every interaction until it knows its server (Developer Mode → right-click the server → Copy Server ID)", "discord")
	} else if !snowflake.MatchString(c.Discord.GuildID) {
		ps = append(ps, Problem{File: c.file, Line: c.line("discord", "guild_id"), Message: fmt.Sprintf("discord.guild_id %q is not a Discord id (digits only)", c.Discord.GuildID)})
	}
	return ps
}

// access is the access section in the handlers' form; without one, only
// public actions are allowed (the gate tells members what to configure).
func (c *Config) access() *handlers.Access {
	acc, _ := c.buildAccess()
	if acc == nil {
		acc = &handlers.Access{GuildID: c.Discord.GuildID}
	}
	return acc
}

// accessWithPermissions is access plus the per-priority permissions section.
func (c *Config) accessWithPermissions() *handlers.Access {
	acc := c.access()
	acc.ByPriority = c.permissions()
	return acc
}

// accessConfigured reports whether staff roles are set.
func (c *Config) accessConfigured() bool {
	acc, _ := c.buildAccess()
	return acc != nil && len(acc.Staff) > 0
}
