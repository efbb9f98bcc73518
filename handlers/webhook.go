package handlers

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/metrics"
)

// DefaultMaxWebhookBytes bounds an Alertmanager delivery. A group of a few
// thousand alerts with long annotations fits; anything larger is refused
// with 413 (set max_alerts on the Alertmanager receiver).
const DefaultMaxWebhookBytes = 8 << 20

// Webhook receives Alertmanager's webhook notifications (payload version 4)
// at POST /webhook/alertmanager.
type Webhook struct {
	Ingester IngestService
	Clock    bot.Clock
	Token    string // required bearer token (or basic-auth password)
	MaxBytes int64
	Trigger  func() // wakes the engine after new work was stored
	Log      *slog.Logger
	// Watchdog recognises Alertmanager's Watchdog, which is recorded and
	// never shown as a card; nil: it is an alert like any other.
	Watchdog WatchdogService

	// Metrics counts deliveries by result; nil records nothing.
	Metrics *metrics.Metrics

	refusals logLimiter // 401s: one WARN line a minute per reason
}

// message is Alertmanager's webhook body: notify/webhook.Message with the
// template.Data it embeds.
type message struct {
	template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Log
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.Metrics.WebhookReceived("bad_request")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"status": "error", "error": "use POST"})
		return
	}
	if reason := authorize(r, h.Token); reason != "" {
		h.Metrics.WebhookReceived("unauthorized")
		now := time.Now()
		if h.Clock != nil {
			now = h.Clock.Now()
		}
		if ok, suppressed := h.refusals.allow(reason, now); ok {
			log.Warn("webhook refused: "+reason+" (check the token in Alertmanager's webhook_configs http_config.authorization)",
				"remote", r.RemoteAddr, "user_agent", r.UserAgent(), "suppressed", suppressed, "window", refusalWindow.String())
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"status": "error",
			"error": "missing or wrong credentials: send Authorization: Bearer <KLAXON_WEBHOOK_TOKEN> (http_config.authorization in webhook_configs)"})
		return
	}
	max := h.MaxBytes
	if max <= 0 {
		max = DefaultMaxWebhookBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.Metrics.WebhookReceived("too_large")
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"status": "error",
				"error": fmt.Sprintf("body larger than %d bytes: lower max_alerts in the Alertmanager webhook config", max)})
			return
		}
		h.Metrics.WebhookReceived("bad_request")
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "error", "error": "reading body: " + err.Error()})
		return
	}
	n, err := Decode(body)
	if err != nil {
		h.Metrics.WebhookReceived("bad_request")
		log.Warn("rejected webhook", "err", err)
		writeError(w, log, err)
		return
	}
	log = log.With("group_key", n.GroupKey)
	var done bool
	if n, done = h.watchdog(r.Context(), w, n); done {
		return
	}
	res, err := h.Ingester.Ingest(r.Context(), n, h.Clock.Now())
	if err != nil {
		h.Metrics.WebhookReceived("error")
		// EUnavailable answers 503 and other failures 500: Alertmanager retries both, so nothing is lost.
		writeError(w, log, err)
		return
	}
	result := "accepted"
	if !res.Changed {
		result = "duplicate"
	} else if h.Trigger != nil {
		h.Trigger()
	}
	h.Metrics.WebhookReceived(result)
	kind := "changed"
	switch {
	case !res.Changed:
		kind = "duplicate"
	case res.NewGroup:
		kind = "new"
	}
	firing := 0
	for _, a := range n.Alerts {
		if a.Status == bot.Firing {
			firing++
		}
	}
	log.Info("webhook "+kind, "receiver", n.Receiver, "status", string(n.Status), "group", res.GroupID,
		"alerts", len(n.Alerts), "firing", firing, "resolved", len(n.Alerts)-firing, "truncated", n.TruncatedAlerts, "result", result)
	writeJSON(w, http.StatusOK, map[string]any{"status": result, "group_id": res.GroupID})
}

