package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
)

// A group folded into a storm digest that rises to P1 gets its own card.
func TestGroupRisingOutOfADigestGetsItsOwnCard(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pol := &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range pol.Routes {
		pol.Routes[i] = bot.Route{ChannelID: "100"} // one channel for every priority
	}
	warn := func(name, severity string) bot.Notification {
		labels := map[string]string{"alertname": name, "severity": severity}
		return bot.Notification{GroupKey: name, CommonLabels: labels,
			Alerts: []bot.Alert{{Fingerprint: name, Status: bot.Firing, Labels: labels, StartsAt: bottest.T0}}}
	}
	var first int64
	for i := 0; i < 12; i++ {
		res, err := bot.Ingest(ctx, db, pol, warn(fmt.Sprintf("Warn%02d", i), "warning"), bottest.T0)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res.GroupID
		}
	}
	// The engine folds the backlog into a digest.
	e := &bot.Engine{Store: db, Policy: pol, Clock: bot.NewFakeClock(bottest.T0)}
	_ = e.Cycle(ctx) // no Discord here: delivery fails, after the folding this test needs
	kinds := func() map[bot.PostKind]int {
		out := map[bot.PostKind]int{}
		db.View(ctx, func(tx bot.Tx) error {
			ps, _ := tx.PostsOfGroup(first)
			for _, p := range ps {
				out[p.Kind]++
			}
			return nil
		})
		return out
	}
	if k := kinds(); k[bot.Digest]+k[bot.Page] != 1 || k[bot.Card] != 0 {
		t.Fatalf("before: posts %v, want the group in the digest only", k)
	}
	// The same group gains a critical alert: it is a P0 now.
	n := warn("Warn00", "warning")
	crit := map[string]string{"alertname": "Warn00", "severity": "critical"}
	n.Alerts = append(n.Alerts, bot.Alert{Fingerprint: "crit", Status: bot.Firing, Labels: crit, StartsAt: bottest.T0.Add(time.Minute)})
	if _, err := bot.Ingest(ctx, db, pol, n, bottest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if k := kinds(); k[bot.Card] != 1 {
		t.Errorf("after rising to P0: posts %v, want its own card", k)
	}
}
