package discord_test

import (
	"encoding/json"
	"testing"

	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
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
	if _, err := discord.RegisterCommands(t.Context(), dg, srv.ApplicationID(), guild); err != nil {
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
	if len(reqBody) != len(discord.Commands()) {
		t.Fatalf("sent %d commands, want %d", len(reqBody), len(discord.Commands()))
	}
	for _, c := range reqBody {
		var name string
		_ = json.Unmarshal(c["name"], &name)
		if got := string(c["contexts"]); got != "[0]" {
			t.Errorf("/%s: contexts %s, want [0] (guild only)", name, got)
		}
		if got := string(c["integration_types"]); got != "[0]" {
			t.Errorf("/%s: integration_types %s, want [0] (guild install)", name, got)
		}
		perms, hidden := c["default_member_permissions"]
		switch {
		case name == "report" && hidden:
			t.Errorf("/report: default_member_permissions %s: players must see it", perms)
		case name != "report" && (!hidden || string(perms) == "null"):
			t.Errorf("/%s: no default_member_permissions: Discord shows it to players", name)
		}
	}
}