// authorize accepts "Authorization: Bearer <token>" or basic auth whose
// password is the token, compared in constant time; it returns "" or why
// the request is refused (never the token it carried).
func authorize(r *http.Request, token string) string {
	if token == "" {
		return "no token configured" // serve refuses to start without one; never accept anonymous input
	}
	got, present := "", false
	if _, pw, ok := r.BasicAuth(); ok {
		got, present = pw, true
	} else if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		got, present = strings.TrimSpace(h[7:]), true
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1:
		return ""
	case !present:
		return "no credentials"
	}
	return "wrong token"
}

// refusalWindow is how often a refused webhook is logged per reason.
const refusalWindow = time.Minute

// logLimiter lets one log line through per key and window, counting the
// ones it held back: a misconfigured sender is visible without flooding.
type logLimiter struct {
	mu   sync.Mutex
	keys map[string]*limited
}

type limited struct {
	next       time.Time
	suppressed int
}

// allow reports whether a line for key may be logged at now, and how many
// were suppressed since the last one that was.
func (l *logLimiter) allow(key string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[string]*limited{}
	}
	k := l.keys[key]
	if k == nil {
		k = &limited{}
		l.keys[key] = k
	}
	if now.Before(k.next) {
		k.suppressed++
		return false, 0
	}
	n := k.suppressed
	k.next, k.suppressed = now.Add(refusalWindow), 0
	return true, n
}

// Decode parses and validates an Alertmanager webhook body. Errors are
// bot.EInvalid and name the problem.
func Decode(body []byte) (bot.Notification, error) {
	var m message
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "malformed JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "field %q: expected %s, got JSON %s", strings.TrimPrefix(te.Field, "Data."), te.Type, te.Value)
		case errors.Is(err, io.EOF):
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "empty body: expected an Alertmanager webhook JSON object")
		default:
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return bot.Notification{}, bot.Errorf(bot.EInvalid, "malformed JSON: data after the top-level object")
	}
	if m.Version != "4" {
		return bot.Notification{}, bot.Errorf(bot.EInvalid, "unsupported webhook version %q: Klaxon accepts version \"4\" (Alertmanager 0.16 and later)", m.Version)
	}
	if m.GroupKey == "" {
		return bot.Notification{}, bot.Errorf(bot.EInvalid, "groupKey is missing or empty")
	}
	if len(m.Alerts) == 0 {
		return bot.Notification{}, bot.Errorf(bot.EInvalid, "alerts is missing or empty")
	}
	n := bot.Notification{
		Receiver: m.Receiver, Status: bot.Status(m.Status), GroupKey: m.GroupKey,
		GroupLabels: m.GroupLabels, CommonLabels: m.CommonLabels, CommonAnnotations: m.CommonAnnotations,
		ExternalURL: m.ExternalURL, TruncatedAlerts: int(min(m.TruncatedAlerts, 1<<31-1)),
		Alerts: make([]bot.Alert, 0, len(m.Alerts)),
	}
	seen := make(map[string]bool, len(m.Alerts))
	for i, a := range m.Alerts {
		if a.Status != string(bot.Firing) && a.Status != string(bot.Resolved) {
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "alerts[%d].status is %q: want \"firing\" or \"resolved\"", i, a.Status)
		}
		if a.Fingerprint == "" {
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "alerts[%d].fingerprint is missing", i)
		}
		if a.StartsAt.IsZero() {
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "alerts[%d].startsAt is missing", i)
		}
		if err := bot.CheckStorable(a.StartsAt); err != nil {
			return bot.Notification{}, bot.Errorf(bot.EInvalid, "alerts[%d].startsAt: %v", i, err)
		}
		var end time.Time // firing alerts carry endsAt 0001-01-01 or a future expiry: not an end, not stored
		if a.Status == string(bot.Resolved) && a.EndsAt.Year() > 1 {
			end = a.EndsAt.UTC()
			if err := bot.CheckStorable(end); err != nil {
				return bot.Notification{}, bot.Errorf(bot.EInvalid, "alerts[%d].endsAt: %v", i, err)
			}
		}
		if seen[a.Fingerprint] {
			continue // the same alert twice in one body: keep the first
		}
		seen[a.Fingerprint] = true
		n.Alerts = append(n.Alerts, bot.Alert{
			Fingerprint: a.Fingerprint, Status: bot.Status(a.Status), Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt.UTC(), EndsAt: end, GeneratorURL: a.GeneratorURL,
		})
	}
	return n, nil
}
