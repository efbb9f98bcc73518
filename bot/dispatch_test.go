package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
)

// TestOutageRecovery: Discord answers 502 for a simulated ten minutes
// while alerts keep arriving. The queue holds everything without hammering
// Discord (one probe per backoff), and when Discord is back every P0 card
// is on Discord within 5 s and everything within 60 s, with no 429.
func TestOutageRecovery(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t)
	start := p.clock.Now()
	p.srv.InjectFault(discordtest.Fault{Status: 502, Message: "Bad Gateway"})

	type sent struct {
		group int64
		prio  bot.Priority
	}
	var groups []sent
	fire := func(name string, prio bot.Priority) {
		n := bottest.P0(name)
		n.CommonLabels = map[string]string{"alertname": name, "priority": prio.String()}
		n.Alerts[0].Labels = map[string]string{"alertname": name, "priority": prio.String()}
		n.Alerts[0].StartsAt = p.clock.Now()
		res, err := bot.Ingest(ctx, p.db, p.policy, n, p.clock.Now())
		if err != nil {
			t.Fatalf("ingest during the outage: %v", err)
		}
		groups = append(groups, sent{res.GroupID, prio})
	}
	const outage = 10 * time.Minute
	for s := time.Duration(0); s < outage; s += time.Second {
		switch {
		case s%time.Minute == 0:
			for i := range 3 {
				fire(fmt.Sprintf("Warn%02d%d", int(s/time.Minute), i), bot.P3)
			}
		case s == 4*time.Minute+30*time.Second, s == 9*time.Minute:
			fire(fmt.Sprintf("Down%d", int(s/time.Minute)), bot.P0)
		}
		p.cycle(t)
		p.clock.Advance(time.Second)
	}
	during := len(p.srv.Requests())
	if max := int(outage/bot.OutageBackoffMax) + 20; during > max {
		t.Errorf("%d requests during a %s outage, want at most %d (one probe per backoff)", during, outage, max)
	}
	if down, since, _ := p.engine.Outage(); !down || !since.Equal(start) {
		t.Errorf("outage = %v since %s, want down since %s", down, since, start)
	}

	p.srv.ClearFaults()
	back := p.clock.Now()
	shown := map[int64]time.Duration{}
	for p.clock.Now().Sub(back) <= time.Minute {
		p.cycle(t)
		for _, g := range groups {
			if _, ok := shown[g.group]; !ok && p.card(t, g.group).MessageID != "" {
				shown[g.group] = p.clock.Now().Sub(back)
			}
		}
		p.clock.Advance(time.Second)
	}
	var worstP0, worst time.Duration
	for _, g := range groups {
		d, ok := shown[g.group]
		if !ok {
			t.Errorf("%s group %d not on Discord 60 s after recovery", g.prio, g.group)
			continue
		}
		worst = max(worst, d)
		if g.prio == bot.P0 {
			worstP0 = max(worstP0, d)
		}
	}
	if worstP0 > 5*time.Second {
		t.Errorf("a P0 card came %s after recovery, want within 5 s", worstP0)
	}
	if down, _, _ := p.engine.Outage(); down {
		t.Error("the queue still thinks Discord is down")
	}
	for _, r := range p.srv.Requests() {
		if r.Status == 429 {
			t.Errorf("429 after recovery: %s %s", r.Method, r.Path)
		}
	}
	t.Logf("%d groups; %d requests during the outage; after recovery: every P0 within %s, every group within %s", len(groups), during, worstP0, worst)
}

// TestLostResponseOneCard: Discord creates the card but the answer is lost
// (the connection drops after the message was made). The retry carries the
// same nonce, so Discord returns the first message: one card, one ping —
// and an edit follows, so the card shows what changed meanwhile.
func TestLostResponseOneCard(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t)
	p.srv.InjectFault(discordtest.Fault{Method: "POST", PathContains: "/channels/" + p.channel + "/messages", DropAfterHandle: true, Times: 1})
	n := bottest.P0("lost")
	res, err := bot.Ingest(ctx, p.db, p.policy, n, p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.cycle(t) // the create is lost: Discord has the card, Klaxon does not know
	if got := p.srv.MessagesCreated(p.channel); got != 1 {
		t.Fatalf("after the lost answer: %d messages created, want 1", got)
	}
	if id := p.card(t, res.GroupID).MessageID; id != "" {
		t.Fatalf("the lost create was recorded as %s", id)
	}
	// A second alert joins the group before the retry.
	n.Alerts = append(n.Alerts, n.Alerts[0])
	n.Alerts[1].Fingerprint, n.Alerts[1].Labels = "second", map[string]string{"alertname": "Down", "instance": "eu-2"}
	if _, err := bot.Ingest(ctx, p.db, p.policy, n, p.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		p.clock.Advance(bot.OutageBackoffMax)
		p.cycle(t)
	}
	cards := 0
	var card discordtest.Message
	for _, m := range p.srv.Messages(p.channel) {
		if len(m.Embeds) > 0 && m.ReferenceID == "" {
			cards++
			card = m
		}
	}
	if cards != 1 {
		t.Fatalf("%d cards for one group after a lost answer, want 1", cards)
	}
	if got := p.card(t, res.GroupID).MessageID; got != card.ID {
		t.Errorf("recorded card %s, Discord has %s", got, card.ID)
	}
	if !strings.Contains(fieldsOf(card), "2 alerts") {
		t.Errorf("the card was not brought up to date after the repeated create returned the first message: %+v", fieldsOf(card))
	}
}

func fieldsOf(m discordtest.Message) string {
	var b strings.Builder
	for _, e := range m.Embeds {
		b.WriteString(e.Title + "\n" + e.Description + "\n")
		for _, f := range e.Fields {
			b.WriteString(f.Name + ": " + f.Value + "\n")
		}
	}
	return b.String()
}

