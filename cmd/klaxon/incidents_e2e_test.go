package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/handlers"
)

// jumpClock is real time plus an offset that tests move forward: pacing and
// rate limits keep working, and reminders due in an hour are due now.
type jumpClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *jumpClock) Jump(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// incidentWorld is a running Klaxon with incidents configured, against the
// fake Discord, with a clock the test moves and the HTTP endpoint enabled.
type incidentWorld struct {
	*world
	clock                     *jumpClock
	priv                      ed25519.PrivateKey
	incidents, status, triage string
	anna, bob, player         string
	config                    *Config
}

func newIncidentWorld(t *testing.T) *incidentWorld {
	t.Helper()
	clk := &jumpClock{}
	iw := &incidentWorld{clock: clk, world: &world{t: t, logs: &syncBuffer{}}}
	w := iw.world
	w.discord = discordtest.New(discordtest.Options{Now: clk.Now, OnViolation: func(err error) { t.Errorf("discord violation: %v", err) }})
	t.Cleanup(w.discord.Close)
	w.guild = w.discord.AddGuild("Marola RP")
	for i := range w.channels {
		w.channels[i] = w.discord.AddChannel(w.guild, fmt.Sprintf("alerts-p%d", i), discordgo.ChannelTypeGuildText)
	}
	w.oncall = w.discord.AddRole(w.guild, "on-call")
	iw.incidents = w.discord.AddChannel(w.guild, "incidents", discordgo.ChannelTypeGuildText)
	iw.status = w.discord.AddChannel(w.guild, "status", discordgo.ChannelTypeGuildText)
	iw.triage = w.discord.AddChannel(w.guild, "triage", discordgo.ChannelTypeGuildText)
	iw.anna, iw.bob, iw.player = w.discord.AddUser("anna"), w.discord.AddUser("bob"), w.discord.AddUser("player")
	w.staff = w.discord.AddRole(w.guild, "staff")
	w.discord.AddMember(w.guild, iw.anna, w.staff)
	w.discord.AddMember(w.guild, iw.bob, w.staff)
	w.discord.AddMember(w.guild, iw.player) // a player: /report only
	pub, priv, _ := ed25519.GenerateKey(nil)
	iw.priv = priv
	cfg := fmt.Sprintf(`
discord:
  guild_id: %q
priorities:
  P0: {channel: %q, mention_roles: [%q], ack_within: 15m}
  P1: {channel: %q, mention_roles: [%q], ack_within: 30m}
  P2: {channel: %q, ack_within: 2h}
  P3: {channel: %q, ack_within: 24h}
escalation:
  P0: {steps: []}
  P1: {steps: []}
engine:
  interval: 100ms
log:
  level: debug
access:
  staff_roles: [%q]
interactions:
  public_key: %s
incidents:
  channel: %q
  status_channel: %q
  triage_channel: %q
  auto_open: [P0]
  roles:
    - name: commander
      instructions: "Lead the response. Post an update every 30 minutes."
    - name: communications
    - name: scribe
  update_every: {P0: 30m, P1: 1h}
  commander_after: 10m
  archive_after: 24h
`, w.guild, w.channels[0], w.oncall, w.channels[1], w.oncall, w.channels[2], w.channels[3], w.staff, hex.EncodeToString(pub),
		iw.incidents, iw.status, iw.triage)
	dir := t.TempDir()
	path := filepath.Join(dir, "klaxon.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"KLAXON_DISCORD_TOKEN":   discordToken,
		"KLAXON_WEBHOOK_TOKEN":   webhookToken,
		"KLAXON_DB":              filepath.Join(dir, "klaxon.db"),
		"KLAXON_HTTP_ADDR":       "127.0.0.1:0",
		"KLAXON_DISCORD_API_URL": w.discord.APIBase(),
	}
	c, problems := LoadConfig(path, func(k string) string { return vars[k] })
	if len(problems.Errors()) > 0 {
		t.Fatalf("config: %v", problems)
	}
	iw.config = c
	iw.startKlaxon()
	t.Cleanup(func() {
		if err := w.main.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("klaxon log:\n%s", w.logs.String())
		}
	})
	// The commands as data pass Discord's validation.
	s, _ := w.discord.NewSession("Bot " + discordToken)
	if _, err := discord.RegisterCommands(context.Background(), s, w.discord.ApplicationID(), w.guild, handlers.Commands()); err != nil {
		t.Fatalf("register commands: %v", err)
	}
	if !w.discord.AwaitConnected(1, 10*time.Second) {
		t.Fatal("Klaxon did not connect to the gateway")
	}
	return iw
}

