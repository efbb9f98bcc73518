package bot_test

import (
	"testing"

	"github.com/marola-rp/klaxon/bot"
)

func TestClassifierCover(t *testing.T) {
	c := bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}
	for _, tc := range []struct {
		name     string
		matchers map[string]string
		want     bot.Priority
	}{
		{"nothing pinned: an alert with priority=P0 matches", map[string]string{"alertname": "X"}, bot.P0},
		{"severity pinned but not priority: priority=P0 still matches", map[string]string{"alertname": "X", "severity": "warning"}, bot.P0},
		{"priority pinned", map[string]string{"alertname": "X", "priority": "P2"}, bot.P2},
		{"priority pinned to P0", map[string]string{"priority": "P0", "severity": "info"}, bot.P0},
		{"priority absent, severity pinned", map[string]string{"priority": "", "severity": "warning"}, bot.P2},
		{"priority absent, severity critical", map[string]string{"priority": "", "severity": "critical"}, bot.P0},
		{"priority absent, severity unknown: the default", map[string]string{"priority": "", "severity": "whatever"}, bot.P3},
		{"priority absent, severity absent: the default", map[string]string{"priority": "", "severity": ""}, bot.P3},
		{"priority absent, severity free: the most urgent severity", map[string]string{"priority": ""}, bot.P0},
		{"priority unparseable, severity pinned", map[string]string{"priority": "urgent", "severity": "info"}, bot.P3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Cover(tc.matchers); got != tc.want {
				t.Errorf("Cover(%v) = %s, want %s", tc.matchers, got, tc.want)
			}
		})
	}
	// A classifier whose severities are all P2 or lower and whose default is P3.
	mild := bot.Classifier{Default: bot.P3, Severity: map[string]bot.Priority{"warning": bot.P2}}
	if got := mild.Cover(map[string]string{"priority": ""}); got != bot.P2 {
		t.Errorf("mild Cover = %s, want P2", got)
	}
}
