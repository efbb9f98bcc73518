package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/mail/mailtest"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
)

// pagingWorld is a world with an on-call schedule, a lead role, a user
// directory, and phone, e-mail and HTTP interactions configured.
type pagingWorld struct {
	*world
	anna, bob string // anna is on call; bob is a lead
	leads     string
	twilio    *phonetest.Server
	smtp      *mailtest.Server
	priv      ed25519.PrivateKey
	clock     *bot.FakeClock
}

func newPagingWorld(t *testing.T, extra string) *pagingWorld {
	t.Helper()
	return newPagingWorldEnv(t, extra, nil)
}

// newPagingWorldEnv is newPagingWorld with more environment variables.
func newPagingWorldEnv(t *testing.T, extra string, env map[string]string) *pagingWorld {
	t.Helper()
	pw := &pagingWorld{twilio: phonetest.New(t), smtp: mailtest.New(t, mailtest.Options{})}
	pub, priv, _ := ed25519.GenerateKey(nil)
	pw.priv = priv
	pw.clock = bot.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	port := amtest.FreePort(t)
	publicURL := "http://127.0.0.1:" + strconv.Itoa(port)
	vars := map[string]string{"KLAXON_HTTP_ADDR": "127.0.0.1:" + strconv.Itoa(port), "KLAXON_TWILIO_AUTH_TOKEN": pw.twilio.AuthToken,
		"KLAXON_DISCORD_GATEWAY": "on"}
	maps.Copy(vars, env)
	pw.world = newWorldWith(t, worldOptions{
		Clock: pw.clock,
		Env:   vars,
		Setup: func(w *world) {
			pw.anna = w.discord.AddUser("anna")
			pw.bob = w.discord.AddUser("bob")
			pw.leads = w.discord.AddRole(w.guild, "leads")
			w.discord.AddMember(w.guild, pw.anna, w.oncall, w.staff)
			w.discord.AddMember(w.guild, pw.bob, pw.leads, w.staff)
			w.opts.Config = fmt.Sprintf(`
schedules:
  - name: primary
    time_zone: Europe/Berlin
    rotation: weekly
    handoff: "09:00"
    start: "2026-01-05"
    participants: [%q]
users:
  %q: {name: Anna, phone: "+15550100501", email: anna@marola.example}
  %q: {name: Bob, phone: "+15550100502", email: bob@marola.example}
escalation:
  P0:
    steps:
      - delay: 0m
        targets:
          - schedule: primary
            via: [mention, dm, phone]
      - delay: 5m
        targets:
          - role: %q
  P3:
    steps:
      - delay: 0m
        targets:
          - schedule: primary
            via: [email]
permissions:
  resolve:
    P0: [%q]
interactions:
  public_key: %s
phone:
  base_url: %s
  account_sid: %s
  from: "+15550109999"
  public_url: %s
email:
  host: %s
  port: %d
  from: "Klaxon <klaxon@marola.example>"
  starttls: "off"
%s`, pw.anna, pw.anna, pw.bob, pw.leads, pw.leads, hex.EncodeToString(pub), pw.twilio.URL, pw.twilio.AccountSID, publicURL,
				pw.smtp.Host, pw.smtp.Port, extra)
		},
	})
	if !pw.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("klaxon did not connect to the gateway")
	}
	return pw
}

// fire posts a P0 (or other) webhook for alertname and returns the card.
func (pw *pagingWorld) fire(alertname, severity string, channel int) discordtest.Message {
	pw.t.Helper()
	resp := postJSON(pw.t, pw.url("/webhook/alertmanager"), webhookToken, webhookBody(alertname, severity, pw.clock.Now().Add(-time.Minute)))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		pw.t.Fatalf("webhook: %s", resp.Status)
	}
	var card discordtest.Message
	pw.await(alertname+" card", func() bool {
		for _, m := range pw.discord.Messages(pw.channels[channel]) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "· "+alertname) {
				card = m
				return true
			}
		}
		return false
	})
	return card
}

func (pw *pagingWorld) groupID(card discordtest.Message) string {
	for _, b := range card.Buttons() {
		if id, ok := strings.CutPrefix(b.CustomID, "ack:"); ok {
			return id
		}
	}
	pw.t.Fatalf("card has no Acknowledge button: %+v", card.Buttons())
	return ""
}

func cardText(m discordtest.Message) string {
	var b strings.Builder
	b.WriteString(m.Content + "\n")
	for _, e := range m.Embeds {
		b.WriteString(e.Title + "\n" + fieldsText(e))
	}
	return b.String()
}

