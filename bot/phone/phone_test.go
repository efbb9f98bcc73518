package phone_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/phone"
	"github.com/marola-rp/klaxon/bot/phone/phonetest"
)

const (
	alice = "+14155550142"
	from  = "+15005550006"
)

func TestClientCall(t *testing.T) {
	fake := phonetest.New(t)
	closed := closedURL(t)

	tests := []struct {
		name      string
		client    func(*phone.Client)
		call      phone.Call
		fail      []int // status, code to inject
		wantErr   bool
		temporary bool
		status    int
		code      int
		retry     time.Duration
		requests  int // calls the fake should have recorded
	}{
		{name: "placed", call: phone.Call{To: alice, Message: "Disk full on db-1", CallbackURL: "https://klaxon.example.org/phone/gather?page=42&x=1", StatusURL: "https://klaxon.example.org/phone/status"}, requests: 1},
		{name: "invalid To is permanent 21211", call: phone.Call{To: "+0123", Message: "m", CallbackURL: "https://k.example/phone/gather?page=1"}, wantErr: true, status: 400, code: 21211},
		{name: "invalid From is permanent 21212", client: func(c *phone.Client) { c.From = "" }, call: phone.Call{To: alice, From: " ", Message: "m", CallbackURL: "https://k.example/g"}, wantErr: true, status: 400, code: 21212},
		{name: "wrong auth token is permanent 20003", client: func(c *phone.Client) { c.AuthToken = "nope" }, call: phone.Call{To: alice, Message: "m", CallbackURL: "https://k.example/g"}, wantErr: true, status: 401, code: 20003},
		{name: "unknown account is permanent 20003", client: func(c *phone.Client) { c.AccountSID = "AC00000000000000000000000000000000" }, call: phone.Call{To: alice, Message: "m", CallbackURL: "https://k.example/g"}, wantErr: true, status: 401, code: 20003},
		{name: "5xx is temporary", fail: []int{503, 20500}, call: phone.Call{To: alice, Message: "m", CallbackURL: "https://k.example/g"}, wantErr: true, temporary: true, status: 503, code: 20500},
		{name: "429 is temporary with Retry-After", fail: []int{429, 20429}, call: phone.Call{To: alice, Message: "m", CallbackURL: "https://k.example/g"}, wantErr: true, temporary: true, status: 429, code: 20429, retry: time.Second},
		{name: "relative callback is refused locally", call: phone.Call{To: alice, Message: "m", CallbackURL: "/phone/gather?page=1"}, wantErr: true},
		{name: "no number is refused locally", call: phone.Call{Message: "m", CallbackURL: "https://k.example/g"}, wantErr: true},
		{name: "server down is temporary", client: func(c *phone.Client) { c.BaseURL = closed }, call: phone.Call{To: alice, Message: "m", CallbackURL: "https://k.example/g"}, wantErr: true, temporary: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := fake.Client(from)
			c.Log = slog.New(slog.NewTextHandler(&logs, nil))
			if tt.client != nil {
				tt.client(c)
			}
			if tt.fail != nil {
				fake.FailNext(tt.fail[0], tt.fail[1])
			}
			before := len(fake.Calls())
			sid, err := c.Call(context.Background(), tt.call)
			if strings.Contains(logs.String(), alice) || strings.Contains(logs.String(), fake.AuthToken) {
				t.Errorf("log leaks a number or the token:\n%s", logs.String())
			}
			if got := len(fake.Calls()) - before; got != tt.requests {
				t.Errorf("fake recorded %d calls, want %d", got, tt.requests)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
				checkPlaced(t, fake, sid, tt.call)
				return
			}
			if err == nil {
				t.Fatalf("Call succeeded with sid %s, want an error", sid)
			}
			var se *bot.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *bot.SendError", err, err)
			}
			if se.Temporary != tt.temporary || se.Status != tt.status || se.Code != tt.code || se.RetryAfter != tt.retry {
				t.Errorf("got Temporary=%v Status=%d Code=%d RetryAfter=%s, want %v %d %d %s (%v)",
					se.Temporary, se.Status, se.Code, se.RetryAfter, tt.temporary, tt.status, tt.code, tt.retry, err)
			}
			if strings.Contains(err.Error(), "0123") {
				t.Errorf("error text carries the number: %v", err)
			}
		})
	}
}

func checkPlaced(t *testing.T, fake *phonetest.Server, sid string, call phone.Call) {
	t.Helper()
	if !strings.HasPrefix(sid, "CA") || len(sid) != 34 {
		t.Errorf("sid %q: want CA + 32 hex", sid)
	}
	got, ok := fake.Call(sid)
	if !ok {
		t.Fatalf("fake has no call %s", sid)
	}
	if got.To != call.To || got.From != from || got.StatusCallback != call.StatusURL {
		t.Errorf("recorded To=%q From=%q StatusCallback=%q", got.To, got.From, got.StatusCallback)
	}
	g := got.Parsed.Gather
	if g == nil {
		t.Fatalf("TwiML has no Gather: %s", got.Twiml)
	}
	if g.Action != call.CallbackURL || g.Method != "POST" || g.NumDigits != 1 || g.Timeout != 10 {
		t.Errorf("Gather = %+v", *g)
	}
	if len(g.Says) != 2 || !strings.Contains(g.Says[0].Text, call.Message) || !strings.Contains(g.Says[1].Text, call.Message) {
		t.Errorf("Gather says %+v, want the message twice", g.Says)
	}
}

