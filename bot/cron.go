package bot

import (
	"strings"
	"time"
	_ "time/tzdata" // cron schedules name IANA zones; work where the system has no zoneinfo

	"github.com/robfig/cron/v3"
)

// Cron is a parsed cron schedule in a time zone. Runs are computed with
// github.com/robfig/cron/v3; wall-clock times are those of Location, so
// "0 10 * * MON" stays at 10:00 local time across daylight-saving changes.
type Cron struct {
	Expr     string
	Location *time.Location
	s        cron.Schedule
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronHelp is appended to cron errors: what to write instead.
const cronHelp = "write 5 fields — minute hour day-of-month month day-of-week — e.g. `0 10 * * MON` (Mondays 10:00), " +
	"`0 14 1 * *` (the 1st of every month, 14:00), or @daily, @weekly, @monthly"

// ParseCron parses a cron expression (five fields, or a descriptor such as
// @weekly) in the IANA time zone tz ("" is UTC). The error is an EInvalid
// *Error that says what is wrong and what to write.
func ParseCron(expr, tz string) (c *Cron, err error) {
	expr = strings.Join(strings.Fields(expr), " ")
	if expr == "" {
		return nil, Errorf(EInvalid, "the cron expression is empty: %s", cronHelp)
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, Errorf(EInvalid, "cron expression %q: give the time zone separately (the time zone option or time_zone key), not in the expression", expr)
	}
	loc, err := LoadZone(tz)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil { // the parser panics on a few malformed inputs
			c, err = nil, Errorf(EInvalid, "cron expression %q is malformed: %s", expr, cronHelp)
		}
	}()
	s, perr := cronParser.Parse(expr)
	if perr != nil {
		return nil, Errorf(EInvalid, "cron expression %q: %s; %s", expr, explainCron(perr.Error()), cronHelp)
	}
	switch v := s.(type) {
	case *cron.SpecSchedule:
		v.Location = loc
	case cron.ConstantDelaySchedule:
		if v.Delay < time.Minute {
			return nil, Errorf(EInvalid, "cron expression %q runs more often than once a minute; use @every 1m or longer", expr)
		}
	}
	c = &Cron{Expr: expr, Location: loc, s: s}
	probe := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if first := c.Next(probe); first.IsZero() {
		return nil, Errorf(EInvalid, "cron expression %q never runs (is the day valid for the month? e.g. 30 2 is February 30th)", expr)
	}
	return c, nil
}

// explainCron rewrites the parser's messages into plainer English.
func explainCron(msg string) string {
	switch {
	case strings.HasPrefix(msg, "expected exactly 5 fields"):
		n := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(msg, "expected exactly 5 fields, found "), ":", 2)[0])
		return "it has " + n + " fields, cron needs exactly 5"
	case strings.HasPrefix(msg, "unrecognized descriptor"):
		return "unknown shortcut " + strings.TrimPrefix(msg, "unrecognized descriptor: ") + " (known: @yearly, @monthly, @weekly, @daily, @hourly, @every <duration>)"
	case strings.Contains(msg, "above maximum"), strings.Contains(msg, "below minimum"):
		return "a value is out of range (" + msg + "; minutes 0-59, hours 0-23, days 1-31, months 1-12, weekdays 0-6 or SUN-SAT)"
	case strings.HasPrefix(msg, "failed to parse int from"):
		return "a field is not a number, range, list or name (" + msg + ")"
	}
	return msg
}

// LoadZone loads an IANA time zone; "" is UTC. The error says what to write.
func LoadZone(tz string) (*time.Location, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" || strings.EqualFold(tz, "utc") {
		return time.UTC, nil
	}
	if strings.EqualFold(tz, "local") {
		return nil, Errorf(EInvalid, "time zone %q depends on the server: name an IANA zone such as Europe/Berlin or UTC", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, Errorf(EInvalid, "time zone %q is unknown: use an IANA name such as Europe/Berlin, America/New_York or UTC", tz)
	}
	return loc, nil
}

// Next returns the first run strictly after t, or the zero time when there is none.
func (c *Cron) Next(t time.Time) time.Time {
	n := c.s.Next(t.In(c.Location))
	if n.IsZero() {
		return n
	}
	return n.In(c.Location)
}

// NextN returns the next n runs after t.
func (c *Cron) NextN(t time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t = c.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// String is the expression and its zone, e.g. "0 10 * * MON (Europe/Berlin)".
func (c *Cron) String() string { return c.Expr + " (" + c.Location.String() + ")" }
