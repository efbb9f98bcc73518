package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/marola-rp/klaxon/handlers"
)

const accessBase = `discord:
  guild_id: "100000000000000000"
priorities:
  P0: {channel: "200000000000000000"}
`

func runCheckConfig(t *testing.T, doc string) (int, string) {
	t.Helper()
	path := t.TempDir() + "/klaxon.yaml"
	writeFile(t, path, doc)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--config", path}, func(string) string { return "" }, &out, &errb)
	return code, strings.ReplaceAll(out.String()+errb.String(), path, "klaxon.yaml")
}

func TestCheckConfigAccess(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		code int
		want []string
	}{
		{"valid", accessBase + `access:
  staff_roles: ["300000000000000000"]
  incident: ["300000000000000001"]
  actions:
    incident.update: ["300000000000000002"]
`, 0, []string{"OK"}},
		{"missing: warns loudly", accessBase, 0, []string{
			"klaxon.yaml: warning: access.staff_roles is not set: Klaxon refuses every command, button and menu except /problem (and its old name /report)"}},
		{"unknown kind", accessBase + `access:
  staff_roles: ["300000000000000000"]
  leads: ["300000000000000001"]
`, 1, []string{"klaxon.yaml:7: error: access.leads: unknown key; the keys are staff_roles, respond, incident, oncall, calendar, admin, actions"}},
		{"unknown action", accessBase + `access:
  staff_roles: ["300000000000000000"]
  actions:
    incident.publish: ["300000000000000001"]
`, 1, []string{"klaxon.yaml:8: error: access.actions.incident.publish: unknown action; the actions are alert.ack, alert.escalate,",
			"incident.update", "report.create"}},
		{"not a role id", accessBase + `access:
  staff_roles: ["<@&300000000000000000>"]
`, 1, []string{"klaxon.yaml:6: error: access.staff_roles: \"<@&300000000000000000>\" is not a Discord role id"}},
		{"not a list", accessBase + `access:
  staff_roles: "300000000000000000"
`, 1, []string{"klaxon.yaml:6: error: access.staff_roles must be a list of role ids"}},
		{"no guild", `priorities:
  P0: {channel: "200000000000000000"}
access:
  staff_roles: ["300000000000000000"]
`, 0, []string{"warning: discord.guild_id is not set: Klaxon refuses every interaction"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCheckConfig(t, tc.doc)
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestAccessConfigBuildsTheGatesRoles(t *testing.T) {
	path := t.TempDir() + "/klaxon.yaml"
	writeFile(t, path, accessBase+`access:
  staff_roles: ["300000000000000000"]
  incident: ["300000000000000001"]
  actions:
    incident.update: ["300000000000000002"]
`)
	c, ps := LoadConfig(path, func(string) string { return "" })
	if len(ps.Errors()) > 0 {
		t.Fatal(ps)
	}
	acc := c.access()
	for act, want := range map[handlers.Action]string{
		handlers.ActAlertAck:        "300000000000000000",
		handlers.ActIncidentDeclare: "300000000000000001",
		handlers.ActIncidentUpdate:  "300000000000000002",
	} {
		if got, _ := acc.NeedRoles(act); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: roles %v, want [%s]", act, got, want)
		}
	}
	if got, _ := acc.NeedRoles(handlers.ActReport); got != nil {
		t.Errorf("/report needs %v, want anyone", got)
	}
	if acc.GuildID != "100000000000000000" || !c.accessConfigured() {
		t.Errorf("guild %q, configured %v", acc.GuildID, c.accessConfigured())
	}
}
