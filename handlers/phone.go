package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/phone"
)

// maxPhoneCallbackBytes bounds a Twilio callback body (a few hundred bytes
// in practice).
const maxPhoneCallbackBytes = 64 << 10

// PhoneActions is what the phone callback needs from the core.
type PhoneActions interface {
	// PhoneKeypress records that the callee of callSID pressed digits
	// (phone.DigitAck or phone.DigitEscalate) for page pageID and returns
	// what to say back, e.g. "Acknowledged. Thank you.". It refuses with
	// EForbidden a callSID that is not the call placed for the page, and
	// with ENotFound a page no longer active; a repeated callback of one
	// call acts once.
	PhoneKeypress(ctx context.Context, pageID int64, callSID, digits string) (say string, err error)
}

// PhoneCallback serves POST /phone/gather?page=<id>, the <Gather> action
// Twilio calls when the person paged presses a key. Requests must carry a
// valid X-Twilio-Signature over PublicURL + path + query and the POST
// parameters; the answer is TwiML.
type PhoneCallback struct {
	AuthToken string // the Twilio auth token the signature is made with
	PublicURL string // externally visible base URL Twilio calls, e.g. https://klaxon.example.org
	Actions   PhoneActions
	Log       *slog.Logger
}

// Spoken answers of the phone callback.
const (
	sayPageGone    = "This page is no longer active. Nothing to do. Goodbye."
	sayUnknownKey  = "Sorry, that key does nothing."
	sayDefaultDone = "Thank you. Goodbye."
)

func (h *PhoneCallback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"status": "error", "error": "use POST"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPhoneCallbackBytes))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "error", "error": "reading body: " + err.Error()})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "error", "error": "malformed form body: " + err.Error()})
		return
	}
	// Twilio signs the URL it called: our public base plus the path and
	// query exactly as they arrived.
	fullURL := strings.TrimRight(h.PublicURL, "/") + r.URL.RequestURI()
	if h.PublicURL == "" || !phone.ValidateSignature(h.AuthToken, fullURL, form, r.Header.Get(phone.SignatureHeader)) {
		log.Warn("phone callback refused: bad or missing X-Twilio-Signature", "path", r.URL.Path, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"status": "error",
			"error": "missing or invalid X-Twilio-Signature: the request must be signed by Twilio with the configured auth token over " +
				"the public URL (check the public URL setting matches the URL Twilio calls, scheme and host included)"})
		return
	}

	pageID, err := strconv.ParseInt(r.URL.Query().Get("page"), 10, 64)
	callSID := form.Get("CallSid")
	if err != nil || pageID <= 0 || callSID == "" {
		log.Error("phone callback without page id or call sid", "query", r.URL.RawQuery, "call_sid", callSID)
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "error", "error": "need ?page=<positive id> and a CallSid"})
		return
	}
	digits := strings.TrimSpace(form.Get("Digits"))
	log = log.With("page", pageID, "call_sid", callSID, "digits", digits)

	if digits != phone.DigitAck && digits != phone.DigitEscalate {
		log.Info("phone keypress not understood: asking again")
		writeTwiML(w, phone.RepromptTwiML(sayUnknownKey, fullURL))
		return
	}
	say, err := h.Actions.PhoneKeypress(r.Context(), pageID, callSID, digits)
	// A key pressed the moment the call connects can beat the recording of
	// its CallSid: retry briefly before failing.
	for try := 0; errors.Is(err, paging.ErrCallInFlight) && try < 20 && r.Context().Err() == nil; try++ {
		time.Sleep(100 * time.Millisecond)
		say, err = h.Actions.PhoneKeypress(r.Context(), pageID, callSID, digits)
	}
	switch code := bot.ErrorCode(err); code {
	case "":
		if strings.TrimSpace(say) == "" {
			say = sayDefaultDone
		}
		log.Info("phone keypress handled")
		writeTwiML(w, phone.SayTwiML(say))
	case bot.ENotFound:
		// 200 so that Twilio speaks it; a 404 would play "an application error has occurred".
		log.Info("phone keypress for a page no longer active", "err", err)
		writeTwiML(w, phone.SayTwiML(sayPageGone))
	case bot.EForbidden:
		// Signed, but not by the call placed for this page: refused, nothing done.
		log.Warn("phone keypress refused: the CallSid is not the call placed for this page", "err", err)
		writeJSON(w, http.StatusForbidden, map[string]string{"status": "error", "error": bot.PlainRefs(bot.ErrorMessage(err))})
	default:
		log.Error("phone keypress failed", "code", code, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"status": "error", "error": bot.PlainRefs(bot.ErrorMessage(err))})
	}
}

func writeTwiML(w http.ResponseWriter, doc string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, doc)
}
