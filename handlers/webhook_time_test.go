package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/marola-rp/klaxon/bot"
)

// timedBody is a delivery of group key with alerts[0] fine and alerts[1]
// carrying the given status, startsAt and endsAt.
func timedBody(key, status, startsAt, endsAt string) []byte {
	return fmt.Appendf(nil, `{"version":"4","groupKey":%q,"status":"firing","receiver":"klaxon","alerts":[
		{"status":"firing","fingerprint":"aaaa","startsAt":"2026-11-26T03:00:00Z","endsAt":"0001-01-01T00:00:00Z","labels":{"alertname":"Lab"}},
		{"status":%q,"fingerprint":"bbbb","startsAt":%q,"endsAt":%q,"labels":{"alertname":"Lab"}}]}`, key, status, startsAt, endsAt)
}

// TestWebhookTimesOutsideTheStore: times the store cannot hold (Unix
// nanoseconds in an int64) are refused with 400 naming the field, and
// nothing of that delivery is stored. Before, 2300-01-01 was stored as
// 1715-06-13, so every re-delivery counted as the alert firing again (a new
// version and card edit per delivery; after the group resolved, a new
// episode with a new card and new pings).
func TestWebhookTimesOutsideTheStore(t *testing.T) {
	tests := []struct {
		name, status, startsAt, endsAt, want string
	}{
		{"startsAt after 2262", "firing", "2300-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
			"alerts[1].startsAt: 2300-01-01T00:00:00Z is outside the range Klaxon can store (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)"},
		{"startsAt one ns after the last", "firing", "2262-04-11T23:47:16.854775808Z", "0001-01-01T00:00:00Z", "alerts[1].startsAt: 2262-04-11T23:47:16.854775808Z is outside"},
		{"startsAt before 1678", "firing", "1600-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "alerts[1].startsAt: 1600-01-01T00:00:00Z is outside"},
		{"startsAt in year 0", "firing", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "alerts[1].startsAt: 0000-01-01T00:00:00Z is outside"},
		{"startsAt at Unix time 0", "firing", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", `alerts[1].startsAt: 1970-01-01T00:00:00Z is Unix time 0`},
		{"startsAt at Unix time 0 in another zone", "firing", "1970-01-01T02:00:00+02:00", "0001-01-01T00:00:00Z", `is Unix time 0`},
		{"resolved endsAt after 2262", "resolved", "2026-11-26T03:00:00Z", "9999-12-31T23:59:59Z", "alerts[1].endsAt: 9999-12-31T23:59:59Z is outside"},
		{"resolved endsAt at Unix time 0", "resolved", "2026-11-26T03:00:00Z", "1970-01-01T00:00:00Z", "alerts[1].endsAt: 1970-01-01T00:00:00Z is Unix time 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.post(timedBody("k", tt.status, tt.startsAt, tt.endsAt), "Bearer s3cret")
			var resp struct{ Status, Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatalf("response is not JSON: %s", w.Body)
			}
			if w.Code != http.StatusBadRequest || !strings.Contains(resp.Error, tt.want) {
				t.Fatalf("got %d %s; want 400 containing %q", w.Code, w.Body, tt.want)
			}
			err := e.db.View(context.Background(), func(tx bot.Tx) error { _, err := tx.LatestGroup("k"); return err })
			if bot.ErrorCode(err) != bot.ENotFound {
				t.Errorf("after a refused delivery the group is stored (err %v): nothing of it may be", err)
			}
		})
	}
}

// TestWebhookTimesAtTheStoreEdges: the first and last storable instants,
// the zero endsAt of a firing alert and a firing alert's far-future endsAt
// (not stored) are taken, stored exactly, and a re-delivery is a duplicate.
func TestWebhookTimesAtTheStoreEdges(t *testing.T) {
	tests := []struct{ name, status, startsAt, endsAt string }{
		{"last instant", "firing", "2262-04-11T23:47:16.854775807Z", "0001-01-01T00:00:00Z"},
		{"first instant", "firing", "1677-09-21T00:12:43.145224192Z", "0001-01-01T00:00:00Z"},
		{"one ns after Unix time 0", "firing", "1970-01-01T00:00:00.000000001Z", "0001-01-01T00:00:00Z"},
		{"firing with a far-future endsAt", "firing", "2026-11-26T03:00:00Z", "9999-12-31T23:59:59Z"},
		{"resolved at the last instant", "resolved", "2262-04-11T23:47:16Z", "2262-04-11T23:47:16.854775807Z"},
		{"resolved with the zero endsAt", "resolved", "2026-11-26T03:00:00Z", "0001-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			body := timedBody("k", tt.status, tt.startsAt, tt.endsAt)
			if w := e.post(body, "Bearer s3cret"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"accepted"`) {
				t.Fatalf("got %d %s, want 200 accepted", w.Code, w.Body)
			}
			g := e.group(t, "k")
			b := g.Alerts[1]
			if got := b.StartsAt.Format("2006-01-02T15:04:05.999999999Z07:00"); got != tt.startsAt {
				t.Errorf("startsAt stored as %s, want %s", got, tt.startsAt)
			}
			if tt.status == "resolved" && tt.endsAt != "0001-01-01T00:00:00Z" {
				if got := b.EndsAt.Format("2006-01-02T15:04:05.999999999Z07:00"); got != tt.endsAt {
					t.Errorf("endsAt stored as %s, want %s", got, tt.endsAt)
				}
			} else if !b.EndsAt.IsZero() {
				t.Errorf("endsAt stored as %v, want none", b.EndsAt)
			}
			for range 2 {
				if w := e.post(body, "Bearer s3cret"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"duplicate"`) {
					t.Fatalf("re-delivery: %d %s, want 200 duplicate", w.Code, w.Body)
				}
			}
			if got := e.group(t, "k"); got.ID != g.ID || got.Version != g.Version {
				t.Errorf("re-delivery: group %d v%d, want %d v%d", got.ID, got.Version, g.ID, g.Version)
			}
		})
	}
}
