package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/mail/mailtest"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
)

const (
	smtpPassword   = "smtp-pass-2c9e7d41"
	wrongWebhookTk = "wrong-webhook-token-77d2"
)

// TestLogsKeepSecrets runs a full Klaxon (JSON logs at debug level) through a
// realistic session — webhooks (one with a wrong token), pages by mention,
// DM, phone and e-mail, interactions on the gateway and over HTTP, Discord
// answering 403, 500 and dropping connections, a restart — and checks that
// no secret, token, webhook URL, phone number or e-mail address is in the
// logs, and that every line is JSON with time, level and msg.
func TestLogsKeepSecrets(t *testing.T) {
	twilio := phonetest.New(t)
	smtp := mailtest.New(t, mailtest.Options{Username: "klaxon", Password: smtpPassword, RequireAuth: true})
	pub, priv, _ := ed25519.GenerateKey(nil)
	clock := bot.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	port := amtest.FreePort(t)
	publicURL := "http://127.0.0.1:" + strconv.Itoa(port)
	var anna, bob, leads, hookURL, hookToken string
	w := newWorldWith(t, worldOptions{
		Clock: clock,
		Env: map[string]string{"KLAXON_HTTP_ADDR": "127.0.0.1:" + strconv.Itoa(port), "KLAXON_TWILIO_AUTH_TOKEN": twilio.AuthToken,
			"KLAXON_SMTP_PASSWORD": smtpPassword, "KLAXON_DISCORD_GATEWAY": "on"},
		Setup: func(w *world) {
			anna = w.discord.AddUser("anna")
			bob = w.discord.AddUser("bob")
			leads = w.discord.AddRole(w.guild, "leads")
			w.discord.AddMember(w.guild, anna, w.oncall, w.staff)
			w.discord.AddMember(w.guild, bob, leads, w.staff)
			_, hookToken, hookURL = w.discord.CreateWebhook(w.channels[0])
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
          - user: %q
            via: [dm, phone]
  P3:
    steps:
      - delay: 0m
        targets:
          - schedule: primary
            via: [email]
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
  username: klaxon
  from: "Klaxon <klaxon@marola.example>"
  starttls: "off"
`, anna, anna, bob, bob, hex.EncodeToString(pub), twilio.URL, twilio.AccountSID, publicURL, smtp.Host, smtp.Port)
		},
	})
	if !w.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("klaxon did not connect to the gateway")
	}
	ctx := context.Background()
	tick := func(d time.Duration) {
		t.Helper()
		clock.Advance(d)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for range 2 {
			if err := w.main.Engine.CycleAndWait(cctx); err != nil {
				t.Fatalf("engine cycle: %v", err)
			}
		}
	}
	fire := func(name, severity string, body map[string]any) {
		t.Helper()
		if body == nil {
			body = webhookBody(name, severity, clock.Now().Add(-time.Minute))
		}
		resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook %s: %s", name, resp.Status)
		}
	}
	cardOf := func(name string, channel int) discordtest.Message {
		t.Helper()
		var card discordtest.Message
		w.await(name+" card", func() bool {
			for _, m := range w.discord.Messages(w.channels[channel]) {
				if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "· "+name) {
					card = m
					return true
				}
			}
			return false
		})
		return card
	}
	var interactionTokens []string

	// Webhooks refused: wrong bearer token, wrong basic-auth password, and a
	// body that is not valid (carrying a Discord webhook URL).
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
		body string
		want int
	}{
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+wrongWebhookTk) }, `{}`, 401},
		{"wrong basic", func(r *http.Request) { r.SetBasicAuth("alertmanager", wrongWebhookTk) }, `{}`, 401},
		{"invalid body", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+webhookToken) },
			`{"version":"4","status":"firing","alerts":[{"labels":{},"annotations":{"fallback":"` + hookURL + `"}}],"commonAnnotations":{"webhook":"` + hookURL + `"}}`, 400},
	} {
		req, _ := http.NewRequest(http.MethodPost, w.url("/webhook/alertmanager"), strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		tc.auth(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s webhook: %s, want %d", tc.name, resp.Status, tc.want)
		}
	}

	// A P0 pages Anna by mention, DM and phone; the annotations carry the
	// Discord webhook URL, as an alert about the fallback receiver might.
	body := webhookBody("DatabaseDown", "critical", clock.Now().Add(-time.Minute))
	body["commonAnnotations"] = map[string]string{"summary": "DatabaseDown fired", "fallback": hookURL}
	fire("DatabaseDown", "critical", body)
	card := cardOf("DatabaseDown", 0)
	var call phonetest.Call
	w.await("the phone call", func() bool {
		calls := twilio.Calls()
		if len(calls) > 0 {
			call = calls[0]
			return true
		}
		return false
	})

	// Discord refuses: 403 on the P2 channel, 500 (then success) on the P1 channel.
	w.discord.InjectFault(discordtest.Fault{Method: http.MethodPost, PathContains: "/channels/" + w.channels[2] + "/messages",
		Status: http.StatusForbidden, Code: 50001, Message: "Missing Access", Times: 1})
	w.discord.InjectFault(discordtest.Fault{Method: http.MethodPost, PathContains: "/channels/" + w.channels[1] + "/messages",
		Status: http.StatusInternalServerError, Times: 1})
	fire("DiskFull", "warning", nil)
	fire("APIErrors", "error", nil)
	w.await("the 500 on the P1 channel", func() bool {
		for _, r := range w.discord.Requests() {
			if r.Faulted && r.Status == http.StatusInternalServerError {
				return true
			}
		}
		return false
	})
	tick(5 * time.Second) // past the backoff after the 500
	cardOf("APIErrors", 1)
	w.await("the 403 on the P2 channel", func() bool {
		for _, r := range w.discord.Requests() {
			if r.Faulted && r.Status == http.StatusForbidden {
				return true
			}
		}
		return false
	})

	// The phone keypress (signed with the Twilio auth token) acknowledges,
	// while its page is still active; a forged one follows below.
	if resp, err := twilio.Press(ctx, call.SID, "1"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	// Interactions on the gateway: an answer that is lost (connection
	// dropped, so the error carries the callback URL with the token), then
	// an acknowledgement that works.
	gid := ""
	for _, b := range card.Buttons() {
		if id, ok := strings.CutPrefix(b.CustomID, "ack:"); ok {
			gid = id
		}
	}
	w.discord.InjectFault(discordtest.Fault{PathContains: "/callback", Drop: true, Times: 1})
	id, tok := w.discord.Interact(w.discord.ButtonClick(w.channels[0], card.ID, bob, "sil:"+gid))
	interactionTokens = append(interactionTokens, tok)
	w.await("the dropped interaction answer", func() bool {
		for _, r := range w.discord.Requests() {
			if r.Faulted && strings.Contains(r.Path, id) {
				return true
			}
		}
		return false
	})
	id, tok = w.discord.Interact(w.discord.ButtonClick(w.channels[0], card.ID, anna, "ack:"+gid))
	interactionTokens = append(interactionTokens, tok)
	if _, ok := w.discord.AwaitResponses(id, 1, 10*time.Second); !ok {
		t.Fatal("no answer to the acknowledgement")
	}
	// Over HTTP: a forged request, and a slash command.
	_, wrong, _ := ed25519.GenerateKey(nil)
	forged, fid, err := w.discord.InteractionRequest(ctx, w.url("/interactions"), wrong, w.discord.SlashCommand(w.channels[0], anna, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(forged); err == nil {
		resp.Body.Close()
	}
	hid, resp, _, err := w.discord.PostInteraction(ctx, w.url("/interactions"), priv, w.discord.SlashCommand(w.channels[0], bob, "alerts"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slash command: %v %v", err, resp)
	}
	for _, id := range []string{fid, hid} {
		if st, ok := w.discord.Interaction(id); ok {
			interactionTokens = append(interactionTokens, st.Token)
		}
	}

	// The forged phone keypress (the real one acknowledged the alert above).
	forgedPress, _ := http.NewRequest(http.MethodPost, publicURL+"/phone/gather?page=1&token="+twilio.AuthToken, strings.NewReader("Digits=1&To=%2B15550100501"))
	forgedPress.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(forgedPress); err == nil {
		resp.Body.Close()
	}

	// A P3 reaches Anna by e-mail once the digest window closes; then Bob
	// is paged by DM and phone on another P0 that nobody acknowledges.
	fire("PlayersLow", "info", nil)
	cardOf("PlayersLow", 3)
	fire("CacheDown", "critical", nil)
	cardOf("CacheDown", 0)
	tick(2 * time.Minute)
	w.await("the e-mail digest", func() bool { return len(smtp.Messages()) > 0 })
	tick(6 * time.Minute)
	w.await("the second phone call", func() bool { return len(twilio.Calls()) >= 3 })
	// A minute after the first wrong token, the next one is logged again,
	// with the count of those held back in between (the wrong basic auth).
	refused := func() {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, w.url("/webhook/alertmanager"), strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+wrongWebhookTk)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	refused()
	refused() // within the window: not logged

	// Restart, and a resolve after it.
	w.restart()
	if !w.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("no gateway after restart")
	}
	resolved := body
	resolved["status"] = "resolved"
	resolved["alerts"].([]map[string]any)[0]["status"] = "resolved"
	resolved["alerts"].([]map[string]any)[0]["endsAt"] = clock.Now().Format(time.RFC3339Nano)
	fire("DatabaseDown", "critical", resolved)
	// The restarted pacer waits out the channel window its predecessor may
	// have used (the fake clock has not moved since the last send).
	tick(7 * time.Second)
	w.await("the card resolved", func() bool {
		m, _ := w.discord.Message(card.ID)
		return len(m.Embeds) > 0 && m.Embeds[0].Color == 0x2EB67D
	})
	if err := w.main.Close(); err != nil { // flush the last lines ("klaxon stopped")
		t.Fatal(err)
	}

	logs := w.logs.String()
	// The session went through the paths that log what could leak.
	for _, want := range []string{`"level":"DEBUG"`, "rejected webhook", `"msg":"call placed"`, `"msg":"mail sent"`, `"status":403`,
		"HTTP 500", `"msg":"answer interaction"`, "rejected interaction", "phone keypress handled", "phone callback refused"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the session did not log %s", want)
		}
	}
	assertBehaviourLogged(t, logs, w)
	if n := strings.Count(logs, `"msg":"klaxon serving"`); n != 2 {
		t.Errorf("klaxon started %d times, want 2 (a restart)", n)
	}
	secrets := []struct{ what, value string }{
		{"Discord bot token", discordToken},
		{"webhook token", webhookToken},
		{"wrong webhook token", wrongWebhookTk},
		{"Twilio auth token", twilio.AuthToken},
		{"SMTP password", smtpPassword},
		{"Discord webhook URL", hookURL},
		{"Discord webhook token", hookToken},
	}
	for i, tok := range interactionTokens {
		secrets = append(secrets, struct{ what, value string }{fmt.Sprintf("interaction token %d", i+1), tok})
	}
	for _, n := range []string{"15550100501", "15550100502", "15550109999"} {
		secrets = append(secrets, struct{ what, value string }{"phone number", n}, struct{ what, value string }{"phone number (national)", n[1:]})
	}
	for _, e := range []string{"anna@marola.example", "bob@marola.example"} {
		secrets = append(secrets, struct{ what, value string }{"e-mail address", e})
	}
	for _, s := range secrets {
		if s.value == "" {
			t.Errorf("%s: empty in the test", s.what)
			continue
		}
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, s.value) {
				t.Errorf("the logs contain the %s: %s", s.what, line)
				break
			}
		}
	}
	for i, line := range strings.Split(strings.TrimRight(logs, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line %d is not JSON: %v: %s", i+1, err, line)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if v, ok := rec[k].(string); !ok || v == "" {
				t.Errorf("log line %d has no %s: %s", i+1, k, line)
			}
		}
	}
}

// assertBehaviourLogged checks the INFO lines that make Klaxon's behaviour
// visible (issue #15): one per webhook, per card created or edited, per page
// sent, per escalation step; and a WARN per refused webhook and minute.
func assertBehaviourLogged(t *testing.T, logs string, w *world) {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimRight(logs, "\n"), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	find := func(msg string, match func(map[string]any) bool) []map[string]any {
		var out []map[string]any
		for _, r := range recs {
			if r["msg"] == msg && (match == nil || match(r)) {
				out = append(out, r)
			}
		}
		return out
	}
	has := func(r map[string]any, keys ...string) bool {
		for _, k := range keys {
			if v, ok := r[k]; !ok || v == "" || v == nil {
				return false
			}
		}
		return true
	}
	level := func(rs []map[string]any, want string) {
		t.Helper()
		for _, r := range rs {
			if r["level"] != want {
				t.Errorf("%s logged at %v, want %s", r["msg"], r["level"], want)
			}
		}
	}
	// Webhooks: new groups, a change (the resolve), each with its group key and counts.
	news := find("webhook new", func(r map[string]any) bool {
		return has(r, "group_key", "receiver", "group") && r["alerts"] == 1.0 && r["firing"] == 1.0
	})
	if len(news) < 5 { // DatabaseDown, DiskFull, APIErrors, PlayersLow, CacheDown
		t.Errorf("%d \"webhook new\" lines with group_key, receiver, group and counts, want 5", len(news))
	}
	level(news, "INFO")
	if len(find("webhook changed", func(r map[string]any) bool { return r["resolved"] == 1.0 })) == 0 {
		t.Error("no \"webhook changed\" line for the resolve")
	}
	// Cards: created in the priority's channel with the message id, edited.
	created := find("card created", func(r map[string]any) bool {
		return r["channel"] == w.channels[0] && has(r, "message", "post", "groups")
	})
	if len(created) < 2 { // DatabaseDown, CacheDown
		t.Errorf("%d \"card created\" lines in the P0 channel with message, post and groups, want 2", len(created))
	}
	level(created, "INFO")
	if len(find("card edited", func(r map[string]any) bool { return has(r, "channel", "message") })) == 0 {
		t.Error("no \"card edited\" line (the acknowledgement and the resolve edit cards)")
	}
	// Escalation steps and pages: who, how.
	steps := find("escalation step", func(r map[string]any) bool { return has(r, "group", "priority") && r["step"] != nil })
	if len(steps) < 3 { // DatabaseDown step 0, CacheDown steps 0 and 1 (+ P3)
		t.Errorf("%d \"escalation step\" lines, want at least 3", len(steps))
	}
	level(steps, "INFO")
	if len(find("page sent", func(r map[string]any) bool { return r["via"] == "dm" && has(r, "user", "group", "message") })) == 0 {
		t.Error("no \"page sent\" line for a DM naming the user, group and message")
	}
	if len(find("page sent", func(r map[string]any) bool { return r["via"] == "discord" && has(r, "channel", "message") })) == 0 {
		t.Error("no \"page sent\" line for a channel mention")
	}
	// Refused webhooks: one WARN per reason and minute, with the remote address.
	wrong := find("webhook refused: wrong token (check the token in Alertmanager's webhook_configs http_config.authorization)", nil)
	level(wrong, "WARN")
	if len(wrong) != 2 {
		t.Fatalf("%d wrong-token lines, want 2 (4 refusals, one line per minute)", len(wrong))
	}
	for _, r := range wrong {
		if a, _ := r["remote"].(string); !strings.HasPrefix(a, "127.0.0.1:") {
			t.Errorf("wrong-token line without the remote address: %v", r)
		}
	}
	if wrong[0]["suppressed"] != 0.0 || wrong[1]["suppressed"] != 1.0 {
		t.Errorf("suppressed counts %v, %v; want 0 then 1 (the wrong basic auth in the first minute)", wrong[0]["suppressed"], wrong[1]["suppressed"])
	}
}
