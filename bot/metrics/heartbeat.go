package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Heartbeats are the metrics of heartbeat monitors and the Watchdog. A nil
// *Heartbeats records nothing.
type Heartbeats struct {
	// LastSeen is the Unix time of each monitor's last successful ping (0: none yet).
	LastSeen *prometheus.GaugeVec
	// State is 1 for each monitor's current state (new, up, late, failed, paused), 0 for the others.
	State *prometheus.GaugeVec
	// WatchdogLastSeen is the Unix time the Watchdog last arrived (0: not since the database was made).
	WatchdogLastSeen prometheus.Gauge
	// Pings counts heartbeat requests by signal (success, start, fail) and result (accepted, unauthorized, unknown, too_large, bad_request, error).
	Pings *prometheus.CounterVec
}

// NewHeartbeats creates the heartbeat metrics and registers them on reg (nil: nowhere).
func NewHeartbeats(reg prometheus.Registerer) *Heartbeats {
	h := &Heartbeats{
		LastSeen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "klaxon_heartbeat_last_seen_timestamp_seconds",
			Help: "Unix time of each heartbeat monitor's last successful ping (0: none yet).",
		}, []string{"name"}),
		State: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "klaxon_heartbeat_state",
			Help: "1 for each heartbeat monitor's current state (new, up, late, failed, paused), 0 for the others.",
		}, []string{"name", "state"}),
		WatchdogLastSeen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "klaxon_watchdog_last_seen_timestamp_seconds",
			Help: "Unix time Alertmanager's Watchdog last reached Klaxon (0: never).",
		}),
		Pings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_heartbeat_pings_total",
			Help: "Heartbeat requests by signal and result.",
		}, []string{"signal", "result"}),
	}
	if reg != nil {
		reg.MustRegister(h.LastSeen, h.State, h.WatchdogLastSeen, h.Pings)
	}
	return h
}

// Monitor sets a monitor's gauges: last seen, and 1 for state among states.
func (h *Heartbeats) Monitor(name string, lastSeen time.Time, state string, states []string) {
	if h == nil {
		return
	}
	h.LastSeen.WithLabelValues(name).Set(unix(lastSeen))
	for _, s := range states {
		v := 0.0
		if s == state {
			v = 1
		}
		h.State.WithLabelValues(name, s).Set(v)
	}
}

// WatchdogSeen sets when the Watchdog last arrived.
func (h *Heartbeats) WatchdogSeen(t time.Time) {
	if h == nil {
		return
	}
	h.WatchdogLastSeen.Set(unix(t))
}

// Ping counts a heartbeat request.
func (h *Heartbeats) Ping(signal, result string) {
	if h == nil {
		return
	}
	h.Pings.WithLabelValues(signal, result).Inc()
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
