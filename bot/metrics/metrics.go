// Package metrics holds Klaxon's Prometheus metrics. Every series is named
// klaxon_*. New creates a set and registers it on the registerer it is
// given (cmd/klaxon passes the registry /metrics serves); the core records
// through the methods, which do nothing on a nil *Metrics.
package metrics

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is one set of Klaxon's metrics. A nil *Metrics records nothing.
type Metrics struct {
	// WebhooksReceived counts Alertmanager deliveries by result:
	// accepted, duplicate, bad_request, unauthorized, too_large, error.
	WebhooksReceived *prometheus.CounterVec
	// Alerts is the number of alert groups by priority and state.
	Alerts *prometheus.GaugeVec
	// OutboxDepth is the number of Discord deliveries waiting.
	OutboxDepth prometheus.Gauge
	// OutboxOldestAge is the age of the oldest waiting delivery.
	OutboxOldestAge prometheus.Gauge
	// DiscordRequests counts Discord REST requests by route class and status code.
	DiscordRequests *prometheus.CounterVec
	// DiscordRateLimited counts 429 responses by route class and scope.
	DiscordRateLimited *prometheus.CounterVec
	// Dead counts queue items Discord refused for good (dead letters), by item kind.
	Dead *prometheus.CounterVec
	// DeadLetters is the number of dead letters kept now.
	DeadLetters prometheus.Gauge
	// DiscordReachable is 1 while Discord answers, 0 during an outage (5xx, timeouts).
	DiscordReachable prometheus.Gauge
	// PacingWait sums the time work waited for a rate-limit bucket.
	PacingWait prometheus.Counter
	// Pages counts pages by channel (discord, dm, phone, email) and result:
	// sent; failed (the provider or Discord refused it); skipped (it could
	// not be attempted: no provider configured, no phone number or e-mail
	// address, throttled).
	Pages *prometheus.CounterVec
	// AckLatency observes the time from first alert to acknowledgement.
	AckLatency *prometheus.HistogramVec
	// EngineCycle observes the duration of engine cycles.
	EngineCycle prometheus.Histogram
	// EngineLastSuccess is the Unix time of the last engine cycle that ended without error.
	EngineLastSuccess prometheus.Gauge
	// DBErrors counts database errors by operation.
	DBErrors *prometheus.CounterVec
	// DiscordLastAuth is the Unix time of the last authenticated Discord response.
	DiscordLastAuth prometheus.Gauge
	// BuildInfo is 1, with the version and Go version as labels.
	BuildInfo *prometheus.GaugeVec
	// GatewayConnected is 1 while the Discord gateway session is connected.
	GatewayConnected prometheus.Gauge
	// ConfigReloads counts configuration reloads by result (applied, refused).
	ConfigReloads *prometheus.CounterVec
	// ConfigLastReload is the Unix time of the last configuration reload applied.
	ConfigLastReload prometheus.Gauge
}

// PageChannels are the channel label values of klaxon_pages_total that
// exist from the start (so increase() sees the first page of each).
var PageChannels = []string{"discord", "dm", "phone", "email"}

