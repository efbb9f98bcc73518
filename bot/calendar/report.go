package calendar

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/text"
)

// BurnSeries is one service's error-budget burn over a month.
type BurnSeries struct {
	Service string
	Points  []BurnPoint
}

// Charter renders charts. The core does not import plotting code: the
// implementation (bot/chart) is injected.
type Charter interface {
	// BurnChart renders the cumulative share of the error budget spent per
	// service over [start, end) as a PNG image.
	BurnChart(title string, start, end time.Time, series []BurnSeries) ([]byte, error)
}

// ReportPolicy is when and where reports are posted.
type ReportPolicy struct {
	Channel   string         // "" posts no scheduled reports (/report-sla still works)
	Monthly   string         // cron of the monthly SLA report (for the previous month); "" off
	Weekly    string         // cron of the weekly noise and on-call digest (the 7 days before); "" off
	Location  *time.Location // zone of the schedules
	Grace     time.Duration  // how late a report missed while down may still be posted; default 24h
	TopAlerts int            // most frequent alerts listed; default 5
}

// Default report schedules.
const (
	DefaultMonthlyReport = "0 9 1 * *"   // the 1st, 09:00
	DefaultWeeklyReport  = "0 9 * * MON" // Mondays, 09:00
)

// DefaultReportGrace is how late a missed scheduled report may still be posted.
const DefaultReportGrace = 24 * time.Hour

// Reports is the reporting feature: the monthly SLA report, the weekly noise
// and on-call digest, and the engine job that posts them on schedule.
type Reports struct {
	Store   bot.TxStore[Tx]
	SLOs    *SLOs
	Charter Charter // nil: reports without a chart
	Policy  ReportPolicy
	Log     *slog.Logger
}

var _ bot.Job = (*Reports)(nil)

// Name implements Job.
func (r *Reports) Name() string { return "reports" }

func (r *Reports) log() *slog.Logger { return bot.OrDiscard(r.Log) }

func (r *Reports) loc() *time.Location {
	if r.SLOs != nil {
		return r.SLOs.loc()
	}
	if r.Policy.Location != nil {
		return r.Policy.Location
	}
	return time.UTC
}

