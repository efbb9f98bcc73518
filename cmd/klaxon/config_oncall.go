package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // schedules name IANA zones; work even where the system has no zoneinfo

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// ScheduleConfig is one on-call rotation in klaxon.yaml:
//
//	schedules:
//	  - name: primary
//	    time_zone: Europe/Berlin
//	    rotation: weekly        # daily, weekly or custom
//	    handoff: "09:00"
//	    handoff_day: monday     # weekly only; default: the weekday of start
//	    start: 2026-03-02       # participants[0] takes the first shift at or after this date's handoff
//	    participants: ["123456789012345678", "234567890123456789"]
//	    announce_channel: "345678901234567890"
type ScheduleConfig struct {
	Name            string   `yaml:"name"`
	TimeZone        string   `yaml:"time_zone"`
	Rotation        string   `yaml:"rotation"`
	Shift           Duration `yaml:"shift"` // custom rotations: e.g. 12h or 72h
	Handoff         string   `yaml:"handoff"`
	HandoffDay      string   `yaml:"handoff_day"`
	Start           string   `yaml:"start"`
	Participants    []string `yaml:"participants"`
	AnnounceChannel string   `yaml:"announce_channel"`
}

// UserConfig is one entry of the user directory, keyed by Discord user id.
type UserConfig struct {
	Name     string `yaml:"name"`
	Phone    string `yaml:"phone"` // E.164, e.g. +4915112345678
	Email    string `yaml:"email"`
	TimeZone string `yaml:"time_zone"`
}

// onCallNow is the time gap warnings are computed from; tests set it.
var onCallNow = time.Now

// gapWarningWindow is how far ahead check-config looks for on-call gaps.
const gapWarningWindow = 14 * 24 * time.Hour

