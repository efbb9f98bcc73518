package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"gopkg.in/yaml.v3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/phone"
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
	storm := fs.Int("storm", 0, "also fire N low-priority alerts at once, to show the storm digest")
	noColor := fs.Bool("no-color", false, "plain output, even on a terminal")
	verbose := fs.Bool("verbose", false, "also print Klaxon's own logs (JSON) on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
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
		labels:  map[string]string{},
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
	phone    *demoPhone
	main     *Main
	hook     string // webhook URL
	token    string // webhook token
	guild    string
	channels [4]string         // fake channel per priority ("" when the priority posts nowhere)
	names    map[string]string // fake role/user id → display name
	labels   map[string]string // fake message id → "msg #n"

	mu         sync.Mutex // guards the counters below (flush runs inside WaitFor conditions)
	seen       int        // requests printed
	callsSeen  int
	violations int
	stats      struct{ posts, edits, dms, threads, calls, limited int }
}

// sample is one demo alert.
type sample struct {
	name, priority, severity string
	labels, annotations      map[string]string
}

func demoSamples() []sample {
	return []sample{
		{name: "GameServerDown", priority: "P0", severity: "critical",
			labels: map[string]string{"service": "game", "instance": "eu-1"},
			annotations: map[string]string{
				"summary":     "Game server eu-1 is down",
				"description": "up{job=\"game\",instance=\"eu-1\"} has been 0 for 1 minute: players cannot connect.",
				"runbook_url": "https://wiki.marola.example/runbooks/service-down",
			}},
		{name: "HighCPU", priority: "P2", severity: "warning",
			labels: map[string]string{"service": "web", "instance": "web-2"},
			annotations: map[string]string{
				"summary":     "CPU above 80 % on web-2",
				"description": "CPU usage has been 91 % for 10 minutes.",
			}},
		{name: "PlayersOnlineLow", priority: "P3", severity: "info",
			labels: map[string]string{"service": "game"},
			annotations: map[string]string{
				"summary":     "Fewer than 100 players online",
				"description": "42 players online (threshold 100).",
			}},
	}
}