// Run implements Job: post the scheduled reports that are due.
func (r *Reports) Run(ctx context.Context, now time.Time) error {
	if r.Policy.Channel == "" {
		return nil
	}
	grace := r.Policy.Grace
	if grace <= 0 {
		grace = DefaultReportGrace
	}
	var errs []string
	for _, k := range []struct {
		job, expr string
		build     func(ctx context.Context, at, now time.Time) (bot.Message, error)
	}{
		{"report:monthly", r.Policy.Monthly, func(ctx context.Context, at, now time.Time) (bot.Message, error) {
			start, _ := bot.MonthOf(at, r.loc())
			return r.SLAReport(ctx, start.Add(-time.Nanosecond), now)
		}},
		{"report:weekly", r.Policy.Weekly, func(ctx context.Context, at, now time.Time) (bot.Message, error) {
			return r.WeeklyDigest(ctx, at.Add(-7*24*time.Hour), at)
		}},
	} {
		if k.expr == "" {
			continue
		}
		tz := ""
		if r.Policy.Location != nil {
			tz = r.Policy.Location.String()
		}
		c, err := bot.ParseCron(k.expr, tz)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", k.job, err))
			continue
		}
		s := calendarSchedule{job: k.job, cron: c, grace: grace, log: r.log()}
		if err := s.run(ctx, r.Store, now, func(at time.Time) (*bot.Outgoing, error) {
			m, err := k.build(ctx, at, now)
			if err != nil {
				return nil, err
			}
			return &bot.Outgoing{ChannelID: r.Policy.Channel, Priority: bot.P3, Kind: "report", Ref: fmt.Sprintf("%s:%d", k.job, at.Unix()),
				Message: m, DueAt: now, CreatedAt: now}, nil
		}); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", k.job, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// calendarSchedule is a built-in schedule whose next run is stored in
// calendar_state: reports and backups.
type calendarSchedule struct {
	job   string
	cron  *bot.Cron
	grace time.Duration
	log   *slog.Logger
}

// plan reads the schedule's state. init is set when no state matches the
// schedule (first start, or the configuration changed): the next run is
// then computed from now and nothing fires.
func (s calendarSchedule) plan(tx Tx, now time.Time) (p RunPlan, init bool, err error) {
	st, err := tx.CalendarState(s.job)
	if err != nil {
		return p, false, err
	}
	if st.Spec != s.cron.String() || st.NextAt.IsZero() {
		return RunPlan{Next: s.cron.Next(now)}, true, nil
	}
	return PlanRuns(s.cron, st.NextAt, now, s.grace), false, nil
}

// commit stores the plan at now in tx: skipped runs recorded, the fired run
// recorded, the next run stored. fresh is false when the run to fire was
// already recorded (it must not fire again).
func (s calendarSchedule) commit(tx Tx, now time.Time) (p RunPlan, fresh bool, err error) {
	p, init, err := s.plan(tx, now)
	if err != nil {
		return p, false, err
	}
	if !init && p.Fire.IsZero() && p.Skipped == 0 {
		return p, false, nil
	}
	if p.Skipped > 0 {
		detail := fmt.Sprintf("%d run(s) from %s to %s missed while Klaxon was not running (grace %s)",
			p.Skipped, p.SkipFrom.Format(time.RFC3339), p.SkipTo.Format(time.RFC3339), s.grace)
		if _, err := tx.RecordRun(Run{Job: s.job, ScheduledAt: p.SkipTo, Status: RunSkipped, Skipped: p.Skipped, Detail: detail, At: now}); err != nil {
			return p, false, err
		}
		s.log.Warn("scheduled runs skipped", "job", s.job, "skipped", p.Skipped, "from", p.SkipFrom, "to", p.SkipTo, "grace", s.grace)
	}
	st := State{Job: s.job, Spec: s.cron.String(), NextAt: p.Next}
	if old, err := tx.CalendarState(s.job); err == nil {
		st.LastRunAt = old.LastRunAt
	}
	if !p.Fire.IsZero() {
		if fresh, err = tx.RecordRun(Run{Job: s.job, ScheduledAt: p.Fire, Status: RunFired, At: now}); err != nil {
			return p, false, err
		}
		if fresh {
			st.LastRunAt = p.Fire
		}
	}
	return p, fresh, tx.SaveCalendarState(st)
}

// run fires the schedule when due: build makes the message for the run
// (outside any transaction), which is queued in the transaction that
// records the run.
func (s calendarSchedule) run(ctx context.Context, store bot.TxStore[Tx], now time.Time, build func(at time.Time) (*bot.Outgoing, error)) error {
	var p RunPlan
	var init bool
	if err := store.View(ctx, func(tx Tx) (err error) {
		p, init, err = s.plan(tx, now)
		return err
	}); err != nil {
		return err
	}
	if !init && p.Fire.IsZero() && p.Skipped == 0 {
		return nil
	}
	var out *bot.Outgoing
	if !p.Fire.IsZero() {
		var err error
		if out, err = build(p.Fire); err != nil {
			return err
		}
	}
	return store.Update(ctx, func(tx Tx) error {
		q, fresh, err := s.commit(tx, now)
		if err != nil {
			return err
		}
		if fresh && out != nil && q.Fire.Equal(p.Fire) {
			return tx.Enqueue(out)
		}
		return nil
	})
}

// ParseMonth reads a month for /report-sla: "2026-03", "03/2026", "March
// 2026", "march" (this year), "this"/"current" or "last"/"previous"; "" is
// the current month. It returns a time within the month.
func ParseMonth(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	cur, _ := bot.MonthOf(now, loc)
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "", "this", "current", "now":
		return cur, nil
	case "last", "previous", "prev":
		return cur.AddDate(0, -1, 0), nil
	}
	for _, layout := range []string{"2006-01", "2006-1", "01/2006", "1/2006", "January 2006", "Jan 2006", "2006 January"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc); err == nil {
			if t.After(cur) {
				return time.Time{}, bot.Errorf(bot.EInvalid, "%s is in the future: give this month or an earlier one", t.Format("January 2006"))
			}
			return t, nil
		}
	}
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		if v == name || v == name[:3] {
			t := time.Date(cur.Year(), m, 1, 0, 0, 0, 0, loc)
			if t.After(cur) {
				t = t.AddDate(-1, 0, 0) // "december" in January: last year's
			}
			return t, nil
		}
	}
	return time.Time{}, bot.Errorf(bot.EInvalid, "month %q is not understood: write e.g. 2026-03, March 2026, march, or last", s)
}