func (iw *incidentWorld) startKlaxon() {
	iw.t.Helper()
	iw.main = &Main{Config: iw.config, Stderr: iw.logs, Clock: iw.clock}
	if err := iw.main.Run(context.Background()); err != nil {
		iw.t.Fatalf("run: %v", err)
	}
}

// restartKlaxon stops Klaxon as SIGTERM would and starts it on the same database.
func (iw *incidentWorld) restartKlaxon() {
	iw.t.Helper()
	if err := iw.main.Close(); err != nil {
		iw.t.Fatalf("close: %v", err)
	}
	iw.startKlaxon()
	if !iw.discord.AwaitConnected(1, 10*time.Second) {
		iw.t.Fatal("Klaxon did not reconnect to the gateway")
	}
}

func (iw *incidentWorld) incident(id int64) (*bot.Incident, []bot.TimelineEvent) {
	iw.t.Helper()
	var inc *bot.Incident
	var tl []bot.TimelineEvent
	err := iw.main.DB.Incident().View(context.Background(), func(tx incident.Tx) (err error) {
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		tl, err = tx.Timeline(id)
		return err
	})
	if err != nil {
		iw.t.Fatalf("INC-%d: %v", id, err)
	}
	return inc, tl
}

// ready waits for an incident's thread and pinned summary.
func (iw *incidentWorld) ready(id int64) *bot.Incident {
	iw.t.Helper()
	var inc *bot.Incident
	iw.await(fmt.Sprintf("INC-%d's thread and pinned summary", id), func() bool {
		inc, _ = iw.incident(id)
		if inc.ThreadID == "" || inc.SummaryID == "" {
			return false
		}
		m, ok := iw.discord.Message(inc.SummaryID)
		return ok && m.Pinned
	})
	return inc
}

// answer waits for the first response to an interaction and returns its text.
func (iw *incidentWorld) answer(id string) string {
	iw.t.Helper()
	rs, ok := iw.discord.AwaitResponses(id, 1, 10*time.Second)
	if !ok {
		iw.t.Fatalf("no answer to interaction %s", id)
	}
	// A deferred answer is completed by an edit.
	if rs[0].Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		rs, _ = iw.discord.AwaitResponses(id, 2, 10*time.Second)
	}
	r := rs[len(rs)-1]
	return r.Content + string(r.Data)
}

func (iw *incidentWorld) command(channel, user, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
	iw.t.Helper()
	id, _ := iw.discord.Interact(iw.discord.SlashCommand(channel, user, "incident", discordtest.Subcommand(sub, opts...)))
	return iw.answer(id)
}

func (iw *incidentWorld) threadText(thread string) string {
	var b strings.Builder
	for _, m := range iw.discord.Messages(thread) {
		b.WriteString(m.Content + "\n")
		for _, e := range m.Embeds {
			b.WriteString(e.Title + "\n" + fieldsText(e) + "\n")
		}
	}
	return b.String()
}

func (iw *incidentWorld) findMessage(channel, text string) (discordtest.Message, bool) {
	for _, m := range iw.discord.Messages(channel) {
		if strings.Contains(m.Content, text) {
			return m, true
		}
	}
	return discordtest.Message{}, false
}

