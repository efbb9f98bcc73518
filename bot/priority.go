package bot

import (
	"fmt"
	"strings"
	"time"
)

// Priority is an alert's or incident's urgency, P0 (critical outage) to P3 (warning).
// Lower values are more urgent.
type Priority int

// The four priorities.
const (
	P0 Priority = iota
	P1
	P2
	P3
)

// Priorities lists every priority, most urgent first.
var Priorities = []Priority{P0, P1, P2, P3}

// String returns "P0".."P3".
func (p Priority) String() string {
	if p < P0 || p > P3 {
		return fmt.Sprintf("P?%d", int(p))
	}
	return fmt.Sprintf("P%d", int(p))
}

// Valid reports whether p is one of P0..P3.
func (p Priority) Valid() bool { return p >= P0 && p <= P3 }

// Meaning is the short human description of the priority.
func (p Priority) Meaning() string {
	switch p {
	case P0:
		return "critical outage"
	case P1:
		return "major issue"
	case P2:
		return "minor issue"
	case P3:
		return "warning"
	}
	return "unknown"
}

// DefaultAckDeadline is how soon an alert of this priority must be acknowledged
// when the configuration does not say otherwise.
func (p Priority) DefaultAckDeadline() time.Duration {
	switch p {
	case P0:
		return 15 * time.Minute
	case P1:
		return 30 * time.Minute
	case P2:
		return 2 * time.Hour
	default:
		return 24 * time.Hour
	}
}

// ParsePriority accepts "P0".."P3" (any case, surrounding spaces ignored) and "0".."3".
func ParsePriority(s string) (Priority, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "P")
	if len(t) == 1 && t[0] >= '0' && t[0] <= '3' {
		return Priority(t[0] - '0'), nil
	}
	return 0, Errorf(EInvalid, "priority %q is not one of P0, P1, P2, P3", s)
}

// MarshalText implements encoding.TextMarshaler.
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