// reportStats is what the record says about alert groups in a window.
type reportStats struct {
	groups     []*bot.Group // created in the window
	byPriority [4]int
	ackSum     [4]time.Duration
	ackN       [4]int
	fixSum     [4]time.Duration
	fixN       [4]int
	top        []nameCount
	incidents  []incident.Measure // incidents detected in the window
}

type nameCount struct {
	Name  string
	Count int
}

func (r *Reports) stats(ctx context.Context, from, to time.Time) (reportStats, []paging.PageRecord, error) {
	var st reportStats
	var pages []paging.PageRecord
	err := r.Store.View(ctx, func(tx Tx) error {
		gs, err := tx.GroupsBetween(from, to)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if g.CreatedAt.Before(from) || !g.CreatedAt.Before(to) {
				continue
			}
			st.groups = append(st.groups, g)
		}
		if st.incidents, err = tx.IncidentMeasures(from, to); err != nil {
			return err
		}
		pages, err = tx.SentPages(from, to)
		return err
	})
	if err != nil {
		return st, nil, err
	}
	counts := map[string]int{}
	for _, g := range st.groups {
		p := g.Priority
		if !p.Valid() {
			p = bot.P3
		}
		st.byPriority[p]++
		if g.Ack != nil && !g.Ack.At.Before(g.CreatedAt) {
			st.ackSum[p] += g.Ack.At.Sub(g.CreatedAt)
			st.ackN[p]++
		}
		if g.Status == bot.Resolved && !g.ResolvedAt.IsZero() && !g.ResolvedAt.Before(g.StartedAt()) {
			st.fixSum[p] += g.ResolvedAt.Sub(g.StartedAt())
			st.fixN[p]++
		}
		counts[g.Title()]++
	}
	for n, c := range counts {
		st.top = append(st.top, nameCount{n, c})
	}
	sort.Slice(st.top, func(i, j int) bool {
		if st.top[i].Count != st.top[j].Count {
			return st.top[i].Count > st.top[j].Count
		}
		return st.top[i].Name < st.top[j].Name
	})
	return st, pages, nil
}

// mean returns the average of sum over n, or "—".
func mean(sum time.Duration, n int) string {
	if n == 0 {
		return "—"
	}
	return FormatDuration(sum / time.Duration(n))
}

func (st reportStats) totalMeans() (mtta, mttr string) {
	var as, fs time.Duration
	var an, fn int
	for p := range 4 {
		as, an, fs, fn = as+st.ackSum[p], an+st.ackN[p], fs+st.fixSum[p], fn+st.fixN[p]
	}
	return mean(as, an), mean(fs, fn)
}

// incidentLines are the incidents by priority with their mean response
// times from the incident measures: MTTA from detection to
// acknowledgement, MTTR from detection to resolution.
func (st reportStats) incidentLines() string {
	if len(st.incidents) == 0 {
		return "none"
	}
	means := incident.MeanTimes(st.incidents)
	dur := func(d time.Duration, n int) string {
		if n == 0 {
			return "—"
		}
		return FormatDuration(d)
	}
	var counts []string
	var lines []string
	for _, p := range bot.Priorities {
		m := means[p]
		counts = append(counts, fmt.Sprintf("%s %d", p, m.Incidents))
		if m.Incidents > 0 {
			lines = append(lines, fmt.Sprintf("%s: MTTA %s · MTTR %s", p, dur(m.MTTA, m.Acked), dur(m.MTTR, m.Resolved)))
		}
	}
	var all incident.Means
	var ack, fix time.Duration
	for _, m := range means {
		all.Acked, all.Resolved = all.Acked+m.Acked, all.Resolved+m.Resolved
		ack, fix = ack+m.MTTA*time.Duration(m.Acked), fix+m.MTTR*time.Duration(m.Resolved)
	}
	lines = append(lines, fmt.Sprintf("all: MTTA %s · MTTR %s", mean(ack, all.Acked), mean(fix, all.Resolved)))
	return fmt.Sprintf("%d in all · ", len(st.incidents)) + strings.Join(counts, " · ") + "\n" + strings.Join(lines, "\n")
}

