package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
	"github.com/marola-rp/klaxon/handlers"
)

type hbEnv struct {
	*env
	svc   *heartbeat.Service
	mux   *http.ServeMux
	clock *bot.FakeClock
	logs  *bytes.Buffer
}

func newHBEnv(t *testing.T) *hbEnv {
	t.Helper()
	e := &hbEnv{env: newEnv(t), logs: &bytes.Buffer{}}
	e.clock = e.h.Clock.(*bot.FakeClock)
	e.svc = &heartbeat.Service{Store: e.db.Heartbeat(), Policy: e.pol, Started: e.clock.Now(),
		Monitors: []heartbeat.Monitor{{Name: "backup-full", Period: 24 * time.Hour, Priority: bot.P1}},
		Watchdog: &heartbeat.Watchdog{Matchers: heartbeat.DefaultWatchdogMatchers(), Timeout: 5 * time.Minute, Priority: bot.P0}}
	e.h.Watchdog = e.svc
	hb := &handlers.Heartbeat{Service: e.svc, Token: "hb-token", Clock: e.clock, Log: slog.New(slog.NewTextHandler(e.logs, nil))}
	e.mux = http.NewServeMux()
	e.mux.Handle("POST /heartbeat/{name}", hb)
	e.mux.Handle("POST /heartbeat/{name}/{signal}", hb)
	return e
}

func (e *hbEnv) send(method, path, token string, body []byte) (*httptest.ResponseRecorder, map[string]string) {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	var out map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w, out
}

func (e *hbEnv) state(t *testing.T) []*heartbeat.State {
	t.Helper()
	var sts []*heartbeat.State
	if err := e.svc.Store.View(context.Background(), func(tx heartbeat.Tx) (err error) { sts, err = tx.HeartbeatStates(); return err }); err != nil {
		t.Fatal(err)
	}
	return sts
}

// Bad input gets a clear status naming the problem and stores nothing.
func TestHeartbeatHTTPBadInput(t *testing.T) {
	e := newHBEnv(t)
	for _, tc := range []struct {
		name, method, path, token string
		body                      []byte
		status                    int
		says                      string
	}{
		{"no token", "POST", "/heartbeat/backup-full", "", nil, 401, "KLAXON_HEARTBEAT_TOKEN"},
		{"wrong token", "POST", "/heartbeat/backup-full", "s3cret", nil, 401, "wrong credentials"},
		{"unknown monitor", "POST", "/heartbeat/backup-ful", "hb-token", nil, 404, `"backup-ful"`},
		{"unknown before auth is still 401", "POST", "/heartbeat/nope", "", nil, 401, "credentials"},
		{"unknown signal", "POST", "/heartbeat/backup-full/done", "hb-token", nil, 404, `unknown signal "done"`},
		{"bad exit code", "POST", "/heartbeat/backup-full/fail?exit_code=boom", "hb-token", nil, 400, `exit_code "boom"`},
		{"oversized log", "POST", "/heartbeat/backup-full/fail?exit_code=1", "hb-token", bytes.Repeat([]byte("x"), 10<<10+1), 413, "tail -c"},
		{"GET", "GET", "/heartbeat/backup-full", "hb-token", nil, 405, ""},
	} {
		w, out := e.send(tc.method, tc.path, tc.token, tc.body)
		if w.Code != tc.status || !strings.Contains(out["error"], tc.says) {
			t.Errorf("%s: %d %q, want %d naming %q", tc.name, w.Code, out["error"], tc.status, tc.says)
		}
	}
	if sts := e.state(t); len(sts) != 0 {
		t.Errorf("bad input stored %d states: %+v", len(sts), sts[0])
	}
	if n := strings.Count(e.logs.String(), "heartbeat refused"); n != 1 {
		t.Errorf("three refusals within a minute logged %d times, want 1:\n%s", n, e.logs)
	}
	e.clock.Advance(time.Minute)
	e.send("POST", "/heartbeat/backup-full", "old-token", nil)
	if n := strings.Count(e.logs.String(), "heartbeat refused"); n != 2 || !strings.Contains(e.logs.String(), "refused_since_last_log=2") {
		t.Errorf("a minute later: %d log lines, want 2 with the 2 refusals not logged:\n%s", n, e.logs)
	}
	if strings.Contains(e.logs.String(), "old-token") || strings.Contains(e.logs.String(), "s3cret") {
		t.Errorf("a token reached the log:\n%s", e.logs)
	}
}

