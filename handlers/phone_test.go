package handlers_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/phone"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
	"github.com/marola-rp/klaxon/handlers"
)

const callee = "+14155550142"

// keypress is one PhoneKeypress call the core received.
type keypress struct {
	page    int64
	callSID string
	digits  string
}

// fakeActions is the core side of the phone callback: it records keypresses
// and answers from a table.
type fakeActions struct {
	mu    sync.Mutex
	got   []keypress
	say   map[string]string // digits → what to say
	err   error
	pages map[int64]bool // active pages
}

func (a *fakeActions) PhoneKeypress(_ context.Context, pageID int64, callSID, digits string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, keypress{pageID, callSID, digits})
	if a.err != nil {
		return "", a.err
	}
	if !a.pages[pageID] {
		return "", bot.Errorf(bot.ENotFound, "page %d is not active", pageID)
	}
	return a.say[digits], nil
}

func (a *fakeActions) calls() []keypress {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]keypress(nil), a.got...)
}

type phoneEnv struct {
	twilio  *phonetest.Server
	client  *phone.Client
	actions *fakeActions
	handler *handlers.PhoneCallback
	public  string // the callback server's URL
	logs    *bytes.Buffer
}

func newPhoneEnv(t *testing.T) *phoneEnv {
	t.Helper()
	e := &phoneEnv{twilio: phonetest.New(t), logs: &bytes.Buffer{}}
	e.client = e.twilio.Client("+15005550006")
	e.client.Log = slog.New(slog.DiscardHandler)
	e.actions = &fakeActions{
		say:   map[string]string{phone.DigitAck: "Acknowledged. Thank you.", phone.DigitEscalate: "Escalating."},
		pages: map[int64]bool{42: true},
	}
	var mu sync.Mutex
	e.handler = &handlers.PhoneCallback{AuthToken: e.twilio.AuthToken, Actions: e.actions,
		Log: slog.New(slog.NewTextHandler(lockedWriter{&mu, e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	mux := http.NewServeMux()
	mux.Handle(phone.GatherPath, e.handler)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.public = srv.URL
	e.handler.PublicURL = srv.URL
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// call places an alert call for page through the real client and the fake Twilio.
func (e *phoneEnv) call(t *testing.T, page string) string {
	t.Helper()
	var sid string
	var err error
	if id, perr := strconv.ParseInt(page, 10, 64); perr == nil {
		// The core's path: bot.Phone builds the callback URL from the page id.
		pager := &phone.Pager{Caller: e.client, PublicURL: e.public}
		sid, err = pager.Call(context.Background(), bot.PhoneCall{To: callee, Message: "P1: checkout latency high", PageID: id})
	} else {
		sid, err = e.client.Call(context.Background(), phone.Call{
			To: callee, Message: "P1: checkout latency high", CallbackURL: e.public + "/phone/gather?page=" + page,
		})
	}
	if err != nil {
		t.Fatalf("placing call: %v", err)
	}
	return sid
}

func TestPhoneCallbackPress(t *testing.T) {
	tests := []struct {
		name       string
		page       string
		digits     string
		setup      func(*phoneEnv)
		wantStatus int
		wantSay    string // first <Say> of the answer
		wantGather bool   // the answer asks again
		wantCore   bool   // PhoneKeypress was called
	}{
		{name: "1 acknowledges", page: "42", digits: "1", wantStatus: 200, wantSay: "Acknowledged. Thank you.", wantCore: true},
		{name: "2 escalates", page: "42", digits: "2", wantStatus: 200, wantSay: "Escalating.", wantCore: true},
		{name: "unknown key asks again", page: "42", digits: "9", wantStatus: 200, wantSay: "Sorry, that key does nothing. " + phone.Prompt, wantGather: true},
		{name: "no key asks again", page: "42", digits: "", wantStatus: 200, wantSay: "Sorry, that key does nothing. " + phone.Prompt, wantGather: true},
		{name: "page no longer active is spoken", page: "7", digits: "1", wantStatus: 200, wantSay: "This page is no longer active. Nothing to do. Goodbye.", wantCore: true},
		{name: "empty answer from the core says goodbye", page: "42", digits: "1", setup: func(e *phoneEnv) { e.actions.say = nil }, wantStatus: 200, wantSay: "Thank you. Goodbye.", wantCore: true},
		{name: "core failure is 500", page: "42", digits: "1", setup: func(e *phoneEnv) { e.actions.err = bot.Errorf(bot.EUnavailable, "database busy") }, wantStatus: 500, wantCore: true},
		{name: "missing page id is 400", page: "", digits: "1", wantStatus: 400},
		{name: "bad page id is 400", page: "x1", digits: "1", wantStatus: 400},
		{name: "public URL mismatch is 401", page: "42", digits: "1", setup: func(e *phoneEnv) { e.handler.PublicURL = "https://klaxon.example.org" }, wantStatus: 401},
		{name: "other auth token is 401", page: "42", digits: "1", setup: func(e *phoneEnv) { e.handler.AuthToken = "other" }, wantStatus: 401},
		{name: "no auth token configured is 401", page: "42", digits: "1", setup: func(e *phoneEnv) { e.handler.AuthToken = "" }, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPhoneEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			sid := e.call(t, tt.page)
			resp, err := e.twilio.Press(context.Background(), sid, tt.digits)
			if err != nil {
				t.Fatalf("Press: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			core := e.actions.calls()
			if tt.wantCore != (len(core) == 1) {
				t.Fatalf("core saw %+v, want a call: %v", core, tt.wantCore)
			}
			if tt.wantCore && (core[0].callSID != sid || core[0].digits != tt.digits || core[0].page != mustAtoi(t, tt.page)) {
				t.Errorf("core got %+v, want page %s sid %s digits %s", core[0], tt.page, sid, tt.digits)
			}
			if strings.Contains(e.logs.String(), callee) || strings.Contains(e.logs.String(), e.twilio.AuthToken) {
				t.Errorf("logs leak the number or the token:\n%s", e.logs.String())
			}
			if tt.wantStatus == 401 && !strings.Contains(string(body), "X-Twilio-Signature") {
				t.Errorf("401 body does not say what is wrong: %s", body)
			}
			if tt.wantStatus != 200 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
				t.Errorf("Content-Type %q, want text/xml", ct)
			}
			var r phonetest.Response
			if err := xml.Unmarshal(body, &r); err != nil {
				t.Fatalf("answer is not TwiML: %v\n%s", err, body)
			}
			first := ""
			switch {
			case r.Gather != nil && len(r.Gather.Says) > 0:
				first = r.Gather.Says[0].Text
			case len(r.Says) > 0:
				first = r.Says[0].Text
			}
			if first != tt.wantSay {
				t.Errorf("says %q, want %q\n%s", first, tt.wantSay, body)
			}
			if (r.Gather != nil) != tt.wantGather {
				t.Errorf("gather = %v, want %v\n%s", r.Gather != nil, tt.wantGather, body)
			}
			if tt.wantGather && r.Gather.Action != e.public+"/phone/gather?page="+tt.page {
				t.Errorf("re-prompt posts to %q", r.Gather.Action)
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPhoneCallbackForged sends requests that Twilio did not sign as they are.
func TestPhoneCallbackForged(t *testing.T) {
	e := newPhoneEnv(t)
	target := e.public + "/phone/gather?page=42"
	form := url.Values{"CallSid": {"CA0123"}, "AccountSid": {e.twilio.AccountSID}, "Digits": {"2"}, "To": {callee}}
	good := phone.Sign(e.twilio.AuthToken, target, form)
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("Digits", "1")

	tests := []struct {
		name   string
		method string
		url    string
		form   url.Values
		sig    string
		want   int
	}{
		{name: "correctly signed", method: "POST", url: target, form: form, sig: good, want: 200},
		{name: "no signature", method: "POST", url: target, form: form, want: 401},
		{name: "digits changed after signing", method: "POST", url: target, form: tampered, sig: good, want: 401},
		{name: "page changed after signing", method: "POST", url: e.public + "/phone/gather?page=43", form: form, sig: good, want: 401},
		{name: "extra parameter", method: "POST", url: target, form: withExtra(form), sig: good, want: 401},
		{name: "GET is refused", method: "GET", url: target, want: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.sig != "" {
				req.Header.Set(phone.SignatureHeader, tt.sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
		})
	}
	if got := e.actions.calls(); len(got) != 1 || got[0].digits != "2" {
		t.Errorf("core saw %+v, want only the correctly signed escalation", got)
	}
}

func withExtra(f url.Values) url.Values {
	out := url.Values{"Extra": {"x"}}
	for k, v := range f {
		out[k] = v
	}
	return out
}