func (d *demo) run(ctx context.Context, configPath, dbPath string, storm int) error {
	d.fake = discordtest.New(discordtest.Options{Token: demoDiscordToken, OnViolation: func(error) {}})
	defer d.fake.Close()
	d.phone = newDemoPhone()
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
		"KLAXON_TWILIO_AUTH_TOKEN": "demo",
	}
	cfg, problems := LoadConfig(path, func(k string) string { return env[k] })
	if len(problems.Errors()) > 0 {
		return fmt.Errorf("the configuration has errors (klaxon check-config shows them with the original line numbers):\n%s", problems.Errors().Error())
	}
	for _, p := range problems {
		d.note("config " + strings.TrimPrefix(p.String(), path+": "))
	}
	d.sandbox(cfg)
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
	d.title("1. Alertmanager sends three alerts")
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

	if storm > 0 {
		d.blank()
		d.title(fmt.Sprintf("2. An alert storm: %d low-priority alerts at once", storm))
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

	d.blank()
	d.title("3. The alerts resolve")
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
	st := d.stats
	d.title("Done")
	d.line(fmt.Sprintf("%d messages posted, %d edits, %d threads, %d DMs, %d phone calls; %d requests paced by Discord's rate limits (429)",
		st.posts, st.edits, st.threads, st.dms, st.calls, st.limited))
	if d.violations == 0 {
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
	d.line(d.dim("Fake Discord: guild “Marola RP”, channels #alerts-p0…#alerts-p3, role @on-call (anna is on call), role @leads (bob)."))
	cfg := fmt.Sprintf(`discord:
  guild_id: %q
priorities:
  P0: {channel: %q, mention_roles: [%q], ack_within: 15m, reach: [discord, phone]}
  P1: {channel: %q, mention_roles: [%q], ack_within: 30m}
  P2: {channel: %q, ack_within: 2h}
  P3: {channel: %q, ack_within: 24h}
engine:
  interval: 200ms
schedules:
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
`, d.guild, ch[0], oncall, ch[1], oncall, ch[2], ch[3], anna, anna, bob, leads, d.phone.URL(), oncall, leads, leads, leads)
	path := filepath.Join(dir, "klaxon.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// idPattern is what a Discord id looks like in a configuration.
var idPattern = regexp.MustCompile(`^[0-9]{15,20}$`)
var idToken = regexp.MustCompile(`\b[0-9]{15,20}\b`)

// mapConfig recreates the channels, roles and users an operator's
// configuration names on the fake Discord. The fake chooses its own ids, so
// the configuration is rewritten: every id is replaced by the fake's.
func (d *demo) mapConfig(path, dir string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return "", fmt.Errorf("%s: %v (klaxon check-config --config %s says more)", path, err, path)
	}
	type found struct{ kind, where string }
	ids := map[string]*found{}
	var order []string
	add := func(id, kind, where string) {
		if ids[id] == nil {
			ids[id] = &found{kind: kind, where: where}
			order = append(order, id)
		}
	}
	userNames := map[string]string{}
	var walk func(n *yaml.Node, keys []string)
	walk = func(n *yaml.Node, keys []string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, keys)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				path := append(append([]string{}, keys...), k.Value)
				if idPattern.MatchString(k.Value) { // users: {"123…": {name: …}}
					add(k.Value, idKind(path), strings.Join(keys, "."))
					if v.Kind == yaml.MappingNode {
						for j := 0; j+1 < len(v.Content); j += 2 {
							if v.Content[j].Value == "name" {
								userNames[k.Value] = v.Content[j+1].Value
							}
						}
					}
				}
				walk(v, path)
			}
		case yaml.ScalarNode:
			if idPattern.MatchString(n.Value) {
				add(n.Value, idKind(keys), strings.Join(keys, "."))
			}
		}
	}
	walk(&root, nil)

	guildName := "Demo guild"
	for _, id := range order {
		if ids[id].kind == "guild" {
			guildName = "guild " + short(id)
		}
	}
	d.guild = d.fake.AddGuild(guildName)
	repl := map[string]string{}
	d.line(d.dim(fmt.Sprintf("Previewing %s. The fake Discord chooses its own ids, so each id of the configuration is", path)))
	d.line(d.dim("recreated on it and the configuration is rewritten to use the fake's id:"))
	for _, id := range order {
		f := ids[id]
		var fake, name string
		switch f.kind {
		case "guild":
			fake, name = d.guild, guildName
		case "skip":
			continue
		case "channel":
			name = channelName(f.where, id)
			fake = d.fake.AddChannel(d.guild, name, discordgo.ChannelTypeGuildText)
			name = "#" + name
		case "role":
			name = "role-" + short(id)
			fake = d.fake.AddRole(d.guild, name)
			d.names[fake] = name
			name = "@" + name
		default:
			name = userNames[id]
			if name == "" {
				name = "user-" + short(id)
			}
			name = strings.ToLower(strings.ReplaceAll(name, " ", "-"))
			fake = d.fake.AddUser(name)
			d.fake.AddMember(d.guild, fake)
			d.names[fake] = name
			name = "@" + name
		}
		repl[id] = fake
		d.line(d.dim(fmt.Sprintf("  %-8s %s (%s) → %s", f.kind, id, f.where, name)))
	}
	// Give members the roles they would need to be pinged by a role mention:
	// nothing more is known about the operator's guild.
	out := idToken.ReplaceAllStringFunc(string(data), func(s string) string {
		if r, ok := repl[s]; ok {
			return r
		}
		return s
	})
	p := filepath.Join(dir, "klaxon.yaml")
	return p, os.WriteFile(p, []byte(out), 0o600)
}

// idKind classifies an id by the configuration keys it is found under.
func idKind(keys []string) string {
	if len(keys) == 0 {
		return "user"
	}
	last := strings.ToLower(keys[len(keys)-1])
	all := strings.ToLower(strings.Join(keys, "."))
	switch {
	case last == "guild_id":
		return "guild"
	case last == "application_id":
		return "skip"
	case strings.Contains(last, "channel"):
		return "channel"
	case strings.Contains(last, "role") || strings.HasPrefix(all, "permissions.") || strings.HasPrefix(all, "access."):
		return "role"
	}
	return "user"
}

