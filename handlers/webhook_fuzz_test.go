package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/handlers"
)

// Fuzzing the webhook. Run a target longer locally with e.g.
//
//	go test ./handlers -run '^$' -fuzz '^FuzzWebhook$' -fuzztime 5m
//
// A failing input is written to testdata/fuzz/<target>/ and replayed by every
// plain go test run from then on: commit it with the fix.

// fuzzEnv is one real SQLite database per fuzzing process, shared by the
// inputs (so later inputs merge into the groups of earlier ones), with the
// handler's warnings discarded (they would be logged on f).
func fuzzEnv(f *testing.F) *env {
	e := newEnv(f)
	e.h.Log = slog.New(slog.DiscardHandler)
	e.h.MaxBytes = 1 << 20
	return e
}

type webhookAnswer struct {
	Status  string `json:"status"`
	Error   string `json:"error"`
	GroupID int64  `json:"group_id"`
}

// checkAnswer checks the properties every answer has: never 5xx, 2xx or 4xx with
// a JSON body, a message for a 4xx, a status and a group for a 2xx.
func checkAnswer(t *testing.T, w interface {
	Result() *http.Response
}, body []byte) (int, webhookAnswer) {
	t.Helper()
	res := w.Result()
	var a webhookAnswer
	raw := new(bytes.Buffer)
	raw.ReadFrom(res.Body)
	if err := json.Unmarshal(raw.Bytes(), &a); err != nil {
		t.Fatalf("answer %d is not JSON (%v): %s\nbody: %q", res.StatusCode, err, raw, body)
	}
	switch {
	case res.StatusCode >= 500:
		t.Fatalf("answer %d %s to body %q: a 5xx makes Alertmanager retry input that will never work", res.StatusCode, raw, body)
	case res.StatusCode >= 400:
		if strings.TrimSpace(a.Error) == "" || a.Status != "error" {
			t.Fatalf("answer %d without a message: %s\nbody: %q", res.StatusCode, raw, body)
		}
	case res.StatusCode >= 200 && res.StatusCode < 300:
		if (a.Status != "accepted" && a.Status != "duplicate") || a.GroupID <= 0 {
			t.Fatalf("answer %d %s: want status accepted or duplicate and a group", res.StatusCode, raw)
		}
	default:
		t.Fatalf("answer %d %s, want 2xx or 4xx", res.StatusCode, raw)
	}
	return res.StatusCode, a
}

func (e *env) latest(t *testing.T, key string) *bot.Group {
	t.Helper()
	var g *bot.Group
	err := e.db.View(context.Background(), func(tx bot.Tx) (err error) { g, err = tx.LatestGroup(key); return err })
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil
	}
	if err != nil {
		t.Fatalf("read group %q: %v", key, err)
	}
	return g
}

// sameAlert reports how a stored alert differs from the one delivered, or "".
func sameAlert(got, want bot.Alert) string {
	switch {
	case got.Status != want.Status:
		return fmt.Sprintf("status %s, want %s", got.Status, want.Status)
	case !got.StartsAt.Equal(want.StartsAt):
		return fmt.Sprintf("startsAt %s, want %s", got.StartsAt.Format(time.RFC3339Nano), want.StartsAt.Format(time.RFC3339Nano))
	case !got.EndsAt.Equal(want.EndsAt):
		return fmt.Sprintf("endsAt %s, want %s", got.EndsAt.Format(time.RFC3339Nano), want.EndsAt.Format(time.RFC3339Nano))
	case !maps.Equal(got.Labels, want.Labels):
		return fmt.Sprintf("labels %q, want %q", got.Labels, want.Labels)
	case !maps.Equal(got.Annotations, want.Annotations):
		return fmt.Sprintf("annotations %q, want %q", got.Annotations, want.Annotations)
	case got.GeneratorURL != want.GeneratorURL:
		return fmt.Sprintf("generatorURL %q, want %q", got.GeneratorURL, want.GeneratorURL)
	}
	return ""
}

