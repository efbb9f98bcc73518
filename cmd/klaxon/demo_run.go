//go:build demo

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/phone"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
)

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
	d.groups[s.name] = ans.GroupID
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
			reqs, seen := d.fake.Requests(), d.tr.Seen()
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

// flush prints the requests the fake Discord answered and the phone calls
// made since the last flush, in time order.
func (d *demo) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	calls := d.phone.Calls()
	var evs []discordtest.Event
	for _, c := range calls[min(d.callsSeen, len(calls)):] {
		evs = append(evs, discordtest.Event{At: c.Created, Print: func() { d.call(c) }})
	}
	d.callsSeen = len(calls)
	d.tr.Flush(evs...)
}

// call prints one phone call the fake Twilio accepted (called from flush,
// under d.mu).
func (d *demo) call(c phonetest.Call) {
	d.calls++
	d.line(fmt.Sprintf("%s %s %s", d.tr.Stamp(c.Created), d.paint(yellow+bold, "📞 phone call to "+phone.MaskNumber(c.To)), d.dim("(Twilio-compatible API)")))
	var says []string
	if g := c.Parsed.Gather; g != nil {
		for _, s := range g.Says {
			says = append(says, s.Text)
		}
	}
	for _, s := range c.Parsed.Says {
		says = append(says, s.Text)
	}
	if say := strings.Join(says, " "); say != "" {
		d.line("      says: “" + say + "”")
	}
}

// Output helpers: the demo's own lines, styled like the transcript.

const (
	bold   = discordtest.Bold
	dimmed = discordtest.Dim
	red    = discordtest.Red
	green  = discordtest.Green
	yellow = discordtest.Yellow
	blue   = discordtest.Blue
	orange = discordtest.Orange
)

// embedColors names Klaxon's card colours in the transcript.
var embedColors = map[int]discordtest.EmbedColor{
	discord.ColorP0:       {Word: "P0 red", Style: red},
	discord.ColorP1:       {Word: "P1 orange", Style: orange},
	discord.ColorP2:       {Word: "P2 yellow", Style: yellow},
	discord.ColorP3:       {Word: "P3 blue", Style: blue},
	discord.ColorResolved: {Word: "resolved green", Style: green},
}

func (d *demo) paint(code, s string) string { return d.tr.Paint(code, s) }
func (d *demo) dim(s string) string         { return d.paint(dimmed, s) }
func (d *demo) line(s string)               { fmt.Fprintln(d.out, s) }
func (d *demo) blank()                      { fmt.Fprintln(d.out) }
func (d *demo) title(s string)              { d.line(d.paint(bold, "== "+s)) }

// section starts the next numbered section of the transcript.
func (d *demo) section(s string) {
	d.sections++
	if d.sections > 1 {
		d.blank()
	}
	d.title(fmt.Sprintf("%d. %s", d.sections, s))
}
func (d *demo) note(s string) { d.line(d.dim("note: " + s)) }
func (d *demo) stamp() string { return d.tr.Stamp(time.Now()) }

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

// autoOpensP0 reports whether a P0 alert opens an incident by itself.
func (d *demo) autoOpensP0(cfg *Config) bool {
	pol, _ := cfg.buildIncidents()
	return pol.AutoOpen[bot.P0]
}

// awaitIncidentThread waits until the incident of group has its thread and
// its summary is pinned there.
func (d *demo) awaitIncidentThread(ctx context.Context, group int64) error {
	var inc *bot.Incident
	err := d.wait(ctx, "the incident thread and its pinned summary", func() bool {
		inc = nil
		_ = d.main.DB.Incident().View(ctx, func(tx incident.Tx) error {
			incs, err := tx.Incidents(true, 50)
			for _, i := range incs {
				if slices.Contains(i.GroupIDs, group) {
					inc = i
				}
			}
			return err
		})
		if inc == nil || inc.ThreadID == "" || inc.SummaryID == "" {
			return false
		}
		for _, m := range d.fake.Messages(inc.ThreadID) {
			if m.ID == inc.SummaryID && m.Pinned {
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	d.line(d.dim(fmt.Sprintf("INC-%d is open; its summary is pinned in the thread. /incident update, roles and 📌 messages build its timeline.", inc.ID)))
	return nil
}

// acknowledge clicks the P0 card's Acknowledge button as the responder,
// through Klaxon's signed interactions endpoint as Discord would, and shows
// the escalation before and after: the next step (who would be paged next)
// is cancelled.
func (d *demo) acknowledge(ctx context.Context, s sample) error {
	group := d.groups[s.name]
	ch := d.channels[bot.P0]
	var card string
	for _, m := range d.fake.Messages(ch) {
		if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, s.name) {
			card = m.ID
			break
		}
	}
	if card == "" {
		return fmt.Errorf("no card for %s in the P0 channel", s.name)
	}
	if e, err := d.escalation(ctx, group); err != nil {
		return err
	} else if e != nil {
		d.line(d.dim(fmt.Sprintf("escalation of #%d: next step %d due in %s unless someone acknowledges", group, e.Step+1, time.Until(e.NextAt).Round(time.Second))))
	}
	name := d.names[d.responder]
	d.line(fmt.Sprintf("%s %s", d.stamp(), d.paint(bold, fmt.Sprintf("@%s clicks [Acknowledge] on the %s card", name, s.name))))
	click := d.fake.ButtonClick(ch, card, d.responder, customid.Make(customid.AlertAck, group))
	_, resp, body, err := d.fake.PostInteraction(ctx, "http://"+d.main.Addr()+"/interactions", d.priv, click)
	if err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	var ans struct {
		Data struct {
			Content string `json:"content"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &ans)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("acknowledge: Klaxon answered %s: %s", resp.Status, body)
	}
	if ans.Data.Content != "" {
		d.line("      ↳ Klaxon answers (only @" + name + " sees it): " + ans.Data.Content)
	}
	if err := d.awaitCard(ctx, s.name, func(m discordtest.Message) bool {
		if len(m.Embeds) == 0 {
			return false
		}
		for _, f := range m.Embeds[0].Fields {
			if f.Name == "Response" && strings.Contains(f.Value, "Acknowledged") {
				return true
			}
		}
		return false
	}); err != nil {
		return err
	}
	e, err := d.escalation(ctx, group)
	if err != nil {
		return err
	}
	if e != nil && !e.Done {
		return fmt.Errorf("the escalation of #%d still runs after the acknowledgement (next step %d)", group, e.Step+1)
	}
	d.line(d.paint(green, fmt.Sprintf("escalation of #%d stopped: nobody else is paged for it", group)))
	return nil
}

// escalation is group's escalation state, nil when there is none (stopped).
func (d *demo) escalation(ctx context.Context, group int64) (*paging.Escalation, error) {
	var e *paging.Escalation
	err := d.main.DB.Paging().View(ctx, func(tx paging.Tx) error {
		got, err := tx.Escalation(group)
		if bot.ErrorCode(err) == bot.ENotFound {
			return nil
		}
		e = got
		return err
	})
	return e, err
}
