package handlers

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Without a token configured the admin API is off and says how to turn it
// on; a wrong token is 401, logged with the remote address at most once a
// minute. Neither reaches the Terminal (nil here: it would panic).
func TestAdminAPIAuthentication(t *testing.T) {
	var logs bytes.Buffer
	now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	off := &AdminAPI{Log: slog.New(slog.NewTextHandler(&logs, nil))}
	rec := httptest.NewRecorder()
	off.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/v1/alerts", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "the admin API is off: set KLAXON_ADMIN_TOKEN") {
		t.Errorf("no token configured: %d %s", rec.Code, rec.Body)
	}

	api := &AdminAPI{Token: "s3cret", Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }}
	for i, auth := range []string{"", "Bearer wrong", "s3cret", "Bearer s3cret2", "bearer s3cret"} {
		req := httptest.NewRequest(http.MethodGet, "/admin/v1/alerts", nil)
		req.RemoteAddr = "192.0.2.7:4242"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%d: Authorization %q: %d, want 401 with WWW-Authenticate", i, auth, rec.Code)
		}
	}
	if n := strings.Count(logs.String(), "wrong or missing token"); n != 1 || !strings.Contains(logs.String(), "192.0.2.7:4242") {
		t.Errorf("logged %d times within a minute, want once with the remote address:\n%s", n, logs.String())
	}
	now = now.Add(time.Minute)
	api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/admin/v1/alerts", nil))
	if n := strings.Count(logs.String(), "wrong or missing token"); n != 2 {
		t.Errorf("logged %d times after a minute, want 2", n)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log shows a token:\n%s", logs.String())
	}
}

func TestPlainRefs(t *testing.T) {
	got := plainRefs("only <@&123> or <@&456> may **resolve** a P0 alert (action `alert.resolve`), ack by <@789> <t:0:R>")
	want := "only role 123 or role 456 may resolve a P0 alert (action alert.resolve), ack by user 789 1970-01-01 00:00 UTC"
	if got != want {
		t.Errorf("plainRefs = %q, want %q", got, want)
	}
	// The core's reference tokens too: nothing private-use reaches a terminal.
	if got := plainRefs("only " + bot.RoleRef("5") + " may, asked by " + bot.UserRef("7")); got != "only role 5 may, asked by user 7" {
		t.Errorf("plainRefs of tokens = %q", got)
	}
}
