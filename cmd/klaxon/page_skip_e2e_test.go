package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/mail/mailtest"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
	"github.com/marola-rp/klaxon/store"
)

// The scenario through a real Alertmanager: a P0 that reaches people
// by phone and a P3 that reaches them by e-mail, with both providers
// configured but the on-call without a phone number or an e-mail address.
// No escalation section: both go through the default escalation derived
// from reach. Neither page waits queued forever: each is recorded as
// skipped with what to fix, shown on its card, logged at WARN, counted,
// and listed by check-config --online.
func TestSkippedPagesEndToEnd(t *testing.T) {
	fake := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Errorf("discord violation: %v", err) }})
	t.Cleanup(fake.Close)
	guild := fake.AddGuild("Marola RP")
	p0 := fake.AddChannel(guild, "alerts-p0", discordgo.ChannelTypeGuildText)
	p3 := fake.AddChannel(guild, "alerts-p3", discordgo.ChannelTypeGuildText)
	anna := fake.AddUser("anna")
	fake.AddMember(guild, anna)
	twilio := phonetest.New(t)
	smtp := mailtest.New(t, mailtest.Options{})

	dir := t.TempDir()
	cfgPath, dbPath := filepath.Join(dir, "klaxon.yaml"), filepath.Join(dir, "klaxon.db")
	writeFile(t, cfgPath, fmt.Sprintf(`
discord:
  guild_id: %q
priorities:
  P0: {channel: %q, ack_within: 15m, reach: [discord, phone]}
  P3: {channel: %q, ack_within: 24h, reach: [discord, email]}
engine:
  interval: 200ms
log:
  level: debug
schedules:
  - name: primary
    time_zone: UTC
    rotation: weekly
    handoff: "09:00"
    start: "2026-01-05"
    participants: [%q]
users:
  %q: {name: Anna}
phone:
  base_url: %s
  account_sid: %s
  from: "+15550109999"
  public_url: http://127.0.0.1:1
email:
  host: %s
  port: %d
  from: "Klaxon <klaxon@marola.example>"
  starttls: "off"
`, guild, p0, p3, anna, anna, twilio.URL, twilio.AccountSID, smtp.Host, smtp.Port))
	env := map[string]string{
		"KLAXON_DISCORD_TOKEN": discordToken, "KLAXON_WEBHOOK_TOKEN": webhookToken, "KLAXON_DB": dbPath,
		"KLAXON_HTTP_ADDR": "127.0.0.1:0", "KLAXON_DISCORD_API_URL": fake.APIBase(), "KLAXON_DISCORD_GATEWAY": "off",
		"KLAXON_TWILIO_AUTH_TOKEN": twilio.AuthToken,
	}
	getenv := func(k string) string { return env[k] }
	cfg, problems := LoadConfig(cfgPath, getenv)
	if len(problems.Errors()) > 0 {
		t.Fatalf("config: %v", problems)
	}
	logs := &syncBuffer{}
	m := &Main{Config: cfg, Stderr: logs}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed := false
	closeMain := func() {
		if !closed {
			closed = true
			if err := m.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		}
	}
	t.Cleanup(func() {
		closeMain()
		if t.Failed() {
			t.Logf("klaxon log:\n%s", logs.String())
		}
	})
	if !m.Paging.CanReach(bot.ViaPhone) || !m.Paging.CanReach(bot.ViaEmail) {
		t.Fatalf("wiring: Paging.Channels = %v, want phone and email (both configured)", m.Paging.Channels)
	}

	skippedBefore := map[bot.Via]float64{}
	for _, via := range []bot.Via{bot.ViaPhone, bot.ViaEmail} {
		skippedBefore[via] = testutil.ToFloat64(m.Metrics.Pages.WithLabelValues(string(via), "skipped"))
	}
	am := amtest.Start(t, alertmanagerConfig("http://"+m.Addr()))
	ctx := context.Background()
	for _, a := range []amtest.Alert{
		{Labels: map[string]string{"alertname": "GameServerDown", "service": "game", "severity": "critical"}},
		{Labels: map[string]string{"alertname": "PlayersOnlineLow", "service": "game", "severity": "info"}},
	} {
		a.StartsAt = time.Now().Add(-time.Minute)
		if err := am.Push(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	notes := map[string]string{
		p0: "phone page not sent: <@" + anna + "> has no phone number in users: (add their phone: in E.164, e.g. +491510000001)",
		p3: "e-mail page not sent: <@" + anna + "> has no e-mail address in users: (add their email: address)",
	}
	for ch, note := range notes {
		ok := fake.Await(60*time.Second, func() bool {
			for _, msg := range fake.Messages(ch) {
				for _, e := range msg.Embeds {
					if strings.Contains(fieldsText(e), "Paging problems "+note) {
						return true
					}
				}
			}
			return false
		})
		if !ok {
			t.Fatalf("no card in %s shows %q; messages: %+v", ch, note, fake.Messages(ch))
		}
	}
	if err := m.Engine.CycleAndWait(ctx); err != nil {
		t.Fatal(err)
	}
	for via, before := range skippedBefore {
		if d := testutil.ToFloat64(m.Metrics.Pages.WithLabelValues(string(via), "skipped")) - before; d != 1 {
			t.Errorf("klaxon_pages_total{channel=%q,result=\"skipped\"} rose by %v, want 1", via, d)
		}
	}
	if body := get(t, "http://"+m.Addr()+"/metrics"); !strings.Contains(body, `klaxon_pages_total{channel="phone",result="skipped"}`) {
		t.Error("/metrics lacks klaxon_pages_total{result=\"skipped\"}")
	}
	for _, want := range []string{`"level":"WARN","msg":"page skipped"`, `"via":"phone","user":"` + anna + `"`, `"via":"email","user":"` + anna + `"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if n := len(twilio.Calls()); n != 0 {
		t.Errorf("%d calls placed", n)
	}
	closeMain()

	// Nothing is left queued, and check-config --online lists both.
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Paging().View(ctx, func(tx paging.Tx) error {
		for _, via := range []bot.Via{bot.ViaPhone, bot.ViaEmail} {
			q, err := tx.QueuedPages(via, 10)
			if err != nil {
				return err
			}
			if len(q) != 0 {
				t.Errorf("%d %s pages still queued: %+v", len(q), via, q)
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"check-config", "--online", "--config", cfgPath}, getenv, &out, &errb); code != 0 {
		t.Fatalf("check-config --online exit %d:\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{
		"warning: phone page ",
		"was skipped: user " + anna + " has no phone number in users: (add their phone: in E.164, e.g. +491510000001)",
		"was skipped: user " + anna + " has no e-mail address in users: (add their email: address)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check-config --online lacks %q:\n%s", want, out.String())
		}
	}
}

// Without phone: and email: sections nothing is wired for them, and Paging
// knows it.
func TestWiringWithoutProviders(t *testing.T) {
	w := newWorld(t, "", map[string]string{"KLAXON_DISCORD_GATEWAY": "off"})
	if w.main.Paging.CanReach(bot.ViaPhone) || w.main.Paging.CanReach(bot.ViaEmail) {
		t.Errorf("Paging.Channels = %v, want neither phone nor email", w.main.Paging.Channels)
	}
	if !w.main.Paging.CanReach(bot.ViaMention) || !w.main.Paging.CanReach(bot.ViaDM) {
		t.Error("mention and dm must always be reachable")
	}
	for _, j := range w.main.Engine.Jobs {
		if name := j.Name(); name == "phone" || name == "email" {
			t.Errorf("job %s runs without its provider", name)
		}
	}
}