func (r *Reports) topN() int {
	if r.Policy.TopAlerts > 0 {
		return r.Policy.TopAlerts
	}
	return 5
}

func (st reportStats) topLines(n int) string {
	if len(st.top) == 0 {
		return "none"
	}
	var lines []string
	for i, t := range st.top {
		if i == n {
			break
		}
		lines = append(lines, fmt.Sprintf("%d. %s × %d", i+1, text.Truncate(t.Name, 80), t.Count))
	}
	return strings.Join(lines, "\n")
}

func (st reportStats) priorityLine() string {
	var parts []string
	for _, p := range bot.Priorities {
		parts = append(parts, fmt.Sprintf("%s %d", p, st.byPriority[p]))
	}
	return fmt.Sprintf("%d in all · ", len(st.groups)) + strings.Join(parts, " · ")
}

// SLAReport builds the SLA report of the month containing month, as of
// now: per service availability against its objective and budget spent,
// alert groups by priority, MTTA and MTTR, the most frequent alerts, and a
// chart of the error-budget burn per service (PNG, attached).
func (r *Reports) SLAReport(ctx context.Context, month, now time.Time) (bot.Message, error) {
	loc := r.loc()
	start, end := bot.MonthOf(month, loc)
	if !start.Before(now) {
		return bot.Message{}, bot.Errorf(bot.EInvalid, "%s has not begun yet", start.Format("January 2006"))
	}
	asOf := minTime(now, end)
	var budgets []Budget
	if r.SLOs != nil {
		var err error
		if budgets, err = r.SLOs.Budgets(ctx, start, now); err != nil {
			return bot.Message{}, err
		}
	}
	st, _, err := r.stats(ctx, start, asOf)
	if err != nil {
		return bot.Message{}, err
	}
	title := "SLA report — " + start.Format("January 2006")
	if asOf.Before(end) {
		title += " (to date)"
	}
	met := 0
	var fields []bot.Field
	for i, b := range budgets {
		if i == 18 {
			fields = append(fields, bot.Field{Name: "…", Value: fmt.Sprintf("%d more services: /slo shows each", len(budgets)-i)})
			break
		}
		mark := "✅"
		if b.Met() {
			met++
		} else {
			mark = "❌"
		}
		v := fmt.Sprintf("%s (objective %s)\nbudget %s spent: %s of %s", FormatPercent(b.Availability, 3), FormatPercent(b.SLO.Availability, 3),
			FormatPercent(b.SpentFraction(), 0), FormatDuration(b.Spent), FormatDuration(b.Allowed))
		if b.Source == "prometheus" {
			v += " (Prometheus)"
		} else {
			v += fmt.Sprintf(" · %d outage(s)", len(b.Outages))
		}
		fields = append(fields, bot.Field{Name: mark + " " + b.SLO.Service, Value: v, Inline: true})
	}
	var resp []string
	for _, p := range bot.Priorities {
		if st.byPriority[p] == 0 {
			continue
		}
		resp = append(resp, fmt.Sprintf("%s: MTTA %s · MTTR %s", p, mean(st.ackSum[p], st.ackN[p]), mean(st.fixSum[p], st.fixN[p])))
	}
	mtta, mttr := st.totalMeans()
	resp = append(resp, fmt.Sprintf("all: MTTA %s · MTTR %s", mtta, mttr))
	fields = append(fields,
		bot.Field{Name: "Alert groups by priority", Value: st.priorityLine()},
		bot.Field{Name: "Response (MTTA / MTTR)", Value: strings.Join(resp, "\n")},
		bot.Field{Name: "Incidents, MTTA / MTTR", Value: st.incidentLines()},
		bot.Field{Name: "Most frequent alerts", Value: st.topLines(r.topN())},
	)
	desc := fmt.Sprintf("%d of %d services met their availability objective.", met, len(budgets))
	if len(budgets) == 0 {
		desc = "No services have SLOs configured."
	}
	tone := bot.ToneResolved
	if met < len(budgets) {
		tone = bot.ToneAlarm
	}
	m := bot.Message{Title: title, Description: desc, Tone: tone, Fields: fields,
		Footer: "Downtime from alert groups labelled service=… and incidents' affected services, weighted by priority · alert MTTA from Klaxon's first notice to acknowledgement, MTTR from the first alert to resolution · incident MTTA and MTTR from detection"}
	if r.Charter != nil && len(budgets) > 0 {
		var series []BurnSeries
		step := 6 * time.Hour
		for _, b := range budgets {
			series = append(series, BurnSeries{Service: b.SLO.Service, Points: b.Burn(step)})
		}
		png, err := r.Charter.BurnChart("Error budget spent — "+start.Format("January 2006"), start, end, series)
		if err != nil {
			r.log().Error("render error budget chart", "err", err)
			m.Footer += " · chart failed: " + err.Error()
		} else {
			name := "error-budget-" + start.Format("2006-01") + ".png"
			m.Files = append(m.Files, bot.File{Name: name, ContentType: "image/png", Data: png})
		}
	}
	return m, nil
}

