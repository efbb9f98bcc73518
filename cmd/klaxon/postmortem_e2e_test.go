package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/handlers"
)

// pmWorld is a running Klaxon whose clock, and the fake Discord's, is a
// fake: reminders days ahead happen when the test moves the clock.
type pmWorld struct {
	t        *testing.T
	clock    *bot.FakeClock
	discord  *discordtest.Server
	main     *Main
	guild    string
	forum    string
	thread   string // INC-1's thread
	ana, bo  string // users; ana is the commander and a runbook admin
	admin    string // role allowed to /runbook reload
	rbDir    string
	logs     *syncBuffer
	problems Problems
}

const customRunbook = `---
id: discord-bot-down
title: Discord Bot Down
priority: P2
scenario: The community's Discord bots stop answering.
first_response: Check the bot host and its gateway connection.
matchers:
  - alertname="DiscordBotDown"
---

## Steps

1. Check the bot process
2. Check the Discord status page
`

func newPMWorld(t *testing.T) *pmWorld {
	t.Helper()
	w := &pmWorld{t: t, clock: bot.NewFakeClock(time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC)), logs: &syncBuffer{}}
	w.discord = discordtest.New(discordtest.Options{Now: w.clock.Now, OnViolation: func(err error) { t.Errorf("discord violation: %v", err) }})
	t.Cleanup(w.discord.Close)
	w.guild = w.discord.AddGuild("Marola RP")
	var channels [4]string
	for i := range channels {
		channels[i] = w.discord.AddChannel(w.guild, fmt.Sprintf("alerts-p%d", i), discordgo.ChannelTypeGuildText)
	}
	incidents := w.discord.AddChannel(w.guild, "incidents", discordgo.ChannelTypeGuildText)
	w.forum = w.discord.AddChannel(w.guild, "post-mortems", discordgo.ChannelTypeGuildForum)
	w.admin = w.discord.AddRole(w.guild, "sre-admin")
	w.ana, w.bo = w.discord.AddUser("ana"), w.discord.AddUser("bo")
	staff := w.discord.AddRole(w.guild, "staff")
	w.discord.AddMember(w.guild, w.ana, w.admin, staff)
	w.discord.AddMember(w.guild, w.bo, staff)

	// The incident's thread, as the incidents feature would have started it.
	dg, err := w.discord.NewSession("Bot " + discordToken)
	if err != nil {
		t.Fatal(err)
	}
	starter, err := dg.ChannelMessageSend(incidents, "🚨 INC-1 EU game server down")
	if err != nil {
		t.Fatal(err)
	}
	th, err := dg.MessageThreadStart(incidents, starter.ID, "INC-1 EU game server down", 1440)
	if err != nil {
		t.Fatal(err)
	}
	w.thread = th.ID

	w.rbDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(w.rbDir, "discord-bot-down.md"), []byte(customRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.rbDir, "broken.md"), []byte("---\nid: Broken Id\ntitle: x\npriority: P9\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
discord:
  guild_id: %q
priorities:
  P0: {channel: %q}
  P1: {channel: %q}
  P2: {channel: %q}
  P3: {channel: %q}
engine:
  interval: 100ms
log:
  level: debug
access:
  staff_roles: [%q]
runbooks:
  dir: %q
  admin_roles: [%q]
postmortems:
  forum_channel: %q
  due_days: 5
  priorities_requiring: [P0, P1]
`, w.guild, channels[0], channels[1], channels[2], channels[3], staff, w.rbDir, w.admin, w.forum)
	path := filepath.Join(t.TempDir(), "klaxon.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"KLAXON_DISCORD_TOKEN": discordToken, "KLAXON_WEBHOOK_TOKEN": webhookToken, "KLAXON_DB": filepath.Join(t.TempDir(), "klaxon.db"),
		"KLAXON_HTTP_ADDR": "127.0.0.1:0", "KLAXON_DISCORD_API_URL": w.discord.APIBase(),
	}
	c, problems := LoadConfig(path, func(k string) string { return vars[k] })
	if len(problems.Errors()) > 0 {
		t.Fatalf("config: %v", problems)
	}
	w.problems = problems
	w.main = &Main{Config: c, Stderr: w.logs, Clock: w.clock}
	if err := w.main.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		if err := w.main.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("klaxon log:\n%s", w.logs.String())
		}
	})
	if !w.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("Klaxon did not connect to the gateway")
	}
	if _, err := discord.RegisterCommands(context.Background(), w.main.Session, w.discord.ApplicationID(), w.guild, handlers.Commands()); err != nil {
		t.Fatalf("the commands do not pass Discord's validation: %v", err)
	}
	return w
}

// settle waits until cond holds, moving the fake clock a little at a time
// so that the engine's paced work goes on.
func (w *pmWorld) settle(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		w.clock.Advance(500 * time.Millisecond)
		w.main.Engine.Trigger()
		w.discord.Await(100*time.Millisecond, cond)
	}
}

// cycleAt waits for an engine cycle that ran at the clock's time or later.
func (w *pmWorld) cycleAt() {
	w.t.Helper()
	now := w.clock.Now()
	w.main.Engine.Trigger()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if last, _ := w.main.Engine.LastSuccess(); !last.Before(now) {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatal("no engine cycle completed")
		}
		w.main.Engine.Trigger()
		w.discord.Await(50*time.Millisecond, func() bool { return false })
	}
}

// answer is the decoded data of an interaction response.
type answer struct {
	discordtest.Response
	Embeds     []*discordgo.MessageEmbed `json:"embeds"`
	Components json.RawMessage           `json:"components"`
	CustomID   string                    `json:"custom_id"`
	Title      string                    `json:"title"`
}

func (a answer) text() string {
	var b strings.Builder
	b.WriteString(a.Content)
	for _, e := range a.Embeds {
		b.WriteString("\n" + e.Title + "\n" + e.Description)
		for _, f := range e.Fields {
			b.WriteString("\n" + f.Name + ": " + f.Value)
		}
	}
	return b.String()
}

func (w *pmWorld) interact(i discordgo.Interaction) answer {
	w.t.Helper()
	id, _ := w.discord.Interact(i)
	rs, ok := w.discord.AwaitResponses(id, 1, 30*time.Second)
	if !ok {
		w.t.Fatalf("no answer to %+v", i.Data)
	}
	r := rs[0]
	if r.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource || r.Type == discordgo.InteractionResponseDeferredMessageUpdate {
		rs, ok = w.discord.AwaitResponses(id, 2, 30*time.Second)
		if !ok {
			w.t.Fatalf("deferred answer never came")
		}
		r = rs[1]
	}
	a := answer{Response: r}
	if err := json.Unmarshal(r.Data, &a); err != nil {
		w.t.Fatalf("answer data: %v", err)
	}
	return a
}

func (w *pmWorld) command(channel, user, name string, sub ...*discordgo.ApplicationCommandInteractionDataOption) answer {
	w.t.Helper()
	return w.interact(w.discord.SlashCommand(channel, user, name, sub...))
}

func (w *pmWorld) timeline(incID int64) []bot.TimelineEvent {
	var tl []bot.TimelineEvent
	if err := w.main.DB.Incident().View(context.Background(), func(tx incident.Tx) (err error) { tl, err = tx.Timeline(incID); return err }); err != nil {
		w.t.Fatal(err)
	}
	return tl
}

func (w *pmWorld) dms(user string) []discordtest.Message {
	ch, ok := w.discord.DMChannel(user)
	if !ok {
		return nil
	}
	return w.discord.Messages(ch)
}

var opt, sub, focused = discordtest.Option, discordtest.Subcommand, discordtest.Focused

// TestEndToEndRunbooksAndPostmortems drives the whole program through the
// fake Discord: runbooks linked to an incident, a checklist whose buttons
// land on the timeline, reload, a post-mortem from the record edited in a
// modal, exported, published to the forum and updated there, action-item
// reminders and the due policy on the fake clock.
func TestEndToEndRunbooksAndPostmortems(t *testing.T) {
	w := newPMWorld(t)
	ctx := context.Background()

	var brokenReported bool
	for _, p := range w.problems {
		if strings.HasSuffix(p.File, "broken.md") && p.Line > 0 && p.Warning {
			brokenReported = true
		}
	}
	if !brokenReported {
		t.Errorf("the broken runbook is not reported with file:line: %v", w.problems)
	}

	// A live P0 incident linked to a ServiceDown alert (the service-down matcher).
	t0 := w.clock.Now()
	g := &bot.Group{Key: `{}:{alertname="ServiceDown"}`, Status: bot.Firing, Priority: bot.P0, CreatedAt: t0, UpdatedAt: t0, Version: 1,
		CommonLabels:      map[string]string{"alertname": "ServiceDown", "service": "game", "instance": "eu-1"},
		CommonAnnotations: map[string]string{"summary": "Game server eu-1 is down"},
		Alerts:            []bot.Alert{{Fingerprint: "f1", Status: bot.Firing, StartsAt: t0.Add(-2 * time.Minute), Labels: map[string]string{"alertname": "ServiceDown"}}}}
	inc := &bot.Incident{Title: "EU game server down", Priority: bot.P0, Services: []string{"game"}, Status: bot.Investigating,
		Roles: map[string]string{"commander": w.ana}, ThreadID: w.thread, StartedAt: t0.Add(-2 * time.Minute), DetectedAt: t0,
		CreatedBy: bot.Actor{UserID: w.ana, Name: "ana"}}
	if err := w.main.DB.Incident().Update(ctx, func(tx incident.Tx) error {
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		inc.GroupIDs = []int64{g.ID}
		return tx.SaveIncident(inc)
	}); err != nil {
		t.Fatal(err)
	}

	// /runbook list: the incident's runbook first, then all, with the directory's.
	a := w.command(w.thread, w.bo, "runbook", sub("list"))
	if !a.Ephemeral() || !strings.Contains(a.text(), "Linked to this incident's alerts**\n🔗 **P0** `service-down`") || !strings.Contains(a.text(), "`discord-bot-down`") {
		t.Errorf("/runbook list = %q", a.text())
	}
	// Autocomplete: fuzzy, and the linked runbook first on an empty query.
	for _, tc := range []struct{ typed, want string }{{"srv dwn", "service-down"}, {"ddso", "ddos-attack"}, {"", "service-down"}, {"discord", "discord-bot-down"}} {
		ac := w.interact(w.discord.Autocomplete(w.thread, w.bo, "runbook", sub("show", focused(opt("name", tc.typed)))))
		if cs := ac.Choices(); ac.Type != discordgo.InteractionApplicationCommandAutocompleteResult || len(cs) == 0 || cs[0].Value != tc.want {
			t.Errorf("autocomplete %q = %+v, want %s first", tc.typed, cs, tc.want)
		}
	}
	// /runbook show: ephemeral by default, or posted.
	a = w.command(w.thread, w.bo, "runbook", sub("show", opt("name", "ddos-attack")))
	if !a.Ephemeral() || len(a.Embeds) != 1 || !strings.Contains(a.Embeds[0].Title, "DDoS Attack") || !strings.Contains(a.Embeds[0].Description, "**Priority:** P1") {
		t.Errorf("/runbook show = %+v", a)
	}
	a = w.command(w.thread, w.bo, "runbook", sub("show", opt("name", "game-bug"), opt("post", true)))
	if a.Ephemeral() || a.MessageID == "" {
		t.Errorf("/runbook show post:true was not posted: %+v", a.Response)
	}

	// /runbook run without a name: the linked runbook's steps as a checklist.
	a = w.command(w.thread, w.bo, "runbook", sub("run"))
	if a.Ephemeral() || a.MessageID == "" || len(a.Embeds) != 1 || !strings.Contains(a.Embeds[0].Title, "Service Down — INC-1") {
		t.Fatalf("/runbook run = %+v", a)
	}
	checklist := a.MessageID
	m, _ := w.discord.Message(checklist)
	if bs := m.Buttons(); len(bs) != 10 || bs[0].CustomID != "rbstep:1:1" {
		t.Fatalf("checklist buttons = %+v", bs)
	}
	w.clock.Advance(3 * time.Minute)
	clickAt := w.clock.Now()
	a = w.interact(w.discord.ButtonClick(w.thread, checklist, w.bo, "rbstep:1:1"))
	if a.Type != discordgo.InteractionResponseUpdateMessage || !strings.Contains(a.Embeds[0].Description, "✅ **1.**") || !strings.Contains(a.Embeds[0].Description, "<@"+w.bo+">") {
		t.Errorf("step click answer = %+v", a)
	}
	w.interact(w.discord.ButtonClick(w.thread, checklist, w.ana, "rbstep:1:2"))
	m, _ = w.discord.Message(checklist)
	if bs := m.Buttons(); bs[0].Style != int(discordgo.SuccessButton) || bs[1].Style != int(discordgo.SuccessButton) || bs[2].Style != int(discordgo.SecondaryButton) {
		t.Errorf("checklist message not updated: %+v", bs)
	}
	var steps []bot.TimelineEvent
	for _, e := range w.timeline(inc.ID) {
		if e.Kind == "runbook step" {
			steps = append(steps, e)
		}
	}
	if len(steps) != 2 || steps[0].Actor.UserID != w.bo || !steps[0].At.Equal(clickAt) || steps[1].Actor.UserID != w.ana ||
		!strings.Contains(steps[0].Text, "step 1/10 done: Confirm from outside") {
		t.Errorf("timeline steps = %+v", steps)
	}

	// /runbook reload: admins only; a broken directory keeps the current set.
	if a = w.command(w.thread, w.bo, "runbook", sub("reload")); !strings.Contains(a.Content, "only <@&"+w.admin+">") {
		t.Errorf("reload by a non-admin = %q", a.Content)
	}
	if a = w.command(w.thread, w.ana, "runbook", sub("reload")); !strings.Contains(a.Content, "problem(s)") || !strings.Contains(a.Content, "broken.md:2") {
		t.Errorf("reload with a broken file = %q", a.Content)
	}
	if err := os.Remove(filepath.Join(w.rbDir, "broken.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.rbDir, "cdn-down.md"), []byte(strings.ReplaceAll(strings.ReplaceAll(customRunbook, "discord-bot-down", "cdn-down"), "Discord Bot Down", "CDN Down")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.main.Runbooks.Reload(); err != nil { // what SIGHUP does
		t.Fatalf("reload: %v", err)
	}
	if a = w.command(w.thread, w.bo, "runbook", sub("show", opt("name", "cdn-down"))); len(a.Embeds) != 1 || !strings.Contains(a.Embeds[0].Title, "CDN Down") {
		t.Errorf("the reloaded runbook is not there: %+v", a)
	}

	// /postmortem create refuses while the incident is live.
	if a = w.command(w.thread, w.ana, "postmortem", sub("create")); !a.Ephemeral() || !strings.Contains(a.Content, "resolve it first") {
		t.Errorf("create on a live incident = %q", a.Content)
	}
	w.clock.Advance(40 * time.Minute)
	resolvedAt := w.clock.Now()
	if err := w.main.DB.Incident().Update(ctx, func(tx incident.Tx) error {
		g.Status, g.ResolvedAt = bot.Resolved, resolvedAt
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		inc.Status, inc.MitigatedAt, inc.ResolvedAt = bot.IncResolved, resolvedAt.Add(-5*time.Minute), resolvedAt
		return tx.SaveIncident(inc)
	}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * time.Hour)
	a = w.command(w.thread, w.ana, "postmortem", sub("create"))
	if a.Ephemeral() || !strings.Contains(a.Content, "Drafted the post-mortem of **INC-1** from the template") || a.MessageID == "" {
		t.Fatalf("/postmortem create = %+v", a)
	}
	created := a.MessageID
	if err := w.main.DB.View(ctx, func(tx bot.Tx) error {
		cur, err := tx.Incident(inc.ID)
		if err == nil && cur.Status != bot.PostMortem {
			t.Errorf("INC-1 is %s after /postmortem create, want post-mortem", cur.Status)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Edit through the modal: from the button on the draft, and from /postmortem edit.
	a = w.interact(w.discord.ButtonClick(w.thread, created, w.bo, "pmedit:1:summary"))
	if a.Type != discordgo.InteractionResponseModal || a.CustomID != "pmedit:1:summary:1" {
		t.Fatalf("edit button answer = %+v", a)
	}
	a = w.command(w.thread, w.bo, "postmortem", sub("edit", opt("section", "root_cause")))
	if a.Type != discordgo.InteractionResponseModal || a.CustomID != "pmedit:1:root_cause:1" || !strings.Contains(string(a.Components), "To be written by the responders") {
		t.Fatalf("/postmortem edit answer = %+v", a)
	}
	a = w.interact(w.discord.ModalSubmit(w.thread, w.bo, "pmedit:1:root_cause:1", []string{"text"},
		map[string]string{"text": "A resource update leaked DB connections until MariaDB refused new ones."}))
	if !a.Ephemeral() || !strings.Contains(a.Content, "Saved the Root cause analysis: revision 2") {
		t.Errorf("modal submit = %q", a.Content)
	}

	// Action item with reminders.
	a = w.command(w.thread, w.ana, "postmortem", sub("action", sub("add", opt("owner", w.bo), opt("due", "3d"), opt("text", "Alert on DB connections at 80%"))))
	if !strings.Contains(a.Content, "Action item **#1** of INC-1 for <@"+w.bo+">") {
		t.Fatalf("action add = %q", a.Content)
	}
	actionDue := w.clock.Now().Add(3 * 24 * time.Hour)
	// Open action items are visible on the incident.
	if a = w.command(w.thread, w.ana, "incident", sub("status")); !strings.Contains(a.text(), "Open action items (1)") ||
		!strings.Contains(a.text(), "Alert on DB connections at 80%") {
		t.Errorf("/incident status does not show the open action item: %s", a.text())
	}

	// Export: the .md as an attachment, with the edit and the action item.
	a = w.command(w.thread, w.bo, "postmortem", sub("export"))
	if len(a.Files) != 1 || a.Files[0].Filename != "INC-1-postmortem.md" {
		t.Fatalf("export files = %+v", a.Files)
	}
	doc := string(a.Files[0].Data)
	for _, want := range []string{"# Post-mortem: INC-1 — EU game server down", "leaked DB connections", "Alert on DB connections at 80%",
		"runbook step: Service Down step 1/10 done", "| ServiceDown | P0 |", "2 of 10 steps done"} {
		if !strings.Contains(doc, want) {
			t.Errorf("exported document lacks %q", want)
		}
	}

	// Publish to the forum; an edit updates the same post.
	a = w.command(w.thread, w.ana, "postmortem", sub("publish"))
	if !strings.Contains(a.Content, "published the post-mortem of **INC-1**") {
		t.Errorf("publish = %q", a.Content)
	}
	var post discordtest.Channel
	w.settle("the forum post", func() bool {
		ths := w.discord.Threads(w.forum)
		if len(ths) == 1 {
			post = ths[0]
			return true
		}
		return false
	})
	starter, _ := w.discord.Message(post.ID)
	if !strings.HasPrefix(post.Name, "INC-1 · P0 · EU game server down") || len(starter.Attachments) != 1 || !strings.Contains(string(starter.Attachments[0].Data), "leaked DB connections") {
		t.Fatalf("forum post %q starter = %+v", post.Name, starter)
	}
	w.interact(w.discord.ModalSubmit(w.thread, w.ana, "pmedit:1:lessons_learned:2", []string{"text"}, map[string]string{"text": "Watch connection counts, not just up/down."}))
	w.settle("the forum post updated", func() bool {
		m, _ := w.discord.Message(post.ID)
		return len(m.Attachments) == 1 && strings.Contains(string(m.Attachments[0].Data), "Watch connection counts")
	})
	if n := len(w.discord.Threads(w.forum)); n != 1 {
		t.Errorf("%d forum posts, want the one updated", n)
	}

	// Reminders on the fake clock: a day before, at the due time, then done.
	w.clock.Set(actionDue.Add(-24*time.Hour + time.Second))
	w.settle("the due reminder DM", func() bool {
		ms := w.dms(w.bo)
		return len(ms) == 1 && strings.Contains(ms[0].Content, "Action item #1") && strings.Contains(ms[0].Content, "Alert on DB connections")
	})
	w.clock.Set(actionDue.Add(time.Second))
	w.settle("the due-now reminder DM", func() bool {
		ms := w.dms(w.bo)
		return len(ms) == 2 && strings.Contains(ms[1].Content, "is due now")
	})
	// Autocomplete offers the open action item for action done, and incidents for the incident option.
	doneChoices := func() []discordgo.ApplicationCommandOptionChoice {
		return w.interact(w.discord.Autocomplete(w.thread, w.bo, "postmortem", sub("action", sub("done", focused(opt("id", "")))))).Choices()
	}
	if cs := doneChoices(); len(cs) != 1 || !strings.HasPrefix(cs[0].Name, "#1 INC-1 · Alert on DB connections at 80%") || fmt.Sprint(cs[0].Value) != "1" {
		t.Errorf("action done autocomplete = %+v, want #1", cs)
	}
	if cs := w.interact(w.discord.Autocomplete(w.thread, w.bo, "postmortem", sub("show", focused(opt("incident", "inc-1"))))).Choices(); len(cs) != 1 || cs[0].Value != "INC-1" || !strings.HasPrefix(cs[0].Name, "INC-1 · P") {
		t.Errorf("incident autocomplete = %+v, want INC-1", cs)
	}
	if a = w.command(w.thread, w.bo, "postmortem", sub("action", sub("done", opt("id", 1)))); !strings.Contains(a.Content, "Action item **#1** done") {
		t.Errorf("action done = %q", a.Content)
	}
	if cs := doneChoices(); len(cs) != 0 {
		t.Errorf("action done autocomplete after done = %+v, want none", cs)
	}
	w.clock.Advance(5 * 24 * time.Hour)
	w.cycleAt()
	w.cycleAt()
	if n := len(w.dms(w.bo)); n != 2 {
		t.Errorf("%d DMs to the owner after the item was done, want still 2", n)
	}

	// Due policy: a resolved P1 without a post-mortem reminds its commander.
	now := w.clock.Now()
	inc2 := &bot.Incident{Title: "Login queue stuck", Priority: bot.P1, Status: bot.IncResolved, ThreadID: w.thread + "0",
		Roles: map[string]string{"commander": w.ana}, StartedAt: now.Add(-time.Hour), DetectedAt: now.Add(-time.Hour), ResolvedAt: now}
	if err := w.main.DB.Incident().Update(ctx, func(tx incident.Tx) error { return tx.SaveIncident(inc2) }); err != nil {
		t.Fatal(err)
	}
	w.cycleAt()
	w.clock.Advance(3*24*time.Hour + time.Minute)
	w.settle("the due-policy reminder to the commander", func() bool {
		for _, m := range w.dms(w.ana) {
			if strings.Contains(m.Content, "post-mortem of **INC-2**") {
				return true
			}
		}
		return false
	})
	for _, m := range w.dms(w.ana) {
		if strings.Contains(m.Content, "INC-1") {
			t.Errorf("INC-1's post-mortem is published, yet its commander got %q", m.Content)
		}
	}
	for _, r := range w.discord.Requests() {
		if r.Status == 429 {
			t.Errorf("429 on %s %s", r.Method, r.Path)
		}
	}
}