// closedURL returns the URL of a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestTwiML(t *testing.T) {
	long := strings.Repeat("word ", 200)
	tests := []struct {
		name     string
		message  string
		action   string
		contains []string // in the spoken text of the first <Say>
		absent   []string
		maxRunes int
	}{
		{name: "plain", message: "Disk full on db-1", action: "https://k.example/phone/gather?page=7", contains: []string{"Disk full on db-1 Press 1 to acknowledge. Press 2 to escalate."}},
		{name: "markup is escaped", message: `<Hangup/> & "quotes" 'too' ]]>`, action: "https://k.example/g?page=1&a=<b>", contains: []string{`<Hangup/> & "quotes" 'too' ]]>`}},
		{name: "whitespace and control characters", message: "line1\n\n\tline2\x00\x07 end", action: "https://k.example/g", contains: []string{"line1 line2 end"}},
		{name: "long text is truncated", message: long, action: "https://k.example/g", contains: []string{"…"}, maxRunes: phone.MaxSpokenRunes + 1 + len(" "+phone.Prompt)},
		{name: "non-ASCII", message: "Ünïcödé 🚨 alert", action: "https://k.example/g", contains: []string{"Ünïcödé 🚨 alert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := phone.TwiML(tt.message, tt.action)
			var r phonetest.Response
			if err := xml.Unmarshal([]byte(doc), &r); err != nil {
				t.Fatalf("not valid XML: %v\n%s", err, doc)
			}
			if r.Gather == nil || r.Gather.Action != tt.action {
				t.Fatalf("Gather action lost: %+v\n%s", r.Gather, doc)
			}
			if len(r.Gather.Says) != 2 || len(r.Says) != 1 || !strings.Contains(r.Says[0].Text, "No input received") {
				t.Fatalf("want 2 Says in the Gather and a goodbye after it:\n%s", doc)
			}
			first := r.Gather.Says[0].Text
			for _, s := range tt.contains {
				if !strings.Contains(first, s) {
					t.Errorf("spoken %q lacks %q", first, s)
				}
			}
			if !strings.Contains(r.Gather.Says[1].Text, first) {
				t.Errorf("message not repeated: %q", r.Gather.Says[1].Text)
			}
			if tt.maxRunes > 0 && len([]rune(first)) > tt.maxRunes {
				t.Errorf("spoken text has %d runes, want at most %d", len([]rune(first)), tt.maxRunes)
			}
			if len(doc) > 4000 {
				t.Errorf("TwiML is %d bytes, over Twilio's 4000", len(doc))
			}
		})
	}
}

func TestSayAndRepromptTwiML(t *testing.T) {
	var r phonetest.Response
	if err := xml.Unmarshal([]byte(phone.SayTwiML("Acknowledged. <Thanks> & bye")), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Says) != 1 || r.Says[0].Text != "Acknowledged. <Thanks> & bye" || r.Gather != nil {
		t.Errorf("SayTwiML parsed to %+v", r)
	}
	r = phonetest.Response{}
	if err := xml.Unmarshal([]byte(phone.RepromptTwiML("Sorry.", "https://k.example/g?page=1&b=2")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Gather == nil || r.Gather.Action != "https://k.example/g?page=1&b=2" || len(r.Gather.Says) != 1 ||
		r.Gather.Says[0].Text != "Sorry. "+phone.Prompt {
		t.Errorf("RepromptTwiML parsed to %+v", r)
	}
}

func TestSignature(t *testing.T) {
	// The example of Twilio's security documentation.
	const token = "12345"
	const docURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	const docSig = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	if got := phone.Sign(token, docURL, params); got != docSig {
		t.Fatalf("Sign = %s, want Twilio's documented %s", got, docSig)
	}
	tampered := url.Values{}
	for k, v := range params {
		tampered[k] = v
	}
	tampered.Set("Digits", "1")
	withPort := phone.Sign(token, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params)

	tests := []struct {
		name  string
		token string
		url   string
		form  url.Values
		sig   string
		want  bool
	}{
		{name: "documented example", token: token, url: docURL, form: params, sig: docSig, want: true},
		{name: "wrong token", token: "54321", url: docURL, form: params, sig: docSig},
		{name: "empty token never validates", token: "", url: docURL, form: params, sig: phone.Sign("", docURL, params)},
		{name: "tampered digits", token: token, url: docURL, form: tampered, sig: docSig},
		{name: "other query", token: token, url: "https://mycompany.com/myapp.php?foo=1&bar=3", form: params, sig: docSig},
		{name: "http instead of https", token: token, url: "http://mycompany.com/myapp.php?foo=1&bar=2", form: params, sig: docSig},
		{name: "missing signature", token: token, url: docURL, form: params, sig: ""},
		{name: "signed with default port, checked without", token: token, url: docURL, form: params, sig: withPort, want: true},
		{name: "signed without port, checked with default port", token: token, url: "https://mycompany.com:443/myapp.php?foo=1&bar=2", form: params, sig: docSig, want: true},
		{name: "other port does not match", token: token, url: "https://mycompany.com:8443/myapp.php?foo=1&bar=2", form: params, sig: docSig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := phone.ValidateSignature(tt.token, tt.url, tt.form, tt.sig); got != tt.want {
				t.Errorf("ValidateSignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMaskNumber(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"e164", "+14155550142", "+…42"},
		{"formatted", "+1 (415) 555-0199", "+…99"},
		{"short", "7", "+…"},
		{"empty", "", "+…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := phone.MaskNumber(tt.in); got != tt.want {
				t.Errorf("MaskNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCallHonoursContext(t *testing.T) {
	blocked := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-blocked })}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { close(blocked); srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c := &phone.Client{BaseURL: "http://" + l.Addr().String(), AccountSID: "AC1", AuthToken: "t", From: from}
	_, err = c.Call(ctx, phone.Call{To: alice, Message: "m", CallbackURL: "https://k.example/g"})
	se := bot.AsSendError(err)
	if err == nil || !se.Temporary || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v (temporary %v), want a temporary deadline error", err, se.Temporary)
	}
}
