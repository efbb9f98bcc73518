// Package metrics holds Klaxon's Prometheus metrics. Every series is named
// klaxon_* and registered on Registry, which /metrics serves.
package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is where every Klaxon metric is registered, with the Go and
// process collectors.
var Registry = prometheus.NewRegistry()

var (
	// WebhooksReceived counts Alertmanager deliveries by result:
	// accepted, duplicate, bad_request, unauthorized, too_large, error.
	WebhooksReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_webhooks_received_total",
		Help: "Alertmanager webhook deliveries received, by result.",
	}, []string{"result"})

	// Alerts is the number of alert groups by priority and state.
	Alerts = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "klaxon_alerts",
		Help: "Alert groups currently known, by priority and state (firing, acknowledged, resolved in the last day).",
	}, []string{"priority", "state"})

	// OutboxDepth is the number of Discord deliveries waiting.
	OutboxDepth = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_outbox_depth",
		Help: "Items waiting in the outbound queue (dead letters not counted).",
	})

	// OutboxOldestAge is the age of the oldest waiting delivery.
	OutboxOldestAge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_outbox_oldest_age_seconds",
		Help: "Age of the oldest delivery waiting in the outbox, 0 when empty.",
	})

	// DiscordRequests counts Discord REST requests by route class and status code.
	DiscordRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_discord_requests_total",
		Help: "Discord REST requests, by route class and HTTP status code (\"error\" for transport errors).",
	}, []string{"route", "code"})

	// DiscordRateLimited counts 429 responses by route class and scope.
	DiscordRateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_discord_rate_limited_total",
		Help: "Discord 429 responses, by route class and scope (user, global, shared).",
	}, []string{"route", "scope"})

	// Dead counts queue items Discord refused for good (dead letters), by item kind.
	Dead = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_outbound_dead_letters_total",
		Help: "Outbound items Discord refused for good (kept as dead letters until requeued), by kind.",
	}, []string{"kind"})

	// DeadLetters is the number of dead letters kept now.
	DeadLetters = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_outbound_dead_letters",
		Help: "Outbound items refused for good and not requeued yet (see klaxon check-config --online).",
	})

	// DiscordReachable is 1 while Discord answers, 0 during an outage (5xx, timeouts).
	DiscordReachable = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_discord_reachable",
		Help: "1 while Discord answers requests, 0 while the outbound queue waits out an outage (5xx, timeouts, network).",
	})

	// PacingWait sums the time work waited for a rate-limit bucket.
	PacingWait = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "klaxon_discord_pacing_wait_seconds_total",
		Help: "Time deliveries were held back to stay within Discord's rate limits.",
	})

	// Pages counts pages by channel (discord, dm, phone, email) and result:
	// sent; failed (the provider or Discord refused it); skipped (it could
	// not be attempted: no provider configured, no phone number or e-mail
	// address, throttled).
	Pages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_pages_total",
		Help: "Pages to people, by channel and result (sent, failed, skipped: not attempted, see the log and the card).",
	}, []string{"channel", "result"})

	// AckLatency observes the time from first alert to acknowledgement.
	AckLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "klaxon_ack_latency_seconds",
		Help:    "Time from an alert group firing to its acknowledgement, by priority.",
		Buckets: []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400},
	}, []string{"priority"})

	// EngineCycle observes the duration of engine cycles.
	EngineCycle = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "klaxon_engine_cycle_duration_seconds",
		Help:    "Duration of engine cycles.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
	})

	// EngineLastSuccess is the Unix time of the last engine cycle that ended without error.
	EngineLastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_engine_last_success_timestamp_seconds",
		Help: "Unix time of the last engine cycle that completed without error.",
	})

	// DBErrors counts database errors by operation.
	DBErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_db_errors_total",
		Help: "Database errors, by operation.",
	}, []string{"op"})

	// DiscordLastAuth is the Unix time of the last authenticated Discord response.
	DiscordLastAuth = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "klaxon_discord_last_auth_success_timestamp_seconds",
		Help: "Unix time of the last Discord response that proved the token valid.",
	})

	// BuildInfo is 1, with the version and Go version as labels.
	BuildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "klaxon_build_info",
		Help: "Klaxon's version and the Go version it was built with; always 1.",
	}, []string{"version", "goversion"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		WebhooksReceived, Alerts, OutboxDepth, OutboxOldestAge, DiscordRequests, DiscordRateLimited,
		PacingWait, Dead, DeadLetters, DiscordReachable, Pages, AckLatency, EngineCycle, EngineLastSuccess, DBErrors, DiscordLastAuth, BuildInfo,
	)
	for _, r := range []string{"accepted", "duplicate", "bad_request", "unauthorized", "too_large", "error"} {
		WebhooksReceived.WithLabelValues(r)
	}
	// Every page series exists from the start, so increase() sees the first one.
	for _, ch := range []string{"discord", "dm", "phone", "email"} {
		for _, r := range []string{"sent", "failed", "skipped"} {
			Pages.WithLabelValues(ch, r)
		}
	}
}

// SetBuildInfo records the running version.
func SetBuildInfo(version string) {
	BuildInfo.WithLabelValues(version, runtime.Version()).Set(1)
}