// channelName names a recreated channel after where the configuration uses it.
func channelName(where, id string) string {
	parts := strings.Split(where, ".")
	if len(parts) >= 2 && parts[0] == "priorities" {
		return "alerts-" + strings.ToLower(parts[1])
	}
	if parts[0] != "" {
		return strings.ToLower(strings.ReplaceAll(parts[0], "_", "-")) + "-" + short(id)
	}
	return "channel-" + short(id)
}

func short(id string) string {
	if len(id) > 4 {
		return id[len(id)-4:]
	}
	return id
}

// sandbox keeps the demo from reaching anything real: phone calls go to the
// demo's recorder, e-mail, Alertmanager silences and the calendar's jobs
// (reminders, reports, backups into the operator's folders) are off.
func (d *demo) sandbox(cfg *Config) {
	if cfg.Phone.AccountSID != "" {
		cfg.Phone.BaseURL = d.phone.URL()
	}
	if cfg.Email.Host != "" {
		d.note("e-mail is not sent in the demo (email.host ignored)")
		cfg.Email.Host = ""
	}
	if cfg.Alertmanager.URL != "" {
		d.note("Alertmanager silences are off in the demo (alertmanager.url ignored)")
		cfg.Alertmanager.URL = ""
	}
	if cfg.calendar != nil {
		d.note("reminders, reports and backups do not run in the demo")
		cfg.calendar = nil
	}
	cfg.Interactions.PublicKey = ""
	cfg.Log = LogConfig{Level: "debug"}
	if time.Duration(cfg.Engine.Interval) > time.Second || cfg.Engine.Interval == 0 {
		cfg.Engine.Interval = Duration(200 * time.Millisecond)
	}
}

// send posts one alert to Klaxon's webhook as Alertmanager would.
func (d *demo) send(ctx context.Context, s sample, status string) error {
	d.flush()
	labels := map[string]string{"alertname": s.name, "severity": s.severity, "priority": s.priority}
	for k, v := range s.labels {
		labels[k] = v
	}
	start := d.start.Add(-2 * time.Minute).UTC()
	end := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		end = time.Now().UTC().Format(time.RFC3339Nano)
	}
	body, _ := json.Marshal(map[string]any{
		"version": "4", "groupKey": `{}:{alertname="` + s.name + `"}`, "status": status, "receiver": "klaxon",
		"groupLabels": map[string]string{"alertname": s.name}, "commonLabels": labels, "commonAnnotations": s.annotations,
		"externalURL": "http://alertmanager.example:9093",
		"alerts": []map[string]any{{"status": status, "labels": labels, "annotations": s.annotations,
			"startsAt": start.Format(time.RFC3339Nano), "endsAt": end, "fingerprint": fingerprint(s.name)}},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.hook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	var ans struct {
		Status  string `json:"status"`
		GroupID int64  `json:"group_id"`
		Error   string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&ans)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook for %s answered %s: %s", s.name, resp.Status, ans.Error)
	}
	word := d.paint(priorityColor(s.priority), s.priority)
	if status == "resolved" {
		word = d.paint(green, "resolved")
	}
	d.line(fmt.Sprintf("%s %s %s %s %s", d.stamp(), d.paint(bold, "Alertmanager → Klaxon"), word, s.name,
		d.dim(fmt.Sprintf("(200 %s, group %d)", ans.Status, ans.GroupID))))
	return nil
}

func fingerprint(name string) string {
	h := uint64(14695981039346656037)
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

// awaitCard waits until the card of alertname in its priority's channel
// satisfies ok, printing the transcript meanwhile. Priorities that post
// nowhere are skipped.
func (d *demo) awaitCard(ctx context.Context, alertname string, ok func(discordtest.Message) bool) error {
	var channel string
	for _, s := range demoSamples() {
		if s.name == alertname {
			p, _ := bot.ParsePriority(s.priority)
			channel = d.channels[p]
		}
	}
	if channel == "" {
		return nil
	}
	return d.wait(ctx, "the "+alertname+" card", func() bool {
		for _, m := range d.fake.Messages(channel) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, alertname) && ok(m) {
				return true
			}
		}
		return false
	})
}

