package paging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/bot/mail"
	"github.com/marola-rp/klaxon/bot/mail/mailtest"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/phone"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
	"github.com/marola-rp/klaxon/store"
)

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

// records returns the log records whose message is msg.
func (l *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

func alertP0(key string) bot.Notification {
	n := bottest.P0(key)
	n.Alerts[0].Fingerprint = "fp-" + key
	return n
}

func group(t *testing.T, db *store.DB, id int64) *bot.Group {
	t.Helper()
	var g *bot.Group
	if err := db.View(context.Background(), func(tx bot.Tx) (err error) { g, err = tx.Group(id); return err }); err != nil {
		t.Fatal(err)
	}
	return g
}

func unsentPages(t *testing.T, db *store.DB) []paging.PageRecord {
	t.Helper()
	var ps []paging.PageRecord
	if err := db.Paging().View(context.Background(), func(tx paging.Tx) (err error) {
		ps, err = tx.UnsentPages(bottest.T0.Add(-24*time.Hour), 50)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return ps
}

func actions(t *testing.T, db *store.DB, gid int64) []paging.ActionRecord {
	t.Helper()
	var as []paging.ActionRecord
	if err := db.Paging().View(context.Background(), func(tx paging.Tx) (err error) { as, err = tx.Actions(gid); return err }); err != nil {
		t.Fatal(err)
	}
	return as
}

func pagesTotal(pg *paging.Service, channel bot.Via, result string) float64 {
	return testutil.ToFloat64(pg.Metrics.Pages.WithLabelValues(string(channel), result))
}

// notSentChecks asserts everything one page that did not go out leaves
// behind: its record, the card note, the metric, a WARN log line naming
// what to fix, and an entry in the action log.
type notSentChecks struct {
	via                bot.Via
	user, status       string
	detail, note, fix  string // detail and note: exact; fix: the log's fix attribute
	noteEnd            string // when note is "": the note is "<via> page not sent: " + a reason + noteEnd
	action, logMessage string
}

func (c notSentChecks) check(t *testing.T, db *store.DB, pg *paging.Service, gid int64, logs *logBuffer, metricBefore float64) {
	t.Helper()
	var found *paging.PageRecord
	for _, p := range unsentPages(t, db) {
		if p.GroupID == gid && p.Via == c.via && p.UserID == c.user {
			if found != nil {
				t.Errorf("two unsent %s pages to %s: %+v and %+v", c.via, c.user, *found, p)
			}
			found = &p
		}
	}
	if found == nil {
		t.Fatalf("no %s page record for user %s; unsent pages: %+v", c.via, c.user, unsentPages(t, db))
	}
	if found.Status != c.status || found.Detail != c.detail {
		t.Errorf("page record: status %q detail %q\nwant status %q detail %q", found.Status, found.Detail, c.status, c.detail)
	}
	if q := pages(t, db, gid); q[c.via] != 0 {
		t.Errorf("%d %s pages still queued", q[c.via], c.via)
	}
	notes := group(t, db, gid).Notes
	if c.note != "" && !slices.Contains(notes, c.note) {
		t.Errorf("card notes %q lack %q", notes, c.note)
	}
	if c.note == "" && !slices.ContainsFunc(notes, func(n string) bool {
		return strings.Contains(n, " page not sent: ") && strings.HasSuffix(n, c.noteEnd)
	}) {
		t.Errorf("card notes %q lack one ending %q", notes, c.noteEnd)
	}
	result := "skipped"
	if c.status == paging.PageFailed {
		result = "failed"
	}
	if d := pagesTotal(pg, c.via, result) - metricBefore; d != 1 {
		t.Errorf("klaxon_pages_total{channel=%q,result=%q} rose by %v, want 1", c.via, result, d)
	}
	msg := c.logMessage
	if msg == "" {
		msg = "page " + result
	}
	recs := logs.records(t, msg)
	if len(recs) != 1 {
		t.Fatalf("%d log lines %q, want 1:\n%s", len(recs), msg, logs.buf.String())
	}
	r := recs[0]
	want := map[string]any{"level": "WARN", "group": float64(gid), "priority": "P0", "via": string(c.via), "user": c.user, "fix": c.fix}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("log %s = %v, want %v (line %v)", k, r[k], v, r)
		}
	}
	if !strings.HasPrefix(c.detail, "not sent: "+r["reason"].(string)) {
		t.Errorf("log reason %q is not the record's %q", r["reason"], c.detail)
	}
	action := c.action
	if action == "" {
		action = "page " + result
	}
	var acts []string
	for _, a := range actions(t, db, gid) {
		if a.Kind == action {
			acts = append(acts, a.Detail)
		}
	}
	if len(acts) != 1 || !strings.Contains(acts[0], r["reason"].(string)) {
		t.Errorf("action log %q entries: %q, want one giving the reason %q", action, acts, r["reason"])
	}
}

// Every reason an escalation step cannot page someone by phone or e-mail
// leaves a skipped page record saying what to fix, a note on the card, a
// WARN log line, the metric and an action-log entry, and no queued page.
func TestPageSkipped(t *testing.T) {
	both := map[bot.Via]bool{bot.ViaPhone: true, bot.ViaEmail: true}
	for _, tc := range []struct {
		name     string
		channels map[bot.Via]bool
		notSentChecks
	}{
		{"no phone provider", map[bot.Via]bool{bot.ViaEmail: true}, notSentChecks{via: bot.ViaPhone, user: "501",
			detail: "not sent: no phone provider is configured (add a phone: section)",
			note:   "phone page not sent: no phone provider is configured (add a phone: section)",
			fix:    "add a phone: section"}},
		{"no e-mail provider", map[bot.Via]bool{bot.ViaPhone: true}, notSentChecks{via: bot.ViaEmail, user: "501",
			detail: "not sent: no e-mail provider is configured (add an email: section)",
			note:   "e-mail page not sent: no e-mail provider is configured (add an email: section)",
			fix:    "add an email: section"}},
		{"no provider at all (nil Channels)", nil, notSentChecks{via: bot.ViaPhone, user: "501",
			detail: "not sent: no phone provider is configured (add a phone: section)",
			note:   "phone page not sent: no phone provider is configured (add a phone: section)",
			fix:    "add a phone: section"}},
		{"no phone number", both, notSentChecks{via: bot.ViaPhone, user: "502",
			detail: "not sent: user 502 has no phone number in users: (add their phone: in E.164, e.g. +491510000001)",
			note:   "phone page not sent: " + bot.UserRef("502") + " has no phone number in users: (add their phone: in E.164, e.g. +491510000001)",
			fix:    "add their phone: in E.164, e.g. +491510000001"}},
		{"no e-mail address", both, notSentChecks{via: bot.ViaEmail, user: "502",
			detail: "not sent: user 502 has no e-mail address in users: (add their email: address)",
			note:   "e-mail page not sent: " + bot.UserRef("502") + " has no e-mail address in users: (add their email: address)",
			fix:    "add their email: address"}},
		{"not in users at all", both, notSentChecks{via: bot.ViaPhone, user: "503",
			detail: "not sent: user 503 has no phone number in users: (add their phone: in E.164, e.g. +491510000001)",
			note:   "phone page not sent: " + bot.UserRef("503") + " has no phone number in users: (add their phone: in E.164, e.g. +491510000001)",
			fix:    "add their phone: in E.164, e.g. +491510000001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
			defer db.Close()
			pg, pol := bottest.NewPaging(t, db)
			var logs logBuffer
			pg.Log, pg.Channels = logs.logger(), tc.channels
			pg.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{
				{Targets: []paging.Target{{User: tc.user, Via: []bot.Via{bot.ViaMention, tc.via}}}},
			}}
			tc.status = paging.PageSkipped
			before := pagesTotal(pg, tc.via, "skipped")
			res, err := bot.Ingest(ctx, db, pol, alertP0("k"), bottest.T0)
			if err != nil {
				t.Fatal(err)
			}
			if err := pg.Run(ctx, bottest.T0); err != nil {
				t.Fatal(err)
			}
			tc.check(t, db, pg, res.GroupID, &logs, before)
			if got := pages(t, db, res.GroupID); got[bot.ViaMention] != 1 {
				t.Errorf("queued pages %v: the mention in the same step must still go out", got)
			}
		})
	}
}