// noiseWindow: a group resolving by itself within this, never acknowledged, is noise.
const noiseWindow = 5 * time.Minute

// WeeklyDigest builds the noise and on-call digest of [from, to): alert
// groups by priority, the noisiest alerts, groups that resolved by
// themselves within minutes, pages per person, acknowledgements per person.
func (r *Reports) WeeklyDigest(ctx context.Context, from, to time.Time) (bot.Message, error) {
	st, pages, err := r.stats(ctx, from, to)
	if err != nil {
		return bot.Message{}, err
	}
	loc := r.loc()
	selfResolved, unacked := 0, 0
	acks := map[string]int{}
	for _, g := range st.groups {
		if g.Ack == nil {
			unacked++
			if g.Status == bot.Resolved && g.ResolvedBy == nil && g.ResolvedAt.Sub(g.StartedAt()) <= noiseWindow {
				selfResolved++
			}
		} else if g.Ack.UserID != "" {
			acks[g.Ack.UserID]++
		}
	}
	noise := "no alert groups"
	if n := len(st.groups); n > 0 {
		noise = fmt.Sprintf("%d of %d (%s) resolved by themselves within %s, unacknowledged: candidates for tuning or deletion\n%d never acknowledged",
			selfResolved, n, FormatPercent(float64(selfResolved)/float64(n), 0), FormatDuration(noiseWindow), unacked)
	}
	perUser := map[string][]string{}
	counts := map[string]int{}
	for _, p := range pages {
		for _, u := range strings.Split(p.UserID, ",") {
			if u == "" {
				continue
			}
			counts[u]++
			if !slices.Contains(perUser[u], string(p.Via)) {
				perUser[u] = append(perUser[u], string(p.Via))
			}
		}
	}
	oncall := userLines(counts, func(u string, n int) string {
		return fmt.Sprintf("%s: %d page(s) (%s), %d acknowledgement(s)", bot.UserRef(u), n, strings.Join(perUser[u], ", "), acks[u])
	})
	for u, n := range acks {
		if counts[u] == 0 {
			oncall = append(oncall, fmt.Sprintf("%s: %d acknowledgement(s)", bot.UserRef(u), n))
		}
	}
	sort.Strings(oncall[min(len(oncall), len(counts)):])
	if len(oncall) == 0 {
		oncall = []string{"nobody was paged"}
	}
	mtta, mttr := st.totalMeans()
	m := bot.Message{
		Title: fmt.Sprintf("Weekly noise and on-call digest — %s to %s", from.In(loc).Format("Mon 2 Jan"), to.Add(-time.Second).In(loc).Format("Mon 2 Jan 2006")),
		Tone:  bot.ToneInfo,
		Fields: []bot.Field{
			{Name: "Alert groups", Value: st.priorityLine()},
			{Name: "Noisiest alerts", Value: st.topLines(r.topN())},
			{Name: "Noise", Value: noise},
			{Name: "On call", Value: text.Truncate(strings.Join(oncall, "\n"), 1000)},
			{Name: "Response", Value: fmt.Sprintf("MTTA %s · MTTR %s", mtta, mttr)},
		},
		Footer: "Klaxon weekly digest · /report-sla for the month",
	}
	return m, nil
}

func userLines(counts map[string]int, line func(string, int) string) []string {
	users := make([]string, 0, len(counts))
	for u := range counts {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool {
		if counts[users[i]] != counts[users[j]] {
			return counts[users[i]] > counts[users[j]]
		}
		return users[i] < users[j]
	})
	var out []string
	for _, u := range users {
		out = append(out, line(u, counts[u]))
	}
	return out
}