type jobFunc func(ctx context.Context, now time.Time) error

func (jobFunc) Name() string                                   { return "probe" }
func (f jobFunc) Run(ctx context.Context, now time.Time) error { return f(ctx, now) }

// TestHungDiscordDoesNotStopTheEngine: while a request to Discord hangs,
// the engine loop keeps cycling (escalations, reminders, readiness), and
// the hung request is bounded by the per-request timeout.
func TestHungDiscordDoesNotStopTheEngine(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t)
	ran := make(chan time.Time, 16)
	p.engine.Jobs = append(p.engine.Jobs, jobFunc(func(ctx context.Context, now time.Time) error {
		select {
		case ran <- now:
		default:
		}
		return nil
	}))
	p.srv.InjectFault(discordtest.Fault{Method: "POST", Latency: time.Hour}) // every create hangs
	if _, err := bot.Ingest(ctx, p.db, p.policy, bottest.P0("hung"), p.clock.Now()); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.engine.Run(rctx) }()
	defer func() { cancel(); <-done }()
	for i := range 5 {
		p.clock.Advance(time.Second)
		p.engine.Trigger()
		select {
		case <-ran:
		case <-time.After(5 * time.Second): // a bound on a failure, not a wait for behaviour
			t.Fatalf("cycle %d: the engine loop is stuck behind the hung Discord request", i)
		}
	}
	if last, err := p.engine.LastSuccess(); err != nil || p.clock.Now().Sub(last) > 2*time.Second {
		t.Errorf("last successful cycle %s (now %s): %v", last, p.clock.Now(), err)
	}
}

// TestRefusedPageIsADeadLetter: Discord refuses a page's DM for good (not
// "DMs closed", which falls back to a mention): the page is recorded as not
// sent with the reason, the card says so, the item is kept as a dead letter
// that is not retried by itself, and a requeue sends it once Discord agrees.
func TestRefusedPageIsADeadLetter(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t)
	p.srv.InjectFault(discordtest.Fault{Method: "POST", PathContains: "/users/@me/channels", Status: 403, Code: 50001, Message: "Missing Access"})
	before := testutil.ToFloat64(p.engine.Metrics.Dead.WithLabelValues("message"))
	res, err := bot.Ingest(ctx, p.db, p.policy, bottest.P0("refused"), p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		p.cycle(t)
		p.clock.Advance(time.Second)
	}
	var dead []bot.Item
	var g *bot.Group
	_ = p.db.View(ctx, func(tx bot.Tx) (err error) {
		if dead, err = tx.DeadItems(10); err != nil {
			return err
		}
		g, err = tx.Group(res.GroupID)
		return err
	})
	if len(dead) != 1 || dead[0].Message == nil || dead[0].Message.UserID != p.user || !strings.Contains(dead[0].LastError, "50001") {
		t.Fatalf("dead letters = %+v, want the page DM refused with 50001", dead)
	}
	if got := testutil.ToFloat64(p.engine.Metrics.Dead.WithLabelValues("message")) - before; got != 1 {
		t.Errorf("dead letters counted: %v, want 1", got)
	}
	if !strings.Contains(strings.Join(g.Notes, "\n"), "was not sent: Discord refused it") {
		t.Errorf("card notes = %q, want the refused page", g.Notes)
	}
	card := p.srv.Messages(p.channel)[0]
	if !strings.Contains(fieldsOf(card), "was not sent") {
		t.Errorf("the card on Discord does not show the refused page:\n%s", fieldsOf(card))
	}
	opens := func() int {
		n := 0
		for _, r := range p.srv.Requests() {
			if strings.Contains(r.Path, "/users/@me/channels") {
				n++
			}
		}
		return n
	}
	n := opens()
	for range 5 {
		p.clock.Advance(time.Minute)
		p.cycle(t)
	}
	if opens() != n {
		t.Errorf("a dead letter was retried by itself: %d DM opens, want %d", opens(), n)
	}
	p.srv.ClearFaults()
	_ = p.db.Update(ctx, func(tx bot.Tx) error { _, err := tx.RequeueDead(p.clock.Now()); return err })
	p.cycle(t)
	if opens() != n+1 {
		t.Errorf("after the requeue: %d DM opens, want %d", opens(), n+1)
	}
}

// TestSlowStormStillFolds: P3 groups arrive one every 200 ms, faster than
// the channel's 5 messages per 5 s. The cards the pacer holds back were
// never sent, so they stay foldable: the storm becomes a digest instead of
// a card per group trickling out over minutes.
func TestSlowStormStillFolds(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t)
	const n = 60
	for i := range n {
		name := fmt.Sprintf("Slow%02d", i)
		note := bottest.P0(name)
		note.CommonLabels = map[string]string{"alertname": name, "priority": "P3"}
		note.Alerts[0].Labels = map[string]string{"alertname": name, "priority": "P3"}
		note.Alerts[0].Fingerprint = name
		if _, err := bot.Ingest(ctx, p.db, p.policy, note, p.clock.Now()); err != nil {
			t.Fatal(err)
		}
		p.cycle(t)
		p.clock.Advance(200 * time.Millisecond)
	}
	for range 30 {
		p.cycle(t)
		p.clock.Advance(time.Second)
	}
	cards, digests := 0, 0
	for _, m := range p.srv.Messages(p.channel) {
		if len(m.Embeds) == 0 {
			continue
		}
		if strings.Contains(m.Embeds[0].Title, "Slow") {
			cards++
		} else {
			digests++
		}
	}
	if digests == 0 || cards > 20 {
		t.Errorf("a storm of %d groups over %s made %d cards and %d digests; want a digest and at most 20 cards",
			n, time.Duration(n)*200*time.Millisecond, cards, digests)
	}
}
