package main

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

func incidentsFromYAML(t *testing.T, doc string) (incident.Policy, Problems) {
	t.Helper()
	c := &Config{file: "klaxon.yaml"}
	if err := yaml.Unmarshal([]byte(doc), &c.root); err != nil {
		t.Fatal(err)
	}
	var sections struct {
		Incidents IncidentsConfig `yaml:"incidents"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&sections); err != nil {
		t.Fatal(err)
	}
	c.Incidents = sections.Incidents
	return c.buildIncidents()
}

func TestIncidentsConfig(t *testing.T) {
	pol, ps := incidentsFromYAML(t, `
incidents:
  channel: "300"
  status_channel: "301"
  auto_open: [P0, P1, P2]
  roles:
    - name: Scribe
    - name: comms
      instructions: Talk to players.
  update_every: {P0: 15m, P2: 4h}
  commander_after: 5m
  archive_after: 0s
`)
	if len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if pol.ChannelID != "300" || pol.StatusChannelID != "301" || pol.AutoOpen != [4]bool{true, true, true, false} {
		t.Errorf("policy = %+v", pol)
	}
	if got := pol.RoleNames(); strings.Join(got, ",") != "commander,scribe,comms" {
		t.Errorf("roles = %v", got)
	}
	if r, _ := pol.Role("scribe"); !strings.Contains(r.Instructions, "keep the record") {
		t.Errorf("scribe keeps the default instructions: %q", r.Instructions)
	}
	if pol.UpdateEvery != [4]time.Duration{15 * time.Minute, time.Hour, 4 * time.Hour, 0} || pol.CommanderAfter != 5*time.Minute || pol.ArchiveAfter != 0 {
		t.Errorf("durations = %v %v %v", pol.UpdateEvery, pol.CommanderAfter, pol.ArchiveAfter)
	}
	if d := incident.DefaultPolicy(); d.UpdateEvery[bot.P0] != 30*time.Minute || d.UpdateEvery[bot.P1] != time.Hour {
		t.Errorf("default reminders = %v, want P0 30m, P1 1h", d.UpdateEvery)
	}

	cases := []struct{ name, doc, want string }{
		{"channel not an id", "incidents:\n  channel: \"#incidents\"\n", "klaxon.yaml:2: error: incidents.channel \"#incidents\" is not a Discord channel id"},
		{"bad priority", "incidents:\n  auto_open: [P0, P9]\n", "incidents.auto_open: priority \"P9\" is not one of P0, P1, P2, P3"},
		{"bad role", "incidents:\n  roles:\n    - name: \"Incident Commander!\"\n", "klaxon.yaml:3: error: incidents.roles: \"Incident Commander!\" is not a role name"},
		{"twice", "incidents:\n  roles: [{name: scribe}, {name: scribe}]\n", "scribe is listed twice"},
		{"update key", "incidents:\n  update_every: {urgent: 5m}\n", "update_every.urgent: keys are priorities"},
		{"update too short", "incidents:\n  update_every: {P0: 10s}\n", "update_every.P0 must be at least 1m"},
		{"nudge too often", "incidents:\n  mitigated_nudge: 5m\n", "mitigated_nudge must be at least 1h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ps := incidentsFromYAML(t, c.doc)
			if !strings.Contains(ps.Error(), c.want) {
				t.Errorf("problems %q do not contain %q", ps.Error(), c.want)
			}
		})
	}
}