// wait prints the transcript as the fake Discord changes, until cond holds.
func (d *demo) wait(ctx context.Context, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	err := d.fake.WaitFor(ctx, func() bool {
		d.flush()
		return cond()
	})
	d.flush()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("timed out after %s waiting for %s", demoTimeout, what)
		}
		return err
	}
	return nil
}

// settle runs engine cycles until the outbox is empty, so that pages and
// follow-up messages are in the transcript before the next step. When a
// cycle sends nothing, what is left waits for Discord's rate limits: the
// engine's own loop sends it, and settle waits for the fake to see it.
func (d *demo) settle(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	for {
		before := len(d.fake.Requests())
		if err := d.main.Engine.CycleAndWait(sctx); err != nil && sctx.Err() != nil {
			break
		}
		d.flush()
		var depth int
		if err := d.main.DB.View(ctx, func(tx bot.Tx) (err error) { depth, _, _, err = tx.QueueStats(); return err }); err != nil {
			return err
		}
		if depth == 0 {
			return nil
		}
		if len(d.fake.Requests()) > before {
			continue
		}
		wctx, wcancel := context.WithTimeout(sctx, 10*time.Second)
		err := d.fake.WaitFor(wctx, func() bool {
			reqs, seen := d.fake.Requests(), d.seenCount()
			return len(reqs) > seen && reqs[seen].Status != 0
		})
		wcancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d.note(fmt.Sprintf("%d deliveries are still queued (scheduled for later, or waiting for Discord)", depth))
			return nil
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (d *demo) seenCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen
}

// ---- transcript ----

// event is one line group of the transcript, from the fake Discord or the phone recorder.
type event struct {
	at    time.Time
	print func()
}

// flush prints the requests and phone calls that arrived since the last flush.
func (d *demo) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	reqs := d.fake.Requests()
	calls := d.phone.Calls()
	var evs []event
	for _, r := range reqs[min(d.seen, len(reqs)):] {
		if r.Status == 0 {
			break // still in flight: printed once answered, in order
		}
		evs = append(evs, event{r.Time, func() { d.request(r) }})
		d.seen++
	}
	for _, c := range calls[min(d.callsSeen, len(calls)):] {
		evs = append(evs, event{c.at, func() { d.call(c) }})
	}
	d.callsSeen = len(calls)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	for _, e := range evs {
		e.print()
	}
	if v := d.fake.Violations(); len(v) > d.violations {
		for _, err := range v[d.violations:] {
			d.line(d.paint(red, "  ⚠ the real Discord would reject this: "+err.Error()))
		}
		d.violations = len(v)
	}
}

