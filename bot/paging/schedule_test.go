package paging

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

// daily is a rotation of users 1, 2, 3 handing off at 09:00 UTC, starting
// with user 1 on Monday 2026-03-02.
func daily() *Schedule {
	return &Schedule{Name: "primary", TimeZone: time.UTC, Rotation: Daily, Handoff: TimeOfDay{9, 0},
		Start: utc(2026, 3, 2, 0, 0), Participants: []string{"1", "2", "3"}}
}

func TestShiftAt(t *testing.T) {
	berlin, ny := mustLoc(t, "Europe/Berlin"), mustLoc(t, "America/New_York")
	weekly := &Schedule{Name: "w", TimeZone: time.UTC, Rotation: Weekly, Handoff: TimeOfDay{9, 0}, HandoffDay: time.Monday,
		Start: utc(2026, 3, 4, 0, 0) /* a Wednesday */, Participants: []string{"1", "2", "3"}}
	lateStart := daily()
	lateStart.Start = utc(2026, 3, 2, 10, 0) // after that day's handoff: first shift is the next day's
	inZone := func(s *Schedule, loc *time.Location, start time.Time) *Schedule {
		c := *s
		c.TimeZone, c.Start = loc, start
		return &c
	}
	berlinDaily := inZone(daily(), berlin, time.Date(2026, 3, 27, 0, 0, 0, 0, berlin))
	nyDaily := inZone(daily(), ny, time.Date(2026, 3, 6, 0, 0, 0, 0, ny))
	berlinWeekly := inZone(weekly, berlin, time.Date(2026, 3, 16, 0, 0, 0, 0, berlin))
	gapHandoff := inZone(daily(), berlin, time.Date(2026, 3, 27, 0, 0, 0, 0, berlin))
	gapHandoff.Handoff = TimeOfDay{2, 30} // does not exist on 2026-03-29 in Berlin
	twelve := &Schedule{Name: "c", TimeZone: berlin, Rotation: Custom, Shift: 12 * time.Hour, Handoff: TimeOfDay{8, 0},
		Start: time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), Participants: []string{"1", "2"}}
	threeDays := daily()
	threeDays.Rotation, threeDays.Shift = Custom, 72*time.Hour
	empty := daily()
	empty.Participants = nil

	tests := []struct {
		name       string
		s          *Schedule
		at         time.Time
		user       string
		start, end time.Time
	}{
		{"daily before the first shift", daily(), utc(2026, 3, 2, 8, 59), "", utc(2026, 3, 1, 9, 0), utc(2026, 3, 2, 9, 0)},
		{"daily first shift exactly at handoff", daily(), utc(2026, 3, 2, 9, 0), "1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 3, 9, 0)},
		{"daily last nanosecond of a shift", daily(), utc(2026, 3, 3, 9, 0).Add(-time.Nanosecond), "1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 3, 9, 0)},
		{"daily next shift exactly at handoff", daily(), utc(2026, 3, 3, 9, 0), "2", utc(2026, 3, 3, 9, 0), utc(2026, 3, 4, 9, 0)},
		{"daily wraps around", daily(), utc(2026, 3, 5, 12, 0), "1", utc(2026, 3, 5, 9, 0), utc(2026, 3, 6, 9, 0)},
		{"daily far ahead", daily(), utc(2027, 3, 2, 9, 0), "3" /* 365 shifts later */, utc(2027, 3, 2, 9, 0), utc(2027, 3, 3, 9, 0)},
		{"start after the handoff time", lateStart, utc(2026, 3, 2, 12, 0), "", utc(2026, 3, 2, 9, 0), utc(2026, 3, 3, 9, 0)},
		{"start after the handoff time: first shift next day", lateStart, utc(2026, 3, 3, 9, 0), "1", utc(2026, 3, 3, 9, 0), utc(2026, 3, 4, 9, 0)},
		{"weekly before the first handoff day", weekly, utc(2026, 3, 8, 12, 0), "", utc(2026, 3, 2, 9, 0), utc(2026, 3, 9, 9, 0)},
		{"weekly first shift at handoff", weekly, utc(2026, 3, 9, 9, 0), "1", utc(2026, 3, 9, 9, 0), utc(2026, 3, 16, 9, 0)},
		{"weekly second shift", weekly, utc(2026, 3, 20, 0, 0), "2", utc(2026, 3, 16, 9, 0), utc(2026, 3, 23, 9, 0)},
		{"weekly wraps around", weekly, utc(2026, 4, 1, 0, 0), "1", utc(2026, 3, 30, 9, 0), utc(2026, 4, 6, 9, 0)},
		{"Berlin spring forward: 23-hour shift", berlinDaily, utc(2026, 3, 29, 6, 0), "2", utc(2026, 3, 28, 8, 0), utc(2026, 3, 29, 7, 0)},
		{"Berlin after spring forward: 09:00 CEST", berlinDaily, utc(2026, 3, 29, 7, 0), "3", utc(2026, 3, 29, 7, 0), utc(2026, 3, 30, 7, 0)},
		{"Berlin fall back: 25-hour shift", berlinDaily, utc(2026, 10, 25, 7, 30), "2" /* 211 shifts after 03-27 */, utc(2026, 10, 24, 7, 0), utc(2026, 10, 25, 8, 0)},
		{"New York spring forward: 23-hour shift", nyDaily, utc(2026, 3, 8, 12, 0), "2", utc(2026, 3, 7, 14, 0), utc(2026, 3, 8, 13, 0)},
		{"New York fall back: 25-hour shift", nyDaily, utc(2026, 11, 1, 13, 30), "3" /* 239 shifts after 03-06 */, utc(2026, 10, 31, 13, 0), utc(2026, 11, 1, 14, 0)},
		{"Berlin weekly across spring forward: 167 hours", berlinWeekly, utc(2026, 3, 25, 0, 0), "2", utc(2026, 3, 23, 8, 0), utc(2026, 3, 30, 7, 0)},
		{"handoff in the DST gap starts when clocks jump", gapHandoff, utc(2026, 3, 29, 1, 0), "3", utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)},
		{"day before a gap handoff", gapHandoff, utc(2026, 3, 29, 0, 59), "2", utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0)},
		{"custom 12h night shift across spring forward", twelve, utc(2026, 3, 29, 0, 0), "2", utc(2026, 3, 28, 19, 0), utc(2026, 3, 29, 6, 0)},
		{"custom 12h day shift after spring forward", twelve, utc(2026, 3, 29, 6, 0), "1", utc(2026, 3, 29, 6, 0), utc(2026, 3, 29, 18, 0)},
		{"custom three days", threeDays, utc(2026, 3, 6, 0, 0), "2", utc(2026, 3, 5, 9, 0), utc(2026, 3, 8, 9, 0)},
		{"no participants: nobody, same boundaries", empty, utc(2026, 3, 3, 12, 0), "", utc(2026, 3, 3, 9, 0), utc(2026, 3, 4, 9, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			got := tc.s.ShiftAt(tc.at)
			want := Shift{UserID: tc.user, Start: tc.start, End: tc.end}
			if got.UserID != want.UserID || !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
				t.Errorf("ShiftAt(%s) = %s, want %s", tc.at.Format(time.RFC3339), fmtShift(got), fmtShift(want))
			}
			if !got.Contains(tc.at) {
				t.Errorf("shift %s does not contain %s", fmtShift(got), tc.at)
			}
		})
	}
}

