package bot

import (
	"math"
	"time"
)

// The store keeps an instant as Unix nanoseconds in an int64, with 0 meaning
// "no time" (the zero time.Time). MinTime and MaxTime are the first and last
// instants it can hold; Alertmanager accepts any RFC 3339 date, so input is
// checked against them before anything is stored (a time beyond them would
// wrap around and come back as another date).
var (
	MinTime = time.Unix(0, math.MinInt64).UTC()
	MaxTime = time.Unix(0, math.MaxInt64).UTC()
)

// unixEpoch is stored as 0, which reads back as "no time".
var unixEpoch = time.Unix(0, 0)

// CheckStorable returns an EInvalid error saying why t cannot be stored
// exactly, or nil. The zero time ("no time") is storable.
func CheckStorable(t time.Time) error {
	switch {
	case t.IsZero():
		return nil
	case t.Before(MinTime) || t.After(MaxTime):
		return Errorf(EInvalid, "%s is outside the range Klaxon can store (%s to %s)",
			t.Format(time.RFC3339Nano), MinTime.Format(time.RFC3339Nano), MaxTime.Format(time.RFC3339Nano))
	case t.Equal(unixEpoch):
		return Errorf(EInvalid, "%s is Unix time 0, which Klaxon stores as \"no time\"", t.Format(time.RFC3339Nano))
	}
	return nil
}