// tick moves the fake clock and runs an engine cycle at the new time
// (then one more, so that messages the first queued are delivered).
func (pw *pagingWorld) tick(d time.Duration) {
	pw.t.Helper()
	pw.clock.Advance(d)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		if err := pw.main.Engine.CycleAndWait(ctx); err != nil {
			pw.t.Fatalf("engine cycle: %v", err)
		}
	}
}

func (pw *pagingWorld) messagesMentioning(channel, id string) int {
	n := 0
	for _, m := range pw.discord.Messages(channel) {
		if m.AllowedMentions != nil && (contains(m.AllowedMentions.Roles, id) || contains(m.AllowedMentions.Users, id)) && len(m.Embeds) > 0 && strings.Contains(m.Content, "📟") {
			n++
		}
	}
	return n
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// A P0 pages the on-call by mention, DM and phone; pressing 1 on the call
// acknowledges, the card says so, and the next step never runs.
func TestPhoneAcknowledgementStopsPaging(t *testing.T) {
	pw := newPagingWorld(t, "")
	card := pw.fire("DatabaseDown", "critical", 0)
	pw.await("the page in the channel", func() bool { return pw.messagesMentioning(pw.channels[0], pw.anna) == 1 })
	pw.await("the DM to the on-call", func() bool {
		ch, ok := pw.discord.DMChannel(pw.anna)
		return ok && len(pw.discord.Messages(ch)) == 1
	})
	var call phonetest.Call
	pw.await("the phone call", func() bool {
		calls := pw.twilio.Calls()
		if len(calls) == 1 {
			call = calls[0]
			return true
		}
		return false
	})
	said := ""
	if call.Parsed.Gather != nil {
		for _, s := range call.Parsed.Gather.Says {
			said += s.Text + " "
		}
	}
	if call.To != "+15550100501" || !strings.Contains(said, "DatabaseDown") {
		t.Fatalf("call = %+v", call)
	}
	resp, err := pw.twilio.Press(context.Background(), call.SID, "1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("keypress answered %s", resp.Status)
	}
	pw.await("the card to show the phone acknowledgement", func() bool {
		m, _ := pw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "Acknowledged by <@"+pw.anna+"> via phone")
	})
	pw.tick(6 * time.Minute)
	pw.tick(20 * time.Minute)
	if n := pw.messagesMentioning(pw.channels[0], pw.leads); n != 0 {
		t.Errorf("leads were paged %d times after the acknowledgement", n)
	}
	if n := len(pw.twilio.Calls()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

// Without an acknowledgement the next step pages the leads; an
// acknowledgement by button after a restart stops everything.
func TestEscalationThenButtonAckAcrossRestart(t *testing.T) {
	pw := newPagingWorld(t, "")
	card := pw.fire("GameServerDown", "critical", 0)
	gid := pw.groupID(card)
	pw.await("step 1", func() bool { return pw.messagesMentioning(pw.channels[0], pw.anna) == 1 })

	pw.restart()
	if !pw.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("no gateway after restart")
	}
	pw.tick(5 * time.Minute)
	pw.await("step 2 paging the leads", func() bool { return pw.messagesMentioning(pw.channels[0], pw.leads) == 1 })
	pw.tick(time.Second)
	if n := pw.messagesMentioning(pw.channels[0], pw.leads); n != 1 {
		t.Errorf("leads paged %d times, want exactly once across the restart", n)
	}

	// Anna presses Acknowledge on the card (gateway interaction).
	id, _ := pw.discord.Interact(pw.discord.ButtonClick(pw.channels[0], card.ID, pw.anna, "ack:"+gid))
	rs, ok := pw.discord.AwaitResponses(id, 1, 10*time.Second)
	if !ok || !rs[0].Ephemeral() || !strings.Contains(rs[0].Content, "acknowledged") {
		t.Fatalf("ack reply = %+v", rs)
	}
	pw.await("card edited to acknowledged", func() bool {
		m, _ := pw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "Acknowledged by <@"+pw.anna+"> via button") && len(m.Buttons()) > 0
	})
	m, _ := pw.discord.Message(card.ID)
	hasUnack := false
	for _, b := range m.Buttons() {
		hasUnack = hasUnack || strings.HasPrefix(b.CustomID, "unack:")
	}
	if !hasUnack {
		t.Errorf("acknowledged card lacks Unacknowledge: %+v", m.Buttons())
	}
	before := len(pw.discord.Messages(pw.channels[0]))
	pw.tick(30 * time.Minute)
	pw.tick(30 * time.Minute)
	if after := len(pw.discord.Messages(pw.channels[0])); after != before {
		t.Errorf("%d new messages in the P0 channel after the acknowledgement", after-before)
	}

	// A second acknowledgement says who already has it.
	id, _ = pw.discord.Interact(pw.discord.ButtonClick(pw.channels[0], card.ID, pw.bob, "ack:"+gid))
	rs, _ = pw.discord.AwaitResponses(id, 1, 10*time.Second)
	if len(rs) == 0 || !rs[0].Ephemeral() || !strings.Contains(rs[0].Content, "already acknowledged by <@"+pw.anna+">") {
		t.Errorf("second ack reply = %+v", rs)
	}
}

