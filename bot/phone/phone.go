// Package phone places alert calls through Twilio's Programmable Voice REST
// API (or anything that speaks it) and checks the signatures Twilio puts on
// the callbacks it makes when the callee presses a key.
package phone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// DefaultBaseURL is Twilio's REST API, used when Client.BaseURL is empty.
const DefaultBaseURL = "https://api.twilio.com"

// APIVersion is the Twilio REST API version of the Calls resource.
const APIVersion = "2010-04-01"

// DefaultTimeout bounds one API request when Client.HTTP is nil.
const DefaultTimeout = 15 * time.Second

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// Caller places a phone call that reads an alert and asks for a keypress.
type Caller interface {
	Call(ctx context.Context, c Call) (sid string, err error)
}

// Call is one outbound alert call.
type Call struct {
	To          string // E.164 number to call, e.g. +14155550142
	From        string // caller id; "" means Client.From
	Message     string // the alert text read to the callee (truncated, see TwiML)
	CallbackURL string // absolute URL Twilio POSTs the keypress to (the Gather action)
	StatusURL   string // optional absolute URL for Twilio's call status callback
}

// Client calls people through Twilio's Calls resource. The zero value is not
// usable: AccountSID, AuthToken and From (or Call.From) are required.
type Client struct {
	BaseURL    string // "" means DefaultBaseURL
	AccountSID string // AC…; also the basic-auth user
	AuthToken  string // basic-auth password; never logged
	From       string // default caller id (a Twilio number or verified caller id)
	HTTP       *http.Client
	Log        *slog.Logger // nil: slog.Default()
}

var _ Caller = (*Client)(nil)

// callResponse is the part of Twilio's Call resource Klaxon reads.
type callResponse struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

// APIError is Twilio's JSON error body.
type APIError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("twilio error %d: %s", e.Code, e.Message)
	if e.MoreInfo != "" {
		s += " (" + e.MoreInfo + ")"
	}
	return s
}

// Call places the call and returns its sid (CA…). Every error is a
// *bot.SendError: 5xx, 429 and transport failures are Temporary; other 4xx
// (e.g. 21211, invalid To number) and invalid input are permanent.
func (c *Client) Call(ctx context.Context, call Call) (string, error) {
	const op = "phone call"
	from := call.From
	if from == "" {
		from = c.From
	}
	switch {
	case c.AccountSID == "" || c.AuthToken == "":
		return "", &bot.SendError{Op: op, Err: errors.New("twilio account sid and auth token are required")}
	case call.To == "":
		return "", &bot.SendError{Op: op, Err: errors.New("no number to call")}
	case from == "":
		return "", &bot.SendError{Op: op, Err: errors.New("no caller id: set the Twilio From number")}
	}
	if err := checkAbsURL(call.CallbackURL); err != nil {
		return "", &bot.SendError{Op: op, Err: fmt.Errorf("callback URL: %w", err)}
	}
	if call.StatusURL != "" {
		if err := checkAbsURL(call.StatusURL); err != nil {
			return "", &bot.SendError{Op: op, Err: fmt.Errorf("status URL: %w", err)}
		}
	}
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	endpoint := base + "/" + APIVersion + "/Accounts/" + url.PathEscape(c.AccountSID) + "/Calls.json"

	form := url.Values{}
	form.Set("To", call.To)
	form.Set("From", from)
	form.Set("Twiml", TwiML(call.Message, call.CallbackURL))
	if call.StatusURL != "" {
		form.Set("StatusCallback", call.StatusURL)
		form.Set("StatusCallbackMethod", http.MethodPost)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &bot.SendError{Op: op, Err: fmt.Errorf("building request: %w", err)}
	}
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("to", MaskNumber(call.To))

	resp, err := hc.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which carries the account sid only: fine.
		return "", &bot.SendError{Op: op, Temporary: true, Err: fmt.Errorf("POST Calls.json: %w", err)}
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := errorFromResponse(op, resp)
		log.Warn("twilio refused call", "status", se.Status, "code", se.Code, "temporary", se.Temporary)
		return "", se
	}
	var cr callResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&cr); err != nil || cr.SID == "" {
		if err == nil {
			err = errors.New("no sid in response")
		}
		// The call was probably created: retrying could ring the person twice,
		// so this is permanent.
		return "", &bot.SendError{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("decoding Twilio call response: %w", err)}
	}
	log.Info("call placed", "call_sid", cr.SID, "status", cr.Status)
	return cr.SID, nil
}

// errorFromResponse turns a non-2xx Twilio response into a *bot.SendError.
func errorFromResponse(op string, resp *http.Response) *bot.SendError {
	se := &bot.SendError{
		Op:        op,
		Status:    resp.StatusCode,
		Temporary: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && secs >= 0 {
			se.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var ae APIError
	if err := json.Unmarshal(body, &ae); err == nil && (ae.Code != 0 || ae.Message != "") {
		se.Code = ae.Code
		ae.Message = redactNumbers(ae.Message) // "The 'To' number +1… is not a valid phone number."
		se.Err = &ae
		return se
	}
	snippet := strings.TrimSpace(string(body))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	se.Err = fmt.Errorf("twilio answered %s: %q", resp.Status, redactNumbers(snippet))
	return se
}

func checkAbsURL(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// MaskNumber returns a phone number safe to log: "+…42" (its last two
// digits at most).
func MaskNumber(n string) string {
	digits := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		if n[i] >= '0' && n[i] <= '9' {
			digits = append(digits, n[i])
		}
	}
	if len(digits) < 2 {
		return "+…"
	}
	return "+…" + string(digits[len(digits)-2:])
}

// numberRE matches things that look like phone numbers in provider messages.
// Anything after a "+", or seven digits and more.
var numberRE = regexp.MustCompile(`\+\d[\d ().\-]*\d|\d[\d ().\-]{5,}\d`)

func redactNumbers(s string) string {
	return numberRE.ReplaceAllStringFunc(s, MaskNumber)
}