func TestIncidentsEndToEnd(t *testing.T) {
	iw := newIncidentWorld(t)
	ctx := context.Background()
	d := iw.discord

	// 1. A P0 webhook opens INC-1 with its thread on the alert card.
	resp := postJSON(t, iw.url("/webhook/alertmanager"), webhookToken, webhookBody("GameServerDown", "critical", time.Now().Add(-3*time.Minute)))
	resp.Body.Close()
	var card discordtest.Message
	iw.await("the P0 card", func() bool {
		ms := d.Messages(iw.channels[0])
		if len(ms) > 0 {
			card = ms[0]
		}
		return len(ms) > 0
	})
	inc1 := iw.ready(1)
	if inc1.ThreadID != card.ID || inc1.Priority != bot.P0 || len(inc1.GroupIDs) != 1 {
		t.Fatalf("INC-1 = %+v, want a P0 with its thread on card %s", inc1, card.ID)
	}
	if th, _ := d.Channel(inc1.ThreadID); th.ParentID != iw.channels[0] {
		t.Errorf("INC-1 thread parent = %s", th.ParentID)
	}
	if sum, _ := d.Message(inc1.SummaryID); len(sum.Embeds) == 0 || !strings.Contains(sum.Embeds[0].Title, "INC-1") ||
		!strings.Contains(fieldsText(sum.Embeds[0]), "unassigned") {
		t.Errorf("summary = %+v", sum.Embeds)
	}
	hasIncidentButton := slices.ContainsFunc(card.Buttons(), func(b discordtest.Button) bool { return strings.HasPrefix(b.CustomID, "incdecl:") })
	if !hasIncidentButton {
		t.Errorf("card has no incident button: %+v", card.Buttons())
	}
	// The card's button points at the incident rather than declaring another.
	id, _ := d.Interact(d.ButtonClick(iw.channels[0], card.ID, iw.anna, "incdecl:1"))
	if got := iw.answer(id); !strings.Contains(got, "part of **INC-1**") {
		t.Errorf("incident button on a card with an incident: %s", got)
	}

	// 2. Declare by command over the gateway.
	got := iw.command(iw.incidents, iw.anna, "declare", discordtest.Option("title", "Players lag on EU-1"), discordtest.Option("priority", "P1"),
		discordtest.Option("services", "game, proxy"))
	if !strings.Contains(got, "INC-2 declared") {
		t.Fatalf("declare answer: %s", got)
	}
	inc2 := iw.ready(2)
	if th, _ := d.Channel(inc2.ThreadID); th.ParentID != iw.incidents {
		t.Errorf("INC-2 thread = %+v: want in #incidents", th)
	}
	iw.await("anna, who declared, in INC-2's thread", func() bool { th, _ := d.Channel(inc2.ThreadID); return slices.Contains(th.MemberIDs, iw.anna) })

	// 3. Declare over HTTP interactions.
	endpoint := iw.url("/interactions")
	_, hresp, body, err := d.PostInteraction(ctx, endpoint, iw.priv, d.SlashCommand(iw.incidents, iw.bob, "incident",
		discordtest.Subcommand("declare", discordtest.Option("title", "Shop checkout fails"), discordtest.Option("priority", "P2"))))
	if err != nil || hresp.StatusCode != http.StatusOK || !strings.Contains(string(body), "INC-3 declared") {
		t.Fatalf("HTTP declare: %v %v %s", err, hresp, body)
	}
	inc3 := iw.ready(3)

	// 4. Invalid transitions are refused with the allowed ones.
	got = iw.command(inc2.ThreadID, iw.anna, "status", discordtest.Option("status", "post-mortem"))
	if !strings.Contains(got, "from detected it can go to **investigating**, **mitigated** or **resolved**") {
		t.Errorf("invalid transition answer: %s", got)
	}

	// 5. Roles: bob commands INC-2; he gets the instructions by DM and joins the thread.
	got = iw.command(inc2.ThreadID, iw.anna, "assign", discordtest.Option("role", "commander"), discordtest.Option("user", iw.bob))
	if !strings.Contains(got, "is commander of **INC-2**") {
		t.Errorf("assign answer: %s", got)
	}
	iw.await("bob's DM with the commander instructions", func() bool {
		ch, ok := d.DMChannel(iw.bob)
		if !ok {
			return false
		}
		for _, m := range d.Messages(ch) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "commander of INC-2") && strings.Contains(m.Embeds[0].Description, "Lead the response") {
				return true
			}
		}
		return false
	})
	iw.await("bob in INC-2's thread", func() bool { th, _ := d.Channel(inc2.ThreadID); return slices.Contains(th.MemberIDs, iw.bob) })
	if inc, _ := iw.incident(2); inc.Status != bot.Investigating {
		t.Errorf("INC-2 after a commander: %s, want investigating", inc.Status)
	}

	// 6. An update goes to the thread and the status channel.
	iw.command(inc2.ThreadID, iw.bob, "update", discordtest.Option("text", "Proxy restarted; latency back to normal in EU-1."))
	iw.await("the update in the status channel and the thread", func() bool {
		return strings.Contains(iw.threadText(iw.status), "Proxy restarted") && strings.Contains(iw.threadText(inc2.ThreadID), "Proxy restarted")
	})

	// 7. Note and link: the P0 alert is already INC-1's.
	if got := iw.command(inc2.ThreadID, iw.bob, "note", discordtest.Option("text", "Suspect the new proxy config")); !strings.Contains(got, "Note added") {
		t.Errorf("note: %s", got)
	}
	if got := iw.command(inc2.ThreadID, iw.bob, "link", discordtest.Option("alert", "1")); !strings.Contains(got, "already part of INC-1") {
		t.Errorf("link of INC-1's alert: %s", got)
	}

	// 8. Timeline from messages: 📌 over the gateway, "Add to timeline" over HTTP.
	other, _ := d.NewSession("Bot someone")
	pinned, err := other.ChannelMessageSend(inc2.ThreadID, "Found it: the proxy pool is exhausted")
	if err != nil {
		t.Fatal(err)
	}
	edits := d.Edits(inc2.SummaryID)
	d.Dispatch("MESSAGE_REACTION_ADD", map[string]any{"user_id": iw.anna, "channel_id": inc2.ThreadID, "message_id": pinned.ID,
		"guild_id": iw.guild, "emoji": map[string]any{"name": "📌"}})
	iw.await("the summary refreshed after the 📌", func() bool { return d.Edits(inc2.SummaryID) > edits })
	second, _ := other.ChannelMessageSend(inc2.ThreadID, "Rolled back the proxy config")
	mc := d.SlashCommand(inc2.ThreadID, iw.bob, handlers.AddToTimeline)
	data := mc.Data.(discordgo.ApplicationCommandInteractionData)
	data.CommandType, data.TargetID = discordgo.MessageApplicationCommand, second.ID
	data.Resolved = &discordgo.ApplicationCommandInteractionDataResolved{Messages: map[string]*discordgo.Message{second.ID: second}}
	mc.Data = data
	_, _, body, err = d.PostInteraction(ctx, endpoint, iw.priv, mc)
	if err != nil || !strings.Contains(string(body), "Added to **INC-2**") {
		t.Errorf("Add to timeline over HTTP: %v %s", err, body)
	}
	got = iw.command(inc2.ThreadID, iw.anna, "timeline")
	for _, want := range []string{"declared", "role assigned", "status update", "note", "pinned message", "proxy pool is exhausted", "Rolled back"} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline lacks %q: %s", want, got)
		}
	}

	// 9. /problem: a triage item with buttons; declaring turns it into INC-4.
	id, _ = d.Interact(d.SlashCommand(iw.channels[3], iw.player, "problem", discordtest.Option("what", "Can't buy anything in the shop")))
	if got := iw.answer(id); !strings.Contains(got, "report #1") {
		t.Errorf("report answer: %s", got)
	}
	var triage discordtest.Message
	iw.await("the triage message", func() bool {
		ms := d.Messages(iw.triage)
		if len(ms) > 0 {
			triage = ms[0]
		}
		return len(ms) > 0 && len(ms[0].Buttons()) == 3
	})
	id, _ = d.Interact(d.ButtonClick(iw.triage, triage.ID, iw.anna, "rptdecl:1"))
	if got := iw.answer(id); !strings.Contains(got, "INC-4") {
		t.Errorf("declare from report: %s", got)
	}
	iw.await("the triage message without buttons", func() bool { m, _ := d.Message(triage.ID); return len(m.Buttons()) == 0 })
	iw.ready(4)
	id, _ = d.Interact(d.ButtonClick(iw.triage, triage.ID, iw.bob, "rptdis:1"))
	if got := iw.answer(id); !strings.Contains(got, "already handled") {
		t.Errorf("second click on a handled report: %s", got)
	}

	// 10. Reminders, driven by the clock. INC-1 (P0) has no commander after 10 minutes.
	iw.clock.Jump(11 * time.Minute)
	var reminder discordtest.Message
	iw.await("the commander reminder in INC-1's thread", func() bool {
		var ok bool
		reminder, ok = iw.findMessage(inc1.ThreadID, "no commander")
		return ok
	})
	if !strings.Contains(reminder.Content, "<@&"+iw.oncall+">") || reminder.AllowedMentions == nil || !slices.Contains(reminder.AllowedMentions.Roles, iw.oncall) {
		t.Errorf("commander reminder does not ping on-call: %q %+v", reminder.Content, reminder.AllowedMentions)
	}
	id, _ = d.Interact(d.ButtonClick(inc1.ThreadID, reminder.ID, iw.anna, "inccmd:1"))
	if got := iw.answer(id); !strings.Contains(got, "is commander of **INC-1**") {
		t.Errorf("I'll be commander: %s", got)
	}
	iw.clock.Jump(20 * time.Minute) // 31 minutes without an update on a P0
	iw.await("the update reminder in INC-1's thread", func() bool {
		reminder, _ = iw.findMessage(inc1.ThreadID, "No status update")
		return reminder.ID != ""
	})
	id, _ = d.Interact(d.ButtonClick(inc1.ThreadID, reminder.ID, iw.anna, "incsnz:1:2h"))
	if got := iw.answer(id); !strings.Contains(got, "snoozed") {
		t.Errorf("snooze: %s", got)
	}
	iw.clock.Jump(45 * time.Minute)
	before := strings.Count(iw.threadText(inc1.ThreadID), "No status update")
	iw.clock.Jump(80 * time.Minute) // past the 2h snooze
	iw.await("the reminder after the snooze", func() bool {
		return strings.Count(iw.threadText(inc1.ThreadID), "No status update") > before
	})
	if before != 0 { // the snoozed reminder now says it was snoozed
		t.Errorf("%d update reminders while snoozed, want none", before)
	}

	// 11. Restart in the middle of the open incidents, then resolve INC-2.
	iw.restartKlaxon()
	got = iw.command(inc2.ThreadID, iw.bob, "resolve", discordtest.Option("note", "Proxy config rolled back"))
	if !strings.Contains(got, "is now **resolved**") {
		t.Fatalf("resolve after restart: %s", got)
	}
	iw.await("INC-2's closing summary and the status channel", func() bool {
		return strings.Contains(iw.threadText(inc2.ThreadID), "INC-2 resolved") && strings.Contains(iw.threadText(iw.status), "INC-2 resolved")
	})
	var ms []incident.Measure
	_ = iw.main.DB.Incident().View(ctx, func(tx incident.Tx) (err error) {
		ms, err = tx.IncidentMeasures(time.Now().Add(-time.Hour), iw.clock.Now())
		return err
	})
	var m2 *incident.Measure
	for i := range ms {
		if ms[i].IncidentID == 2 {
			m2 = &ms[i]
		}
	}
	if m2 == nil || !m2.Acked || !m2.Resolved || m2.TimeToResolve < 2*time.Hour || m2.TimeToAck > time.Minute {
		t.Errorf("INC-2 measures = %+v", m2)
	}
	got = iw.command(inc3.ThreadID, iw.anna, "status")
	if !strings.Contains(got, "INC-3") {
		t.Errorf("status of INC-3: %s", got)
	}
	// /incidents lists the open ones with MTTA/MTTR.
	id, _ = d.Interact(d.SlashCommand(iw.incidents, iw.anna, "incidents"))
	got = iw.answer(id)
	if !strings.Contains(got, "INC-1") || strings.Contains(got, "**INC-2**") || !strings.Contains(got, "MTTR") {
		t.Errorf("/incidents: %s", got)
	}
	// Archived a day after resolution.
	iw.clock.Jump(25 * time.Hour)
	iw.await("INC-2's thread archived", func() bool { th, _ := d.Channel(inc2.ThreadID); return th.Archived })

	// /report, /problem's old name, still files a triage item for a release.
	id, _ = d.Interact(d.SlashCommand(iw.channels[3], iw.player, "report", discordtest.Option("problem", "The bank shows 0 coins")))
	if got := iw.answer(id); !strings.Contains(got, "report #2") {
		t.Errorf("/report (old name) answer: %s", got)
	}
	iw.await("the triage message of /report", func() bool {
		for _, m := range d.Messages(iw.triage) {
			all := m.Content
			for _, e := range m.Embeds {
				all += e.Title + e.Description
				for _, f := range e.Fields {
					all += f.Value
				}
			}
			if strings.Contains(all, "The bank shows 0 coins") {
				return true
			}
		}
		return false
	})
}