// buildOnCall turns the schedules and users sections into the core's
// schedules and user directory, with every problem found. line gives the
// line of a YAML path (sequence items are passed as their index).
func buildOnCall(file string, line func(path ...string) int, schedules []ScheduleConfig, users map[string]UserConfig) ([]*paging.Schedule, bot.Directory, Problems) {
	var ps Problems
	bad := func(msg string, path ...string) {
		ps = append(ps, Problem{File: file, Line: line(path...), Message: msg})
	}
	warn := func(msg string, path ...string) {
		ps = append(ps, Problem{File: file, Line: line(path...), Message: msg, Warning: true})
	}

	dir := bot.Directory{}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		u := users[id]
		at := func(field string) []string { return []string{"users", id, field} }
		if !bot.ValidUserID(id) {
			bad(fmt.Sprintf("users: %q is not a Discord user id (digits only: Developer Mode → right-click the user → Copy User ID)", id), "users", id)
			continue
		}
		c := bot.Contact{UserID: id, Name: u.Name, Email: strings.TrimSpace(u.Email)}
		if p := strings.TrimSpace(u.Phone); p != "" {
			if bot.ValidPhone(p) {
				c.Phone = p
			} else {
				// Never echo the number: check-config output ends up in logs.
				bad(fmt.Sprintf("users.%s.phone (ending %s) is not in E.164 form: write + country code and number, digits only, e.g. +4915112345678", id, lastDigits(p)), at("phone")...)
			}
		}
		if c.Email != "" && (strings.Count(c.Email, "@") != 1 || strings.HasPrefix(c.Email, "@") || strings.HasSuffix(c.Email, "@") || strings.ContainsAny(c.Email, " \t<>")) {
			bad(fmt.Sprintf("users.%s.email is not an address like name@example.org", id), at("email")...)
			c.Email = ""
		}
		if u.TimeZone != "" {
			loc, err := loadZone(u.TimeZone)
			if err != nil {
				bad(fmt.Sprintf("users.%s.time_zone: %v", id, err), at("time_zone")...)
			}
			c.TimeZone = loc
		}
		dir[id] = c
	}

	var out []*paging.Schedule
	seen := map[string]int{}
	now := onCallNow()
	for i, sc := range schedules {
		idx := strconv.Itoa(i)
		at := func(field string) []string { return []string{"schedules", idx, field} }
		label := fmt.Sprintf("schedules[%d]", i)
		if sc.Name != "" {
			label = fmt.Sprintf("schedule %s", sc.Name)
		}
		errs := len(ps.Errors())
		s := &paging.Schedule{Name: sc.Name, AnnounceChannel: sc.AnnounceChannel}

		switch {
		case sc.Name == "":
			bad(fmt.Sprintf("%s has no name: give it one, e.g. name: primary", label), at("name")...)
		case !paging.ValidScheduleName(sc.Name):
			bad(fmt.Sprintf("schedule name %q: use 1 to 32 letters, digits, '-' or '_' (it is typed in /oncall)", sc.Name), at("name")...)
		default:
			if j, dup := seen[sc.Name]; dup {
				bad(fmt.Sprintf("schedule name %q is used twice (schedules[%d] and schedules[%d]): names must be unique", sc.Name, j, i), at("name")...)
			}
			seen[sc.Name] = i
		}

		if sc.TimeZone == "" {
			bad(fmt.Sprintf("%s: time_zone is empty: set the zone handoffs happen in, e.g. time_zone: Europe/Berlin (or UTC)", label), at("time_zone")...)
		} else if loc, err := loadZone(sc.TimeZone); err != nil {
			bad(fmt.Sprintf("%s: time_zone: %v", label, err), at("time_zone")...)
		} else {
			s.TimeZone = loc
		}

		if sc.Rotation == "" {
			bad(fmt.Sprintf("%s: rotation is empty: set daily, weekly or custom", label), at("rotation")...)
		} else if r, err := paging.ParseRotation(sc.Rotation); err != nil {
			bad(fmt.Sprintf("%s: %s", label, bot.ErrorMessage(err)), at("rotation")...)
		} else {
			s.Rotation = r
		}
		if s.Rotation == paging.Custom {
			s.Shift = time.Duration(sc.Shift)
		} else if sc.Shift != 0 && s.Rotation != "" {
			warn(fmt.Sprintf("%s: shift is only used by custom rotations; this %s rotation ignores it", label, s.Rotation), at("shift")...)
		}

		if sc.Handoff == "" {
			bad(fmt.Sprintf("%s: handoff is empty: set the local time shifts change, e.g. handoff: \"09:00\"", label), at("handoff")...)
		} else if h, err := paging.ParseTimeOfDay(sc.Handoff); err != nil {
			bad(fmt.Sprintf("%s: handoff: %s", label, bot.ErrorMessage(err)), at("handoff")...)
		} else {
			s.Handoff = h
		}

		if sc.Start == "" {
			bad(fmt.Sprintf("%s: start is empty: set the date the rotation begins, e.g. start: 2026-03-02 (participants[0] takes the first shift)", label), at("start")...)
		} else if s.TimeZone != nil {
			st, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(sc.Start), s.TimeZone)
			if err != nil {
				bad(fmt.Sprintf("%s: start %q is not a date like 2026-03-02", label, sc.Start), at("start")...)
			} else {
				s.Start = st
			}
		}

		switch {
		case sc.HandoffDay == "" && s.Rotation == paging.Weekly && !s.Start.IsZero():
			s.HandoffDay = s.Start.Weekday()
		case sc.HandoffDay != "":
			d, err := paging.ParseWeekday(sc.HandoffDay)
			if err != nil {
				bad(fmt.Sprintf("%s: handoff_day: %s", label, bot.ErrorMessage(err)), at("handoff_day")...)
			} else {
				s.HandoffDay = d
			}
			if s.Rotation != "" && s.Rotation != paging.Weekly {
				warn(fmt.Sprintf("%s: handoff_day is only used by weekly rotations; this %s rotation ignores it", label, s.Rotation), at("handoff_day")...)
			}
		}

		for _, p := range sc.Participants {
			if !bot.ValidUserID(p) {
				bad(fmt.Sprintf("%s: participant %q is not a Discord user id (digits only; no <@…> or names)", label, p), at("participants")...)
				continue
			}
			s.Participants = append(s.Participants, p)
		}
		if len(sc.Participants) == 0 {
			warn(fmt.Sprintf("%s has no participants: nobody is on call except through overrides", label), at("participants")...)
		}

		if sc.AnnounceChannel == "" {
			warn(fmt.Sprintf("%s has no announce_channel: handoffs will not be announced", label), at("announce_channel")...)
		} else if !bot.ValidUserID(sc.AnnounceChannel) {
			bad(fmt.Sprintf("%s: announce_channel %q is not a Discord channel id (digits only)", label, sc.AnnounceChannel), at("announce_channel")...)
		}

		if len(ps.Errors()) > errs {
			continue // the schedule is broken; its other checks would only repeat that
		}
		if err := s.Validate(); err != nil {
			bad(bot.ErrorMessage(err), "schedules", idx)
			continue
		}

		warned := map[string]bool{}
		for _, p := range s.Participants {
			if warned[p] {
				continue
			}
			warned[p] = true
			c, ok := dir.Lookup(p)
			switch {
			case !ok:
				warn(fmt.Sprintf("user %s is on schedule %s but not in users: phone and email pages to them will be skipped", p, s.Name), at("participants")...)
			default:
				if !c.HasPhone() {
					warn(fmt.Sprintf("user %s is on schedule %s but has no phone: P0 phone pages to them will be skipped", p, s.Name), "users", p)
				}
				if !c.HasEmail() {
					warn(fmt.Sprintf("user %s is on schedule %s but has no email: email pages to them will be skipped", p, s.Name), "users", p)
				}
			}
		}

		if gaps := paging.Gaps(s, nil, now, now.Add(gapWarningWindow)); len(gaps) > 0 {
			why := "no participants"
			if len(s.Participants) > 0 {
				why = "the rotation starts " + s.Start.Format("2006-01-02")
			}
			var spans []string
			for j, g := range gaps {
				if j == 3 {
					spans = append(spans, fmt.Sprintf("and %d more", len(gaps)-3))
					break
				}
				spans = append(spans, fmt.Sprintf("%s to %s", g.Start.In(s.TimeZone).Format("2006-01-02 15:04"), g.End.In(s.TimeZone).Format("2006-01-02 15:04 MST")))
			}
			warn(fmt.Sprintf("schedule %s has nobody on call in the next 14 days (%s) unless overrides cover: %s", s.Name, why, strings.Join(spans, ", ")), at("participants")...)
		}
		out = append(out, s)
	}
	return out, dir, ps
}

// loadZone loads an IANA time zone and says how to write one if it fails.
func loadZone(name string) (*time.Location, error) {
	if strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q depends on the server: write an IANA zone such as Europe/Berlin or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: write an IANA zone such as Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

// lastDigits shows the last two characters of a value that must not be
// printed whole.
func lastDigits(s string) string {
	if len(s) < 4 {
		return "…"
	}
	return "…" + s[len(s)-2:]
}