func sameShift(a, b Shift) bool {
	return a.UserID == b.UserID && a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

func fmtShift(s Shift) string {
	return s.UserID + "@[" + s.Start.UTC().Format(time.RFC3339) + ", " + s.End.UTC().Format(time.RFC3339) + ")"
}

// TestShiftsTile walks shift by shift through a year in zones with DST and
// checks that shifts are contiguous, start at the local handoff time, and
// rotate in order.
func TestShiftsTile(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"} {
		loc := mustLoc(t, zone)
		for _, rot := range []Rotation{Daily, Weekly, Custom} {
			s := &Schedule{Name: "x", TimeZone: loc, Rotation: rot, Shift: 8 * time.Hour, Handoff: TimeOfDay{9, 30},
				HandoffDay: time.Friday, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, loc), Participants: []string{"1", "2", "3", "4"}}
			sh := s.Next(s.Start.Add(-time.Nanosecond))
			for sh.UserID == "" { // custom slots between Start and the first handoff
				sh = s.Next(sh.Start)
			}
			if l := sh.Start.In(loc); l.Hour() != 9 || l.Minute() != 30 {
				t.Fatalf("%s %s: first shift starts at %s local", zone, rot, l)
			}
			for i := 0; sh.Start.Year() < 2027; i++ {
				if want := s.Participants[i%4]; sh.UserID != want {
					t.Fatalf("%s %s: shift %d %s: user %s, want %s", zone, rot, i, fmtShift(sh), sh.UserID, want)
				}
				if !sh.End.After(sh.Start) {
					t.Fatalf("%s %s: empty shift %s", zone, rot, fmtShift(sh))
				}
				if got := s.ShiftAt(sh.Start.Add(sh.End.Sub(sh.Start) / 2)); !sameShift(got, sh) {
					t.Fatalf("%s %s: ShiftAt(middle of %s) = %s", zone, rot, fmtShift(sh), fmtShift(got))
				}
				if rot != Custom {
					if l := sh.Start.In(loc); l.Hour() != 9 || l.Minute() != 30 {
						t.Fatalf("%s %s: shift starts at %s local", zone, rot, l)
					}
				}
				next := s.Next(sh.Start)
				if !next.Start.Equal(sh.End) {
					t.Fatalf("%s %s: shift %s followed by %s", zone, rot, fmtShift(sh), fmtShift(next))
				}
				sh = next
			}
		}
	}
}

