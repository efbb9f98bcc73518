package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
)

// Parameters carried in a custom_id (and in select-menu values) come back
// exactly as the client sends them: anyone who can see a message can send
// an interaction for it with any custom_id. So every parameter is parsed
// here, strictly, as if a stranger had typed it — exact field counts, plain
// decimal ids, durations bounded exactly as on the slash-command path — and
// checked against the server's state by the handler (the group, revision or
// incident it names). A refusal is an EInvalid error, which the router
// answers with an ephemeral message; nothing is acted on.

// Hints appended to refusals: where to go instead of the broken control.
const (
	hintAlerts     = "use /alerts or the card's buttons"
	hintIncidents  = "use the /incident commands instead"
	hintPostmortem = "open it again with /postmortem edit"
	hintChecklist  = "run the runbook again with /runbook run"
	hintReports    = "triage it with the buttons on the report"
)

// maxIDDigits bounds a decimal id: an int64 has at most 19 digits.
const maxIDDigits = 19

// parseID parses a positive id written as plain ASCII digits: no sign,
// spaces, leading zeros, underscores or base prefixes (strconv accepts some).
func parseID(s string) (int64, bool) {
	if s == "" || len(s) > maxIDDigits || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// malformed refuses a control whose custom_id Klaxon did not make.
func malformed(r *Request, hint string) error {
	return bot.Errorf(bot.EInvalid, "this control is malformed (%q), so Klaxon did nothing: %s", truncateRunes(r.CustomID, 100), hint)
}

// params splits a custom_id's parameters (what follows its prefix) into
// exactly n fields, none empty.
func params(r *Request, n int, hint string) ([]string, error) {
	parts := strings.Split(r.ID, ":")
	if len(parts) != n {
		return nil, malformed(r, hint)
	}
	for _, p := range parts {
		if p == "" {
			return nil, malformed(r, hint)
		}
	}
	return parts, nil
}

// idParam is the one id a custom_id such as "ack:42" carries.
func idParam(r *Request, hint string) (int64, error) {
	parts, err := params(r, 1, hint)
	if err != nil {
		return 0, err
	}
	id, ok := parseID(parts[0])
	if !ok {
		return 0, malformed(r, hint)
	}
	return id, nil
}

// idDurationParam is "<prefix>:<id>:<duration>" (silence and snooze
// buttons); the duration goes through parse, the same function the
// slash-command or modal path uses.
func idDurationParam(r *Request, parse func(string) (time.Duration, error), hint string) (int64, time.Duration, error) {
	parts, err := params(r, 2, hint)
	if err != nil {
		return 0, 0, err
	}
	id, ok := parseID(parts[0])
	if !ok {
		return 0, 0, malformed(r, hint)
	}
	d, err := parse(parts[1])
	if err != nil {
		return 0, 0, err
	}
	return id, d, nil
}

// Silence durations, the same for /silence, the Silence buttons and the custom modal.
const (
	MinSilence = time.Minute
	MaxSilence = 30 * 24 * time.Hour
)

// ParseSilenceDuration accepts Go durations and days ("3d"), from
// MinSilence to MaxSilence. Every silence path uses it.
func ParseSilenceDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	d, ok := parseDuration(s, MinSilence, MaxSilence)
	if !ok {
		return 0, bot.Errorf(bot.EInvalid, "%q is not a silence duration: type e.g. 30m, 2h or 3d (1 minute to 30 days)", truncateRunes(s, 40))
	}
	return d, nil
}

// ParseSnoozeDuration accepts a reminder snooze from bot.MinSnooze to
// bot.MaxSnooze, the bounds the core enforces too.
func ParseSnoozeDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	d, ok := parseDuration(s, incident.MinSnooze, incident.MaxSnooze)
	if !ok {
		return 0, bot.Errorf(bot.EInvalid, "%q is not a snooze: snooze for 1 minute to 24 hours, e.g. 30m or 2h", truncateRunes(s, 40))
	}
	return d, nil
}

// parseDuration reads a Go duration or a whole number of days and checks
// min ≤ d ≤ max, without overflow (days are bounded before multiplying).
func parseDuration(s string, lo, hi time.Duration) (time.Duration, bool) {
	if s == "" || len(s) > 32 {
		return 0, false
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > int(hi/(24*time.Hour))+1 {
			return 0, false
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, false
		}
	}
	return d, d >= lo && d <= hi
}
