//go:build demo

// `klaxon demo` is built only with the demo build tag (go run -tags demo
// ./cmd/klaxon demo): it links the fake Discord and its embedded API spec,
// which the production binary must not carry. demo_off.go is the stub.

package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
)

// demoDiscordToken is the only token the demo's fake Discord accepts.
const demoDiscordToken = "klaxon-demo-token"

// demoTimeout bounds every wait of the demo: it normally finishes in seconds.
const demoTimeout = 30 * time.Second

// demoCmd runs `klaxon demo`: the real pipeline (the Main that `klaxon serve`
// runs) against the built-in fake Discord, with sample alerts fired and
// resolved through the real webhook handler, printing a transcript of
// everything Klaxon posts, edits and pages.
func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "preview this configuration: its channels, roles and users are recreated on the fake Discord")
	dbPath := fs.String("db", "", "database file (default: a temporary one, removed afterwards)")
	storm := fs.Int("storm", 30, "fire N low-priority alerts at once, to show the storm digest (0: no storm)")
	noColor := fs.Bool("no-color", false, "plain output, even on a terminal")
	verbose := fs.Bool("verbose", false, "also print Klaxon's own logs (JSON) on stderr")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if *storm < 0 || *storm > 2000 {
		fmt.Fprintln(stderr, "demo: --storm must be between 0 and 2000")
		return 2
	}
	d := &demo{
		out:     stdout,
		stderr:  stderr,
		color:   !*noColor && getenv("NO_COLOR") == "" && isTerminal(stdout),
		names:   map[string]string{},
		groups:  map[string]int64{},
		verbose: *verbose,
		logs:    &demoLog{},
		start:   time.Now(),
	}
	if *verbose {
		d.logs.tee = stderr
	}
	err := d.run(ctx, *configPath, *dbPath, *storm)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "demo: interrupted")
		return 130
	default:
		fmt.Fprintf(stderr, "demo: %v\n", err)
		if !*verbose {
			if tail := d.logs.tail(20); tail != "" {
				fmt.Fprintf(stderr, "last Klaxon log lines:\n%s", tail)
			}
		}
		return 1
	}
}

// demo is one run of `klaxon demo`.
type demo struct {
	out, stderr io.Writer
	color       bool
	verbose     bool
	start       time.Time
	logs        *demoLog

	fake     *discordtest.Server
	tr       *discordtest.Transcript // prints what the fake Discord receives
	phone    *phonetest.Server       // records phone calls
	main     *Main
	hook     string // webhook URL
	token    string // webhook token
	guild    string
	channels [4]string          // fake channel per priority ("" when the priority posts nowhere)
	names    map[string]string  // fake role/user id → display name, for the transcript
	groups   map[string]int64   // alertname → Klaxon's alert group id (the webhook's answer)
	priv     ed25519.PrivateKey // signs the demo's interactions (a click on a card)
	// responder is the user who acknowledges the P0 card ("" when the
	// configuration names nobody who may: an operator's configuration).
	responder string
	sections  int // the last section's number

	mu        sync.Mutex // guards the calls counters (flush runs inside WaitFor conditions)
	callsSeen int
	calls     int
}

