package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
	"github.com/marola-rp/klaxon/bot/metrics"
)

// HeartbeatService records the pings of scheduled jobs (implemented by
// *heartbeat.Service, which owns the transaction).
type HeartbeatService interface {
	Ping(ctx context.Context, name string, sig heartbeat.Signal, now time.Time) (*heartbeat.State, error)
}

// WatchdogService recognises Alertmanager's Watchdog in a notification and
// records that it arrived (implemented by *heartbeat.Service).
type WatchdogService interface {
	SplitWatchdog(n bot.Notification) (rest bot.Notification, found, firing bool)
	SeenWatchdog(ctx context.Context, now time.Time) error
}

// DefaultMaxHeartbeatBytes bounds a heartbeat body: the end of a failed
// job's log (send it with `tail -c 10000`).
const DefaultMaxHeartbeatBytes = heartbeat.MaxLog

// Heartbeat receives job pings at POST /heartbeat/{name} (success),
// /heartbeat/{name}/start and /heartbeat/{name}/fail?exit_code=N (the body
// is the end of the job's log). It answers 401 without the heartbeat token
// (logged at most once a minute), 413 for a body over MaxBytes, 404 naming
// an unknown monitor, 400 naming a bad field; nothing is stored then.
type Heartbeat struct {
	Service  HeartbeatService
	Token    string // KLAXON_HEARTBEAT_TOKEN, sent as Authorization: Bearer
	Clock    bot.Clock
	MaxBytes int64
	Log      *slog.Logger
	Metrics  *metrics.Heartbeats // nil records nothing

	mu         sync.Mutex
	lastDenied time.Time // when a refusal was last logged
	suppressed int       // refusals not logged since
}

// deniedLogEvery is how often refused heartbeat credentials are logged at most.
const deniedLogEvery = time.Minute

func (h *Heartbeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, signal := r.PathValue("name"), r.PathValue("signal")
	kind := heartbeat.Success
	switch signal {
	case "":
	case "start":
		kind = heartbeat.Start
	case "fail":
		kind = heartbeat.Fail
	default:
		h.Metrics.Ping(signal, "bad_request")
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "error",
			"error": fmt.Sprintf("unknown signal %q: POST /heartbeat/%s (success), /heartbeat/%s/start or /heartbeat/%s/fail?exit_code=N", signal, name, name, name)})
		return
	}
	if authorize(r, h.Token) != "" {
		h.Metrics.Ping(string(kind), "unauthorized")
		h.denied(r)
		w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"status": "error",
			"error": "missing or wrong credentials: send Authorization: Bearer <KLAXON_HEARTBEAT_TOKEN>"})
		return
	}
	max := h.MaxBytes
	if max <= 0 {
		max = DefaultMaxHeartbeatBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.Metrics.Ping(string(kind), "too_large")
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"status": "error",
				"error": fmt.Sprintf("body larger than %d bytes: send the end of the log, e.g. tail -c %d job.log", max, max)})
			return
		}
		h.Metrics.Ping(string(kind), "bad_request")
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "error", "error": "reading body: " + err.Error()})
		return
	}
	sig := heartbeat.Signal{Kind: kind}
	if kind == heartbeat.Fail {
		sig.ExitCode, sig.Log = heartbeat.NoExitCode, string(body)
		if v := r.URL.Query().Get("exit_code"); v != "" {
			code, err := strconv.Atoi(v)
			if err != nil || code < 0 || code > 255 {
				h.Metrics.Ping(string(kind), "bad_request")
				writeError(w, h.Log, bot.Errorf(bot.EInvalid, "exit_code %q is not an exit status (0-255)", v))
				return
			}
			sig.ExitCode = code
		}
	}
	st, err := h.Service.Ping(r.Context(), name, sig, h.Clock.Now())
	if err != nil {
		result := "error"
		switch bot.ErrorCode(err) {
		case bot.ENotFound:
			result = "unknown"
			h.Log.Warn("heartbeat for an unknown monitor", "monitor", name)
		case bot.EInvalid:
			result = "bad_request"
		}
		h.Metrics.Ping(string(kind), result)
		writeError(w, h.Log, err)
		return
	}
	h.Metrics.Ping(string(kind), "accepted")
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "monitor": name, "signal": string(kind), "state": string(st.Shown())})
}

// denied logs a refused request, at most once per deniedLogEvery, with how
// many were refused since: a scanner or a job with an old token must not
// flood the log.
func (h *Heartbeat) denied(r *http.Request) {
	now := h.Clock.Now()
	h.mu.Lock()
	if !h.lastDenied.IsZero() && now.Sub(h.lastDenied) < deniedLogEvery {
		h.suppressed++
		h.mu.Unlock()
		return
	}
	n := h.suppressed
	h.lastDenied, h.suppressed = now, 0
	h.mu.Unlock()
	h.Log.Warn("heartbeat refused: missing or wrong token", "monitor", r.PathValue("name"), "remote", r.RemoteAddr,
		"refused_since_last_log", n)
}

// watchdog takes the Watchdog out of a notification and records it. It
// answers the request itself (and returns done) when nothing else is left,
// or when recording failed.
func (h *Webhook) watchdog(ctx context.Context, w http.ResponseWriter, n bot.Notification) (rest bot.Notification, done bool) {
	if h.Watchdog == nil {
		return n, false
	}
	rest, found, firing := h.Watchdog.SplitWatchdog(n)
	if !found {
		return n, false
	}
	if firing {
		if err := h.Watchdog.SeenWatchdog(ctx, h.Clock.Now()); err != nil {
			h.Metrics.WebhookReceived("error")
			writeError(w, h.Log, err) // 5xx: Alertmanager retries
			return rest, true
		}
	}
	if len(rest.Alerts) > 0 {
		return rest, false
	}
	h.Metrics.WebhookReceived("watchdog")
	h.Log.Debug("watchdog received", "group_key", n.GroupKey, "firing", firing)
	writeJSON(w, http.StatusOK, map[string]any{"status": "watchdog"})
	return rest, true
}
