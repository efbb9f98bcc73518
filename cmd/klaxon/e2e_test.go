package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
	"github.com/marola-rp/klaxon/bot/discordtest"
)

// world is a running Klaxon against the fake Discord, as `klaxon serve` runs.
type world struct {
	t        *testing.T
	discord  *discordtest.Server
	main     *Main
	guild    string
	channels [4]string
	oncall   string // role mentioned for P0 and P1
	staff    string // access.staff_roles, unless the test configures access itself
	logs     *syncBuffer
	opts     worldOptions
	config   *Config
	dbPath   string
	getenv   func(string) string // the environment Klaxon reads, also on reload
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const webhookToken = "e2e-webhook-token-5f1c"
const discordToken = "e2e.discord.token.9a7b"

// worldOptions tune newWorldWith.
type worldOptions struct {
	Config string            // YAML appended to the base configuration
	Env    map[string]string // environment overrides
	Clock  bot.Clock         // default: the system clock
	DB     string            // database path; default a fresh one
	Setup  func(w *world)    // runs after the fake Discord is set up, before the config is written
}

func newWorld(t *testing.T, extraConfig string, env map[string]string) *world {
	t.Helper()
	return newWorldWith(t, worldOptions{Config: extraConfig, Env: env})
}

func newWorldWith(t *testing.T, o worldOptions) *world {
	t.Helper()
	extraConfig, env := o.Config, o.Env
	w := &world{t: t, logs: &syncBuffer{}, opts: o}
	w.discord = discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Errorf("discord violation: %v", err) }})
	t.Cleanup(w.discord.Close)
	w.guild = w.discord.AddGuild("Marola RP")
	for i := range w.channels {
		w.channels[i] = w.discord.AddChannel(w.guild, fmt.Sprintf("alerts-p%d", i), discordgo.ChannelTypeGuildText)
	}
	w.oncall = w.discord.AddRole(w.guild, "on-call")
	w.staff = w.discord.AddRole(w.guild, "staff")
	if o.Setup != nil {
		o.Setup(w)
		extraConfig = w.opts.Config
	}
	if !strings.Contains("\n"+extraConfig, "\naccess:") {
		extraConfig += fmt.Sprintf("\naccess:\n  staff_roles: [%q]\n", w.staff)
	}
	cfg := sampleConfig(w.guild, w.channels, w.oncall, "discord") + "log:\n  level: debug\n" + extraConfig
	path := filepath.Join(t.TempDir(), "klaxon.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	db := o.DB
	if db == "" {
		db = filepath.Join(t.TempDir(), "klaxon.db")
	}
	w.dbPath = db
	vars := map[string]string{
		"KLAXON_DISCORD_TOKEN":   discordToken,
		"KLAXON_WEBHOOK_TOKEN":   webhookToken,
		"KLAXON_DB":              db,
		"KLAXON_HTTP_ADDR":       "127.0.0.1:0",
		"KLAXON_DISCORD_API_URL": w.discord.APIBase(),
	}
	for k, v := range env {
		vars[k] = v
	}
	w.getenv = func(k string) string { return vars[k] }
	c, problems := LoadConfig(path, w.getenv)
	if len(problems.Errors()) > 0 {
		t.Fatalf("config: %v", problems)
	}
	w.config = c
	w.start()
	t.Cleanup(func() {
		if err := w.main.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("klaxon log:\n%s", w.logs.String())
		}
	})
	return w
}

// start runs Klaxon on the world's configuration.
func (w *world) start() {
	w.t.Helper()
	w.main = &Main{Config: w.config, Stderr: w.logs, Clock: w.opts.Clock, Getenv: w.getenv}
	if err := w.main.Run(context.Background()); err != nil {
		w.t.Fatalf("run: %v", err)
	}
}

// restart stops Klaxon as SIGTERM would and starts it again on the same database.
func (w *world) restart() {
	w.t.Helper()
	if err := w.main.Close(); err != nil {
		w.t.Fatalf("close: %v", err)
	}
	w.start()
}

func (w *world) url(path string) string { return "http://" + w.main.Addr() + path }

func (w *world) await(what string, cond func() bool) {
	w.t.Helper()
	if !w.discord.Await(60*time.Second, cond) {
		w.t.Fatalf("timed out waiting for %s", what)
	}
}

func alertmanagerConfig(klaxonURL string) string {
	return fmt.Sprintf(`
route:
  receiver: klaxon
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: klaxon
    webhook_configs:
      - url: %s/webhook/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: %s
`, klaxonURL, webhookToken)
}

