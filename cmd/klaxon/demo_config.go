//go:build demo

package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.yaml.in/yaml/v3"
)

// idPattern is what a Discord id looks like in a configuration.
var idPattern = regexp.MustCompile(`^[0-9]{15,20}$`)
var idToken = regexp.MustCompile(`\b[0-9]{15,20}\b`)

// mapConfig recreates the channels, roles and users an operator's
// configuration names on the fake Discord. The fake chooses its own ids, so
// the configuration is rewritten: every id is replaced by the fake's.
func (d *demo) mapConfig(path, dir string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return "", fmt.Errorf("%s: %v (klaxon check-config --config %s says more)", path, err, path)
	}
	type found struct{ kind, where string }
	ids := map[string]*found{}
	var order []string
	add := func(id, kind, where string) {
		if ids[id] == nil {
			ids[id] = &found{kind: kind, where: where}
			order = append(order, id)
		}
	}
	userNames := map[string]string{}
	var walk func(n *yaml.Node, keys []string)
	walk = func(n *yaml.Node, keys []string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, keys)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				path := append(append([]string{}, keys...), k.Value)
				if idPattern.MatchString(k.Value) { // users: {"123…": {name: …}}
					add(k.Value, idKind(path), strings.Join(keys, "."))
					if v.Kind == yaml.MappingNode {
						for j := 0; j+1 < len(v.Content); j += 2 {
							if v.Content[j].Value == "name" {
								userNames[k.Value] = v.Content[j+1].Value
							}
						}
					}
				}
				walk(v, path)
			}
		case yaml.ScalarNode:
			if idPattern.MatchString(n.Value) {
				add(n.Value, idKind(keys), strings.Join(keys, "."))
			}
		}
	}
	walk(&root, nil)

	guildName := "Demo guild"
	for _, id := range order {
		if ids[id].kind == "guild" {
			guildName = "guild " + short(id)
		}
	}
	d.guild = d.fake.AddGuild(guildName)
	repl := map[string]string{}
	d.line(d.dim(fmt.Sprintf("Previewing %s. The fake Discord chooses its own ids, so each id of the configuration is", path)))
	d.line(d.dim("recreated on it and the configuration is rewritten to use the fake's id:"))
	for _, id := range order {
		f := ids[id]
		var fake, name string
		switch f.kind {
		case "guild":
			fake, name = d.guild, guildName
		case "skip":
			continue
		case "channel":
			name = channelName(f.where, id)
			fake = d.fake.AddChannel(d.guild, name, discordgo.ChannelTypeGuildText)
			name = "#" + name
		case "role":
			name = "role-" + short(id)
			fake = d.fake.AddRole(d.guild, name)
			d.names[fake] = name
			name = "@" + name
		default:
			name = userNames[id]
			if name == "" {
				name = "user-" + short(id)
			}
			name = strings.ToLower(strings.ReplaceAll(name, " ", "-"))
			fake = d.fake.AddUser(name)
			d.fake.AddMember(d.guild, fake)
			d.names[fake] = name
			name = "@" + name
		}
		repl[id] = fake
		d.line(d.dim(fmt.Sprintf("  %-8s %s (%s) → %s", f.kind, id, f.where, name)))
	}
	// Give members the roles they would need to be pinged by a role mention:
	// nothing more is known about the operator's guild.
	out := idToken.ReplaceAllStringFunc(string(data), func(s string) string {
		if r, ok := repl[s]; ok {
			return r
		}
		return s
	})
	p := filepath.Join(dir, "klaxon.yaml")
	return p, os.WriteFile(p, []byte(out), 0o600)
}

// idKind classifies an id by the configuration keys it is found under.
func idKind(keys []string) string {
	if len(keys) == 0 {
		return "user"
	}
	last := strings.ToLower(keys[len(keys)-1])
	all := strings.ToLower(strings.Join(keys, "."))
	switch {
	case last == "guild_id":
		return "guild"
	case last == "application_id":
		return "skip"
	case strings.Contains(last, "channel"):
		return "channel"
	case strings.Contains(last, "role") || strings.HasPrefix(all, "permissions.") || strings.HasPrefix(all, "access."):
		return "role"
	}
	return "user"
}

// channelName names a recreated channel after where the configuration uses it.
func channelName(where, id string) string {
	parts := strings.Split(where, ".")
	if len(parts) >= 2 && parts[0] == "priorities" {
		return "alerts-" + strings.ToLower(parts[1])
	}
	if parts[0] != "" {
		return strings.ToLower(strings.ReplaceAll(parts[0], "_", "-")) + "-" + short(id)
	}
	return "channel-" + short(id)
}

func short(id string) string {
	if len(id) > 4 {
		return id[len(id)-4:]
	}
	return id
}

// sandbox keeps the demo from reaching anything real: phone calls go to the
// demo's recorder, e-mail, Alertmanager silences and the calendar's jobs
// (reminders, reports, backups into the operator's folders) are off.
func (d *demo) sandbox(cfg *Config) {
	if cfg.Phone.AccountSID != "" {
		cfg.Phone.BaseURL, cfg.Phone.AccountSID = d.phone.URL, d.phone.AccountSID
		cfg.Env.TwilioAuthToken = d.phone.AuthToken
	}
	if cfg.Email.Host != "" {
		d.note("e-mail is not sent in the demo (email.host ignored)")
		cfg.Email.Host = ""
	}
	if cfg.Alertmanager.URL != "" {
		d.note("Alertmanager silences are off in the demo (alertmanager.url ignored)")
		cfg.Alertmanager.URL = ""
	}
	if cfg.calendar != nil {
		d.note("reminders, reports and backups do not run in the demo")
		cfg.calendar = nil
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	d.priv, cfg.Interactions.PublicKey = priv, hex.EncodeToString(pub) // the demo signs its own clicks
	cfg.Log = LogConfig{Level: "debug"}
	if time.Duration(cfg.Engine.Interval) > time.Second || cfg.Engine.Interval == 0 {
		cfg.Engine.Interval = Duration(200 * time.Millisecond)
	}
}