// TestIncidentCommandsEndToEnd covers the commands TestIncidentsEndToEnd
// does not: autocomplete, declaring from an alert (promotion), priority,
// link and mitigate, through the fake Discord over the gateway.
func TestIncidentCommandsEndToEnd(t *testing.T) {
	iw := newIncidentWorld(t)
	d := iw.discord
	for _, name := range []string{"ShopSlow", "CartErrors"} { // P2: no incident opens by itself
		resp := postJSON(t, iw.url("/webhook/alertmanager"), webhookToken, webhookBody(name, "warning", time.Now().Add(-time.Minute)))
		resp.Body.Close()
	}
	iw.await("two P2 cards", func() bool { return len(d.Messages(iw.channels[2])) == 2 })
	card := d.Messages(iw.channels[2])[0]
	if n := iw.countIncidents(); n != 0 {
		t.Fatalf("%d incidents opened by P2 alerts, want none", n)
	}

	// Autocomplete offers the alerts not in an incident yet.
	id, _ := d.Interact(d.Autocomplete(iw.channels[2], iw.anna, "incident", discordtest.Subcommand("declare", discordtest.Focused(discordtest.Option("from", "shop")))))
	if got := iw.answer(id); !strings.Contains(got, "ShopSlow") || strings.Contains(got, "CartErrors") {
		t.Errorf("autocomplete of from: %s", got)
	}

	// Promote the alert: the incident takes the alert's priority and its thread is on the card.
	got := iw.command(iw.channels[2], iw.anna, "declare", discordtest.Option("title", "Shop is slow"), discordtest.Option("from", "1"),
		discordtest.Option("services", "web"))
	if !strings.Contains(got, "INC-1 declared") || !strings.Contains(got, "P2") {
		t.Fatalf("declare from an alert: %s", got)
	}
	inc := iw.ready(1)
	if inc.ThreadID != card.ID || inc.Priority != bot.P2 || !slices.Equal(inc.GroupIDs, []int64{1}) {
		t.Errorf("INC-1 = thread %s priority %s groups %v; want the card %s, P2, [1]", inc.ThreadID, inc.Priority, inc.GroupIDs, card.ID)
	}
	id, _ = d.Interact(d.Autocomplete(iw.channels[2], iw.anna, "incident", discordtest.Subcommand("declare", discordtest.Focused(discordtest.Option("from", "")))))
	if got := iw.answer(id); strings.Contains(got, "ShopSlow") || !strings.Contains(got, "CartErrors") {
		t.Errorf("autocomplete after the promotion: %s", got)
	}

	// Outside the thread, the incident argument autocompletes.
	id, _ = d.Interact(d.Autocomplete(iw.incidents, iw.anna, "incident", discordtest.Subcommand("status", discordtest.Focused(discordtest.Option("incident", "slow")))))
	if got := iw.answer(id); !strings.Contains(got, "INC-1") {
		t.Errorf("autocomplete of incident: %s", got)
	}
	if got := iw.command(iw.incidents, iw.anna, "status", discordtest.Option("incident", "1")); !strings.Contains(got, "INC-1") {
		t.Errorf("status by argument: %s", got)
	}

	// Reclassify, link the other alert, mitigate: inside the thread the incident is implied.
	if got := iw.command(inc.ThreadID, iw.anna, "priority", discordtest.Option("priority", "P1"), discordtest.Option("impact", "Players cannot buy")); !strings.Contains(got, "is P1") {
		t.Errorf("priority: %s", got)
	}
	if got := iw.command(inc.ThreadID, iw.anna, "link", discordtest.Option("alert", "2")); !strings.Contains(got, "Alert #2 linked to **INC-1**") {
		t.Errorf("link: %s", got)
	}
	if got := iw.command(inc.ThreadID, iw.anna, "mitigate", discordtest.Option("note", "Cache flushed")); !strings.Contains(got, "is now **mitigated**") {
		t.Errorf("mitigate: %s", got)
	}
	inc, tl := iw.incident(1)
	if inc.Priority != bot.P1 || inc.Impact != "Players cannot buy" || !slices.Equal(inc.GroupIDs, []int64{1, 2}) || inc.Status != bot.Mitigated || inc.MitigatedAt.IsZero() {
		t.Errorf("INC-1 = %s %q groups %v %s mitigated at %v", inc.Priority, inc.Impact, inc.GroupIDs, inc.Status, inc.MitigatedAt)
	}
	var kinds []string
	for _, e := range tl {
		if e.Actor.UserID == iw.anna {
			kinds = append(kinds, e.Kind)
		}
	}
	for _, want := range []string{"declared", "priority changed", "alert linked", "status changed"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("timeline by anna %v lacks %q", kinds, want)
		}
	}
	iw.await("the pinned summary showing P1 and mitigated", func() bool {
		m, _ := d.Message(inc.SummaryID)
		if len(m.Embeds) == 0 {
			return false
		}
		text := m.Embeds[0].Title + fieldsText(m.Embeds[0])
		return strings.Contains(text, "P1") && strings.Contains(text, "mitigated")
	})
	iw.await("the mitigation in the status channel", func() bool { return strings.Contains(iw.threadText(iw.status), "INC-1 mitigated") })
}

