package paging

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Rotation is how a schedule's shifts are cut.
type Rotation string

// Rotations.
const (
	Daily  Rotation = "daily"  // a shift a day, from the handoff time to the next day's
	Weekly Rotation = "weekly" // a shift a week, from the handoff weekday and time
	Custom Rotation = "custom" // Schedule.Shift long: whole days, or a divisor of a day (1h, 2h, 3h, 4h, 6h, 8h, 12h)
)

// ParseRotation accepts daily, weekly and custom (any case).
func ParseRotation(s string) (Rotation, error) {
	switch r := Rotation(strings.ToLower(strings.TrimSpace(s))); r {
	case Daily, Weekly, Custom:
		return r, nil
	}
	return "", bot.Errorf(bot.EInvalid, "rotation %q is not one of daily, weekly, custom", s)
}

// TimeOfDay is a local wall-clock time, such as a handoff at 09:00.
type TimeOfDay struct {
	Hour, Minute int
}

func (d TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", d.Hour, d.Minute) }

// Valid reports whether d is between 00:00 and 23:59.
func (d TimeOfDay) Valid() bool { return d.Hour >= 0 && d.Hour < 24 && d.Minute >= 0 && d.Minute < 60 }

var timeOfDayRE = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})$`)

// ParseTimeOfDay accepts "HH:MM" on a 24-hour clock, such as "09:00" or "17:30".
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	m := timeOfDayRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return TimeOfDay{}, bot.Errorf(bot.EInvalid, "time %q is not HH:MM on a 24-hour clock (write e.g. 09:00 or 17:30)", s)
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	d := TimeOfDay{h, mi}
	if !d.Valid() {
		return TimeOfDay{}, bot.Errorf(bot.EInvalid, "time %q is not between 00:00 and 23:59", s)
	}
	return d, nil
}

// ParseWeekday accepts English weekday names and their three-letter
// abbreviations, in any case: "monday", "Mon".
func ParseWeekday(s string) (time.Weekday, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if v == name || v == name[:3] {
			return d, nil
		}
	}
	return 0, bot.Errorf(bot.EInvalid, "%q is not a weekday (write e.g. monday)", s)
}

// Schedule is an on-call rotation: participants take turns holding the
// pager, one shift each, in order. Shifts start at the local wall-clock
// handoff time, so a shift that spans a daylight-saving change lasts an hour
// more or less. A handoff time that does not exist that day (in the hour
// skipped in spring) happens when the clocks jump; one that exists twice
// (in the hour repeated in autumn) happens once, at the time Go's
// time.Date picks (the second occurrence).
type Schedule struct {
	Name     string
	TimeZone *time.Location // nil means UTC
	Rotation Rotation
	// Shift is the length of a custom shift: whole days, or a divisor of a
	// day (1h, 2h, 3h, 4h, 6h, 8h or 12h; slots then start at Handoff plus
	// multiples of Shift, local time). Ignored by daily and weekly rotations.
	Shift      time.Duration
	Handoff    TimeOfDay    // local time shifts start
	HandoffDay time.Weekday // weekly rotations: the day shifts start
	// Start anchors the rotation: Participants[0] takes the first shift
	// starting at or after Start. Before it nobody is on call.
	Start           time.Time
	Participants    []string // Discord user ids, in rotation order
	AnnounceChannel string   // where handoffs are announced; "" for none
}

// Shift is a period during which one user holds the pager. UserID is ""
// when nobody does.
type Shift struct {
	UserID     string
	Start, End time.Time
}

// Contains reports whether t is in [Start, End).
func (s Shift) Contains(t time.Time) bool { return !t.Before(s.Start) && t.Before(s.End) }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// ValidScheduleName reports whether name can name a schedule: 1 to 32
// letters, digits, '-' or '_', starting with a letter or digit.
func ValidScheduleName(name string) bool { return nameRE.MatchString(name) }

// Validate checks the schedule; the error is an EInvalid *Error that says
// what to change.
func (s *Schedule) Validate() error {
	if !ValidScheduleName(s.Name) {
		return bot.Errorf(bot.EInvalid, "schedule name %q: use 1 to 32 letters, digits, '-' or '_'", s.Name)
	}
	switch s.Rotation {
	case Daily, Weekly:
	case Custom:
		if err := validCustomShift(s.Shift); err != nil {
			return bot.Errorf(bot.EInvalid, "schedule %s: %s", s.Name, bot.ErrorMessage(err))
		}
	default:
		return bot.Errorf(bot.EInvalid, "schedule %s: rotation %q is not one of daily, weekly, custom", s.Name, s.Rotation)
	}
	if !s.Handoff.Valid() {
		return bot.Errorf(bot.EInvalid, "schedule %s: handoff %s is not between 00:00 and 23:59", s.Name, s.Handoff)
	}
	if s.HandoffDay < time.Sunday || s.HandoffDay > time.Saturday {
		return bot.Errorf(bot.EInvalid, "schedule %s: handoff day %d is not a weekday", s.Name, s.HandoffDay)
	}
	if s.Start.IsZero() {
		return bot.Errorf(bot.EInvalid, "schedule %s: start is not set: give the date the rotation begins, e.g. 2026-03-02", s.Name)
	}
	for _, p := range s.Participants {
		if !bot.ValidUserID(p) {
			return bot.Errorf(bot.EInvalid, "schedule %s: participant %q is not a Discord user id (digits only)", s.Name, p)
		}
	}
	if s.AnnounceChannel != "" && !bot.ValidUserID(s.AnnounceChannel) {
		return bot.Errorf(bot.EInvalid, "schedule %s: announce channel %q is not a Discord channel id (digits only)", s.Name, s.AnnounceChannel)
	}
	return nil
}

func validCustomShift(d time.Duration) error {
	const day = 24 * time.Hour
	switch {
	case d <= 0:
		return bot.Errorf(bot.EInvalid, "a custom rotation needs a shift length, e.g. shift: 12h or shift: 72h")
	case d%time.Minute != 0:
		return bot.Errorf(bot.EInvalid, "shift %s is not a whole number of minutes", d)
	case d < time.Hour:
		return bot.Errorf(bot.EInvalid, "shift %s is shorter than an hour", d)
	case d < day && day%d != 0:
		return bot.Errorf(bot.EInvalid, "shift %s does not divide a day evenly: use 1h, 2h, 3h, 4h, 6h, 8h or 12h", d)
	case d > day && d%day != 0:
		return bot.Errorf(bot.EInvalid, "shift %s is not a whole number of days (24h, 48h, 72h, ...)", d)
	case d > 366*day:
		return bot.Errorf(bot.EInvalid, "shift %s is longer than a year", d)
	}
	return nil
}

// grid is a schedule's shift boundaries in local wall-clock terms: shift k
// starts on the anchor date plus (k/perCycle)*cycleDays days, at the handoff
// time plus (k%perCycle)*slot.
type grid struct {
	loc       *time.Location
	y, d      int
	m         time.Month
	hh, mm    int
	cycleDays int
	perCycle  int
	slotMin   int
}

func (s *Schedule) grid() grid {
	loc := s.TimeZone
	if loc == nil {
		loc = time.UTC
	}
	g := grid{loc: loc, hh: s.Handoff.Hour, mm: s.Handoff.Minute, cycleDays: 1, perCycle: 1}
	switch s.Rotation {
	case Weekly:
		g.cycleDays = 7
	case Custom:
		if validCustomShift(s.Shift) == nil {
			if s.Shift >= 24*time.Hour {
				g.cycleDays = int(s.Shift / (24 * time.Hour))
			} else {
				g.slotMin = int(s.Shift / time.Minute)
				g.perCycle = 24 * 60 / g.slotMin
			}
		}
	}
	// The anchor: the first handoff at or after Start.
	st := s.Start.In(loc)
	y, m, d := st.Date()
	if s.Rotation == Weekly {
		d += (int(s.HandoffDay) - int(st.Weekday()) + 7) % 7
	}
	g.y, g.m, g.d = y, m, d
	first := g.at(0)
	if first.Before(s.Start) {
		// The handoff already passed on Start's day.
		switch {
		case s.Rotation == Weekly:
			g.d += 7
		case g.perCycle > 1:
			// Sub-day slots: anchor on the first slot at or after Start.
			k := 1
			for k < g.perCycle && g.at(k).Before(s.Start) {
				k++
			}
			g.mm += k * g.slotMin
		default:
			g.d++
		}
	}
	return g
}

// at returns the start of shift k. A start that falls in a daylight-saving
// gap (a wall-clock time that does not exist) is moved to the instant the
// clocks jump.
func (g grid) at(k int) time.Time {
	c, j := floorDiv(k, g.perCycle)
	t := time.Date(g.y, g.m, g.d+c*g.cycleDays, g.hh, g.mm+j*g.slotMin, 0, 0, g.loc)
	// Did the wall clock survive? If not, the time was in a gap.
	wy, wm, wd := t.Date()
	want := time.Date(g.y, g.m, g.d+c*g.cycleDays, g.hh, g.mm+j*g.slotMin, 0, 0, time.UTC)
	got := time.Date(wy, wm, wd, t.Hour(), t.Minute(), 0, 0, time.UTC)
	if got.Equal(want) {
		return t
	}
	start, end := t.ZoneBounds()
	if !end.IsZero() && (start.IsZero() || end.Sub(t) < t.Sub(start)) {
		return end
	}
	return start
}

func floorDiv(a, b int) (q, r int) {
	q, r = a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}

// index returns the number of the shift that contains t.
func (g grid) index(t time.Time) int {
	lt := t.In(g.loc)
	ly, lm, ld := lt.Date()
	days := int(time.Date(ly, lm, ld, 0, 0, 0, 0, time.UTC).Sub(time.Date(g.y, g.m, g.d, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	c, _ := floorDiv(days, g.cycleDays)
	k := c * g.perCycle
	for g.at(k).After(t) {
		k--
	}
	for !g.at(k + 1).After(t) {
		k++
	}
	return k
}

func (s *Schedule) shift(g grid, k int) Shift {
	sh := Shift{Start: g.at(k), End: g.at(k + 1)}
	if k >= 0 && len(s.Participants) > 0 {
		sh.UserID = s.Participants[k%len(s.Participants)]
	}
	return sh
}

// ShiftAt returns the base rotation's shift that contains t, ignoring
// overrides. Before Start, or with no participants, the shift has no
// UserID (nobody is on call) but still the rotation's boundaries.
func (s *Schedule) ShiftAt(t time.Time) Shift {
	g := s.grid()
	return s.shift(g, g.index(t))
}

// Next returns the base rotation's first shift starting after t.
func (s *Schedule) Next(t time.Time) Shift {
	g := s.grid()
	return s.shift(g, g.index(t)+1)
}

// Override hands a schedule's pager to UserID for [Start, End). Where
// overrides overlap, the latest created wins.
type Override struct {
	ID        int64
	Schedule  string
	UserID    string
	Start     time.Time
	End       time.Time
	CreatedBy string
	Reason    string
	CreatedAt time.Time
}

// Validate checks an override before it is stored; the error is an
// EInvalid *Error that tells the user what to type.
func (o *Override) Validate() error {
	if o.Schedule == "" {
		return bot.Errorf(bot.EInvalid, "say which schedule the override is for, e.g. schedule: primary")
	}
	if !bot.ValidUserID(o.UserID) {
		return bot.Errorf(bot.EInvalid, "the override's user %q is not a Discord user: pick a member, e.g. user: @alice", o.UserID)
	}
	if o.Start.IsZero() || o.End.IsZero() {
		return bot.Errorf(bot.EInvalid, "an override needs a start and an end, e.g. start: 2026-03-02 09:00 end: 2026-03-02 18:00")
	}
	if !o.End.After(o.Start) {
		return bot.Errorf(bot.EInvalid, "the override ends (%s) before it starts (%s): type an end later than the start, e.g. start: %s end: %s",
			o.End.UTC().Format("2006-01-02 15:04 MST"), o.Start.UTC().Format("2006-01-02 15:04 MST"),
			o.Start.UTC().Format("2006-01-02 15:04"), o.Start.Add(8*time.Hour).UTC().Format("2006-01-02 15:04"))
	}
	return nil
}

// beats reports whether o takes precedence over p: created later, or
// created at the same time and stored later.
func (o *Override) beats(p *Override) bool {
	if !o.CreatedAt.Equal(p.CreatedAt) {
		return o.CreatedAt.After(p.CreatedAt)
	}
	return o.ID > p.ID
}

// Handoff records the last holder of a schedule's pager that was announced.
type Handoff struct {
	Schedule    string
	UserID      string // "" when nobody held the pager
	Start, End  time.Time
	AnnouncedAt time.Time
}

// ScheduleTx is the part of Tx that keeps on-call overrides and handoffs.
type ScheduleTx interface {
	// AddOverride validates and stores o (setting o.ID, and o.CreatedAt
	// when zero).
	AddOverride(o *Override) error
	// Overrides returns the schedule's overrides that overlap [from, to),
	// by start time. A zero to means no upper bound.
	Overrides(schedule string, from, to time.Time) ([]Override, error)
	// RemoveOverride deletes an override, or returns ENotFound.
	RemoveOverride(id int64) error
	// LastHandoff returns the schedule's last announced handoff, or a zero
	// Handoff if none was ever announced.
	LastHandoff(schedule string) (Handoff, error)
	// SetLastHandoff records h as the schedule's last announced handoff.
	SetLastHandoff(h Handoff) error
}

// key identifies what decides the holder during a piece of the timeline:
// an override (by index), or the base shift (by start).
type key struct {
	ov    int
	shift int64
}

func applies(s *Schedule, o *Override) bool {
	return o.Schedule == "" || o.Schedule == s.Name
}

// holder returns who holds the pager at t and why.
func holder(s *Schedule, g grid, overrides []Override, t time.Time) (string, key, Shift) {
	win := -1
	for i := range overrides {
		o := &overrides[i]
		if !applies(s, o) || t.Before(o.Start) || !t.Before(o.End) {
			continue
		}
		if win < 0 || o.beats(&overrides[win]) {
			win = i
		}
	}
	base := s.shift(g, g.index(t))
	if win >= 0 {
		return overrides[win].UserID, key{ov: win}, base
	}
	return base.UserID, key{ov: -1, shift: base.Start.UnixNano()}, base
}

// OnCall returns who actually holds the schedule's pager at t: the winning
// override, or else the base rotation. Start and End bound the piece of the
// timeline where that same override (or that same base shift) decides:
// an override is clipped by later-created overrides over it, and a base
// shift by the overrides that cover parts of it. UserID is "" if nobody is
// on call. Overrides of other schedules are ignored (one with an empty
// Schedule applies).
func OnCall(s *Schedule, overrides []Override, t time.Time) Shift {
	return onCall(s, s.grid(), overrides, t)
}

func onCall(s *Schedule, g grid, overrides []Override, t time.Time) Shift {
	user, k, base := holder(s, g, overrides, t)
	// Candidate boundaries: the base shift's and every override's edges.
	cands := []time.Time{base.Start, base.End}
	for i := range overrides {
		if applies(s, &overrides[i]) {
			cands = append(cands, overrides[i].Start, overrides[i].End)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Before(cands[j]) })
	out := Shift{UserID: user}
	if k.ov >= 0 {
		out.Start, out.End = overrides[k.ov].Start, overrides[k.ov].End
	} else {
		out.Start, out.End = base.Start, base.End
	}
	// The piece starts at the latest candidate <= t before which another
	// key decides, and ends at the first candidate > t where one does.
	for i := len(cands) - 1; i >= 0; i-- {
		c := cands[i]
		if c.After(t) || c.Before(out.Start) {
			continue
		}
		if _, kk, _ := holder(s, g, overrides, c.Add(-time.Nanosecond)); kk != k {
			out.Start = c
			break
		}
	}
	for _, c := range cands {
		if !c.After(t) || !c.Before(out.End) {
			continue
		}
		if _, kk, _ := holder(s, g, overrides, c); kk != k {
			out.End = c
			break
		}
	}
	return out
}

// mergeLimit bounds how far Upcoming and Gaps walk the timeline, so that a
// rotation with one participant cannot make them loop forever.
const mergeLimit = 5000

// Upcoming returns who holds the pager from `from` on: the current holder
// first, then the next n-1 changes. Consecutive pieces held by the same
// user are merged; a period with nobody on call has UserID "". It looks at
// most a year ahead, so the list may be shorter than n.
func Upcoming(s *Schedule, overrides []Override, from time.Time, n int) []Shift {
	if n <= 0 {
		return nil
	}
	g := s.grid()
	horizon := from.AddDate(1, 0, 0)
	var out []Shift
	t := from
	for i := 0; i < mergeLimit && t.Before(horizon); i++ {
		p := onCall(s, g, overrides, t)
		if len(out) > 0 && out[len(out)-1].UserID == p.UserID {
			out[len(out)-1].End = p.End
		} else {
			if len(out) == n {
				break
			}
			out = append(out, p)
		}
		t = p.End
	}
	return out
}

// holdUntil returns when the holder of piece p stops holding the pager,
// following consecutive pieces held by the same user up to horizon. The
// result is zero if they still hold it at horizon.
func holdUntil(s *Schedule, g grid, overrides []Override, p Shift, horizon time.Time) time.Time {
	end := p.End
	for i := 0; i < mergeLimit && end.Before(horizon); i++ {
		q := onCall(s, g, overrides, end)
		if q.UserID != p.UserID {
			return end
		}
		end = q.End
	}
	return time.Time{}
}

// Gap is a period when nobody holds a schedule's pager.
type Gap struct {
	Start, End time.Time
}

// Gaps returns the periods within [from, to) when nobody is on call: before
// the rotation starts, or when it has no participants, except where
// overrides cover.
func Gaps(s *Schedule, overrides []Override, from, to time.Time) []Gap {
	g := s.grid()
	var out []Gap
	t := from
	for i := 0; i < mergeLimit*10 && t.Before(to); i++ {
		p := onCall(s, g, overrides, t)
		if p.UserID == "" {
			end := p.End
			if end.After(to) {
				end = to
			}
			if len(out) > 0 && out[len(out)-1].End.Equal(t) {
				out[len(out)-1].End = end
			} else {
				out = append(out, Gap{Start: t, End: end})
			}
		}
		t = p.End
	}
	return out
}

// ScheduleSet is the configured schedules by name. It implements
// OnCallResolver for escalation targets that name a schedule.
type ScheduleSet map[string]*Schedule

var _ OnCallResolver = ScheduleSet(nil)

// NewScheduleSet indexes schedules by name.
func NewScheduleSet(schedules []*Schedule) ScheduleSet {
	set := make(ScheduleSet, len(schedules))
	for _, s := range schedules {
		set[s.Name] = s
	}
	return set
}

// OnCallAt implements OnCallResolver: who holds the schedule's pager at t,
// overrides included; "" if nobody. An unknown schedule is ENotFound.
func (set ScheduleSet) OnCallAt(_ context.Context, tx Tx, schedule string, t time.Time) (string, error) {
	s, ok := set[schedule]
	if !ok {
		return "", bot.Errorf(bot.ENotFound, "schedule %s is not configured", schedule)
	}
	ovs, err := tx.Overrides(schedule, t, t.Add(time.Nanosecond))
	if err != nil {
		return "", err
	}
	return OnCall(s, ovs, t).UserID, nil
}

// LiveSchedules is the configured schedules, replaced as a whole by a
// configuration reload while pages, the handoff job, /oncall and the
// terminal read them. Readers take one snapshot (List) per use. It
// implements OnCallResolver. A nil *LiveSchedules has no schedules.
type LiveSchedules struct {
	cur atomic.Pointer[liveSchedules]
}

type liveSchedules struct {
	list []*Schedule
	set  ScheduleSet
}

var _ OnCallResolver = (*LiveSchedules)(nil)

// NewLiveSchedules holds schedules until Replace.
func NewLiveSchedules(schedules []*Schedule) *LiveSchedules {
	l := &LiveSchedules{}
	l.Replace(schedules)
	return l
}

// Replace swaps in schedules, atomically: a reader sees the old set or the
// new one, never a mix.
func (l *LiveSchedules) Replace(schedules []*Schedule) {
	l.cur.Store(&liveSchedules{list: schedules, set: NewScheduleSet(schedules)})
}

// List is the schedules in force, in configuration order. The caller must
// not modify it.
func (l *LiveSchedules) List() []*Schedule {
	if l == nil {
		return nil
	}
	if c := l.cur.Load(); c != nil {
		return c.list
	}
	return nil
}

// OnCallAt implements OnCallResolver with the schedules in force.
func (l *LiveSchedules) OnCallAt(ctx context.Context, tx Tx, schedule string, t time.Time) (string, error) {
	var set ScheduleSet
	if l != nil {
		if c := l.cur.Load(); c != nil {
			set = c.set
		}
	}
	return set.OnCallAt(ctx, tx, schedule, t)
}
