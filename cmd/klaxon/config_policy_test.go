package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// loadTestConfig loads doc as a configuration file and fails on any error.
func loadTestConfig(t *testing.T, doc string) *Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "klaxon.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, problems := LoadConfig(path, func(string) string { return "" })
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("config problems: %v", errs)
	}
	return cfg
}

// TestConfiguredSeverityMapClassifies: the priorities.severity map of the
// configuration decides the priority, replacing the built-in one.
func TestConfiguredSeverityMapClassifies(t *testing.T) {
	cfg := loadTestConfig(t, `
priorities:
  severity:
    disaster: P0
    Page: P1
    critical: P2
  P0: {channel: "100000000000000001"}
  P1: {channel: "100000000000000002"}
  P2: {channel: "100000000000000003"}
  P3: {channel: "100000000000000004"}
`)
	pol := cfg.Policy()
	for sev, want := range map[string]bot.Priority{"disaster": bot.P0, "page": bot.P1, "critical": bot.P2, "warning": bot.P3} {
		if got, _ := pol.Classifier.Classify(map[string]string{"severity": sev}); got != want {
			t.Errorf("severity %q → %s, want %s (configured map)", sev, got, want)
		}
	}
}

// TestConfiguredEscalationRepeat: escalation.<P>.repeat and repeat_after
// reach the policy the engine uses.
func TestConfiguredEscalationRepeat(t *testing.T) {
	cfg := loadTestConfig(t, `
priorities:
  P0: {channel: "100000000000000001"}
escalation:
  P0:
    repeat: 4
    repeat_after: 7m
    steps:
      - targets: [{role: "100000000000000100", via: [mention]}]
`)
	pol := cfg.policies[bot.P0]
	if pol.Repeat != 4 || pol.RepeatAfter != 7*time.Minute {
		t.Errorf("P0 policy repeat %d after %s, want 4 after 7m", pol.Repeat, pol.RepeatAfter)
	}
}