func (iw *incidentWorld) countIncidents() int {
	var n int
	_ = iw.main.DB.Incident().View(context.Background(), func(tx incident.Tx) error {
		is, err := tx.Incidents(false, 100)
		n = len(is)
		return err
	})
	return n
}

// TestAckInCardThread: /ack without an alert, inside an alert card's thread
// (its incident's), acknowledges that card's alert; elsewhere it asks which.
func TestAckInCardThread(t *testing.T) {
	iw := newIncidentWorld(t)
	d := iw.discord
	resp := postJSON(t, iw.url("/webhook/alertmanager"), webhookToken, webhookBody("GameServerDown", "critical", time.Now().Add(-3*time.Minute)))
	resp.Body.Close()
	inc1 := iw.ready(1)
	if len(inc1.GroupIDs) != 1 || inc1.ThreadID == "" {
		t.Fatalf("INC-1 = %+v, want one alert and a thread", inc1)
	}
	// Outside a card's thread, /ack needs the alert.
	id, _ := d.Interact(d.SlashCommand(iw.channels[0], iw.anna, "ack"))
	if got := iw.answer(id); !strings.Contains(got, "which alert?") {
		t.Errorf("/ack without an alert outside a thread: %s", got)
	}
	id, _ = d.Interact(d.SlashCommand(inc1.ThreadID, iw.anna, "ack"))
	if got := iw.answer(id); !strings.Contains(got, "You acknowledged **GameServerDown**") {
		t.Fatalf("/ack without an alert in the card's thread: %s", got)
	}
	iw.await("the card acknowledged by anna", func() bool {
		m, _ := d.Message(inc1.ThreadID) // the thread starts on the card: same id
		for _, e := range m.Embeds {
			for _, f := range e.Fields {
				if f.Name == "Response" && strings.Contains(f.Value, iw.anna) {
					return true
				}
			}
		}
		return false
	})
}
