package handlers_test

import (
	"context"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/chart"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

type calFixture struct {
	x     *handlers.Interactions
	db    *store.DB
	clock *bot.FakeClock
}

func newCalFixture(t *testing.T) *calFixture {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := bot.NewFakeClock(time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC))
	slos := &calendar.SLOs{Store: db.Calendar(), Policy: calendar.DefaultSLOPolicy()}
	cal := &handlers.Calendar{
		Reminders: &calendar.Reminders{Store: db.Calendar(), TimeZone: "Europe/Berlin"},
		SLOs:      slos,
		Reports:   &calendar.Reports{Store: db.Calendar(), SLOs: slos, Charter: chart.Charter{}},
		Clock:     clock,
	}
	x := &handlers.Interactions{Deadline: time.Minute,
		Gate: &handlers.Gate{Access: &handlers.Access{GuildID: "1", Staff: []string{"5"}}}}
	cal.Register(x)
	return &calFixture{x: x, db: db, clock: clock}
}

func opt(name string, v any) *discordgo.ApplicationCommandInteractionDataOption {
	typ := discordgo.ApplicationCommandOptionString
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: typ, Value: v}
}

// command dispatches /name [sub] with options and returns the answer.
func (f *calFixture) command(t *testing.T, autocomplete bool, name, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.InteractionResponse {
	t.Helper()
	data := discordgo.ApplicationCommandInteractionData{ID: "1", Name: name, Options: opts}
	if sub != "" {
		data.Options = []*discordgo.ApplicationCommandInteractionDataOption{{Name: sub, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}}
	}
	typ := discordgo.InteractionApplicationCommand
	if autocomplete {
		typ = discordgo.InteractionApplicationCommandAutocomplete
		if len(opts) > 0 {
			opts[len(opts)-1].Focused = true
		}
	}
	i := &discordgo.Interaction{ID: "9", Type: typ, ChannelID: "700", GuildID: "1",
		Member: &discordgo.Member{User: &discordgo.User{ID: "42", Username: "alice"}, Roles: []string{"5"}}, Data: data}
	resp := f.x.Dispatch(context.Background(), i)
	if resp == nil || resp.Data == nil {
		t.Fatalf("/%s %s: no answer", name, sub)
	}
	return resp
}

func TestReminderCommands(t *testing.T) {
	f := newCalFixture(t)
	tests := []struct {
		name      string
		sub       string
		opts      []*discordgo.ApplicationCommandInteractionDataOption
		want      []string
		ephemeral bool
	}{
		{"bad cron says what is wrong", "add", []*discordgo.ApplicationCommandInteractionDataOption{
			opt("name", "dr"), opt("schedule", "0 14 1 *"), opt("message", "DR exercise")},
			[]string{"⚠️", "has 4 fields, cron needs exactly 5", "0 10 * * MON"}, true},
		{"bad zone", "add", []*discordgo.ApplicationCommandInteractionDataOption{
			opt("name", "dr"), opt("schedule", "0 14 1 * *"), opt("message", "DR"), opt("timezone", "Berlin")},
			[]string{"time zone \"Berlin\" is unknown", "Europe/Berlin"}, true},
		{"good one lists the next three runs", "add", []*discordgo.ApplicationCommandInteractionDataOption{
			opt("name", "dr-exercise"), opt("schedule", "0 14 1 * *"), opt("message", "Monthly DR exercise"), opt("role", "900")},
			[]string{"Reminder **dr-exercise** added: `0 14 1 * *` (Europe/Berlin) in <#700>, mentioning <@&900>",
				"• Wed 1 Apr 2026 14:00 CEST (<t:1775044800:R>)", "• Fri 1 May 2026 14:00 CEST", "• Mon 1 Jun 2026 14:00 CEST"}, true},
		{"duplicate", "add", []*discordgo.ApplicationCommandInteractionDataOption{
			opt("name", "dr-exercise"), opt("schedule", "@daily"), opt("message", "x")},
			[]string{"exists already"}, true},
		{"list", "list", nil, []string{"**dr-exercise** `0 14 1 * *` (Europe/Berlin) in <#700> — next <t:1775044800:f>"}, true},
		{"pause", "pause", []*discordgo.ApplicationCommandInteractionDataOption{opt("name", "dr-exercise")}, []string{"paused"}, true},
		{"list shows paused", "list", nil, []string{"⏸️ paused"}, true},
		{"resume", "resume", []*discordgo.ApplicationCommandInteractionDataOption{opt("name", "dr-exercise")}, []string{"resumed", "Wed 1 Apr 2026 14:00 CEST"}, true},
		{"remove unknown", "remove", []*discordgo.ApplicationCommandInteractionDataOption{opt("name", "nope")}, []string{"no reminder named \"nope\""}, true},
		{"remove", "remove", []*discordgo.ApplicationCommandInteractionDataOption{opt("name", "dr-exercise")}, []string{"removed"}, true},
		{"empty list", "list", nil, []string{"No reminders"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.command(t, false, "reminder", tc.sub, tc.opts...)
			for _, w := range tc.want {
				if !strings.Contains(resp.Data.Content, w) {
					t.Errorf("answer %q does not contain %q", resp.Data.Content, w)
				}
			}
			if eph := resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0; eph != tc.ephemeral {
				t.Errorf("ephemeral = %v", eph)
			}
		})
	}
}

func TestReminderAutocomplete(t *testing.T) {
	f := newCalFixture(t)
	f.command(t, false, "reminder", "add", opt("name", "restore-test"), opt("schedule", "0 10 * * TUE"), opt("message", "Restore test"))
	resp := f.command(t, true, "reminder", "pause", opt("name", "rest"))
	if len(resp.Data.Choices) != 1 || resp.Data.Choices[0].Value != "restore-test" {
		t.Errorf("choices %+v", resp.Data.Choices)
	}
	resp = f.command(t, true, "reminder", "add", opt("name", "x"), opt("timezone", "berl"))
	if len(resp.Data.Choices) != 1 || resp.Data.Choices[0].Value != "Europe/Berlin" {
		t.Errorf("zone choices %+v", resp.Data.Choices)
	}
}

func TestSLOAndReportCommands(t *testing.T) {
	f := newCalFixture(t)
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	g := &bot.Group{Key: "k1", Receiver: "k", Status: bot.Resolved, Priority: bot.P0, CommonLabels: map[string]string{"alertname": "WebDown", "service": "web"},
		CreatedAt: start, UpdatedAt: start, ResolvedAt: start.Add(2 * time.Hour),
		Alerts: []bot.Alert{{Fingerprint: "f", Status: bot.Resolved, StartsAt: start, EndsAt: start.Add(2 * time.Hour)}}}
	if err := f.db.Update(context.Background(), func(tx bot.Tx) error { return tx.SaveGroup(g) }); err != nil {
		t.Fatal(err)
	}

	resp := f.command(t, false, "slo", "")
	if len(resp.Data.Embeds) != 1 || len(resp.Data.Embeds[0].Fields) != 4 || resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0 {
		t.Fatalf("/slo: %+v", resp.Data)
	}
	if v := resp.Data.Embeds[0].Fields[1]; v.Name != "❌ web" || !strings.Contains(v.Value, "54 % spent · 1 h 43 min left") {
		t.Errorf("web summary %+v", v)
	}
	resp = f.command(t, false, "slo", "", opt("service", "website"))
	e := resp.Data.Embeds[0]
	if e.Title != "web — error budget for March 2026" || !strings.Contains(e.Fields[1].Value, "2 h of 3 h 43 min spent") {
		t.Errorf("/slo web: %q %+v", e.Title, e.Fields)
	}
	resp = f.command(t, false, "slo", "", opt("service", "mainframe"))
	if !strings.Contains(resp.Data.Content, "known services: game-servers, web, database, cdn") {
		t.Errorf("/slo unknown: %q", resp.Data.Content)
	}
	resp = f.command(t, true, "slo", "", opt("service", "da"))
	if len(resp.Data.Choices) != 1 || resp.Data.Choices[0].Name != "database (99.99 %)" {
		t.Errorf("slo choices %+v", resp.Data.Choices)
	}

	resp = f.command(t, false, "report-sla", "")
	if len(resp.Data.Embeds) != 1 || resp.Data.Embeds[0].Title != "SLA report — March 2026 (to date)" || len(resp.Data.Files) != 1 {
		t.Fatalf("/report-sla: %+v", resp.Data)
	}
	if img := resp.Data.Embeds[0].Image; img == nil || img.URL != "attachment://error-budget-2026-03.png" {
		t.Errorf("embed image %+v", img)
	}
	if _, err := png.Decode(resp.Data.Files[0].Reader); err != nil {
		t.Errorf("attached chart: %v", err)
	}
	resp = f.command(t, false, "report-sla", "", opt("month", "2026-05"))
	if !strings.Contains(resp.Data.Content, "in the future") {
		t.Errorf("future month: %q", resp.Data.Content)
	}
	resp = f.command(t, true, "report-sla", "", opt("month", "feb"))
	if len(resp.Data.Choices) != 1 || resp.Data.Choices[0].Value != "2026-02" {
		t.Errorf("month choices %+v", resp.Data.Choices)
	}
}
