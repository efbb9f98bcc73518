package metrics_test

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot/metrics"
)

// The deploy/prometheus rules and their promtool tests read these names.
func TestNewRegistersEveryName(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.SetBuildInfo("test")
	m.AckLatency.WithLabelValues("P0")
	m.Alerts.WithLabelValues("P0", "firing")
	m.DiscordRequests.WithLabelValues("messages.create", "200")
	m.DiscordRateLimited.WithLabelValues("messages.create", "user")
	m.Dead.WithLabelValues("message")
	m.DBErrors.WithLabelValues("commit")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		got = append(got, mf.GetName())
	}
	want := []string{
		"klaxon_ack_latency_seconds", "klaxon_alerts", "klaxon_build_info",
		"klaxon_config_last_reload_success_timestamp_seconds", "klaxon_config_reload_total", "klaxon_db_errors_total",
		"klaxon_discord_gateway_connected", "klaxon_discord_last_auth_success_timestamp_seconds", "klaxon_discord_pacing_wait_seconds_total",
		"klaxon_discord_rate_limited_total", "klaxon_discord_reachable", "klaxon_discord_requests_total",
		"klaxon_engine_cycle_duration_seconds", "klaxon_engine_last_success_timestamp_seconds",
		"klaxon_outbound_dead_letters", "klaxon_outbound_dead_letters_total", "klaxon_outbox_depth",
		"klaxon_outbox_oldest_age_seconds", "klaxon_pages_total", "klaxon_webhooks_received_total",
	}
	if !slices.Equal(got, want) {
		t.Errorf("registered %q\nwant %q", got, want)
	}
	// Page and webhook series exist before the first event.
	if n := testutil.CollectAndCount(m.Pages); n != len(metrics.PageChannels)*3 {
		t.Errorf("%d page series at start, want %d", n, len(metrics.PageChannels)*3)
	}
	if n := testutil.CollectAndCount(m.WebhooksReceived); n != 6 {
		t.Errorf("%d webhook series at start, want 6", n)
	}
}

// Two sets on two registries do not collide (one per Main, one per test).
func TestNewTwice(t *testing.T) {
	a, b := metrics.New(prometheus.NewRegistry()), metrics.New(prometheus.NewRegistry())
	a.Page("phone", "sent", 2)
	if got := testutil.ToFloat64(b.Pages.WithLabelValues("phone", "sent")); got != 0 {
		t.Errorf("b counted a's pages: %v", got)
	}
	if got := testutil.ToFloat64(a.Pages.WithLabelValues("phone", "sent")); got != 2 {
		t.Errorf("a counted %v pages, want 2", got)
	}
}

// A nil *Metrics records nothing and does not panic.
func TestNilRecordsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.SetBuildInfo("x")
	m.WebhookReceived("accepted")
	m.Page("dm", "sent", 1)
	m.DiscordRequest("r", "200")
	m.DiscordAuthOK()
	m.DiscordRateLimit("r", "user")
	m.Paced(time.Second)
	m.DeadLetter("message")
	m.Reachable(true)
	m.Acknowledged("P0", time.Minute)
	m.Cycle(time.Millisecond)
	m.CycleSucceeded(time.Unix(1, 0))
	m.Outbox(1, 2, 3)
	m.AlertGroups("P0", "firing", 1)
	m.DBError("commit")
}
