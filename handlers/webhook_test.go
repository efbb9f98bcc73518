package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

// fixture returns the exact body a real Alertmanager sent (testdata/alertmanager).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Body
}

type env struct {
	db      *store.DB
	pol     *bot.Policy
	h       *handlers.Webhook
	trigger int
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pol := &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range pol.Routes {
		pol.Routes[i].ChannelID = "10" + string(rune('0'+i))
	}
	e := &env{db: db, pol: pol}
	e.h = &handlers.Webhook{Ingester: &bot.Ingester{Store: db, Policy: pol}, Clock: bot.NewFakeClock(time.Date(2026, 11, 26, 12, 12, 0, 0, time.UTC)),
		Token: "s3cret", MaxBytes: 64 << 10, Trigger: func() { e.trigger++ }, Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	return e
}

func (e *env) post(body []byte, auth string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/webhook/alertmanager", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *env) group(t testing.TB, key string) *bot.Group {
	t.Helper()
	var g *bot.Group
	if err := e.db.View(context.Background(), func(tx bot.Tx) (err error) { g, err = tx.LatestGroup(key); return err }); err != nil {
		t.Fatalf("group %s: %v", key, err)
	}
	return g
}

const labKey = `{}:{alertname="Lab"}`

func TestWebhookFixtures(t *testing.T) {
	for _, v := range []string{"0.25", "0.35"} {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t)
			w := e.post(fixture(t, "am"+v+"-firing-2alerts.json"), "Bearer s3cret")
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"accepted"`) {
				t.Fatalf("firing: %d %s", w.Code, w.Body)
			}
			g := e.group(t, labKey)
			if g.Status != bot.Firing || len(g.Alerts) != 2 || g.Priority != bot.P0 || g.PrioritySource != "severity=page" {
				t.Errorf("after firing: status %v alerts %d priority %v (%s)", g.Status, len(g.Alerts), g.Priority, g.PrioritySource)
			}
			if !g.Alerts[0].EndsAt.IsZero() {
				t.Errorf("firing alert has endsAt %v, want zero", g.Alerts[0].EndsAt)
			}
			// Duplicate delivery (HA pair or retry): 200, nothing changes.
			if w := e.post(fixture(t, "am"+v+"-firing-2alerts.json"), "Bearer s3cret"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"duplicate"`) {
				t.Fatalf("duplicate: %d %s", w.Code, w.Body)
			}
			if got := e.group(t, labKey); got.Version != g.Version {
				t.Errorf("duplicate bumped version %d -> %d", g.Version, got.Version)
			}
			if e.trigger != 1 {
				t.Errorf("engine triggered %d times, want 1 (duplicates must not wake it)", e.trigger)
			}
			w = e.post(fixture(t, "am"+v+"-one-resolved.json"), "Bearer s3cret")
			if w.Code != http.StatusOK {
				t.Fatalf("one resolved: %d %s", w.Code, w.Body)
			}
			g = e.group(t, labKey)
			f, r := g.Counts()
			if g.Status != bot.Firing || f != 1 || r != 1 {
				t.Errorf("after one resolved: status %v firing %d resolved %d", g.Status, f, r)
			}
		})
	}
}

func TestWebhookTruncatedAndResolved(t *testing.T) {
	e := newEnv(t)
	if w := e.post(fixture(t, "am0.25-truncated-max_alerts1.json"), "Bearer s3cret"); w.Code != http.StatusOK {
		t.Fatalf("truncated: %d %s", w.Code, w.Body)
	}
	if g := e.group(t, labKey); g.TruncatedAlerts != 1 {
		t.Errorf("truncatedAlerts = %d, want 1", g.TruncatedAlerts)
	}
	if w := e.post(fixture(t, "am0.25-all-resolved-max_alerts1.json"), "Bearer s3cret"); w.Code != http.StatusOK {
		t.Fatalf("resolved: %d %s", w.Code, w.Body)
	}
	if g := e.group(t, labKey); g.Status != bot.Resolved {
		t.Errorf("status %v, want resolved", g.Status)
	}
}

func TestWebhookRejects(t *testing.T) {
	good := fixture(t, "am0.25-firing-2alerts.json")
	tests := []struct {
		name     string
		body     []byte
		auth     string
		want     int
		contains string
	}{
		{"no credentials", good, "", 401, "Authorization: Bearer"},
		{"wrong bearer", good, "Bearer nope", 401, "wrong credentials"},
		{"basic auth with the token as password", good, "Basic " + b64("alertmanager:s3cret"), 200, "accepted"},
		{"basic auth wrong password", good, "Basic " + b64("alertmanager:x"), 401, "credentials"},
		{"malformed JSON", []byte(`{"version": "4", "alerts": [`), "Bearer s3cret", 400, "malformed JSON"},
		{"not an object", []byte(`[1,2]`), "Bearer s3cret", 400, "expected"},
		{"empty body", nil, "Bearer s3cret", 400, "empty body"},
		{"wrong version", bytes.Replace(good, []byte(`"version": "4"`), []byte(`"version": "3"`), 1), "Bearer s3cret", 400, `unsupported webhook version "3"`},
		{"no group key", bytes.Replace(good, []byte(`"groupKey"`), []byte(`"x"`), 1), "Bearer s3cret", 400, "groupKey is missing"},
		{"bad alert status", bytes.Replace(good, []byte(`"status": "firing",
        "labels"`), []byte(`"status": "burning",
        "labels"`), 1), "Bearer s3cret", 400, `alerts[0].status is "burning"`},
		{"wrong type", []byte(`{"version":"4","groupKey":"k","alerts":"x"}`), "Bearer s3cret", 400, `field "alerts"`},
		{"oversize", append([]byte(`{"version":"4","pad":"`), append(bytes.Repeat([]byte("x"), 70<<10), []byte(`"}`)...)...), "Bearer s3cret", 413, "max_alerts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.post(tt.body, tt.auth)
			var resp struct{ Status, Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatalf("response is not JSON: %s", w.Body)
			}
			if w.Code != tt.want || !strings.Contains(resp.Status+" "+resp.Error, tt.contains) {
				t.Errorf("got %d %s; want %d containing %q", w.Code, w.Body, tt.want, tt.contains)
			}
		})
	}
}

func TestWebhookUnavailableStoreIs503(t *testing.T) {
	e := newEnv(t)
	e.db.Close() // the database went away: transient for Alertmanager, which retries 5xx
	w := e.post(fixture(t, "am0.25-firing-2alerts.json"), "Bearer s3cret")
	if w.Code < 500 {
		t.Fatalf("got %d %s, want a 5xx so Alertmanager retries", w.Code, w.Body)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