// checkStored checks that an accepted delivery n is in the database: group
// id as answered, every alert present, and, for a group the delivery
// created, stored exactly as delivered. A second delivery of the same body
// must then be a duplicate that changes nothing.
func checkStored(t *testing.T, e *env, body []byte, n bot.Notification, a webhookAnswer, created bool) *bot.Group {
	t.Helper()
	g := e.latest(t, n.GroupKey)
	if g == nil || g.ID != a.GroupID {
		t.Fatalf("answered group %d for %q, stored %+v", a.GroupID, n.GroupKey, g)
	}
	byFP := make(map[string]bot.Alert, len(g.Alerts))
	for _, x := range g.Alerts {
		byFP[x.Fingerprint] = x
	}
	for i, in := range n.Alerts {
		got, ok := byFP[in.Fingerprint]
		if !ok {
			t.Fatalf("alerts[%d] (%q) accepted but not stored", i, in.Fingerprint)
		}
		if created {
			if d := sameAlert(got, in); d != "" {
				t.Fatalf("alerts[%d] (%q) stored differently: %s\nbody: %q", i, in.Fingerprint, d, body)
			}
		}
	}
	if created && (len(g.Alerts) != len(n.Alerts) || g.Receiver != n.Receiver || g.ExternalURL != n.ExternalURL ||
		g.TruncatedAlerts != n.TruncatedAlerts || !maps.Equal(g.CommonLabels, n.CommonLabels) ||
		!maps.Equal(g.GroupLabels, n.GroupLabels) || !maps.Equal(g.CommonAnnotations, n.CommonAnnotations)) {
		t.Fatalf("new group stored differently:\n got %+v\nwant %+v", g, n)
	}
	code, again := checkAnswer(t, e.post(body, "Bearer s3cret"), body)
	if code != http.StatusOK || again.Status != "duplicate" || again.GroupID != g.ID {
		t.Fatalf("the same body again: %d %+v, want 200 duplicate of group %d (stored %+v)\nbody: %q", code, again, g.ID, g, body)
	}
	if g2 := e.latest(t, n.GroupKey); g2.ID != g.ID || g2.Version != g.Version {
		t.Fatalf("the same body again changed group %d v%d into %d v%d", g.ID, g.Version, g2.ID, g2.Version)
	}
	return g
}

// FuzzWebhook posts any body to the real handler over a real SQLite
// database: it never answers 5xx or panics; it answers 2xx or 4xx with a
// message; what it accepts is stored as delivered and a repeat is a
// duplicate; what it refuses changes nothing.
func FuzzWebhook(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "alertmanager", "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no Alertmanager fixtures in testdata/alertmanager (%v)", err)
	}
	for _, p := range paths {
		f.Add(fixture(f, filepath.Base(p)))
	}
	good := string(fixture(f, "am0.25-firing-2alerts.json"))
	for _, s := range []string{
		`{"version":"4","alerts":[`, `[1,2]`, ``, `{"version":"4","groupKey":"k","alerts":"x"}`,
		strings.Replace(good, `"version": "4"`, `"version": "3"`, 1),
		strings.Replace(good, `2026-11-26T`, `2300-11-26T`, 1),
		strings.Replace(good, `2026-11-26T`, `1970-01-01T`, 1),
		string(timedBody("k", "resolved", "2026-11-26T03:00:00Z", "9999-12-31T23:59:59Z")),
		string(timedBody("k", "firing", "2262-04-11T23:47:16.854775807Z", "0001-01-01T00:00:00Z")),
	} {
		f.Add([]byte(s))
	}
	e := fuzzEnv(f)
	seen := map[int64]bool{}
	f.Fuzz(func(t *testing.T, body []byte) {
		var key struct {
			GroupKey string `json:"groupKey"`
		}
		_ = json.Unmarshal(body, &key)
		before := e.latest(t, key.GroupKey)
		code, a := checkAnswer(t, e.post(body, "Bearer s3cret"), body)
		n, decodeErr := handlers.Decode(body)
		if code != http.StatusOK {
			if decodeErr == nil {
				t.Fatalf("answered %d %q to a body Decode accepts", code, a.Error)
			}
			after := e.latest(t, key.GroupKey)
			if (before == nil) != (after == nil) || (before != nil && (before.ID != after.ID || before.Version != after.Version)) {
				t.Fatalf("a refused body (%d %s) changed group %q: %+v -> %+v", code, a.Error, key.GroupKey, before, after)
			}
			return
		}
		if decodeErr != nil {
			t.Fatalf("accepted a body Decode refuses (%v)", decodeErr)
		}
		created := !seen[a.GroupID]
		seen[a.GroupID] = true
		checkStored(t, e, body, n, a, created)
	})
}