// Slash commands over the HTTP interactions endpoint: signatures checked,
// autocomplete, permissions refused with the role named, /ack works.
func TestSlashCommandsOverHTTPInteractions(t *testing.T) {
	pw := newPagingWorld(t, "")
	card := pw.fire("WebDown", "critical", 0)
	gid := pw.groupID(card)
	endpoint := pw.url("/interactions")
	ctx := context.Background()

	// A forged request is refused.
	_, wrong, _ := ed25519.GenerateKey(nil)
	forged, _, err := pw.discord.InteractionRequest(ctx, endpoint, wrong, pw.discord.SlashCommand(pw.channels[0], pw.anna, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(forged)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged interaction: %v %v, want 401", err, resp)
	}
	resp.Body.Close()
	// PING → PONG.
	_, resp, body, err := pw.discord.PostInteraction(ctx, endpoint, pw.priv, discordgo.Interaction{Type: discordgo.InteractionPing})
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"type":1`) {
		t.Fatalf("ping: %v %s", err, body)
	}

	post := func(i discordgo.Interaction) map[string]any {
		t.Helper()
		_, resp, body, err := pw.discord.PostInteraction(ctx, endpoint, pw.priv, i)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("interaction: %v %v %s", err, resp, body)
		}
		var out map[string]any
		json.Unmarshal(body, &out)
		return out
	}
	auto := post(pw.discord.Autocomplete(pw.channels[0], pw.anna, "ack", discordtest.Focused(discordtest.Option("alert", "web"))))
	if !strings.Contains(fmt.Sprint(auto), "WebDown") || !strings.Contains(fmt.Sprint(auto), gid) {
		t.Errorf("autocomplete = %v, want WebDown #%s", auto, gid)
	}
	refused := post(pw.discord.SlashCommand(pw.channels[0], pw.anna, "resolve", discordtest.Option("alert", gid)))
	if s := fmt.Sprint(refused); !strings.Contains(s, "only <@&"+pw.leads+"> may resolve a P0") || !strings.Contains(s, "flags:64") {
		t.Errorf("resolve by a non-lead = %v, want an ephemeral refusal naming the leads role", refused)
	}
	bad := post(pw.discord.SlashCommand(pw.channels[0], pw.anna, "ack", discordtest.Option("alert", "the database one")))
	if s := fmt.Sprint(bad); !strings.Contains(s, "pick one from the list") {
		t.Errorf("bad argument reply = %v, want what to type instead", bad)
	}
	acked := post(pw.discord.SlashCommand(pw.channels[0], pw.anna, "ack", discordtest.Option("alert", gid)))
	if s := fmt.Sprint(acked); !strings.Contains(s, "You acknowledged") {
		t.Errorf("ack reply = %v", acked)
	}
	pw.await("card edited to acknowledged via command", func() bool {
		m, _ := pw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "via command")
	})
	list := post(pw.discord.SlashCommand(pw.channels[0], pw.bob, "alerts"))
	if s := fmt.Sprint(list); !strings.Contains(s, "WebDown") || !strings.Contains(s, "<@"+pw.anna+">") {
		t.Errorf("/alerts = %v", list)
	}
	resolved := post(pw.discord.SlashCommand(pw.channels[0], pw.bob, "resolve", discordtest.Option("alert", gid)))
	if s := fmt.Sprint(resolved); !strings.Contains(s, "You resolved") {
		t.Errorf("resolve by a lead = %v", resolved)
	}
	pw.await("card green after the manual resolve", func() bool {
		m, _ := pw.discord.Message(card.ID)
		return len(m.Embeds) > 0 && m.Embeds[0].Color == 0x2EB67D
	})
}

// A user whose DMs are closed is paged in the channel instead, and the card says so.
func TestClosedDMsFallBackToChannel(t *testing.T) {
	pw := newPagingWorld(t, "")
	pw.discord.SetDMClosed(pw.anna, true)
	card := pw.fire("CDNDown", "critical", 0)
	pw.await("the fallback mention", func() bool {
		for _, m := range pw.discord.Messages(pw.channels[0]) {
			if strings.Contains(m.Content, "DMs are closed") && m.AllowedMentions != nil && contains(m.AllowedMentions.Users, pw.anna) {
				return true
			}
		}
		return false
	})
	pw.await("the card note", func() bool {
		m, _ := pw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "does not accept DMs")
	})
}

// P3 reaches people by e-mail, batched: a burst of P3s is one mail.
func TestP3EmailDigest(t *testing.T) {
	pw := newPagingWorld(t, "")
	for i := 0; i < 5; i++ {
		pw.fire(fmt.Sprintf("DiskFilling%d", i), "info", 3)
	}
	pw.tick(30 * time.Second)
	if n := len(pw.smtp.Messages()); n != 0 {
		t.Fatalf("%d mails before the digest window closed", n)
	}
	pw.tick(31 * time.Second)
	msgs := pw.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want one digest", len(msgs))
	}
	m := msgs[0]
	if len(m.To) != 1 || m.To[0] != "anna@marola.example" || !strings.Contains(m.Subject, "5 alert") {
		t.Errorf("mail to %v subject %q, want anna and 5 alerts", m.To, m.Subject)
	}
	for i := 0; i < 5; i++ {
		if !strings.Contains(m.Text, fmt.Sprintf("[P3] DiskFilling%d", i)) {
			t.Errorf("digest lacks DiskFilling%d:\n%s", i, m.Text)
		}
	}
}

// Silence from the card creates a real silence in Alertmanager.
func TestSilenceButtonCreatesAlertmanagerSilence(t *testing.T) {
	am := amtest.Start(t, `
route: {receiver: none}
receivers: [{name: none}]
`)
	pw := newPagingWorld(t, "alertmanager:\n  url: "+am.URL+"\n")
	card := pw.fire("HighLatency", "critical", 0)
	gid := pw.groupID(card)
	id, _ := pw.discord.Interact(pw.discord.ButtonClick(pw.channels[0], card.ID, pw.anna, "sil:"+gid))
	rs, ok := pw.discord.AwaitResponses(id, 1, 10*time.Second)
	if !ok || !strings.Contains(string(rs[0].Data), "sild:"+gid+":1h0m0s") {
		t.Fatalf("silence menu = %+v", rs)
	}
	id, _ = pw.discord.Interact(pw.discord.ButtonClick(pw.channels[0], card.ID, pw.anna, "sild:"+gid+":1h0m0s"))
	rs, ok = pw.discord.AwaitResponses(id, 1, 10*time.Second)
	if !ok || !strings.Contains(rs[0].Content, "silenced in Alertmanager until") {
		t.Fatalf("silence reply = %+v", rs)
	}
	var silences []struct {
		Status    struct{ State string }
		CreatedBy string
		Matchers  []struct{ Name, Value string }
	}
	r, err := http.Get(am.URL + "/api/v2/silences")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(r.Body).Decode(&silences)
	r.Body.Close()
	if len(silences) != 1 || silences[0].Status.State != "active" || !strings.Contains(silences[0].CreatedBy, "anna") {
		t.Fatalf("silences = %+v", silences)
	}
	// The group's full label set, with the absent priority label pinned.
	got := map[string]string{}
	for _, m := range silences[0].Matchers {
		got[m.Name] = m.Value
	}
	if want := map[string]string{"alertname": "HighLatency", "severity": "critical", "service": "web", "priority": ""}; !maps.Equal(got, want) {
		t.Errorf("silence matchers = %v, want %v", got, want)
	}
	pw.await("card shows the silence", func() bool {
		m, _ := pw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "Silenced until")
	})
}

// TestPageDMAcknowledge: the page DM carries an Acknowledge button; the
// on-call presses it in the DM (a member of the server, roles looked up by
// the gate) and the card shows the acknowledgement.
func TestPageDMAcknowledge(t *testing.T) {
	pw := newPagingWorld(t, "")
	card := pw.fire("DatabaseDown", "critical", 0)
	var dm discordtest.Message
	var ch string
	pw.await("the DM to the on-call", func() bool {
		var ok bool
		if ch, ok = pw.discord.DMChannel(pw.anna); !ok {
			return false
		}
		if ms := pw.discord.Messages(ch); len(ms) == 1 {
			dm = ms[0]
			return true
		}
		return false
	})
	var ack string
	for _, b := range dm.Buttons() {
		if strings.HasPrefix(b.CustomID, "ack:") {
			ack = b.CustomID
		}
	}
	if ack == "" {
		t.Fatalf("the page DM has no Acknowledge button: %+v", dm.Buttons())
	}
	id, _ := pw.discord.Interact(pw.discord.ButtonClick(ch, dm.ID, pw.anna, ack))
	if _, ok := pw.discord.AwaitResponses(id, 1, 10*time.Second); !ok {
		t.Fatal("no answer to the DM's Acknowledge")
	}
	pw.await("the card to show the acknowledgement from the DM", func() bool {
		m, _ := pw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "Acknowledged by <@"+pw.anna+">")
	})
}