// msgPayload is the part of a message create/edit body the transcript shows.
type msgPayload struct {
	Content         *string                           `json:"content"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds"`
	Components      json.RawMessage                   `json:"components"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Name            string                            `json:"name"` // threads
	Attachments     []struct {
		Filename string `json:"filename"`
	} `json:"attachments"`
	files []string // uploaded file names (multipart)
}

var (
	reMessages = regexp.MustCompile(`^/channels/(\d+)/messages$`)
	reMessage  = regexp.MustCompile(`^/channels/(\d+)/messages/(\d+)$`)
	reThread   = regexp.MustCompile(`^/channels/(\d+)/(?:messages/(\d+)/)?threads$`)
	reReaction = regexp.MustCompile(`^/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me$`)
)

// request prints one request the fake Discord received.
func (d *demo) request(r discordtest.Request) {
	if r.Status == http.StatusTooManyRequests {
		d.stats.limited++
		d.line(fmt.Sprintf("%s %s", d.stampAt(r.Time), d.dim(fmt.Sprintf("⏳ rate limited on %s %s: Klaxon waits and retries", r.Method, r.Route))))
		return
	}
	if r.Status >= 300 {
		d.line(fmt.Sprintf("%s %s", d.stampAt(r.Time), d.paint(red, fmt.Sprintf("✗ %s %s answered %d", r.Method, r.Path, r.Status))))
		return
	}
	switch {
	case r.Method == http.MethodPost && reMessages.MatchString(r.Path):
		ch := reMessages.FindStringSubmatch(r.Path)[1]
		p := parsePayload(r)
		label := d.labelCreated(ch)
		where, dm := d.channelName(ch)
		verb := "posts"
		if dm {
			d.stats.dms++
			verb = "sends a DM"
		} else {
			d.stats.posts++
		}
		d.line(fmt.Sprintf("%s %s %s %s", d.stampAt(r.Time), d.paint(cyan+bold, where), d.paint(bold, verb), d.dim(label)))
		d.message(p)
	case r.Method == http.MethodPatch && reMessage.MatchString(r.Path):
		sm := reMessage.FindStringSubmatch(r.Path)
		p := parsePayload(r)
		d.stats.edits++
		where, _ := d.channelName(sm[1])
		label := d.labels[sm[2]]
		if label == "" {
			label = "message " + sm[2]
		}
		d.line(fmt.Sprintf("%s %s %s %s", d.stampAt(r.Time), d.paint(cyan+bold, where), d.paint(bold, "edits"), label))
		d.message(p)
	case r.Method == http.MethodPost && reThread.MatchString(r.Path):
		sm := reThread.FindStringSubmatch(r.Path)
		p := parsePayload(r)
		d.stats.threads++
		where, _ := d.channelName(sm[1])
		on := ""
		if sm[2] != "" && d.labels[sm[2]] != "" {
			on = " on " + d.labels[sm[2]]
		}
		d.line(fmt.Sprintf("%s %s %s “%s”%s", d.stampAt(r.Time), d.paint(cyan+bold, where), d.paint(bold, "opens a thread"), p.Name, on))
	case r.Method == http.MethodPut && reReaction.MatchString(r.Path):
		sm := reReaction.FindStringSubmatch(r.Path)
		where, _ := d.channelName(sm[1])
		d.line(fmt.Sprintf("%s %s reacts %s to %s", d.stampAt(r.Time), d.paint(cyan+bold, where), unescapePath(sm[3]), d.labels[sm[2]]))
	case r.Method == http.MethodDelete && reMessage.MatchString(r.Path):
		sm := reMessage.FindStringSubmatch(r.Path)
		where, _ := d.channelName(sm[1])
		d.line(fmt.Sprintf("%s %s deletes %s", d.stampAt(r.Time), d.paint(cyan+bold, where), d.labels[sm[2]]))
	case r.Method == http.MethodPost && r.Path == "/users/@me/channels":
		var body struct {
			Recipient string `json:"recipient_id"`
		}
		json.Unmarshal(r.Body, &body)
		d.line(fmt.Sprintf("%s %s", d.stampAt(r.Time), d.dim("opens a DM with @"+d.name(body.Recipient))))
	default:
		if d.verbose {
			d.line(fmt.Sprintf("%s %s", d.stampAt(r.Time), d.dim(fmt.Sprintf("%s %s → %d", r.Method, r.Path, r.Status))))
		}
	}
}

// labelCreated gives the message a create request made a short label: it is
// the oldest message of the channel without one (flush runs on every change).
func (d *demo) labelCreated(channel string) string {
	for _, m := range d.fake.Messages(channel) {
		if _, ok := d.labels[m.ID]; ok {
			continue
		}
		l := fmt.Sprintf("msg #%d", len(d.labels)+1)
		d.labels[m.ID] = l
		return l
	}
	return ""
}

func parsePayload(r discordtest.Request) msgPayload {
	var p msgPayload
	body := r.Body
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		body = nil
		mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "payload_json" {
				body, _ = io.ReadAll(part)
			} else if part.FileName() != "" {
				p.files = append(p.files, part.FileName())
			}
		}
	}
	json.Unmarshal(body, &p)
	return p
}

// message prints a message body: content with mentions resolved, embeds, buttons, who is pinged.
func (d *demo) message(p msgPayload) {
	const ind = "      "
	if p.Content != nil && *p.Content != "" {
		for _, l := range strings.Split(d.mentions(*p.Content), "\n") {
			d.line(ind + l)
		}
	}
	for _, e := range p.Embeds {
		bar := d.paint(embedColor(e.Color), "┃")
		d.line(fmt.Sprintf("%s%s %s %s", ind, bar, d.paint(embedColor(e.Color), "["+colorWord(e.Color)+"]"), d.paint(bold, d.mentions(e.Title))))
		if e.URL != "" {
			d.line(fmt.Sprintf("%s%s %s", ind, bar, d.dim(e.URL)))
		}
		if e.Description != "" {
			for _, l := range strings.Split(d.mentions(e.Description), "\n") {
				d.line(fmt.Sprintf("%s%s %s", ind, bar, l))
			}
		}
		for _, f := range e.Fields {
			lines := strings.Split(d.mentions(f.Value), "\n")
			d.line(fmt.Sprintf("%s%s %s %s", ind, bar, d.paint(bold, f.Name+":"), lines[0]))
			for _, l := range lines[1:] {
				d.line(fmt.Sprintf("%s%s   %s", ind, bar, l))
			}
		}
		if e.Footer != nil && e.Footer.Text != "" {
			d.line(fmt.Sprintf("%s%s %s", ind, bar, d.dim(e.Footer.Text)))
		}
	}
	if bs := discordtest.ComponentButtons(p.Components); len(bs) > 0 {
		var parts []string
		for _, b := range bs {
			s := "[" + b.Label + "]"
			if b.URL != "" {
				s = "[" + b.Label + " ↗ " + b.URL + "]"
			}
			if b.Disabled {
				s += "(disabled)"
			}
			parts = append(parts, s)
		}
		d.line(ind + d.paint(magenta, "buttons: "+strings.Join(parts, " ")))
	} else if p.Components != nil && string(p.Components) == "[]" {
		d.line(ind + d.dim("buttons removed"))
	}
	for _, f := range append(p.files, attachmentNames(p)...) {
		d.line(ind + d.dim("📎 "+f))
	}
	if am := p.AllowedMentions; am != nil && len(am.Roles)+len(am.Users) > 0 {
		var who []string
		for _, r := range am.Roles {
			who = append(who, "@"+d.name(r))
		}
		for _, u := range am.Users {
			who = append(who, "@"+d.name(u))
		}
		d.line(ind + d.paint(yellow+bold, "🔔 notifies "+strings.Join(who, ", ")))
	}
}

func attachmentNames(p msgPayload) []string {
	var out []string
	for _, a := range p.Attachments {
		if a.Filename != "" && !slices.Contains(p.files, a.Filename) {
			out = append(out, a.Filename)
		}
	}
	return out
}

var (
	reMention   = regexp.MustCompile(`<(@&|@!?|#)(\d+)>`)
	reTimestamp = regexp.MustCompile(`<t:(-?\d+)(?::([tTdDfFR]))?>`)
	reBold      = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
)

// mentions makes Discord markup readable: <@&role>, <@user> and <#channel>
// become names, <t:…> timestamps become times, **bold** is bold.
func (d *demo) mentions(s string) string {
	s = reMention.ReplaceAllStringFunc(s, func(m string) string {
		sm := reMention.FindStringSubmatch(m)
		if sm[1] == "#" {
			name, _ := d.channelName(sm[2])
			return name
		}
		return "@" + d.name(sm[2])
	})
	s = reTimestamp.ReplaceAllStringFunc(s, func(m string) string {
		sm := reTimestamp.FindStringSubmatch(m)
		var sec int64
		fmt.Sscan(sm[1], &sec)
		t := time.Unix(sec, 0)
		if sm[2] == "R" {
			if ago := time.Since(t).Round(time.Second); ago >= 0 {
				return ago.String() + " ago"
			}
			return "in " + time.Until(t).Round(time.Second).String()
		}
		return t.Format("2006-01-02 15:04:05 MST")
	})
	return reBold.ReplaceAllStringFunc(s, func(m string) string {
		return d.paint(bold, reBold.FindStringSubmatch(m)[1])
	})
}

func (d *demo) name(id string) string {
	if n, ok := d.names[id]; ok {
		return n
	}
	return "unknown-" + short(id)
}

// channelName is "#name", "#parent › thread" or "DM @user"; dm reports the latter.
func (d *demo) channelName(id string) (string, bool) {
	c, ok := d.fake.Channel(id)
	if !ok {
		return "#unknown-" + short(id), false
	}
	if len(c.RecipientIDs) > 0 {
		var who []string
		for _, u := range c.RecipientIDs {
			who = append(who, "@"+d.name(u))
		}
		return "DM " + strings.Join(who, ", "), true
	}
	if c.IsThread() {
		parent, _ := d.channelName(c.ParentID)
		return parent + " › " + c.Name, false
	}
	return "#" + c.Name, false
}

// call prints one phone call the recorder received.
func (d *demo) call(c demoCall) {
	d.stats.calls++
	d.line(fmt.Sprintf("%s %s %s", d.stampAt(c.at), d.paint(yellow+bold, "📞 phone call to "+phone.MaskNumber(c.to)), d.dim("(Twilio-compatible API)")))
	if c.say != "" {
		d.line("      says: “" + c.say + "”")
	}
}

func unescapePath(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// ---- output helpers ----

const (
	reset   = "\x1b[0m"
	bold    = "\x1b[1m"
	dimmed  = "\x1b[2m"
	red     = "\x1b[31m"
	green   = "\x1b[32m"
	yellow  = "\x1b[33m"
	blue    = "\x1b[34m"
	magenta = "\x1b[35m"
	cyan    = "\x1b[36m"
	orange  = "\x1b[38;5;208m"
)

func (d *demo) paint(code, s string) string {
	if !d.color || code == "" {
		return s
	}
	return code + s + reset
}

func (d *demo) dim(s string) string { return d.paint(dimmed, s) }
func (d *demo) line(s string)       { fmt.Fprintln(d.out, s) }
func (d *demo) blank()              { fmt.Fprintln(d.out) }
func (d *demo) title(s string)      { d.line(d.paint(bold, "== "+s)) }
func (d *demo) note(s string)       { d.line(d.dim("note: " + s)) }
func (d *demo) stamp() string       { return d.stampAt(time.Now()) }
func (d *demo) stampAt(t time.Time) string {
	return d.dim(fmt.Sprintf("%+7.2fs", t.Sub(d.start).Seconds()))
}

func priorityColor(p string) string {
	switch p {
	case "P0":
		return red + bold
	case "P1":
		return orange
	case "P2":
		return yellow
	}
	return blue
}

func embedColor(c int) string {
	switch c {
	case discord.ColorP0:
		return red
	case discord.ColorP1:
		return orange
	case discord.ColorP2:
		return yellow
	case discord.ColorP3:
		return blue
	case discord.ColorResolved:
		return green
	}
	return ""
}

// colorWord names an embed colour by what it means.
func colorWord(c int) string {
	switch c {
	case discord.ColorP0:
		return "P0 red"
	case discord.ColorP1:
		return "P1 orange"
	case discord.ColorP2:
		return "P2 yellow"
	case discord.ColorP3:
		return "P3 blue"
	case discord.ColorResolved:
		return "resolved green"
	}
	return fmt.Sprintf("#%06X", c)
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// demoLog keeps Klaxon's logs for when the demo fails (and tees them with --verbose).
type demoLog struct {
	mu  sync.Mutex
	b   bytes.Buffer
	tee io.Writer
}

func (l *demoLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tee != nil {
		l.tee.Write(p)
	}
	if l.b.Len() > 4<<20 {
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *demoLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.SplitAfter(l.b.String(), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// ---- phone recorder ----

// demoPhone answers Twilio's Calls API and records the calls, so that the
// demo shows who would be phoned without phoning anyone.
type demoPhone struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []demoCall
}

type demoCall struct {
	at      time.Time
	to, say string
}

func newDemoPhone() *demoPhone {
	p := &demoPhone{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Calls.json", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		var twiml struct {
			Says   []string `xml:"Say"`
			Gather struct {
				Says []string `xml:"Say"`
			} `xml:"Gather"`
		}
		xml.Unmarshal([]byte(r.PostForm.Get("Twiml")), &twiml)
		p.mu.Lock()
		p.calls = append(p.calls, demoCall{at: time.Now(), to: r.PostForm.Get("To"),
			say: strings.Join(append(twiml.Gather.Says, twiml.Says...), " ")})
		n := len(p.calls)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"CAdemo%032d","status":"queued"}`, n)
	})
	p.srv = httptest.NewServer(mux)
	return p
}

func (p *demoPhone) URL() string { return p.srv.URL }
func (p *demoPhone) Close()      { p.srv.Close() }

func (p *demoPhone) Calls() []demoCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]demoCall(nil), p.calls...)
}
