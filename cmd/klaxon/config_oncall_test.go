package main

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// onCallFromYAML parses the schedules and users sections the way the main
// config will, and builds them with the real line lookup.
func onCallFromYAML(t *testing.T, doc string) ([]*paging.Schedule, bot.Directory, Problems) {
	t.Helper()
	var sections struct {
		Schedules []ScheduleConfig      `yaml:"schedules"`
		Users     map[string]UserConfig `yaml:"users"`
	}
	c := &Config{file: "klaxon.yaml"}
	if err := yaml.Unmarshal([]byte(doc), &c.root); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(doc), &sections); err != nil {
		t.Fatal(err)
	}
	return buildOnCall(c.file, c.line, sections.Schedules, sections.Users)
}

const validOnCall = `
users:
  "501": {name: Alice, phone: "+4915112345642", email: alice@example.org, time_zone: Europe/Berlin}
  "502": {name: Bob, phone: "+15550100502", email: bob@example.org}
schedules:
  - name: primary
    time_zone: Europe/Berlin
    rotation: weekly
    handoff: "09:00"
    handoff_day: monday
    start: 2026-03-02
    participants: ["501", "502"]
    announce_channel: "777"
  - name: follow-the-sun
    time_zone: UTC
    rotation: custom
    shift: 8h
    handoff: "06:00"
    start: 2026-03-01
    participants: ["502", "501"]
    announce_channel: "777"
`

// fixOnCallNow makes gap warnings start at 2026-03-04 12:00 UTC.
func fixOnCallNow(t *testing.T) {
	old := onCallNow
	onCallNow = func() time.Time { return time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { onCallNow = old })
}

func TestBuildOnCallValid(t *testing.T) {
	fixOnCallNow(t)
	scheds, dir, ps := onCallFromYAML(t, validOnCall)
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if len(scheds) != 2 {
		t.Fatalf("got %d schedules", len(scheds))
	}
	p := scheds[0]
	if p.Name != "primary" || p.TimeZone.String() != "Europe/Berlin" || p.Rotation != paging.Weekly || p.Handoff != (paging.TimeOfDay{Hour: 9}) ||
		p.HandoffDay != time.Monday || !p.Start.Equal(time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)) || p.AnnounceChannel != "777" ||
		strings.Join(p.Participants, ",") != "501,502" {
		t.Errorf("primary = %+v", p)
	}
	if f := scheds[1]; f.Rotation != paging.Custom || f.Shift != 8*time.Hour {
		t.Errorf("follow-the-sun = %+v", f)
	}
	if got := paging.OnCall(p, nil, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)); got.UserID != "502" {
		t.Errorf("on call 2026-03-10: %+v", got)
	}
	if a, ok := dir.Lookup("501"); !ok || a.Phone != "+4915112345642" || a.Email != "alice@example.org" || a.TimeZone.String() != "Europe/Berlin" || a.Name != "Alice" {
		t.Errorf("directory 501 = %+v", a)
	}
}

