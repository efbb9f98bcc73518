package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// check-config fails when a priority's reach or an escalation target's via
// uses phone or email without that provider configured, naming the line.
func TestCheckConfigPhoneAndEmailNeedProviders(t *testing.T) {
	const schedule = `
schedules:
  - name: primary
    time_zone: UTC
    rotation: weekly
    handoff: "09:00"
    start: "2026-01-05"
    participants: ["100000000000001001"]
users:
  "100000000000001001": {name: Anna, phone: "+491510000001", email: anna@marola.example}
`
	const phone = `
phone:
  account_sid: ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
  from: "+4930000000"
  public_url: https://klaxon.marola.example
`
	const email = `
email:
  host: smtp.marola.example
  from: "Klaxon <klaxon@marola.example>"
`
	for _, tc := range []struct {
		name   string
		config string
		want   []string // "LINE: error: message prefix"; none: the configuration is valid
	}{
		{"reach phone without phone:", "priorities:\n  P0:\n    channel: \"1\"\n    reach: [discord, phone]\n",
			[]string{"4: error: priorities.P0.reach includes phone, but no phone provider is configured: add a phone: section (account_sid, from, public_url), or remove phone here"}},
		{"reach email without email:", "priorities:\n  P3:\n    channel: \"1\"\n    reach: [email]\n",
			[]string{"4: error: priorities.P3.reach includes email, but no e-mail provider is configured: add an email: section (host, from), or remove email here"}},
		{"phone: without account_sid is no provider", "priorities:\n  P0:\n    channel: \"1\"\n    reach: [phone]\nphone:\n  max_calls: 2\n",
			[]string{"4: error: priorities.P0.reach includes phone, but no phone provider"}},
		{"escalation via phone without phone:", "priorities:\n  P0: {channel: \"1\"}\n" + schedule + `
escalation:
  P0:
    steps:
      - delay: 0m
        targets:
          - schedule: primary
            via: [mention, dm, phone]
`, []string{"20: error: escalation.P0 step 1 target 1 pages via phone, but no phone provider is configured: add a phone: section (account_sid, from, public_url), or remove phone here"}},
		{"escalation via email without email:", "priorities:\n  P3: {channel: \"1\"}\n" + schedule + `
escalation:
  P3:
    steps:
      - delay: 0m
        targets: [{schedule: primary, via: [email]}]
`, []string{"18: error: escalation.P3 step 1 target 1 pages via email, but no e-mail provider is configured: add an email: section (host, from), or remove email here"}},
		{"both missing, both reported", "priorities:\n  P0:\n    channel: \"1\"\n    reach: [phone, email]\n",
			[]string{"4: error: priorities.P0.reach includes phone", "4: error: priorities.P0.reach includes email"}},
		{"reach phone with phone:", "priorities:\n  P0:\n    channel: \"1\"\n    reach: [discord, phone]\n" + phone, nil},
		{"via email with email:", "priorities:\n  P3: {channel: \"1\"}\n" + schedule + email + `
escalation:
  P3:
    steps:
      - delay: 0m
        targets: [{schedule: primary, via: [email]}]
`, nil},
		{"discord only needs nothing", "priorities:\n  P0:\n    channel: \"1\"\n    reach: [discord]\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.yaml")
			writeFile(t, path, tc.config)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"check-config", "--config", path}, func(string) string { return "" }, &out, &errb)
			if len(tc.want) == 0 {
				if code != 0 {
					t.Fatalf("exit %d, want 0:\n%s%s", code, out.String(), errb.String())
				}
				return
			}
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s%s", code, out.String(), errb.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), path+":"+want) {
					t.Errorf("output lacks %q:\n%s", path+":"+want, out.String())
				}
			}
		})
	}
}

// "steps: []" says on purpose that a priority pages nobody beyond its card
// (as the example's P3 does); only a policy without steps at all is warned about.
func TestEscalationEmptyStepsOnPurpose(t *testing.T) {
	for _, tc := range []struct {
		name, policy string
		warned       bool
	}{
		{"steps: []", "escalation:\n  P3:\n    steps: []\n", false},
		{"no steps key", "escalation:\n  P3:\n    repeat: 1\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.yaml")
			writeFile(t, path, "priorities:\n  P3: {channel: \"1\"}\n"+tc.policy)
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{"check-config", "--config", path}, func(string) string { return "" }, &out, &errb); code != 0 {
				t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
			}
			if got := strings.Contains(out.String(), "escalation.P3 has no steps"); got != tc.warned {
				t.Errorf("warned %v, want %v:\n%s", got, tc.warned, out.String())
			}
		})
	}
}