func (d *demo) run(ctx context.Context, configPath, dbPath string, storm int) error {
	d.fake = discordtest.New(discordtest.Options{Token: demoDiscordToken, OnViolation: func(error) {}})
	defer d.fake.Close()
	d.tr = discordtest.NewTranscript(d.fake, d.out, discordtest.TranscriptOptions{
		Color: d.color, Verbose: d.verbose, Start: d.start, EmbedColors: embedColors})
	d.phone = phonetest.NewServer()
	defer d.phone.Close()

	tmp, err := os.MkdirTemp("", "klaxon-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if dbPath == "" {
		dbPath = filepath.Join(tmp, "klaxon.db")
	} else if _, err := os.Stat(dbPath); err == nil {
		return fmt.Errorf("--db %s already exists: the demo needs a new database file (its fake Discord starts empty every time); name a file that does not exist yet", dbPath)
	}
	d.token = randomToken()

	d.title("Klaxon demo — the real pipeline (webhook → SQLite → engine → Discord REST) against a built-in fake Discord")
	var path string
	if configPath == "" {
		path, err = d.builtinConfig(tmp)
	} else {
		path, err = d.mapConfig(configPath, tmp)
	}
	if err != nil {
		return err
	}
	env := map[string]string{
		"KLAXON_DISCORD_TOKEN":     demoDiscordToken,
		"KLAXON_WEBHOOK_TOKEN":     d.token,
		"KLAXON_DB":                dbPath,
		"KLAXON_HTTP_ADDR":         "127.0.0.1:0",
		"KLAXON_DISCORD_API_URL":   d.fake.APIBase(),
		"KLAXON_DISCORD_GATEWAY":   "off",
		"KLAXON_TWILIO_AUTH_TOKEN": d.phone.AuthToken,
	}
	cfg, problems := LoadConfig(path, func(k string) string { return env[k] })
	if len(problems.Errors()) > 0 {
		return fmt.Errorf("the configuration has errors (klaxon check-config shows them with the original line numbers):\n%s", problems.Errors().Error())
	}
	for _, p := range problems {
		d.note("config " + strings.TrimPrefix(p.String(), path+": "))
	}
	d.sandbox(cfg)
	for id, name := range d.names {
		d.tr.SetName(id, name)
	}
	for i, r := range cfg.routes() {
		if r != nil && r.Channel != "" {
			d.channels[i] = r.Channel
		}
	}

	d.main = &Main{Config: cfg, Stderr: d.logs}
	if err := d.main.Run(ctx); err != nil {
		d.main.Close()
		return fmt.Errorf("start: %w", err)
	}
	defer d.main.Close()
	d.hook = "http://" + d.main.Addr() + "/webhook/alertmanager"
	d.line(d.dim(fmt.Sprintf("Klaxon is serving on %s; database %s", d.main.Addr(), dbPath)))
	d.blank()

	samples := demoSamples()
	d.section("Alertmanager sends three alerts: each becomes a card, the P0 card pages the on-call (mention, DM, phone)")
	for _, s := range samples {
		if err := d.send(ctx, s, "firing"); err != nil {
			return err
		}
	}
	for _, s := range samples {
		if err := d.awaitCard(ctx, s.name, func(m discordtest.Message) bool { return true }); err != nil {
			return err
		}
	}
	if err := d.settle(ctx); err != nil {
		return err
	}

	p0 := samples[0]
	if d.channels[bot.P0] != "" && d.autoOpensP0(cfg) {
		d.section("The P0 alert opens an incident: a thread on its card, with a pinned summary Klaxon keeps up to date")
		if err := d.awaitIncidentThread(ctx, d.groups[p0.name]); err != nil {
			return err
		}
	}

	if d.channels[bot.P0] != "" && d.responder != "" {
		d.section(fmt.Sprintf("@%s acknowledges the P0 card: the escalation stops", d.names[d.responder]))
		if err := d.acknowledge(ctx, p0); err != nil {
			return err
		}
		if err := d.settle(ctx); err != nil {
			return err
		}
	}

	if storm > 0 {
		d.section(fmt.Sprintf("An alert storm: %d low-priority alerts at once become one digest", storm))
		for i := range storm {
			s := sample{name: fmt.Sprintf("ShardLagging%04d", i+1), priority: "P3", severity: "info",
				labels:      map[string]string{"service": "shards", "instance": fmt.Sprintf("shard-%d", i+1)},
				annotations: map[string]string{"summary": fmt.Sprintf("Shard %d is lagging", i+1)}}
			if err := d.send(ctx, s, "firing"); err != nil {
				return err
			}
			samples = append(samples, s)
		}
		if ch := d.channels[bot.P3]; ch != "" && storm > 10 {
			if err := d.wait(ctx, "the storm digest", func() bool {
				for _, m := range d.fake.Messages(ch) {
					if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "Alert storm") {
						return true
					}
				}
				return false
			}); err != nil {
				return err
			}
		}
		if err := d.settle(ctx); err != nil {
			return err
		}
	}

	d.section("The alerts resolve: the cards turn green")
	for _, s := range samples {
		if err := d.send(ctx, s, "resolved"); err != nil {
			return err
		}
	}
	for _, s := range samples[:3] {
		if err := d.awaitCard(ctx, s.name, func(m discordtest.Message) bool {
			return len(m.Embeds) > 0 && m.Embeds[0].Color == discord.ColorResolved
		}); err != nil {
			return err
		}
	}
	if err := d.settle(ctx); err != nil {
		return err
	}
	d.flush()

	d.blank()
	st := d.tr.Stats()
	d.title("Done")
	d.line(fmt.Sprintf("%d messages posted, %d edits, %d threads, %d DMs, %d phone calls; %d requests paced by Discord's rate limits (429)",
		st.Posts, st.Edits, st.Threads, st.DMs, d.calls, st.Limited))
	if st.Violations == 0 {
		d.line("Every request passed the fake Discord's checks (API schema, limits, rate limits).")
	}
	d.line(d.dim("Nothing was sent to the real Discord, to a phone or by e-mail. Run `klaxon demo --config klaxon.yaml` to preview your own configuration."))
	return nil
}

// builtinConfig creates a guild with an on-call role, two people, a channel
// per priority, and writes a configuration that pages the on-call by
// mention, DM and phone for P0.
func (d *demo) builtinConfig(dir string) (string, error) {
	d.guild = d.fake.AddGuild("Marola RP")
	var ch [4]string
	for i := range ch {
		ch[i] = d.fake.AddChannel(d.guild, fmt.Sprintf("alerts-p%d", i), discordgo.ChannelTypeGuildText)
	}
	oncall := d.fake.AddRole(d.guild, "on-call")
	leads := d.fake.AddRole(d.guild, "leads")
	anna := d.fake.AddUser("anna")
	bob := d.fake.AddUser("bob")
	d.fake.AddMember(d.guild, anna, oncall)
	d.fake.AddMember(d.guild, bob, leads)
	d.names[oncall], d.names[leads], d.names[anna], d.names[bob] = "on-call", "leads", "anna", "bob"
	d.responder = anna
	d.line(d.dim("Fake Discord: guild “Marola RP”, channels #alerts-p0…#alerts-p3, role @on-call (anna is on call), role @leads (bob)."))
	cfg := sampleConfig(d.guild, ch, oncall, "discord", "phone") + fmt.Sprintf(`schedules:
  - name: primary
    time_zone: UTC
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
phone:
  base_url: %s
  account_sid: ACdemo
  from: "+15550109999"
  public_url: http://127.0.0.1
access:
  staff_roles: [%q, %q]
  incident: [%q]
  admin: [%q]
`, anna, anna, bob, leads, d.phone.URL, oncall, leads, leads, leads)
	path := filepath.Join(dir, "klaxon.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}
