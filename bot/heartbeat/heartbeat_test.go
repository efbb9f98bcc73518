package heartbeat_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
	"github.com/marola-rp/klaxon/bot/metrics"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

var t0 = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

type fixedOnCall map[string]string

func (f fixedOnCall) OnCallAt(_ context.Context, _ paging.Tx, schedule string, _ time.Time) (string, error) {
	return f[schedule], nil
}

// rig is a heartbeat service on a real SQLite database, with paging that
// calls the on-call's phone for P0 as configured in production.
type rig struct {
	t      *testing.T
	ctx    context.Context
	path   string
	db     *store.DB
	pol    *bot.Policy
	paging *paging.Service
	svc    *heartbeat.Service
	reg    *prometheus.Registry
}

func newRig(t *testing.T, started time.Time, monitors []heartbeat.Monitor, wd *heartbeat.Watchdog) *rig {
	t.Helper()
	r := &rig{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "k.db")}
	r.open(started, monitors, wd)
	return r
}

func (r *rig) open(started time.Time, monitors []heartbeat.Monitor, wd *heartbeat.Watchdog) {
	r.t.Helper()
	db, err := store.Open(r.ctx, r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { db.Close() })
	r.db = db
	r.pol = &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range r.pol.Routes {
		r.pol.Routes[i] = bot.Route{ChannelID: "10" + string(rune('0'+i)), AckWithin: bot.Priority(i).DefaultAckDeadline()}
	}
	r.paging = &paging.Service{Store: db.Paging(), Policy: r.pol, Log: slog.New(slog.DiscardHandler), OnCall: fixedOnCall{"primary": "501"},
		Directory: map[string]bot.Contact{"501": {UserID: "501", Phone: "+15550100501"}},
		Channels:  map[bot.Via]bool{bot.ViaPhone: true}, Metrics: metrics.New(nil)}
	r.paging.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{
		{Targets: []paging.Target{{Schedule: "primary", Via: []bot.Via{bot.ViaMention, bot.ViaPhone}}}}}}
	r.pol.OnGroupChange = []bot.GroupHook{r.paging.OnGroupChange}
	r.svc = &heartbeat.Service{Store: db.Heartbeat(), Policy: r.pol, Monitors: monitors, Watchdog: wd, Started: started}
	r.reg = prometheus.NewRegistry()
	r.svc.Metrics = metrics.NewHeartbeats(r.reg)
}

// restart closes the database and opens it again with a service that started at started.
func (r *rig) restart(started time.Time) {
	r.t.Helper()
	ms, wd := r.svc.Monitors, r.svc.Watchdog
	if err := r.db.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.open(started, ms, wd)
}

// run is one engine cycle's worth of the jobs at now.
func (r *rig) run(now time.Time) {
	r.t.Helper()
	if err := r.svc.Run(r.ctx, now); err != nil {
		r.t.Fatalf("heartbeat job at %s: %v", now, err)
	}
	if err := r.paging.Run(r.ctx, now); err != nil {
		r.t.Fatalf("paging job at %s: %v", now, err)
	}
}

// group returns the newest episode of key, or nil.
func (r *rig) group(key string) *bot.Group {
	r.t.Helper()
	var g *bot.Group
	err := r.db.View(r.ctx, func(tx bot.Tx) (err error) {
		g, err = tx.LatestGroup(key)
		if bot.ErrorCode(err) == bot.ENotFound {
			g, err = nil, nil
		}
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

func (r *rig) phonePages(gid int64) int {
	r.t.Helper()
	n := 0
	err := r.db.Paging().View(r.ctx, func(tx paging.Tx) error {
		ps, err := tx.QueuedPages(bot.ViaPhone, 100)
		for _, p := range ps {
			if p.GroupID == gid {
				n++
			}
		}
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *rig) ping(name string, sig heartbeat.Signal, at time.Time) *heartbeat.State {
	r.t.Helper()
	st, err := r.svc.Ping(r.ctx, name, sig, at)
	if err != nil {
		r.t.Fatalf("ping %s %s: %v", name, sig.Kind, err)
	}
	return st
}

// wantNoGroup fails when key has a group.
func (r *rig) wantNoGroup(key, when string) {
	r.t.Helper()
	if g := r.group(key); g != nil {
		r.t.Fatalf("%s: group %s exists (%s, %s): want none", when, key, g.Status, g.Summary())
	}
}

func (r *rig) wantStatus(key string, want bot.Status, when string) *bot.Group {
	r.t.Helper()
	g := r.group(key)
	if g == nil {
		r.t.Fatalf("%s: no group %s, want %s", when, key, want)
	}
	if g.Status != want {
		r.t.Fatalf("%s: group %s is %s, want %s (%s)", when, key, g.Status, want, g.Summary())
	}
	return g
}
