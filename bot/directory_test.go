package bot

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRedaction(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"phone", "+4915112345642", "+…42"},
		{"empty phone", "", ""},
		{"too short", "+1", "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactPhone(tc.in); got != tc.want {
				t.Errorf("RedactPhone(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, in, want string }{
		{"email", "alice@example.org", "a…@example.org"},
		{"empty email", "", ""},
		{"no at", "alice", "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactEmail(tc.in); got != tc.want {
				t.Errorf("RedactEmail(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestContactNeverLeaks(t *testing.T) {
	c := Contact{UserID: "501", Name: "Alice", Phone: "+4915112345642", Email: "alice@example.org", TimeZone: time.UTC}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("paging", "contact", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("paging", "contact", c)
	type wrapper struct{ C Contact }
	for _, s := range []string{buf.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v", wrapper{c}, wrapper{c}), fmt.Sprint(Directory{"501": c})} {
		if strings.Contains(s, "12345642") || strings.Contains(s, "alice@") {
			t.Errorf("contact details leaked: %s", s)
		}
		if !strings.Contains(s, "+…42") {
			t.Errorf("redacted phone missing: %s", s)
		}
	}
	if r := c.Redacted(); r.Phone != "+…42" || r.Email != "a…@example.org" || r.Name != "Alice" || c.Phone != "+4915112345642" {
		t.Errorf("Redacted = %+v (original %q)", r, c.Phone)
	}
	d := Directory{"501": c}
	if got, ok := d.Lookup("501"); !ok || got.Phone != c.Phone {
		t.Errorf("Lookup(501) = %v, %v", got, ok)
	}
	if _, ok := d.Lookup("502"); ok {
		t.Error("Lookup(502) found someone")
	}
}

func TestValidPhone(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"+4915112345678", true}, {"+15550100501", true}, {"+290 1234", false}, {"004915112345678", false},
		{"+0123456789", false}, {"+1234567890123456", false}, {"+49-151-123", false}, {"", false}} {
		if got := ValidPhone(tc.in); got != tc.ok {
			t.Errorf("ValidPhone(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}
