// Package bottest holds what the tests of bot and its feature packages
// share: a real database, the queue's due messages, and fixtures.
package bottest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/metrics"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

// OpenDB opens (creating) a real database at path.
func OpenDB(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// DueMessages returns the queued plain messages due at now, most urgent first.
func DueMessages(tx bot.Tx, now time.Time, limit int) ([]bot.Outgoing, error) {
	items, err := tx.DueItems(now, limit)
	var out []bot.Outgoing
	for _, it := range items {
		if it.Kind == bot.ItemMessage {
			out = append(out, *it.Message)
		}
	}
	return out, err
}

// T0 is the tests' usual start: 03:00 UTC on a night in November.
var T0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// P0 is a notification of one critical alert ("Down") in group key,
// firing since T0.
func P0(key string) bot.Notification {
	return bot.Notification{GroupKey: key, Receiver: "klaxon", CommonLabels: map[string]string{"alertname": "Down", "severity": "critical"},
		Alerts: []bot.Alert{{Fingerprint: "f1", Status: bot.Firing, Labels: map[string]string{"alertname": "Down", "severity": "critical"}, StartsAt: T0}}}
}

// FixedOnCall resolves schedules to users by name, whatever the time.
type FixedOnCall map[string]string

// OnCallAt implements the paging feature's OnCallResolver.
func (f FixedOnCall) OnCallAt(_ context.Context, _ paging.Tx, schedule string, _ time.Time) (string, error) {
	return f[schedule], nil
}

// NewPaging returns a paging service on db and the policy it hooks into:
// channels 100–103 by priority, schedules "primary" (user 501, who has a
// phone number and an e-mail address) and "secondary" (502), phone and
// e-mail available, and a three-step P0 escalation policy.
func NewPaging(t testing.TB, db *store.DB) (*paging.Service, *bot.Policy) {
	t.Helper()
	pol := &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range pol.Routes {
		pol.Routes[i] = bot.Route{ChannelID: "10" + string(rune('0'+i)), AckWithin: bot.Priority(i).DefaultAckDeadline()}
	}
	pg := &paging.Service{Store: db.Paging(), Policy: pol, Log: slog.New(slog.DiscardHandler),
		OnCall:    FixedOnCall{"primary": "501", "secondary": "502"},
		Directory: map[string]bot.Contact{"501": {UserID: "501", Phone: "+15550100501", Email: "a@example.org"}, "502": {UserID: "502"}},
		Channels:  map[bot.Via]bool{bot.ViaPhone: true, bot.ViaEmail: true},
		Metrics:   metrics.New(nil),
	}
	pg.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{
		{Delay: 0, Targets: []paging.Target{{Schedule: "primary", Via: []bot.Via{bot.ViaMention, bot.ViaDM, bot.ViaPhone}}, {Role: "900"}}},
		{Delay: 5 * time.Minute, Targets: []paging.Target{{Schedule: "secondary"}}},
		{Delay: 5 * time.Minute, Targets: []paging.Target{{Role: "901"}}},
	}}
	pol.OnGroupChange = []bot.GroupHook{pg.OnGroupChange}
	return pg, pol
}