func TestNext(t *testing.T) {
	s := daily()
	tests := []struct {
		name string
		at   time.Time
		want Shift
	}{
		{"mid shift", utc(2026, 3, 2, 12, 0), Shift{"2", utc(2026, 3, 3, 9, 0), utc(2026, 3, 4, 9, 0)}},
		{"exactly at a handoff: the one after", utc(2026, 3, 3, 9, 0), Shift{"3", utc(2026, 3, 4, 9, 0), utc(2026, 3, 5, 9, 0)}},
		{"before the start: the first shift", utc(2026, 3, 1, 12, 0), Shift{"1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 3, 9, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Next(tc.at); got.UserID != tc.want.UserID || !got.Start.Equal(tc.want.Start) || !got.End.Equal(tc.want.End) {
				t.Errorf("Next = %s, want %s", fmtShift(got), fmtShift(tc.want))
			}
		})
	}
}

func ov(id int64, user string, start, end time.Time, created time.Time) Override {
	return Override{ID: id, Schedule: "primary", UserID: user, Start: start, End: end, CreatedAt: created}
}

func TestOnCall(t *testing.T) {
	c1, c2 := utc(2026, 2, 1, 0, 0), utc(2026, 2, 2, 0, 0) // creation times: c2 is later
	lunch := ov(1, "9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0), c1)
	long := ov(2, "8", utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 16, 0), c1)
	lunchLater := lunch
	lunchLater.CreatedAt = c2
	longLater := long
	longLater.CreatedAt = c2
	sameTimeHigherID := ov(3, "7", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0), c1)
	span := ov(4, "9", utc(2026, 3, 2, 18, 0), utc(2026, 3, 4, 12, 0), c1)
	other := ov(5, "6", utc(2026, 3, 2, 0, 0), utc(2026, 3, 9, 0, 0), c2)
	other.Schedule = "secondary"

	tests := []struct {
		name      string
		overrides []Override
		at        time.Time
		want      Shift
	}{
		{"no overrides", nil, utc(2026, 3, 2, 13, 0), Shift{"1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 3, 9, 0)}},
		{"inside an override", []Override{lunch}, utc(2026, 3, 2, 13, 0), Shift{"9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0)}},
		{"override start is inclusive", []Override{lunch}, utc(2026, 3, 2, 12, 0), Shift{"9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0)}},
		{"base shift clipped before an override", []Override{lunch}, utc(2026, 3, 2, 11, 0), Shift{"1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 2, 12, 0)}},
		{"override end is exclusive: base resumes", []Override{lunch}, utc(2026, 3, 2, 14, 0), Shift{"1", utc(2026, 3, 2, 14, 0), utc(2026, 3, 3, 9, 0)}},
		{"later-created override wins inside", []Override{long, lunchLater}, utc(2026, 3, 2, 13, 0), Shift{"9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0)}},
		{"earlier override clipped by later one (before)", []Override{long, lunchLater}, utc(2026, 3, 2, 11, 0), Shift{"8", utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 12, 0)}},
		{"earlier override resumes after later one", []Override{long, lunchLater}, utc(2026, 3, 2, 15, 0), Shift{"8", utc(2026, 3, 2, 14, 0), utc(2026, 3, 2, 16, 0)}},
		{"later-created long override hides an earlier short one", []Override{longLater, lunch}, utc(2026, 3, 2, 13, 0), Shift{"8", utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 16, 0)}},
		{"order in the slice does not matter", []Override{lunchLater, long}, utc(2026, 3, 2, 13, 0), Shift{"9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0)}},
		{"same creation time: higher id wins", []Override{sameTimeHigherID, lunch}, utc(2026, 3, 2, 13, 0), Shift{"7", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0)}},
		{"override spanning shifts: across a handoff", []Override{span}, utc(2026, 3, 3, 9, 0), Shift{"9", utc(2026, 3, 2, 18, 0), utc(2026, 3, 4, 12, 0)}},
		{"override spanning shifts: base after it", []Override{span}, utc(2026, 3, 4, 12, 0), Shift{"3", utc(2026, 3, 4, 12, 0), utc(2026, 3, 5, 9, 0)}},
		{"override of another schedule is ignored", []Override{other}, utc(2026, 3, 2, 13, 0), Shift{"1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 3, 9, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := OnCall(daily(), tc.overrides, tc.at)
			if got.UserID != tc.want.UserID || !got.Start.Equal(tc.want.Start) || !got.End.Equal(tc.want.End) {
				t.Errorf("OnCall = %s, want %s", fmtShift(got), fmtShift(tc.want))
			}
		})
	}
}

func TestUpcoming(t *testing.T) {
	c := utc(2026, 2, 1, 0, 0)
	single := daily()
	single.Participants = []string{"5"}
	tests := []struct {
		name      string
		s         *Schedule
		overrides []Override
		n         int
		want      []Shift
	}{
		{"base rotation", daily(), nil, 3, []Shift{
			{"1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 3, 9, 0)},
			{"2", utc(2026, 3, 3, 9, 0), utc(2026, 3, 4, 9, 0)},
			{"3", utc(2026, 3, 4, 9, 0), utc(2026, 3, 5, 9, 0)}}},
		{"override in the current shift", daily(), []Override{ov(1, "9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0), c)}, 4, []Shift{
			{"1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 2, 12, 0)},
			{"9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0)},
			{"1", utc(2026, 3, 2, 14, 0), utc(2026, 3, 3, 9, 0)},
			{"2", utc(2026, 3, 3, 9, 0), utc(2026, 3, 4, 9, 0)}}},
		{"next holder takes over early: merged", daily(), []Override{ov(1, "2", utc(2026, 3, 2, 18, 0), utc(2026, 3, 3, 9, 0), c)}, 3, []Shift{
			{"1", utc(2026, 3, 2, 9, 0), utc(2026, 3, 2, 18, 0)},
			{"2", utc(2026, 3, 2, 18, 0), utc(2026, 3, 4, 9, 0)},
			{"3", utc(2026, 3, 4, 9, 0), utc(2026, 3, 5, 9, 0)}}},
		{"one participant: one entry", single, nil, 3, []Shift{
			{"5", utc(2026, 3, 2, 9, 0), utc(2027, 3, 3, 9, 0)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Upcoming(tc.s, tc.overrides, utc(2026, 3, 2, 10, 0), tc.n)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d shifts, want %d: %v", len(got), len(tc.want), got)
			}
			for i := range got {
				if got[i].UserID != tc.want[i].UserID || !got[i].Start.Equal(tc.want[i].Start) || !got[i].End.Equal(tc.want[i].End) {
					t.Errorf("#%d = %s, want %s", i, fmtShift(got[i]), fmtShift(tc.want[i]))
				}
			}
		})
	}
}

func TestGaps(t *testing.T) {
	c := utc(2026, 2, 1, 0, 0)
	empty := daily()
	empty.Participants = nil
	late := daily()
	late.Start = utc(2026, 3, 10, 0, 0)
	from, to := utc(2026, 3, 2, 0, 0), utc(2026, 3, 3, 0, 0)
	tests := []struct {
		name      string
		s         *Schedule
		overrides []Override
		want      []Gap
	}{
		{"full rotation: only before its start", daily(), nil, []Gap{{from, utc(2026, 3, 2, 9, 0)}}},
		{"empty rotation: all of it", empty, nil, []Gap{{from, to}}},
		{"empty rotation with an override", empty, []Override{ov(1, "9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0), c)},
			[]Gap{{from, utc(2026, 3, 2, 12, 0)}, {utc(2026, 3, 2, 14, 0), to}}},
		{"empty rotation fully covered by overrides", empty, []Override{
			ov(1, "9", utc(2026, 3, 1, 0, 0), utc(2026, 3, 2, 12, 0), c), ov(2, "8", utc(2026, 3, 2, 12, 0), utc(2026, 3, 4, 0, 0), c)}, nil},
		{"rotation not started yet", late, nil, []Gap{{from, to}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Gaps(tc.s, tc.overrides, from, to)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].Start.Equal(tc.want[i].Start) || !got[i].End.Equal(tc.want[i].End) {
					t.Errorf("#%d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
	if got := Gaps(daily(), nil, utc(2026, 3, 3, 0, 0), utc(2026, 3, 17, 0, 0)); len(got) != 0 {
		t.Errorf("running rotation: gaps %v", got)
	}
}

func TestOverrideValidate(t *testing.T) {
	start := utc(2026, 3, 2, 9, 0)
	tests := []struct {
		name string
		o    Override
		msg  string // "" for valid
	}{
		{"valid", Override{Schedule: "primary", UserID: "1", Start: start, End: start.Add(time.Hour)}, ""},
		{"end before start", Override{Schedule: "primary", UserID: "1", Start: start, End: start.Add(-time.Hour)}, "type an end later than the start"},
		{"empty period", Override{Schedule: "primary", UserID: "1", Start: start, End: start}, "type an end later than the start"},
		{"no schedule", Override{UserID: "1", Start: start, End: start.Add(time.Hour)}, "which schedule"},
		{"not a user id", Override{Schedule: "primary", UserID: "<@1>", Start: start, End: start.Add(time.Hour)}, "not a Discord user"},
		{"no end", Override{Schedule: "primary", UserID: "1", Start: start}, "needs a start and an end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if bot.ErrorCode(err) != bot.EInvalid || !strings.Contains(bot.ErrorMessage(err), tc.msg) {
				t.Errorf("got %v (%s), want invalid with %q", err, bot.ErrorCode(err), tc.msg)
			}
		})
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Schedule)
		msg  string
	}{
		{"valid", func(*Schedule) {}, ""},
		{"bad name", func(s *Schedule) { s.Name = "has space" }, "schedule name"},
		{"bad rotation", func(s *Schedule) { s.Rotation = "hourly" }, "not one of daily, weekly, custom"},
		{"custom without shift", func(s *Schedule) { s.Rotation = Custom }, "needs a shift length"},
		{"custom 5h", func(s *Schedule) { s.Rotation, s.Shift = Custom, 5*time.Hour }, "does not divide a day"},
		{"custom 36h", func(s *Schedule) { s.Rotation, s.Shift = Custom, 36*time.Hour }, "whole number of days"},
		{"bad handoff", func(s *Schedule) { s.Handoff = TimeOfDay{24, 0} }, "handoff"},
		{"no start", func(s *Schedule) { s.Start = time.Time{} }, "start is not set"},
		{"bad participant", func(s *Schedule) { s.Participants = []string{"alice"} }, "not a Discord user id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := daily()
			tc.edit(s)
			err := s.Validate()
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if bot.ErrorCode(err) != bot.EInvalid || !strings.Contains(bot.ErrorMessage(err), tc.msg) {
				t.Errorf("got %v, want invalid with %q", err, tc.msg)
			}
		})
	}
}

func TestParsers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want TimeOfDay
		ok   bool
	}{{"09:00", TimeOfDay{9, 0}, true}, {"9:30", TimeOfDay{9, 30}, true}, {"23:59", TimeOfDay{23, 59}, true},
		{"24:00", TimeOfDay{}, false}, {"9", TimeOfDay{}, false}, {"09:60", TimeOfDay{}, false}, {"9am", TimeOfDay{}, false}} {
		got, err := ParseTimeOfDay(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want time.Weekday
		ok   bool
	}{{"monday", time.Monday, true}, {"Sun", time.Sunday, true}, {" FRIDAY ", time.Friday, true}, {"mo", 0, false}} {
		got, err := ParseWeekday(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseWeekday(%q) = %v, %v", tc.in, got, err)
		}
	}
	if r, err := ParseRotation("Weekly"); err != nil || r != Weekly {
		t.Errorf("ParseRotation(Weekly) = %v, %v", r, err)
	}
	if _, err := ParseRotation("monthly"); bot.ErrorCode(err) != bot.EInvalid {
		t.Errorf("ParseRotation(monthly): %v", err)
	}
}

// fakeScheduleTx serves overrides for ScheduleSet.OnCallAt.
type fakeScheduleTx struct {
	Tx
	overrides []Override
}

func (f fakeScheduleTx) Overrides(schedule string, from, to time.Time) ([]Override, error) {
	var out []Override
	for _, o := range f.overrides {
		if o.Schedule == schedule && o.End.After(from) && o.Start.Before(to) {
			out = append(out, o)
		}
	}
	return out, nil
}

func TestScheduleSetOnCallAt(t *testing.T) {
	set := NewScheduleSet([]*Schedule{daily()})
	tx := fakeScheduleTx{overrides: []Override{ov(1, "9", utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 14, 0), utc(2026, 2, 1, 0, 0))}}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{{utc(2026, 3, 2, 11, 0), "1"}, {utc(2026, 3, 2, 12, 0), "9"}, {utc(2026, 3, 2, 14, 0), "1"}, {utc(2026, 3, 1, 0, 0), ""}} {
		if got, err := set.OnCallAt(context.Background(), tx, "primary", tc.at); err != nil || got != tc.want {
			t.Errorf("OnCallAt(%s) = %q, %v; want %q", tc.at, got, err, tc.want)
		}
	}
	if _, err := set.OnCallAt(context.Background(), tx, "nope", utc(2026, 3, 2, 11, 0)); bot.ErrorCode(err) != bot.ENotFound {
		t.Errorf("unknown schedule: %v", err)
	}
}
