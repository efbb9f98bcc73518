// Package phonetest is a fake Twilio Programmable Voice API for tests: an
// httptest server on loopback that implements the create-call request the
// way Twilio validates it, records calls with their parsed TwiML, injects
// failures, and "presses a key" by POSTing Twilio's signed Gather callback
// to the action URL of a call's TwiML.
package phonetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot/phone"
)

// Call is a call the fake accepted.
type Call struct {
	SID            string
	AccountSID     string
	To, From       string
	Twiml          string // the raw Twiml parameter
	StatusCallback string
	Status         string
	Created        time.Time
	Parsed         Response // Twiml, parsed
}

// Response is the TwiML of a call, as far as Klaxon uses it.
type Response struct {
	XMLName xml.Name `xml:"Response"`
	Gather  *Gather  `xml:"Gather"`
	Says    []Say    `xml:"Say"` // <Say> outside the Gather (after it)
}

// Gather is a <Gather> verb.
type Gather struct {
	Action    string `xml:"action,attr"`
	Method    string `xml:"method,attr"`
	NumDigits int    `xml:"numDigits,attr"`
	Timeout   int    `xml:"timeout,attr"`
	Says      []Say  `xml:"Say"`
}

// Say is a <Say> verb.
type Say struct {
	Voice string `xml:"voice,attr"`
	Text  string `xml:",chardata"`
}

type failure struct{ status, code int }

// Server is the fake Twilio API. Point phone.Client.BaseURL at URL.
type Server struct {
	URL        string
	AccountSID string
	AuthToken  string

	srv  *httptest.Server
	http *http.Client

	mu    sync.Mutex
	calls []Call
	fails []failure
}

// New starts a fake Twilio API on loopback with a fresh account sid and auth
// token; it is closed when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := NewServer()
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a fake Twilio API on loopback with a fresh account sid
// and auth token, outside tests (klaxon demo records its calls with it).
// The caller closes it.
func NewServer() *Server {
	s := &Server{
		AccountSID: "AC" + randHex(16),
		AuthToken:  randHex(16),
		http:       &http.Client{Timeout: 10 * time.Second},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+phone.APIVersion+"/Accounts/{sid}/Calls.json", s.createCall)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Client returns a phone.Client for this fake calling from the given number.
func (s *Server) Client(from string) *phone.Client {
	return &phone.Client{BaseURL: s.URL, AccountSID: s.AccountSID, AuthToken: s.AuthToken, From: from, HTTP: s.srv.Client()}
}

// FailNext makes the next create-call request fail with an HTTP status and
// a Twilio error code. Failures queue up in order.
func (s *Server) FailNext(status, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{status, code})
}

// Calls returns the calls accepted so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Call returns the accepted call with that sid.
func (s *Server) Call(sid string) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.SID == sid {
			return c, true
		}
	}
	return Call{}, false
}

