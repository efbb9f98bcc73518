package handlers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/handlers"
)

func TestGateDecisions(t *testing.T) {
	acc := &handlers.Access{GuildID: "1", Staff: []string{"10"},
		Kinds:   map[handlers.Kind][]string{handlers.KindIncident: {"20"}},
		Actions: map[handlers.Action][]string{handlers.ActIncidentUpdate: {"20", "30"}}}
	members := map[string][]string{"7": {"10"}}
	g := &handlers.Gate{Access: acc, Lookup: func(_ context.Context, guild, user string) ([]string, error) {
		if r, ok := members[user]; ok && guild == "1" {
			return r, nil
		}
		return nil, bot.Errorf(bot.ENotFound, "not a member")
	}}
	tests := []struct {
		name   string
		o      handlers.Origin
		act    handlers.Action
		dm     bool
		refuse string // "" = allowed; else a substring of the refusal
	}{
		{"player may report", handlers.Origin{GuildID: "1", UserID: "5"}, handlers.ActReport, false, ""},
		{"player may not ack", handlers.Origin{GuildID: "1", UserID: "5"}, handlers.ActAlertAck, false, "only <@&10> may acknowledge alerts (action `alert.ack`, kind `respond`; set in access.staff_roles)"},
		{"staff acks", handlers.Origin{GuildID: "1", UserID: "7", Roles: []string{"10"}}, handlers.ActAlertAck, false, ""},
		{"kind replaces staff", handlers.Origin{GuildID: "1", UserID: "7", Roles: []string{"10"}}, handlers.ActIncidentDeclare, false, "only <@&20> may declare incidents (action `incident.declare`, kind `incident`; set in access.incident)"},
		{"action replaces kind", handlers.Origin{GuildID: "1", UserID: "8", Roles: []string{"30"}}, handlers.ActIncidentUpdate, false, ""},
		{"action list named", handlers.Origin{GuildID: "1", UserID: "8", Roles: []string{"10"}}, handlers.ActIncidentUpdate, false, "only <@&20> or <@&30> may post incident status updates"},
		{"another guild", handlers.Origin{GuildID: "2", UserID: "7", Roles: []string{"10"}}, handlers.ActAlertAck, false, "not here: only <@&10>"},
		{"another guild, report", handlers.Origin{GuildID: "2", UserID: "7"}, handlers.ActReport, false, "not here"},
		{"DM, route not for DMs", handlers.Origin{UserID: "7"}, handlers.ActAlertAck, false, "not in a DM: only <@&10>"},
		{"DM from a member", handlers.Origin{UserID: "7"}, handlers.ActAlertAck, true, ""},
		{"DM from a stranger", handlers.Origin{UserID: "9"}, handlers.ActAlertAck, true, "not a member of Klaxon's server: only <@&10>"},
		{"event without member", handlers.Origin{GuildID: "1", UserID: "7", LookUp: true}, handlers.ActAlertAck, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.Check(context.Background(), tc.o, tc.act, tc.dm)
			switch {
			case tc.refuse == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refuse != "" && err == nil:
				t.Errorf("allowed, want refused with %q", tc.refuse)
			case tc.refuse != "" && (bot.ErrorCode(err) != bot.EForbidden || !strings.Contains(discord.Markup(bot.ErrorMessage(err)), tc.refuse)):
				t.Errorf("refusal %q (%s), want it to contain %q", discord.Markup(bot.ErrorMessage(err)), bot.ErrorCode(err), tc.refuse)
			}
		})
	}
}

func TestGateWithoutAccessTakesOnlyReports(t *testing.T) {
	for _, g := range []*handlers.Gate{nil, {Access: &handlers.Access{GuildID: "1"}}} {
		if _, err := g.Check(context.Background(), handlers.Origin{GuildID: "1", UserID: "5"}, handlers.ActIncidentUpdate, false); err == nil ||
			!strings.Contains(bot.ErrorMessage(err), "set access.staff_roles") {
			t.Errorf("unconfigured gate: %v, want a refusal that says to set access.staff_roles", err)
		}
	}
	g := &handlers.Gate{Access: &handlers.Access{GuildID: "1"}}
	if _, err := g.Check(context.Background(), handlers.Origin{GuildID: "1", UserID: "5"}, handlers.ActReport, false); err != nil {
		t.Errorf("/report refused without access configured: %v", err)
	}
}

// TestGateCachesDMRoles: a DM's roles are looked up in the guild once a
// minute (engine clock, no sleeping); lookup failures are not cached.
func TestGateCachesDMRoles(t *testing.T) {
	clock := bot.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	calls := 0
	roles := []string{"10"}
	var fail error
	g := &handlers.Gate{Access: &handlers.Access{GuildID: "1", Staff: []string{"10"}}, Now: clock.Now,
		Lookup: func(context.Context, string, string) ([]string, error) {
			calls++
			return roles, fail
		}}
	check := func() error {
		_, err := g.Check(context.Background(), handlers.Origin{UserID: "7"}, handlers.ActAlertAck, true)
		return err
	}
	if err := check(); err != nil || calls != 1 {
		t.Fatalf("first DM: %v, %d lookups", err, calls)
	}
	roles = nil // the role was taken away
	clock.Advance(59 * time.Second)
	if err := check(); err != nil || calls != 1 {
		t.Fatalf("within a minute: %v, %d lookups (want the cached roles)", err, calls)
	}
	clock.Advance(2 * time.Second)
	if err := check(); err == nil || calls != 2 {
		t.Fatalf("after a minute: %v, %d lookups (want a fresh lookup that refuses)", err, calls)
	}
	clock.Advance(time.Minute)
	fail = errors.New("discord is down")
	if err := check(); bot.ErrorCode(err) != bot.EUnavailable || calls != 3 {
		t.Fatalf("lookup failure: %v (%s), %d lookups", err, bot.ErrorCode(err), calls)
	}
	fail, roles = nil, []string{"10"}
	if err := check(); err != nil || calls != 4 {
		t.Fatalf("after a failed lookup: %v, %d lookups (failures must not be cached)", err, calls)
	}
}

// The permissions section still applies per priority, in the gate.
func TestGatePerPriorityPermissions(t *testing.T) {
	var byPrio [4][]string
	byPrio[bot.P0] = []string{"20"}
	g := &handlers.Gate{Access: &handlers.Access{GuildID: "1", Staff: []string{"10"},
		ByPriority: handlers.Permissions{handlers.ActResolve: byPrio}}}
	if err := g.CheckPriority(handlers.ActAlertResolve, bot.P1, []string{"10"}); err != nil {
		t.Errorf("P1 resolve by staff: %v", err)
	}
	err := g.CheckPriority(handlers.ActAlertResolve, bot.P0, []string{"10"})
	if want := "only <@&20> may resolve a P0 alert (action `alert.resolve`, kind `respond`; set in permissions.resolve.P0)"; err == nil || discord.Markup(bot.ErrorMessage(err)) != want {
		t.Errorf("P0 resolve by staff: %v, want %q", err, want)
	}
	if err := g.CheckPriority(handlers.ActAlertResolve, bot.P0, []string{"20"}); err != nil {
		t.Errorf("P0 resolve by a lead: %v", err)
	}
	if err := g.CheckPriority(handlers.ActAlertAck, bot.P0, []string{"10"}); err != nil {
		t.Errorf("P0 ack (no per-priority list): %v", err)
	}
}