// New creates Klaxon's metrics and registers them on reg; a nil reg
// registers nothing (tests, tools). Use NewRegistry for the registry
// /metrics serves, with the Go and process collectors.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		WebhooksReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_webhooks_received_total",
			Help: "Alertmanager webhook deliveries received, by result.",
		}, []string{"result"}),
		Alerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "klaxon_alerts",
			Help: "Alert groups currently known, by priority and state (firing, acknowledged, resolved in the last day).",
		}, []string{"priority", "state"}),
		OutboxDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_outbox_depth",
			Help: "Items waiting in the outbound queue (dead letters not counted).",
		}),
		OutboxOldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_outbox_oldest_age_seconds",
			Help: "Age of the oldest delivery waiting in the outbox, 0 when empty.",
		}),
		DiscordRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_discord_requests_total",
			Help: "Discord REST requests, by route class and HTTP status code (\"error\" for transport errors).",
		}, []string{"route", "code"}),
		DiscordRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_discord_rate_limited_total",
			Help: "Discord 429 responses, by route class and scope (user, global, shared).",
		}, []string{"route", "scope"}),
		Dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_outbound_dead_letters_total",
			Help: "Outbound items Discord refused for good (kept as dead letters until requeued), by kind.",
		}, []string{"kind"}),
		DeadLetters: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_outbound_dead_letters",
			Help: "Outbound items refused for good and not requeued yet (see klaxon check-config --online).",
		}),
		DiscordReachable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_discord_reachable",
			Help: "1 while Discord answers requests, 0 while the outbound queue waits out an outage (5xx, timeouts, network).",
		}),
		PacingWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_discord_pacing_wait_seconds_total",
			Help: "Time deliveries were held back to stay within Discord's rate limits.",
		}),
		Pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_pages_total",
			Help: "Pages to people, by channel and result (sent, failed, skipped: not attempted, see the log and the card).",
		}, []string{"channel", "result"}),
		AckLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "klaxon_ack_latency_seconds",
			Help:    "Time from an alert group firing to its acknowledgement, by priority.",
			Buckets: []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400},
		}, []string{"priority"}),
		EngineCycle: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_engine_cycle_duration_seconds",
			Help:    "Duration of engine cycles.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		EngineLastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_engine_last_success_timestamp_seconds",
			Help: "Unix time of the last engine cycle that completed without error.",
		}),
		DBErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_db_errors_total",
			Help: "Database errors, by operation.",
		}, []string{"op"}),
		DiscordLastAuth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_discord_last_auth_success_timestamp_seconds",
			Help: "Unix time of the last Discord response that proved the token valid.",
		}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "klaxon_build_info",
			Help: "Klaxon's version and the Go version it was built with; always 1.",
		}, []string{"version", "goversion"}),
		GatewayConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_discord_gateway_connected",
			Help: "1 while the Discord gateway (websocket) is connected; 0 otherwise or when the gateway is off.",
		}),
		ConfigReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_config_reload_total",
			Help: "Configuration reloads (SIGHUP, /admin reload) by result: applied, or refused (the running configuration is kept).",
		}, []string{"result"}),
		ConfigLastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last configuration applied (at start or by a reload).",
		}),
	}
	if reg != nil {
		reg.MustRegister(
			m.WebhooksReceived, m.Alerts, m.OutboxDepth, m.OutboxOldestAge, m.DiscordRequests, m.DiscordRateLimited,
			m.PacingWait, m.Dead, m.DeadLetters, m.DiscordReachable, m.Pages, m.AckLatency, m.EngineCycle,
			m.EngineLastSuccess, m.DBErrors, m.DiscordLastAuth, m.BuildInfo,
			m.GatewayConnected, m.ConfigReloads, m.ConfigLastReload,
		)
	}
	for _, r := range []string{"applied", "refused"} {
		m.ConfigReloads.WithLabelValues(r)
	}
	for _, r := range []string{"accepted", "duplicate", "bad_request", "unauthorized", "too_large", "error"} {
		m.WebhooksReceived.WithLabelValues(r)
	}
	// Every page series exists from the start, so increase() sees the first one.
	for _, ch := range PageChannels {
		for _, r := range []string{"sent", "failed", "skipped"} {
			m.Pages.WithLabelValues(ch, r)
		}
	}
	return m
}

// NewRegistry returns a registry with the Go and process collectors, for
// New and for /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// SetBuildInfo records the running version.
func (m *Metrics) SetBuildInfo(version string) {
	if m == nil {
		return
	}
	m.BuildInfo.WithLabelValues(version, runtime.Version()).Set(1)
}

