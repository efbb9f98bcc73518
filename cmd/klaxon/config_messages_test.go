package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// messagesHeader makes a configuration without warnings of its own (6
// lines); each case continues the priorities mapping with its P0 and may
// add sections after it.
const messagesHeader = `discord: {guild_id: "123456789012345678"}
access: {staff_roles: ["123456789012345670"]}
priorities:
  P1: {channel: "123456789012345601"}
  P2: {channel: "123456789012345602"}
  P3: {channel: "123456789012345603"}
`

const okP0 = "  P0: {channel: \"123456789012345600\"}\n"

// Every offline check-config message shape, with its exact text: YAML
// paths (never Go type names), the nearest known key, one message per
// mistake (no cascades), syntax errors on the line to fix.
func TestCheckConfigMessages(t *testing.T) {
	schedule := func(tz string) string {
		return "schedules:\n  - name: primary\n    time_zone: " + tz + "\n    rotation: weekly\n    handoff: \"09:00\"\n    handoff_day: monday\n" +
			"    start: \"2026-01-05\"\n    participants: [\"123456789012345680\"]\n    announce_channel: \"123456789012345681\"\n"
	}
	cases := []struct {
		name string
		yaml string // after messagesHeader (lines 1-6)
		want []string
	}{
		{"valid", okP0, nil},
		{"misspelt key, nearest suggested", "  P0:\n    channel: \"123456789012345600\"\n    ack_withn: 15m\n",
			[]string{"9: error: priorities.P0.ack_withn: unknown key; did you mean ack_within?"}},
		{"swapped letters", okP0 + "storm:\n  treshold: 3\n  widnow: 5m\n",
			[]string{"9: error: storm.treshold: unknown key; did you mean threshold?", "10: error: storm.widnow: unknown key; did you mean window?"}},
		{"unknown key, nothing near: the known keys", okP0 + "log:\n  colour: true\n",
			[]string{"9: error: log.colour: unknown key (log takes format, level)"}},
		{"unknown top-level key", okP0 + "priorites: {}\n",
			[]string{"8: error: priorites: unknown key; did you mean priorities?"}},
		{"key in the wrong section", "  ack_within: 15m\n" + okP0,
			[]string{"7: error: priorities.ack_within: unknown key (priorities takes P0, P1, P2, P3, default, severity)"}},
		{"bad duration: one message, no false warnings", "  P0:\n    channel: \"123456789012345600\"\n    ack_within: 15minutes\n",
			[]string{"9: error: priorities.P0.ack_within: \"15minutes\" is not a duration (write e.g. 90s, 15m, 2h)"}},
		{"wrong type, in words", okP0 + "storm:\n  threshold: many\n",
			[]string{"9: error: storm.threshold: expected a whole number, not \"many\""}},
		{"a list where a mapping belongs", okP0 + "storm: [1, 2]\n",
			[]string{"8: error: storm: expected a mapping (key: value lines), not a list"}},
		{"not a Discord id", "  P0: {channel: \"abc\"}\n",
			[]string{"7: error: priorities.P0.channel \"abc\" is not a Discord id (digits only)"}},
		{"log level", okP0 + "log:\n  level: loud\n",
			[]string{"9: error: log.level \"loud\" is not one of debug, info, warn, error"}},
		{"engine interval", okP0 + "engine:\n  interval: 5m\n",
			[]string{"9: error: engine.interval must be between 100ms and 1m"}},
		{"bad schedule time zone: one error, escalation still finds the schedule", okP0 + schedule("Europe/Berln") +
			"escalation:\n  P0:\n    steps:\n      - delay: 0m\n        targets: [{schedule: primary, via: [mention]}]\n",
			[]string{"10: error: schedule primary: time_zone: unknown time zone \"Europe/Berln\": write an IANA zone such as Europe/Berlin, America/New_York or UTC"}},
		{"undefined schedule", okP0 + "escalation:\n  P0:\n    steps:\n      - delay: 0m\n        targets: [{schedule: primray, via: [mention]}]\n",
			[]string{"12: error: escalation.P0: schedule \"primray\" is not defined under schedules"}},
		{"inherited time zone reported once", okP0 + "reminders:\n  time_zone: Europe/Berln\n  list:\n" +
			"    - {name: a, cron: \"0 10 * * TUE\", channel: \"123456789012345690\", message: a}\n" +
			"    - {name: b, cron: \"0 10 * * WED\", channel: \"123456789012345690\", message: b}\n",
			[]string{"9: error: reminders.time_zone: time zone \"Europe/Berln\" is unknown: use an IANA name such as Europe/Berlin, America/New_York or UTC"}},
		{"indented less than its siblings", "  P0:\n    channel: \"123456789012345600\"\n   ack_within: 15m\n",
			[]string{"9: error: this line is indented 3 spaces, which matches no key above it: indent it like the key it belongs beside (YAML: did not find expected key)"}},
		{"indented under a value", "  P0:\n    channel: \"123456789012345600\"\n      ack_within: 15m\n",
			[]string{"9: error: this line is indented 6 spaces, deeper than the line before, which opens no section: indent it like the key it belongs beside (YAML: did not find expected key)"}},
		{"placeholder ids warn", "  P0: {channel: \"100000000000000010\"}\n",
			[]string{"7: warning: 1 placeholder Discord id(s) from the example configuration: priorities.P0.channel 100000000000000010 (line 7); `klaxon init --guild <your server id>` writes a configuration with your server's channels and roles"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.yaml")
			writeFile(t, path, messagesHeader+tc.yaml)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"check-config", "--config", path}, func(string) string { return "" }, &out, &errb)
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				got = append(got, strings.TrimPrefix(l, path+":"))
			}
			var want []string
			errs := 0
			for _, w := range tc.want {
				want = append(want, w)
				if strings.Contains(w, ": error: ") {
					errs++
				}
			}
			wantCode := 0
			if errs > 0 {
				want = append(want, " "+strconv.Itoa(errs)+" error(s)")
				wantCode = 1
			} else {
				want = append(want, " OK")
			}
			if code != wantCode || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("exit %d, output:\n%s\n\nwant exit %d and:\n%s", code, strings.Join(got, "\n"), wantCode, strings.Join(want, "\n"))
			}
		})
	}
}

func TestNearestKey(t *testing.T) {
	known := []string{"ack_within", "channel", "mention_roles", "mention_users", "reach"}
	for key, want := range map[string]string{
		"ack_withn": "ack_within", "chanel": "channel", "chnanel": "channel", "mention_role": "mention_roles",
		"raech": "reach", "ACK_WITHIN": "ack_within", "color": "", "r": "", "mentions": "",
	} {
		if got := nearest(key, known); got != want {
			t.Errorf("nearest(%q) = %q, want %q", key, got, want)
		}
	}
}