// TestEndToEndAlertmanagerToDiscord drives a real Alertmanager into a real
// Klaxon (HTTP, SQLite, engine, discordgo) and checks the fake Discord.
func TestEndToEndAlertmanagerToDiscord(t *testing.T) {
	w := newWorld(t, "", nil)
	am := amtest.Start(t, alertmanagerConfig("http://"+w.main.Addr()))
	ctx := context.Background()

	alert := amtest.Alert{
		Labels: map[string]string{"alertname": "GameServerDown", "service": "game", "instance": "eu-1", "severity": "critical"},
		Annotations: map[string]string{
			"summary":     "Game server eu-1 is down @everyone <@&" + w.oncall + "99>",
			"runbook_url": "https://wiki.marola.example/runbooks/service-down",
		},
		GeneratorURL: "http://prometheus.example/graph?g0.expr=up",
		StartsAt:     time.Now().Add(-12 * time.Minute), // as Prometheus sends it: when the rule became active
	}
	if err := am.Push(ctx, alert); err != nil {
		t.Fatal(err)
	}
	var card discordtest.Message
	w.await("the P0 card", func() bool {
		ms := w.discord.Messages(w.channels[0])
		if len(ms) == 1 {
			card = ms[0]
			return true
		}
		return false
	})
	if !strings.Contains(card.Content, "<@&"+w.oncall+">") {
		t.Errorf("card content %q does not mention the on-call role", card.Content)
	}
	am2 := card.AllowedMentions
	if am2 == nil || len(am2.Parse) != 0 || len(am2.Roles) != 1 || am2.Roles[0] != w.oncall || len(am2.Users) != 0 {
		t.Errorf("allowed_mentions = %+v, want only role %s and no parse", am2, w.oncall)
	}
	if len(card.Embeds) != 1 || !strings.Contains(card.Embeds[0].Title, "GameServerDown") || card.Embeds[0].Color != 0xE01E1E {
		t.Errorf("card embed = %+v", card.Embeds)
	}
	var runbook bool
	for _, b := range card.Buttons() {
		if b.URL == "https://wiki.marola.example/runbooks/service-down" {
			runbook = true
		}
	}
	if !runbook {
		t.Errorf("card has no runbook link button: %+v", card.Buttons())
	}
	for i := 1; i < 4; i++ {
		if n := len(w.discord.Messages(w.channels[i])); n != 0 {
			t.Errorf("channel P%d has %d messages, want 0", i, n)
		}
	}

	// Resolve: the same message is edited, green, no new message, no ping.
	alert.EndsAt = time.Now()
	if err := am.Push(ctx, alert); err != nil {
		t.Fatal(err)
	}
	w.await("the card edited to resolved", func() bool {
		m, ok := w.discord.Message(card.ID)
		return ok && len(m.Embeds) == 1 && m.Embeds[0].Color == 0x2EB67D
	})
	m, _ := w.discord.Message(card.ID)
	if n := len(w.discord.Messages(w.channels[0])); n != 1 {
		t.Errorf("P0 channel has %d messages after resolve, want the 1 card", n)
	}
	if m.AllowedMentions == nil || len(m.AllowedMentions.Roles) != 0 || len(m.AllowedMentions.Users) != 0 {
		t.Errorf("resolved edit allowed_mentions = %+v, want nobody", m.AllowedMentions)
	}
	if !strings.Contains(m.Embeds[0].Title+fieldsText(m.Embeds[0]), "Resolved") {
		t.Errorf("resolved card does not say Resolved: %+v", m.Embeds[0])
	}
	for _, r := range w.discord.Requests() {
		if r.Status == http.StatusTooManyRequests {
			t.Errorf("got a 429 on %s %s", r.Method, r.Path)
		}
	}

	// The metrics moved (after a full cycle: gauges are set at its end).
	if err := w.main.Engine.CycleAndWait(ctx); err != nil {
		t.Fatal(err)
	}
	metrics := get(t, w.url("/metrics"))
	for _, want := range []string{`klaxon_webhooks_received_total{result="accepted"}`, `klaxon_alerts{priority="P0",state="resolved"} 1`, `klaxon_discord_requests_total{code="200",route="messages.create"}`, "klaxon_engine_last_success_timestamp_seconds"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if body := get(t, w.url("/readyz")); !strings.Contains(body, "ready") {
		t.Errorf("readyz: %s", body)
	}
}

func fieldsText(e *discordgo.MessageEmbed) string {
	var b strings.Builder
	for _, f := range e.Fields {
		b.WriteString(f.Name + " " + f.Value + "\n")
	}
	if e.Description != "" {
		b.WriteString(e.Description)
	}
	return b.String()
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func postJSON(t *testing.T, url, token string, v any) *http.Response {
	t.Helper()
	body, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