// WebhookReceived counts an Alertmanager delivery with its result.
func (m *Metrics) WebhookReceived(result string) {
	if m == nil {
		return
	}
	m.WebhooksReceived.WithLabelValues(result).Inc()
}

// Page counts n pages over channel with result (sent, failed, skipped).
func (m *Metrics) Page(channel, result string, n int) {
	if m == nil {
		return
	}
	m.Pages.WithLabelValues(channel, result).Add(float64(n))
}

// DiscordRequest counts a Discord REST request by route class and code
// (an HTTP status or "error").
func (m *Metrics) DiscordRequest(route, code string) {
	if m == nil {
		return
	}
	m.DiscordRequests.WithLabelValues(route, code).Inc()
}

// DiscordAuthOK records that Discord just accepted the token.
func (m *Metrics) DiscordAuthOK() {
	if m == nil {
		return
	}
	m.DiscordLastAuth.SetToCurrentTime()
}

// DiscordRateLimit counts a 429 by route class and scope.
func (m *Metrics) DiscordRateLimit(route, scope string) {
	if m == nil {
		return
	}
	m.DiscordRateLimited.WithLabelValues(route, scope).Inc()
}

// Paced adds time a delivery was held back for a rate limit.
func (m *Metrics) Paced(d time.Duration) {
	if m == nil {
		return
	}
	m.PacingWait.Add(d.Seconds())
}

// DeadLetter counts an item of kind refused for good.
func (m *Metrics) DeadLetter(kind string) {
	if m == nil {
		return
	}
	m.Dead.WithLabelValues(kind).Inc()
}

// Reachable records whether Discord answers.
func (m *Metrics) Reachable(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.DiscordReachable.Set(1)
	} else {
		m.DiscordReachable.Set(0)
	}
}

// Acknowledged observes the time from firing to acknowledgement.
func (m *Metrics) Acknowledged(priority string, latency time.Duration) {
	if m == nil {
		return
	}
	m.AckLatency.WithLabelValues(priority).Observe(latency.Seconds())
}

// Cycle observes an engine cycle's duration.
func (m *Metrics) Cycle(d time.Duration) {
	if m == nil {
		return
	}
	m.EngineCycle.Observe(d.Seconds())
}

// CycleSucceeded records the wall-clock time of a cycle that ended without error.
func (m *Metrics) CycleSucceeded(at time.Time) {
	if m == nil {
		return
	}
	m.EngineLastSuccess.Set(float64(at.Unix()))
}

// Outbox records the outbound queue: items waiting, dead letters kept and
// the age of the oldest waiting item in seconds.
func (m *Metrics) Outbox(depth, dead int, oldestAge float64) {
	if m == nil {
		return
	}
	m.OutboxDepth.Set(float64(depth))
	m.DeadLetters.Set(float64(dead))
	m.OutboxOldestAge.Set(oldestAge)
}

// AlertGroups records the number of alert groups of a priority in a state.
func (m *Metrics) AlertGroups(priority, state string, n int) {
	if m == nil {
		return
	}
	m.Alerts.WithLabelValues(priority, state).Set(float64(n))
}

// DBError counts a database error of operation op.
func (m *Metrics) DBError(op string) {
	if m == nil {
		return
	}
	m.DBErrors.WithLabelValues(op).Inc()
}

// Gateway records whether the Discord gateway is connected.
func (m *Metrics) Gateway(connected bool) {
	if m == nil {
		return
	}
	if connected {
		m.GatewayConnected.Set(1)
	} else {
		m.GatewayConnected.Set(0)
	}
}

// ConfigReload counts a configuration reload by result ("applied",
// "refused"); an applied one also sets the last-success time.
func (m *Metrics) ConfigReload(result string, at time.Time) {
	if m == nil {
		return
	}
	m.ConfigReloads.WithLabelValues(result).Inc()
	if result == "applied" {
		m.ConfigLastReload.Set(float64(at.UnixNano()) / 1e9)
	}
}
