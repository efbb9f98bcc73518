package handlers_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/phone"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

var phoneT0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

type onCall map[string]string

func (f onCall) OnCallAt(_ context.Context, _ paging.Tx, schedule string, _ time.Time) (string, error) {
	return f[schedule], nil
}

// corePhone is the real core behind the phone callback: SQLite, paging, the
// phone job placing calls through the fake Twilio at the wire.
type corePhone struct {
	db     *store.DB
	pg     *paging.Service
	pol    *bot.Policy
	job    *paging.PhoneJob
	twilio *phonetest.Server
	clock  *bot.FakeClock
	public string
	// inFlight, when set before a press, runs once when the core answers
	// that the call is still being recorded (paging.ErrCallInFlight).
	inFlight func()
}

type clockActions struct {
	c *corePhone
}

func (a clockActions) PhoneKeypress(ctx context.Context, pageID int64, callSID, digits string) (string, error) {
	say, err := a.c.pg.PhoneKeypress(ctx, pageID, callSID, digits, a.c.clock.Now())
	if f := a.c.inFlight; f != nil && errors.Is(err, paging.ErrCallInFlight) {
		a.c.inFlight = nil
		f()
	}
	return say, err
}

func newCorePhone(t *testing.T) *corePhone {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &corePhone{db: db, twilio: phonetest.New(t), clock: bot.NewFakeClock(phoneT0)}
	c.pol = &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range c.pol.Routes {
		c.pol.Routes[i] = bot.Route{ChannelID: "10" + string(rune('0'+i)), AckWithin: bot.Priority(i).DefaultAckDeadline()}
	}
	c.pg = &paging.Service{Store: db.Paging(), Policy: c.pol, Log: slog.New(slog.DiscardHandler), OnCall: onCall{"primary": "501"},
		Directory: map[string]bot.Contact{"501": {UserID: "501", Name: "Anna", Phone: "+15550100501"}},
		Channels:  map[bot.Via]bool{bot.ViaPhone: true}}
	c.pg.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{
		{Targets: []paging.Target{{Schedule: "primary", Via: []bot.Via{bot.ViaPhone}}}},
		{Delay: 5 * time.Minute, Targets: []paging.Target{{Role: "900"}}},
		{Delay: 5 * time.Minute, Targets: []paging.Target{{Role: "901"}}},
	}}
	c.pol.OnGroupChange = []bot.GroupHook{c.pg.OnGroupChange}
	h := &handlers.PhoneCallback{AuthToken: c.twilio.AuthToken, Actions: clockActions{c}, Log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	mux.Handle(phone.GatherPath, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h.PublicURL, c.public = srv.URL, srv.URL
	c.job = &paging.PhoneJob{Paging: c.pg, Phone: &phone.Pager{Caller: c.twilio.Client("+15550109999"), PublicURL: srv.URL}, Throttle: 100}
	return c
}

// fire ingests a P0 group, runs its first step and places its call; it
// returns the group and the call's sid.
func (c *corePhone) fire(t *testing.T, key string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	n := bot.Notification{GroupKey: key, Receiver: "klaxon", CommonLabels: map[string]string{"alertname": "Down", "severity": "critical"},
		Alerts: []bot.Alert{{Fingerprint: "fp-" + key, Status: bot.Firing, Labels: map[string]string{"alertname": "Down", "severity": "critical"}, StartsAt: phoneT0}}}
	res, err := bot.Ingest(ctx, c.db, c.pol, n, c.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	before := len(c.twilio.Calls())
	if err := c.pg.Run(ctx, c.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := c.job.Run(ctx, c.clock.Now()); err != nil {
		t.Fatal(err)
	}
	calls := c.twilio.Calls()
	if len(calls) != before+1 {
		t.Fatalf("%d calls, want %d", len(calls), before+1)
	}
	return res.GroupID, calls[len(calls)-1].SID
}

func (c *corePhone) group(t *testing.T, id int64) *bot.Group {
	t.Helper()
	var g *bot.Group
	if err := c.db.View(context.Background(), func(tx bot.Tx) (err error) { g, err = tx.Group(id); return err }); err != nil {
		t.Fatal(err)
	}
	return g
}

func (c *corePhone) actions(t *testing.T, gid int64, kind string) int {
	t.Helper()
	var as []paging.ActionRecord
	if err := c.db.Paging().View(context.Background(), func(tx paging.Tx) (err error) { as, err = tx.Actions(gid); return err }); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range as {
		if a.Kind == kind {
			n++
		}
	}
	return n
}

// press presses digits on call sid and returns the status and what was said.
func (c *corePhone) press(t *testing.T, sid, digits string) (int, string) {
	t.Helper()
	resp, err := c.twilio.Press(context.Background(), sid, digits)
	if err != nil {
		t.Fatal(err)
	}
	return said(t, resp)
}

func said(t *testing.T, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, string(body)
	}
	var r phonetest.Response
	if err := xml.Unmarshal(body, &r); err != nil {
		t.Fatalf("not TwiML: %v\n%s", err, body)
	}
	var b strings.Builder
	for _, s := range r.Says {
		b.WriteString(s.Text)
	}
	return resp.StatusCode, b.String()
}

// callbackURL is the gather action of call sid.
func (c *corePhone) callbackURL(t *testing.T, sid string) string {
	t.Helper()
	call, ok := c.twilio.Call(sid)
	if !ok || call.Parsed.Gather == nil {
		t.Fatalf("call %s has no gather", sid)
	}
	return call.Parsed.Gather.Action
}

// TestPhoneKeypressBoundToItsCall: a signed callback carrying another
// call's CallSid acts on nothing (403); a page acknowledged meanwhile is no
// longer active; a callback delivered twice acknowledges or escalates once.
func TestPhoneKeypressBoundToItsCall(t *testing.T) {
	t.Run("wrong CallSid is refused", func(t *testing.T) {
		c := newCorePhone(t)
		gidA, sidA := c.fire(t, "a")
		_, sidB := c.fire(t, "b")
		// Twilio-signed (the attacker has a valid call of their own: B), but
		// B's CallSid is sent to A's callback URL.
		target := c.callbackURL(t, sidA)
		form := url.Values{"AccountSid": {c.twilio.AccountSID}, "CallSid": {sidB}, "Digits": {"1"}, "To": {"+15550100501"}}
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(phone.SignatureHeader, phone.Sign(c.twilio.AuthToken, target, form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, body := said(t, resp)
		if status != http.StatusForbidden || !strings.Contains(body, "not the call placed for page") {
			t.Fatalf("status %d %q, want 403 naming the mismatch", status, body)
		}
		if g := c.group(t, gidA); g.Ack != nil {
			t.Fatalf("group acknowledged by a foreign call: %+v", g.Ack)
		}
		// The right call still works.
		if status, s := c.press(t, sidA, "1"); status != 200 || !strings.Contains(s, "Acknowledged") {
			t.Fatalf("own call: %d %q", status, s)
		}
		if g := c.group(t, gidA); g.Ack == nil || g.Ack.Via != "phone" || g.Ack.UserID != "501" {
			t.Fatalf("ack = %+v, want by 501 via phone", g.Ack)
		}
	})
	t.Run("page already acknowledged", func(t *testing.T) {
		c := newCorePhone(t)
		gid, sid := c.fire(t, "a")
		if _, err := c.pg.Acknowledge(context.Background(), gid, bot.Actor{UserID: "777", Via: "button"}, c.clock.Now()); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"1", "2"} {
			status, s := c.press(t, sid, d)
			if status != 200 || !strings.Contains(s, "no longer active") {
				t.Fatalf("press %s: %d %q, want the page no longer active", d, status, s)
			}
		}
		g := c.group(t, gid)
		if g.Ack == nil || g.Ack.UserID != "777" || g.Escalated != 1 {
			t.Errorf("group changed by a keypress on a page no longer active: ack %+v, escalated %d", g.Ack, g.Escalated)
		}
		if n := c.actions(t, gid, "escalate requested"); n != 0 {
			t.Errorf("%d escalations, want 0", n)
		}
	})
	t.Run("page expired", func(t *testing.T) {
		c := newCorePhone(t)
		gid, sid := c.fire(t, "a")
		c.clock.Advance(paging.PhoneKeypressWindow + time.Minute)
		if status, s := c.press(t, sid, "1"); status != 200 || !strings.Contains(s, "no longer active") {
			t.Fatalf("late press: %d %q", status, s)
		}
		if g := c.group(t, gid); g.Ack != nil {
			t.Errorf("acknowledged by a keypress %s after the call", paging.PhoneKeypressWindow)
		}
	})
	t.Run("a key pressed before the CallSid is recorded waits for it", func(t *testing.T) {
		c := newCorePhone(t)
		gid, sid := c.fire(t, "a")
		pageID := c.pageOf(t, gid)
		c.setCallSID(t, pageID, "") // as between the provider's answer and its recording
		recorded := false
		c.inFlight = func() { // the recording lands while the keypress waits for it
			c.setCallSID(t, pageID, sid)
			recorded = true
		}
		if status, s := c.press(t, sid, "1"); status != 200 || !strings.Contains(s, "Acknowledged") {
			t.Fatalf("press during recording: %d %q", status, s)
		}
		if !recorded {
			t.Error("the keypress never found the call in flight: the test did not test the wait")
		}
		if g := c.group(t, gid); g.Ack == nil {
			t.Error("not acknowledged")
		}
	})
	t.Run("double acknowledgement acts once", func(t *testing.T) {
		c := newCorePhone(t)
		gid, sid := c.fire(t, "a")
		_, s1 := c.press(t, sid, "1")
		c.clock.Advance(10 * time.Second)
		status, s2 := c.press(t, sid, "1")
		if status != 200 || !strings.Contains(s1, "Acknowledged") || !strings.Contains(s2, "already acknowledged from this call") {
			t.Fatalf("answers %q then %d %q", s1, status, s2)
		}
		if n := c.actions(t, gid, "acknowledged"); n != 1 {
			t.Errorf("%d acknowledgements recorded, want 1", n)
		}
	})
	t.Run("double escalation acts once", func(t *testing.T) {
		c := newCorePhone(t)
		gid, sid := c.fire(t, "a")
		_, s1 := c.press(t, sid, "2")
		status, s2 := c.press(t, sid, "2")
		if status != 200 || !strings.Contains(s1, "Escalating") || !strings.Contains(s2, "already escalated") {
			t.Fatalf("answers %q then %d %q", s1, status, s2)
		}
		if n := c.actions(t, gid, "escalate requested"); n != 1 {
			t.Errorf("%d escalations recorded, want 1", n)
		}
		if g := c.group(t, gid); g.Escalated != 2 {
			t.Errorf("escalated %d steps, want 2 (the first step and one escalation)", g.Escalated)
		}
		// A 1 on the same call after its 2 does not act either.
		if _, s := c.press(t, sid, "1"); !strings.Contains(s, "already escalated") {
			t.Errorf("1 after 2 on one call: %q", s)
		}
		if g := c.group(t, gid); g.Ack != nil {
			t.Errorf("acknowledged by a second key on a call that already acted: %+v", g.Ack)
		}
	})
}

func (c *corePhone) pageOf(t *testing.T, gid int64) int64 {
	t.Helper()
	var id int64
	err := c.db.Paging().View(context.Background(), func(tx paging.Tx) error {
		for pid := int64(1); pid < 100; pid++ {
			pg, err := tx.PageRecord(pid)
			if err == nil && pg.GroupID == gid && pg.Via == bot.ViaPhone {
				id = pid
				return nil
			}
		}
		return bot.Errorf(bot.ENotFound, "no phone page for group %d", gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (c *corePhone) setCallSID(t *testing.T, pageID int64, sid string) {
	err := c.db.Paging().Update(context.Background(), func(tx paging.Tx) error {
		pg, err := tx.PageRecord(pageID)
		if err != nil {
			return err
		}
		pg.CallSID = sid
		return tx.UpdatePage(pg)
	})
	if err != nil {
		t.Error(err)
	}
}