// FuzzWebhookAlerts builds well-formed deliveries from random label sets,
// times and statuses (a fresh group each), posts them, then posts the same
// alerts resolved, then the firing delivery again (late, as an HA pair or a
// retry sends it). Times the store cannot hold must be refused with 400
// naming the alert and the field, storing nothing; the rest must be stored
// exactly, repeats must be duplicates, and the late repeat must not reopen
// the resolved group.
func FuzzWebhookAlerts(f *testing.F) {
	day := time.Date(2026, 11, 26, 12, 11, 9, 99929667, time.UTC).UnixNano()
	f.Add("Lab", "instance", "a", "summary", "lab alert <a>", "a257c6c3f7ede14d", "c5be3f41d77c2c02", day, day, int64(time.Minute), uint8(0))
	f.Add("Lab", "severity", "page", "description", "", "x", "x", day, day+1, int64(time.Hour), uint8(3))
	f.Add("Down", "", "", "", "", "a", "b", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), day, int64(0), uint8(0x81))
	f.Add("Down", "priority", "P0", "", "", "a", "b", day, day, int64(-1), uint8(0x42))
	e := fuzzEnv(f)
	seq := 0
	f.Fuzz(func(t *testing.T, alertname, lk, lv, ak, av, fp1, fp2 string, start1, start2, dur int64, flags uint8) {
		seq++
		// The key as Klaxon will see it: JSON turns invalid UTF-8 into U+FFFD.
		var key string
		raw, _ := json.Marshal(fmt.Sprintf("fuzz-%d:%s", seq, alertname))
		if err := json.Unmarshal(raw, &key); err != nil {
			t.Fatal(err)
		}
		// Times anywhere in the years 0000–9999 (all RFC 3339 can say): a
		// start is taken as Unix nanoseconds when flags&0x80 is clear, as
		// Unix seconds otherwise (reaching far beyond what the store holds).
		const span = 253402300800 + 62167219200 // seconds from 0000-01-01 to 10000-01-01
		when := func(v int64, seconds bool) time.Time {
			if !seconds {
				return time.Unix(0, v).UTC()
			}
			s := v % span
			if s < 0 {
				s += span
			}
			ns := v % 1e9
			if ns < 0 {
				ns += 1e9
			}
			return time.Unix(s-62167219200, ns).UTC()
		}
		starts := []time.Time{when(start1, flags&0x80 != 0), when(start2, flags&0x40 != 0)}
		fps := []string{fp1, fp2}
		type alertJSON struct {
			Status       string            `json:"status"`
			Labels       map[string]string `json:"labels"`
			Annotations  map[string]string `json:"annotations"`
			StartsAt     string            `json:"startsAt"`
			EndsAt       string            `json:"endsAt"`
			GeneratorURL string            `json:"generatorURL"`
			Fingerprint  string            `json:"fingerprint"`
		}
		build := func(resolve bool) ([]byte, []alertJSON) {
			var alerts []alertJSON
			for i := range 2 {
				a := alertJSON{Status: "firing", Labels: map[string]string{"alertname": alertname, lk: lv},
					Annotations: map[string]string{ak: av}, StartsAt: starts[i].Format(time.RFC3339Nano),
					EndsAt: "0001-01-01T00:00:00Z", GeneratorURL: av, Fingerprint: fps[i]}
				if resolve || flags>>i&1 == 1 {
					a.Status, a.EndsAt = "resolved", starts[i].Add(time.Duration(dur)).Format(time.RFC3339Nano)
				}
				alerts = append(alerts, a)
			}
			body, err := json.Marshal(map[string]any{"version": "4", "groupKey": key, "status": "firing", "receiver": "klaxon",
				"groupLabels": map[string]string{"alertname": alertname}, "commonLabels": map[string]string{"alertname": alertname},
				"externalURL": "http://am:9093", "alerts": alerts, "truncatedAlerts": flags & 7})
			if err != nil {
				t.Fatal(err)
			}
			return body, alerts
		}
		// The oracle, apart from Decode: a time the store holds is one that
		// survives Unix nanoseconds in an int64, other than 0 ("no time").
		storable := func(s string) bool {
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return false // e.g. a year beyond 9999 after adding dur: not RFC 3339
			}
			return ts.IsZero() || (time.Unix(0, ts.UnixNano()).Equal(ts) && ts.UnixNano() != 0)
		}
		// Every alert of the body is checked, also a repeated fingerprint
		// whose second copy Decode then drops.
		badField := func(alerts []alertJSON) string {
			for i, a := range alerts {
				st, _ := time.Parse(time.RFC3339Nano, a.StartsAt)
				switch {
				case a.Fingerprint == "":
					return fmt.Sprintf("alerts[%d].fingerprint", i)
				case st.IsZero():
					return fmt.Sprintf("alerts[%d].startsAt is missing", i)
				case !storable(a.StartsAt):
					return fmt.Sprintf("alerts[%d].startsAt: ", i)
				}
				if a.Status == "resolved" {
					end, err := time.Parse(time.RFC3339Nano, a.EndsAt)
					if err != nil {
						return fmt.Sprintf("endsAt %q", a.EndsAt) // not reached: Format writes what Parse reads for 0000–9999
					}
					if end.Year() > 1 && !storable(a.EndsAt) {
						return fmt.Sprintf("alerts[%d].endsAt: ", i)
					}
				}
			}
			return ""
		}
		for _, s := range starts {
			if s.Year() > 9999 || s.Year() < 0 {
				return // not expressible in RFC 3339: Alertmanager cannot send it
			}
		}
		for _, resolve := range []bool{false, true} {
			body, alerts := build(resolve)
			for _, a := range alerts {
				if _, err := time.Parse(time.RFC3339Nano, a.EndsAt); err != nil {
					return // start+dur left 0000–9999
				}
			}
			bad := badField(alerts)
			before := e.latest(t, key)
			code, a := checkAnswer(t, e.post(body, "Bearer s3cret"), body)
			if bad != "" {
				if code != http.StatusBadRequest || !strings.Contains(a.Error, bad) {
					t.Fatalf("got %d %q, want 400 naming %q\nbody: %s", code, a.Error, bad, body)
				}
				if after := e.latest(t, key); (before == nil) != (after == nil) || (after != nil && after.Version != before.Version) {
					t.Fatalf("a refused delivery changed the group: %+v -> %+v", before, after)
				}
				return
			}
			if code != http.StatusOK {
				t.Fatalf("got %d %q for a delivery with storable times\nbody: %s", code, a.Error, body)
			}
			n, err := handlers.Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			g := checkStored(t, e, body, n, a, !resolve)
			if resolve {
				if g.Status != bot.Resolved {
					t.Fatalf("every alert resolved, group %s: %+v", g.Status, g.Alerts)
				}
				// The firing delivery, late: resolved is final for an episode.
				late, _ := build(false)
				code, a := checkAnswer(t, e.post(late, "Bearer s3cret"), late)
				if code != http.StatusOK || a.GroupID != g.ID {
					t.Fatalf("late firing delivery: %d %+v, want 200 for group %d (no new episode)", code, a, g.ID)
				}
				if g2 := e.latest(t, key); g2.ID != g.ID || g2.Status != bot.Resolved {
					t.Fatalf("late firing delivery reopened the group: %+v", g2)
				}
			}
		}
	})
}
