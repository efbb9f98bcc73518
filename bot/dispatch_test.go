package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discordtest"
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
		n := p0(name)
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