// The signals: start, fail with exit code and log (exactly 10 KiB is
// accepted), success.
func TestHeartbeatHTTPSignals(t *testing.T) {
	e := newHBEnv(t)
	if w, out := e.send("POST", "/heartbeat/backup-full/start", "hb-token", nil); w.Code != 200 || out["signal"] != "start" {
		t.Fatalf("start: %d %v", w.Code, out)
	}
	e.clock.Advance(time.Minute)
	log := append(bytes.Repeat([]byte("."), 10<<10-20), []byte("\nERROR: disk full\n")...)
	w, out := e.send("POST", "/heartbeat/backup-full/fail?exit_code=3", "hb-token", log[:10<<10])
	if w.Code != 200 || out["state"] != "failed" {
		t.Fatalf("fail: %d %v", w.Code, out)
	}
	g := e.group(t, heartbeat.GroupKey("backup-full"))
	if g.Status != bot.Firing || g.Priority != bot.P1 || !strings.Contains(g.Summary(), "exit code 3") {
		t.Errorf("failure group: %s %s %q", g.Status, g.Priority, g.Summary())
	}
	e.clock.Advance(time.Minute)
	if w, out := e.send("POST", "/heartbeat/backup-full", "hb-token", nil); w.Code != 200 || out["state"] != "up" {
		t.Fatalf("success: %d %v", w.Code, out)
	}
	if g := e.group(t, heartbeat.GroupKey("backup-full")); g.Status != bot.Resolved {
		t.Errorf("after success the group is %s", g.Status)
	}
}

// The Watchdog is recorded, never a card, and not a duplicate; alerts
// sharing its notification still become a group.
func TestWebhookWatchdog(t *testing.T) {
	e := newHBEnv(t)
	body := func(alerts ...string) []byte {
		return []byte(`{"version":"4","groupKey":"{}:{alertname=\"Watchdog\"}","status":"firing","receiver":"klaxon",
			"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","alerts":[` + strings.Join(alerts, ",") + `]}`)
	}
	wd := `{"status":"firing","labels":{"alertname":"Watchdog","severity":"none"},"annotations":{},"startsAt":"2026-11-26T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"wd1"}`
	other := `{"status":"firing","labels":{"alertname":"DiskFull","severity":"warning"},"annotations":{},"startsAt":"2026-11-26T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"df1"}`
	for i := range 2 {
		w := e.post(body(wd), "Bearer s3cret")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"watchdog"`) {
			t.Fatalf("delivery %d: %d %s", i, w.Code, w.Body)
		}
	}
	var g *bot.Group
	err := e.db.View(context.Background(), func(tx bot.Tx) (err error) {
		g, err = tx.LatestGroup(`{}:{alertname="Watchdog"}`)
		return err
	})
	if bot.ErrorCode(err) != bot.ENotFound {
		t.Fatalf("the Watchdog became a group: %+v %v", g, err)
	}
	sts := e.state(t)
	if len(sts) != 1 || !sts[0].LastPing.Equal(e.clock.Now()) {
		t.Fatalf("watchdog state: %+v", sts)
	}
	// A resolved Watchdog (Prometheus stopped sending it) is no sign of life.
	seenAt := e.clock.Now()
	e.clock.Advance(time.Minute)
	resolved := strings.Replace(strings.Replace(wd, `"firing"`, `"resolved"`, 1), `"0001-01-01T00:00:00Z"`, `"2026-11-26T12:12:00Z"`, 1)
	if w := e.post(body(resolved), "Bearer s3cret"); w.Code != 200 || !strings.Contains(w.Body.String(), `"watchdog"`) {
		t.Fatalf("resolved Watchdog: %d %s", w.Code, w.Body)
	}
	if sts := e.state(t); !sts[0].LastPing.Equal(seenAt) {
		t.Errorf("a resolved Watchdog moved last seen to %s", sts[0].LastPing)
	}
	w := e.post(body(wd, other), "Bearer s3cret")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"accepted"`) {
		t.Fatalf("mixed: %d %s", w.Code, w.Body)
	}
	g = e.group(t, `{}:{alertname="Watchdog"}`)
	if len(g.Alerts) != 1 || g.Alerts[0].Fingerprint != "df1" {
		t.Errorf("mixed notification stored alerts %+v, want only DiskFull", g.Alerts)
	}
}