func TestBuildOnCallProblems(t *testing.T) {
	fixOnCallNow(t)
	schedule := func(fields string) string {
		return "users:\n  \"501\": {phone: \"+4915112345642\", email: a@example.org}\nschedules:\n  - name: primary\n" + fields
	}
	const ok = "    time_zone: UTC\n    rotation: daily\n    handoff: \"09:00\"\n    start: 2026-03-02\n    participants: [\"501\"]\n    announce_channel: \"777\"\n"
	replace := func(old, new string) string { return schedule(strings.Replace(ok, old, new, 1)) }
	tests := []struct {
		name    string
		doc     string
		warning bool
		line    int    // 0: don't check
		want    string // in one problem's message
	}{
		{"unknown time zone", replace("time_zone: UTC", "time_zone: Europe/Berlín"), false, 0, `unknown time zone "Europe/Berlín"`},
		{"empty time zone", replace("time_zone: UTC", "time_zone: \"\""), false, 0, "time_zone is empty"},
		{"bad handoff time", replace(`handoff: "09:00"`, `handoff: "9am"`), false, 0, `handoff: time "9am" is not HH:MM`},
		{"handoff out of range", replace(`handoff: "09:00"`, `handoff: "25:00"`), false, 0, "not between 00:00 and 23:59"},
		{"bad rotation", replace("rotation: daily", "rotation: monthly"), false, 0, `rotation "monthly" is not one of daily, weekly, custom`},
		{"custom without shift", replace("rotation: daily", "rotation: custom"), false, 0, "needs a shift length"},
		{"custom with a bad shift", replace("rotation: daily", "rotation: custom\n    shift: 5h"), false, 0, "does not divide a day"},
		{"bad handoff day", replace("rotation: daily", "rotation: weekly\n    handoff_day: someday"), false, 0, `"someday" is not a weekday`},
		{"bad start", replace("start: 2026-03-02", "start: 02/03/2026"), false, 0, "is not a date like 2026-03-02"},
		{"participant not digits", replace(`participants: ["501"]`, `participants: ["<@501>"]`), false, 0, `participant "<@501>" is not a Discord user id`},
		{"announce channel not digits", replace(`announce_channel: "777"`, `announce_channel: "#oncall"`), false, 0, "is not a Discord channel id"},
		{"bad schedule name", strings.Replace(schedule(ok), "name: primary", "name: my schedule", 1), false, 0, "use 1 to 32 letters"},
		{"duplicate schedule names", schedule(ok) + "  - name: primary\n" + ok, false, 0, `schedule name "primary" is used twice`},
		{"phone not E.164", "users:\n  \"501\":\n    phone: \"0151 1234 5642\"\n", false, 3, "users.501.phone (ending …42) is not in E.164 form"},
		{"bad email", "users:\n  \"501\":\n    phone: \"+4915112345642\"\n    email: alice\n", false, 4, "users.501.email is not an address"},
		{"user id not digits", "users:\n  alice:\n    phone: \"+4915112345642\"\n", false, 2, `"alice" is not a Discord user id`},
		{"user time zone", "users:\n  \"501\":\n    time_zone: Mars/Olympus\n", false, 3, `unknown time zone "Mars/Olympus"`},
		{"participant not in users", replace(`participants: ["501"]`, `participants: ["501", "502"]`), true, 0,
			"user 502 is on schedule primary but not in users: phone and email pages to them will be skipped"},
		{"participant without phone", strings.Replace(schedule(ok), `phone: "+4915112345642", `, "", 1), true, 2,
			"user 501 is on schedule primary but has no phone: P0 phone pages to them will be skipped"},
		{"participant without email", strings.Replace(schedule(ok), `, email: a@example.org`, "", 1), true, 2,
			"user 501 is on schedule primary but has no email"},
		{"no participants: gap", replace(`participants: ["501"]`, `participants: []`), true, 0,
			"schedule primary has nobody on call in the next 14 days (no participants) unless overrides cover: 2026-03-04 12:00 to 2026-03-18 12:00 UTC"},
		{"rotation starts later: gap", replace("start: 2026-03-02", "start: 2026-03-10"), true, 0,
			"schedule primary has nobody on call in the next 14 days (the rotation starts 2026-03-10) unless overrides cover: 2026-03-04 12:00 to 2026-03-10 09:00 UTC"},
		{"no announce channel", replace(`announce_channel: "777"`, `announce_channel: ""`), true, 0, "has no announce_channel: handoffs will not be announced"},
		{"handoff day on a daily rotation", replace("rotation: daily", "rotation: daily\n    handoff_day: monday"), true, 0, "handoff_day is only used by weekly rotations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, ps := onCallFromYAML(t, tc.doc)
			var found *Problem
			for i := range ps {
				if strings.Contains(ps[i].Message, tc.want) {
					found = &ps[i]
				}
			}
			if found == nil {
				t.Fatalf("no problem says %q; got:\n%v", tc.want, ps)
			}
			if found.Warning != tc.warning {
				t.Errorf("warning = %v, want %v: %v", found.Warning, tc.warning, found)
			}
			if tc.line != 0 && found.Line != tc.line {
				t.Errorf("line = %d, want %d: %v", found.Line, tc.line, found)
			}
			if found.File != "klaxon.yaml" {
				t.Errorf("file = %q", found.File)
			}
			if !tc.warning && len(ps.Errors()) == 0 {
				t.Errorf("no errors: %v", ps)
			}
			if strings.Contains(ps.Error(), "12345642") {
				t.Errorf("a phone number is printed: %v", ps)
			}
		})
	}
}
