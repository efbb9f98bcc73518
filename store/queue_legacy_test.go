package store

import (
	"testing"

	"github.com/marola-rp/klaxon/bot"
)

// A message queued before bot.Tone stored its embed colour; read back after
// the upgrade it keeps the same colour through its tone.
func TestLegacyQueuedColourBecomesTone(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bot.Tone
	}{
		{`{"Title":"x","Color":14687774}`, bot.ToneP0},
		{`{"Title":"x","Color":3061373}`, bot.ToneResolved},
		{`{"Title":"x","Color":5793266}`, bot.ToneDocument},
		{`{"Title":"x","Color":0}`, bot.ToneNone},
		{`{"Title":"x"}`, bot.ToneNone},
		{`{"Title":"x","Color":123}`, bot.ToneNone},
		{`not json`, bot.ToneNone},
	} {
		if got := legacyTone(tc.body); got != tc.want {
			t.Errorf("legacyTone(%s) = %v, want %v", tc.body, got, tc.want)
		}
	}
}
