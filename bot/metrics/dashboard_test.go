package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marola-rp/klaxon/bot/metrics"
)

// recorder is a Registerer that keeps the name of every metric registered.
type recorder struct{ names map[string]bool }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
			// Histograms and summaries are queried by their series.
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				r.names[m[1]+s] = true
			}
		}
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return false }

var metricName = regexp.MustCompile(`\bklaxon_[a-z0-9_]+\b`)

// Every query of the Grafana dashboard names metrics Klaxon exports (and at
// least one): a renamed metric fails here, not in front of an empty panel.
func TestDashboardQueriesNameExportedMetrics(t *testing.T) {
	rec := &recorder{names: map[string]bool{}}
	metrics.New(rec)
	if len(rec.names) < 10 {
		t.Fatalf("only %d names recorded: %v", len(rec.names), rec.names)
	}
	data, err := os.ReadFile("../../deploy/grafana/klaxon.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name  string
				Query any
			}
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("deploy/grafana/klaxon.json: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			exprs = append(exprs, q["query"].(string))
		}
	}
	used := map[string]bool{}
	for _, e := range exprs {
		names := metricName.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("query %q names no klaxon_ metric", e)
		}
		for _, n := range names {
			used[n] = true
			if !rec.names[n] {
				t.Errorf("query %q uses %s, which bot/metrics does not export", e, n)
			}
		}
	}
	for _, must := range []string{"klaxon_outbox_depth", "klaxon_outbound_dead_letters", "klaxon_pages_total", "klaxon_webhooks_received_total",
		"klaxon_discord_rate_limited_total", "klaxon_engine_cycle_duration_seconds_bucket"} {
		if !used[must] {
			t.Errorf("the dashboard does not show %s", must)
		}
	}
}