// /page (PageTarget) goes through the same path as an escalation step.
func TestPageTargetSkipsUnconfiguredPhone(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	var logs logBuffer
	pg.Log, pg.Channels = logs.logger(), nil
	pg.Policies[bot.P0] = paging.EscalationPolicy{}
	before := pagesTotal(pg, bot.ViaPhone, "skipped")
	res, err := bot.Ingest(ctx, db, pol, alertP0("manual"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.PageTarget(ctx, res.GroupID, paging.Target{User: "501", Via: []bot.Via{bot.ViaMention, bot.ViaDM, bot.ViaPhone}}, bot.Actor{UserID: "9"}, bottest.T0); err != nil {
		t.Fatal(err)
	}
	notSentChecks{via: bot.ViaPhone, user: "501", status: paging.PageSkipped,
		detail: "not sent: no phone provider is configured (add a phone: section)",
		note:   "phone page not sent: no phone provider is configured (add a phone: section)",
		fix:    "add a phone: section"}.check(t, db, pg, res.GroupID, &logs, before)
}

// Pages queued for phone before the phone provider was removed (or by an
// older version) do not wait forever: the next run marks them skipped.
func TestQueuedPagesWithoutProviderBecomeSkipped(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	var logs logBuffer
	pg.Log, pg.Channels = logs.logger(), map[bot.Via]bool{bot.ViaEmail: true}
	pg.Policies[bot.P0] = paging.EscalationPolicy{}
	res, err := bot.Ingest(ctx, db, pol, alertP0("old"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Paging().Update(ctx, func(tx paging.Tx) error {
		return tx.AddPage(&paging.PageRecord{GroupID: res.GroupID, Via: bot.ViaPhone, UserID: "501", Status: paging.PageQueued, CreatedAt: bottest.T0})
	}); err != nil {
		t.Fatal(err)
	}
	before := pagesTotal(pg, bot.ViaPhone, "skipped")
	if err := pg.Run(ctx, bottest.T0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	notSentChecks{via: bot.ViaPhone, user: "501", status: paging.PageSkipped,
		detail: "not sent: no phone provider is configured (add a phone: section)",
		note:   "phone page not sent: no phone provider is configured (add a phone: section)",
		fix:    "add a phone: section"}.check(t, db, pg, res.GroupID, &logs, before)
	if g := group(t, db, res.GroupID); g.Version < 2 {
		t.Errorf("group version %d: the card was not queued for an update with the note", g.Version)
	}
}

// A call over the per-person limit is skipped ("throttled"), a call the
// provider refuses is failed; both say so everywhere.
func TestPhoneJobThrottledAndRefused(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	pg.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{{Targets: []paging.Target{{User: "501", Via: []bot.Via{bot.ViaPhone}}}}}}
	twilio := phonetest.New(t)
	job := &paging.PhoneJob{Paging: pg, Phone: &phone.Pager{Caller: twilio.Client("+15550109999"), PublicURL: "http://127.0.0.1:1"},
		Throttle: 1, ThrottleWindow: 15 * time.Minute}
	fire := func(key string, now time.Time) int64 {
		t.Helper()
		res, err := bot.Ingest(ctx, db, pol, alertP0(key), now)
		if err != nil {
			t.Fatal(err)
		}
		if err := pg.Run(ctx, now); err != nil {
			t.Fatal(err)
		}
		if err := job.Run(ctx, now); err != nil {
			t.Fatal(err)
		}
		return res.GroupID
	}
	fire("first", bottest.T0)
	if n := len(twilio.Calls()); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}

	var logs logBuffer
	pg.Log = logs.logger()
	before := pagesTotal(pg, bot.ViaPhone, "skipped")
	gid := fire("second", bottest.T0.Add(time.Minute))
	if n := len(twilio.Calls()); n != 1 {
		t.Fatalf("%d calls, want still 1 (throttled)", n)
	}
	notSentChecks{via: bot.ViaPhone, user: "501", status: paging.PageSkipped,
		detail: "not sent: throttled: user 501 had 1 calls in the last 15m0s (phone: max_calls per window sets this limit)",
		note:   "phone page not sent: throttled: " + bot.UserRef("501") + " had 1 calls in the last 15m0s (phone: max_calls per window sets this limit)",
		fix:    "phone: max_calls per window sets this limit"}.check(t, db, pg, gid, &logs, before)

	logs = logBuffer{}
	pg.Log = logs.logger()
	twilio.FailNext(400, 21211)
	before = pagesTotal(pg, bot.ViaPhone, "failed")
	gid = fire("third", bottest.T0.Add(20*time.Minute))
	var detail string
	for _, p := range unsentPages(t, db) {
		if p.GroupID == gid {
			detail = p.Detail
		}
	}
	if !strings.HasPrefix(detail, "not sent: the call could not be placed: ") || !strings.Contains(detail, "21211") {
		t.Fatalf("refused call detail %q", detail)
	}
	const fix = "check the number, the phone: settings, KLAXON_TWILIO_AUTH_TOKEN and the provider account"
	notSentChecks{via: bot.ViaPhone, user: "501", status: paging.PageFailed, detail: detail, noteEnd: " (" + fix + ")", fix: fix,
		action: "call failed"}.check(t, db, pg, gid, &logs, before)
}

// An e-mail the mail server refuses for good is failed with the reason,
// on the card, in the log and in the metric.
func TestMailJobRefused(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	var logs logBuffer
	pg.Log = logs.logger()
	pg.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{{Targets: []paging.Target{{User: "501", Via: []bot.Via{bot.ViaEmail}}}}}}
	smtp := mailtest.New(t, mailtest.Options{})
	smtp.RejectRcpt("a@example.org", 550, "5.1.1 no such user")
	job := &paging.MailJob{Paging: pg, Mailer: mail.Core{Mailer: &mail.Mailer{Host: smtp.Host, Port: smtp.Port, From: "klaxon@example.org",
		StartTLS: mail.StartTLSOff, Log: slog.New(slog.DiscardHandler)}}}
	res, err := bot.Ingest(ctx, db, pol, alertP0("mail"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Run(ctx, bottest.T0); err != nil {
		t.Fatal(err)
	}
	before := pagesTotal(pg, bot.ViaEmail, "failed")
	if err := job.Run(ctx, bottest.T0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var detail string
	for _, p := range unsentPages(t, db) {
		detail = p.Detail
	}
	const fix = "check the address, the email: settings and KLAXON_SMTP_PASSWORD"
	if !strings.HasPrefix(detail, "not sent: the e-mail could not be sent: ") || !strings.Contains(detail, "550") || !strings.HasSuffix(detail, " ("+fix+")") {
		t.Fatalf("refused mail detail %q", detail)
	}
	notSentChecks{via: bot.ViaEmail, user: "501", status: paging.PageFailed, detail: detail,
		noteEnd: " (" + fix + ")", fix: fix}.check(t, db, pg, res.GroupID, &logs, before)
}

// TestPhoneJobDefaultLimit: with no max_calls configured a person is rung
// at most three times in 15 minutes; the fourth page in the window is
// skipped, and a page after the first call has left the window rings again.
func TestPhoneJobDefaultLimit(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	pg.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{{Targets: []paging.Target{{User: "501", Via: []bot.Via{bot.ViaPhone}}}}}}
	twilio := phonetest.New(t)
	job := &paging.PhoneJob{Paging: pg, Phone: &phone.Pager{Caller: twilio.Client("+15550109999"), PublicURL: "http://127.0.0.1:1"}}
	for i, tc := range []struct {
		at    time.Duration
		calls int
	}{{0, 1}, {time.Minute, 2}, {2 * time.Minute, 3}, {14 * time.Minute, 3}, {15*time.Minute + time.Second, 4}} {
		now := bottest.T0.Add(tc.at)
		if _, err := bot.Ingest(ctx, db, pol, alertP0(fmt.Sprintf("limit%d", i)), now); err != nil {
			t.Fatal(err)
		}
		if err := pg.Run(ctx, now); err != nil {
			t.Fatal(err)
		}
		if err := job.Run(ctx, now); err != nil {
			t.Fatal(err)
		}
		if n := len(twilio.Calls()); n != tc.calls {
			t.Fatalf("page %d at +%s: %d calls, want %d", i+1, tc.at, n, tc.calls)
		}
	}
}