// Press simulates the callee pressing digits during call sid: it POSTs
// Twilio's Gather callback to the action URL of the call's TwiML, signed
// with X-Twilio-Signature over that exact URL. The caller closes the body.
func (s *Server) Press(ctx context.Context, callSID, digits string) (*http.Response, error) {
	c, ok := s.Call(callSID)
	if !ok {
		return nil, fmt.Errorf("phonetest: no call %s", callSID)
	}
	if c.Parsed.Gather == nil || c.Parsed.Gather.Action == "" {
		return nil, fmt.Errorf("phonetest: call %s has no <Gather action>", callSID)
	}
	g := c.Parsed.Gather
	method := strings.ToUpper(g.Method)
	if method == "" {
		method = http.MethodPost
	}
	if method != http.MethodPost {
		return nil, fmt.Errorf("phonetest: call %s gathers with method %q; only POST is simulated", callSID, g.Method)
	}
	form := url.Values{
		"AccountSid":    {c.AccountSID},
		"ApiVersion":    {phone.APIVersion},
		"CallSid":       {c.SID},
		"CallStatus":    {"in-progress"},
		"Called":        {c.To},
		"Caller":        {c.From},
		"Digits":        {digits},
		"Direction":     {"outbound-api"},
		"FinishedOnKey": {""},
		"From":          {c.From},
		"To":            {c.To},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.Action, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("phonetest: gather request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set(phone.SignatureHeader, phone.Sign(s.AuthToken, g.Action, form))
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("phonetest: POST gather action: %w", err)
	}
	return resp, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// maxTwiml is Twilio's limit on the Twiml parameter.
const maxTwiml = 4000

func (s *Server) createCall(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.PathValue("sid") != s.AccountSID {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 21200, "Unable to parse request body")
		return
	}
	s.mu.Lock()
	if len(s.fails) > 0 {
		f := s.fails[0]
		s.fails = s.fails[1:]
		s.mu.Unlock()
		if f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, f.status, f.code, fmt.Sprintf("Injected failure %d", f.code))
		return
	}
	s.mu.Unlock()

	f := r.PostForm
	to, from, twiml, u := f.Get("To"), f.Get("From"), f.Get("Twiml"), f.Get("Url")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	case from == "":
		writeError(w, http.StatusBadRequest, 21213, "No 'From' number is specified")
		return
	case twiml == "" && u == "" && f.Get("ApplicationSid") == "":
		writeError(w, http.StatusBadRequest, 21205, "Url parameter is required.")
		return
	case !e164.MatchString(to):
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
		return
	case !e164.MatchString(from):
		writeError(w, http.StatusBadRequest, 21212, fmt.Sprintf("The 'From' number %s is not a valid phone number.", from))
		return
	case len(twiml) > maxTwiml:
		writeError(w, http.StatusBadRequest, 21200, fmt.Sprintf("Twiml must be at most %d characters, got %d", maxTwiml, len(twiml)))
		return
	}
	var parsed Response
	if twiml != "" {
		if err := xml.Unmarshal([]byte(twiml), &parsed); err != nil {
			writeError(w, http.StatusBadRequest, 12100, "Document parse failure: "+err.Error())
			return
		}
		if parsed.Gather != nil && parsed.Gather.Action != "" {
			if au, err := url.Parse(parsed.Gather.Action); err != nil || !au.IsAbs() || au.Host == "" {
				writeError(w, http.StatusBadRequest, 11100, "Invalid URL format: Gather action "+parsed.Gather.Action)
				return
			}
		}
	}
	if cb := f.Get("StatusCallback"); cb != "" {
		if cu, err := url.Parse(cb); err != nil || !cu.IsAbs() || cu.Host == "" {
			writeError(w, http.StatusBadRequest, 21609, "Invalid StatusCallback url: "+cb)
			return
		}
	}

	now := time.Now().UTC()
	c := Call{
		SID: "CA" + randHex(16), AccountSID: s.AccountSID, To: to, From: from,
		Twiml: twiml, StatusCallback: f.Get("StatusCallback"), Status: "queued", Created: now, Parsed: parsed,
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()

	uri := "/" + phone.APIVersion + "/Accounts/" + s.AccountSID + "/Calls/" + c.SID
	date := now.Format(time.RFC1123Z)
	writeJSON(w, http.StatusCreated, map[string]any{
		"account_sid": s.AccountSID, "annotation": nil, "answered_by": nil, "api_version": phone.APIVersion,
		"caller_name": nil, "date_created": date, "date_updated": date, "direction": "outbound-api",
		"duration": nil, "end_time": nil, "forwarded_from": nil, "from": from, "from_formatted": from,
		"group_sid": nil, "parent_call_sid": nil, "phone_number_sid": "PN" + randHex(16), "price": nil,
		"price_unit": "USD", "queue_time": "0", "sid": c.SID, "start_time": nil, "status": c.Status,
		"to": to, "to_formatted": to, "trunk_sid": nil, "uri": uri + ".json",
		"subresource_uris": map[string]string{
			"notifications":                      uri + "/Notifications.json",
			"recordings":                         uri + "/Recordings.json",
			"payments":                           uri + "/Payments.json",
			"events":                             uri + "/Events.json",
			"siprec":                             uri + "/Siprec.json",
			"streams":                            uri + "/Streams.json",
			"transcriptions":                     uri + "/Transcriptions.json",
			"user_defined_message_subscriptions": uri + "/UserDefinedMessageSubscriptions.json",
			"user_defined_messages":              uri + "/UserDefinedMessages.json",
		},
	})
}

// writeError answers with Twilio's JSON error body.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{
		"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
