package bot

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Contact (declared with the escalation feature) is how to reach a user
// outside Discord. Its String, GoString and LogValue redact the phone number
// and email address, so that printing or logging a Contact never leaks
// them; read the fields to use them.

// Directory is the user directory, by Discord user id.
type Directory map[string]Contact

// Lookup returns the contact of a user.
func (d Directory) Lookup(userID string) (Contact, bool) {
	c, ok := d[userID]
	return c, ok
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidPhone reports whether p is an E.164 phone number: '+', the country
// code and the number, digits only, at most 15 digits.
func ValidPhone(p string) bool { return e164.MatchString(p) }

// RedactPhone keeps only the last two digits of a phone number: "+…42".
func RedactPhone(p string) string {
	if p == "" {
		return ""
	}
	if len(p) < 4 {
		return "…"
	}
	return "+…" + p[len(p)-2:]
}

// RedactEmail keeps the first letter and the domain: "a…@example.com".
func RedactEmail(e string) string {
	if e == "" {
		return ""
	}
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return "…"
	}
	return e[:1] + "…" + e[at:]
}

// Redacted returns a copy of c whose phone and email are redacted, safe
// to log or show to others.
func (c Contact) Redacted() Contact {
	c.Phone, c.Email = RedactPhone(c.Phone), RedactEmail(c.Email)
	return c
}

// HasPhone reports whether the user can be phoned or texted.
func (c Contact) HasPhone() bool { return c.Phone != "" }

// HasEmail reports whether the user can be emailed.
func (c Contact) HasEmail() bool { return c.Email != "" }

// Local returns t in the user's time zone (UTC if unknown).
func (c Contact) Local(t time.Time) time.Time {
	if c.TimeZone == nil {
		return t.UTC()
	}
	return t.In(c.TimeZone)
}

func (c Contact) String() string {
	r := c.Redacted()
	tz := ""
	if c.TimeZone != nil {
		tz = c.TimeZone.String()
	}
	return fmt.Sprintf("{%s %q phone=%s email=%s tz=%s}", r.UserID, r.Name, r.Phone, r.Email, tz)
}

// GoString redacts too, for %#v.
func (c Contact) GoString() string { return "bot.Contact" + c.String() }

// LogValue implements slog.LogValuer with the phone and email redacted.
func (c Contact) LogValue() slog.Value {
	r := c.Redacted()
	attrs := []slog.Attr{slog.String("user_id", r.UserID), slog.String("name", r.Name)}
	if r.Phone != "" {
		attrs = append(attrs, slog.String("phone", r.Phone))
	}
	if r.Email != "" {
		attrs = append(attrs, slog.String("email", r.Email))
	}
	return slog.GroupValue(attrs...)
}

// Contact is how to reach a person outside Discord.
type Contact struct {
	UserID   string
	Name     string
	Phone    string // E.164
	Email    string
	TimeZone *time.Location
}

var idRE = regexp.MustCompile(`^[0-9]{1,20}$`)

// ValidUserID reports whether id looks like a Discord id (a snowflake: digits only).
func ValidUserID(id string) bool { return idRE.MatchString(id) }
