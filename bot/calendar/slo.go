package calendar

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
)

// DefaultSLOs are the objectives of the practice Klaxon serves.
func DefaultSLOs() []bot.SLO {
	return []bot.SLO{
		{Service: "game-servers", Match: []string{"game-servers", "game", "gameserver"}, Availability: 0.999, Latency: 100 * time.Millisecond, ErrorRate: 0.001},
		{Service: "web", Match: []string{"web", "website"}, Availability: 0.995, Latency: 200 * time.Millisecond, ErrorRate: 0.005},
		{Service: "database", Match: []string{"database", "db"}, Availability: 0.9999, Latency: 50 * time.Millisecond, ErrorRate: 0.0001},
		{Service: "cdn", Availability: 0.999, Latency: 50 * time.Millisecond, ErrorRate: 0.001},
	}
}

// DefaultDowntimeWeights is how much of an outage counts against the budget
// per priority: a P0 outage in full, a P1 half, a P2 a quarter, P3 not at all.
func DefaultDowntimeWeights() [4]float64 { return [4]float64{1, 0.5, 0.25, 0} }

// DefaultWarnAt are the budget warnings: 50 % left, 25 % left, exhausted.
func DefaultWarnAt() []float64 { return []float64{0.5, 0.25, 0} }

// SLOPolicy is the SLO configuration.
type SLOPolicy struct {
	Services []bot.SLO
	Weights  [4]float64 // per priority, 0..1
	// WarnAt are thresholds of the budget left, as fractions (0.5 = half
	// left, 0 = exhausted); crossing one posts a warning once a month.
	WarnAt   []float64
	Channel  string       // where warnings go; "" posts none
	Mentions bot.Mentions // who warnings ping
	Location *time.Location
}

// DefaultSLOPolicy is the policy without configuration.
func DefaultSLOPolicy() SLOPolicy {
	return SLOPolicy{Services: DefaultSLOs(), Weights: DefaultDowntimeWeights(), WarnAt: DefaultWarnAt(), Location: time.UTC}
}

// Outage is a period a service was down or degraded, from the record.
type Outage struct {
	Service  string // the service label value
	Priority bot.Priority
	Start    time.Time
	End      time.Time // zero while ongoing
	Name     string    // what it was, e.g. the alert name
	Ref      string    // e.g. "group:42", "incident:7"
}

// OutageSource lists outages overlapping a window. Alert groups labelled
// with a service are one source (AlertOutages); incidents with affected
// services are another (IncidentOutages). Both are in SLOs.Sources as
// wired by cmd/klaxon.
type OutageSource interface {
	Outages(tx Tx, from, to time.Time) ([]Outage, error)
}

// AvailabilityQuerier measures a service's availability (0..1) over a
// window, e.g. from Prometheus's query API.
type AvailabilityQuerier interface {
	Availability(ctx context.Context, slo bot.SLO, from, to time.Time) (float64, error)
}

// SLOTx is the part of Tx the SLO and report features read and write.
type SLOTx interface {
	// GroupsBetween returns the alert groups active at some time in
	// [from, to): created before to, not resolved before from; oldest first.
	GroupsBetween(from, to time.Time) ([]*bot.Group, error)
	// SentPages returns the pages sent in [from, to).
	SentPages(from, to time.Time) ([]paging.PageRecord, error)
	// RecordSLOWarning records that a budget warning was posted. It returns
	// false, changing nothing, when it was already recorded.
	RecordSLOWarning(service, month string, thresholdPermille int, remaining float64, at time.Time) (bool, error)
}

// AlertOutages turns alert groups carrying a `service` label into outages
// from their first alert's start to their resolution.
type AlertOutages struct{}

// Outages implements OutageSource.
func (AlertOutages) Outages(tx Tx, from, to time.Time) ([]Outage, error) {
	gs, err := tx.GroupsBetween(from, to)
	if err != nil {
		return nil, err
	}
	var out []Outage
	for _, g := range gs {
		for _, svc := range groupServices(g) {
			out = append(out, Outage{Service: svc, Priority: g.Priority, Start: g.StartedAt(), End: g.ResolvedAt,
				Name: g.Title(), Ref: fmt.Sprintf("group:%d", g.ID)})
		}
	}
	return out, nil
}

// groupServices are the values of the label `service` of the group or of its alerts.
func groupServices(g *bot.Group) []string {
	if v := strings.TrimSpace(g.Label("service")); v != "" {
		return []string{v}
	}
	var out []string
	for _, a := range g.Alerts {
		if v := strings.TrimSpace(a.Labels["service"]); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// Segment is a stretch of time during which downtime counts with Weight.
type Segment struct {
	Start, End time.Time
	Weight     float64
}

// DowntimeSegments merges outages into non-overlapping segments within
// [from, to): where outages overlap, the heaviest weight counts, once.
// Ongoing outages (zero End) run to `to`.
func DowntimeSegments(outs []Outage, weights [4]float64, from, to time.Time) []Segment {
	type iv struct {
		s, e time.Time
		w    float64
	}
	var ivs []iv
	var cuts []time.Time
	for _, o := range outs {
		w := 0.0
		if o.Priority.Valid() {
			w = weights[o.Priority]
		}
		s, e := o.Start, o.End
		if e.IsZero() || e.After(to) {
			e = to
		}
		if s.Before(from) {
			s = from
		}
		if w <= 0 || !s.Before(e) {
			continue
		}
		ivs = append(ivs, iv{s, e, min(w, 1)})
		cuts = append(cuts, s, e)
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
	cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })
	var segs []Segment
	for i := 0; i+1 < len(cuts); i++ {
		a, b := cuts[i], cuts[i+1]
		w := 0.0
		for _, v := range ivs {
			if !v.s.After(a) && !v.e.Before(b) && v.w > w {
				w = v.w
			}
		}
		if w == 0 {
			continue
		}
		if n := len(segs); n > 0 && segs[n-1].End.Equal(a) && segs[n-1].Weight == w {
			segs[n-1].End = b
			continue
		}
		segs = append(segs, Segment{a, b, w})
	}
	return segs
}

// weightedUntil is the weighted downtime of segs before t.
func weightedUntil(segs []Segment, t time.Time) time.Duration {
	var sum float64
	for _, s := range segs {
		if !s.Start.Before(t) {
			break
		}
		end := s.End
		if end.After(t) {
			end = t
		}
		sum += float64(end.Sub(s.Start)) * s.Weight
	}
	return time.Duration(math.Round(sum))
}

// Budget is a service's error budget for one month, as of a time.
type Budget struct {
	SLO          bot.SLO
	Month        string    // "2026-03" in the policy's zone
	Start, End   time.Time // the month
	AsOf         time.Time // min(now, End)
	Period       time.Duration
	Elapsed      time.Duration
	Allowed      time.Duration // the month's budget: (1 - target) × Period
	Spent        time.Duration // weighted downtime so far
	Availability float64       // 1 - Spent/Elapsed
	BurnRate     float64       // 1 means on course to spend exactly the budget by month end
	ExhaustsAt   time.Time     // when it ran out, or will at the current rate (zero: not this month)
	Exhausted    bool
	Source       string // "alerts" or "prometheus"
	Outages      []Outage
	Note         string // e.g. why Prometheus was not used

	segs []Segment
}

// Remaining is the budget left (negative when overspent).
func (b Budget) Remaining() time.Duration { return b.Allowed - b.Spent }

// RemainingFraction is the share of the budget left: 1 untouched, 0 or less exhausted.
func (b Budget) RemainingFraction() float64 {
	if b.Allowed <= 0 {
		if b.Spent > 0 {
			return 0
		}
		return 1
	}
	return 1 - float64(b.Spent)/float64(b.Allowed)
}

// SpentFraction is the share of the budget spent.
func (b Budget) SpentFraction() float64 { return 1 - b.RemainingFraction() }

// Met reports whether the availability so far meets the objective.
func (b Budget) Met() bool { return b.Availability >= b.SLO.Availability }

// BurnPoint is the share of the budget spent by a time.
type BurnPoint struct {
	T     time.Time
	Spent float64 // fraction of the month's budget, may exceed 1
}

// Burn samples the cumulative share of the budget spent from the start of
// the month to AsOf, every step (and at AsOf).
func (b Budget) Burn(step time.Duration) []BurnPoint {
	if step <= 0 {
		step = 24 * time.Hour
	}
	frac := func(d time.Duration) float64 {
		if b.Allowed <= 0 {
			return 0
		}
		return float64(d) / float64(b.Allowed)
	}
	var pts []BurnPoint
	for t := b.Start; t.Before(b.AsOf); t = t.Add(step) {
		pts = append(pts, BurnPoint{t, frac(b.spentUntil(t))})
	}
	return append(pts, BurnPoint{b.AsOf, frac(b.Spent)})
}

func (b Budget) spentUntil(t time.Time) time.Duration {
	if b.Source == "prometheus" { // one measurement for the window: spread it evenly
		if b.Elapsed <= 0 {
			return 0
		}
		return time.Duration(float64(b.Spent) * float64(t.Sub(b.Start)) / float64(b.Elapsed))
	}
	return weightedUntil(b.segs, t)
}

// ComputeBudget works out a service's budget for the month [start, end) as
// of now from its outages.
func ComputeBudget(slo bot.SLO, outages []Outage, weights [4]float64, start, end, now time.Time) Budget {
	asOf := now
	if asOf.After(end) {
		asOf = end
	}
	if asOf.Before(start) {
		asOf = start
	}
	b := Budget{SLO: slo, Month: start.Format("2006-01"), Start: start, End: end, AsOf: asOf, Period: end.Sub(start),
		Elapsed: asOf.Sub(start), Source: "alerts", Outages: outages}
	b.Allowed = time.Duration(math.Round((1 - slo.Availability) * float64(b.Period)))
	b.segs = DowntimeSegments(outages, weights, start, asOf)
	b.Spent = weightedUntil(b.segs, asOf)
	b.finish()
	return b
}

// finish derives availability, burn rate and exhaustion from Spent.
func (b *Budget) finish() {
	b.Availability = 1
	if b.Elapsed > 0 {
		b.Availability = 1 - float64(b.Spent)/float64(b.Elapsed)
	}
	if b.Allowed > 0 && b.Elapsed > 0 {
		b.BurnRate = (float64(b.Spent) / float64(b.Allowed)) / (float64(b.Elapsed) / float64(b.Period))
	}
	b.ExhaustsAt, b.Exhausted = time.Time{}, false
	switch {
	case b.Spent > 0 && b.Spent >= b.Allowed:
		b.Exhausted = true
		b.ExhaustsAt = b.crossing()
	case b.Spent > 0 && b.Elapsed > 0:
		rate := float64(b.Spent) / float64(b.Elapsed) // downtime per unit of time
		at := b.AsOf.Add(time.Duration(float64(b.Remaining()) / rate))
		if at.Before(b.End) {
			b.ExhaustsAt = at
		}
	}
}

// crossing is when the cumulative spend reached the budget.
func (b *Budget) crossing() time.Time {
	if b.Source == "prometheus" || b.Allowed <= 0 {
		return b.AsOf
	}
	var sum float64
	for _, s := range b.segs {
		d := float64(s.End.Sub(s.Start)) * s.Weight
		if sum+d >= float64(b.Allowed) {
			return s.Start.Add(time.Duration((float64(b.Allowed) - sum) / s.Weight))
		}
		sum += d
	}
	return b.AsOf
}

// SLOs is the SLO feature: budgets on demand and the engine job that posts
// threshold warnings.
type SLOs struct {
	Store      bot.TxStore[Tx]
	Policy     SLOPolicy
	Sources    []OutageSource      // default: AlertOutages{}
	Prometheus AvailabilityQuerier // nil: availability from the record only
	// Every is how often Run checks the thresholds; default 1m. (State is
	// in the database; this only bounds the work.)
	Every time.Duration
	Log   *slog.Logger

	lastCheck time.Time
}

var _ bot.Job = (*SLOs)(nil)

// Name implements Job.
func (s *SLOs) Name() string { return "slo" }

func (s *SLOs) loc() *time.Location {
	if s.Policy.Location != nil {
		return s.Policy.Location
	}
	return time.UTC
}

func (s *SLOs) log() *slog.Logger { return bot.OrDiscard(s.Log) }

// Services returns the configured SLOs, in configuration order.
func (s *SLOs) Services() []bot.SLO { return s.Policy.Services }

// Location is the time zone months are counted in; nil when none is configured.
func (s *SLOs) Location() *time.Location { return s.Policy.Location }

// Service returns the SLO of a service by name or matched label value.
func (s *SLOs) Service(name string) (bot.SLO, bool) {
	for _, v := range s.Policy.Services {
		if strings.EqualFold(v.Service, strings.TrimSpace(name)) || v.Matches(name) {
			return v, true
		}
	}
	return bot.SLO{}, false
}

// Budgets returns every service's budget for the month containing month,
// as of now.
func (s *SLOs) Budgets(ctx context.Context, month, now time.Time) ([]Budget, error) {
	start, end := bot.MonthOf(month, s.loc())
	asOf := minTime(now, end)
	var outs []Outage
	sources := s.Sources
	if len(sources) == 0 {
		sources = []OutageSource{AlertOutages{}}
	}
	if err := s.Store.View(ctx, func(tx Tx) error {
		for _, src := range sources {
			o, err := src.Outages(tx, start, asOf)
			if err != nil {
				return err
			}
			outs = append(outs, o...)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var out []Budget
	for _, slo := range s.Policy.Services {
		var mine []Outage
		for _, o := range outs {
			if slo.Matches(o.Service) || strings.EqualFold(o.Service, slo.Service) {
				mine = append(mine, o)
			}
		}
		b := ComputeBudget(slo, mine, s.Policy.Weights, start, end, now)
		if slo.Query != "" && s.Prometheus != nil && b.Elapsed > 0 {
			a, err := s.Prometheus.Availability(ctx, slo, start, asOf)
			if err != nil {
				b.Note = "Prometheus query failed, using the alert record: " + bot.ErrorMessage(err)
				s.log().Warn("slo: prometheus availability query failed", "service", slo.Service, "err", err)
			} else {
				b.Source, b.Availability = "prometheus", a
				b.Spent = time.Duration(math.Round((1 - a) * float64(b.Elapsed)))
				b.finish()
				b.Availability = a
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// Run implements Job: post a warning when a service's budget left crosses
// a threshold, once per threshold and month.
func (s *SLOs) Run(ctx context.Context, now time.Time) error {
	every := s.Every
	if every <= 0 {
		every = time.Minute
	}
	if s.Policy.Channel == "" || len(s.Policy.WarnAt) == 0 {
		return nil
	}
	if !s.lastCheck.IsZero() && now.Sub(s.lastCheck) < every && !now.Before(s.lastCheck) {
		return nil
	}
	budgets, err := s.Budgets(ctx, now, now)
	if err != nil {
		return err
	}
	s.lastCheck = now
	for _, b := range budgets {
		var crossed []float64
		rem := b.RemainingFraction()
		for _, t := range s.Policy.WarnAt {
			if (t <= 0 && b.Exhausted) || (t > 0 && rem <= t) {
				crossed = append(crossed, t)
			}
		}
		if len(crossed) == 0 {
			continue
		}
		if err := s.Store.Update(ctx, func(tx Tx) error {
			worst, fresh := 2.0, false
			for _, t := range crossed {
				ok, err := tx.RecordSLOWarning(b.SLO.Service, b.Month, int(math.Round(t*1000)), rem, now)
				if err != nil {
					return err
				}
				if ok {
					fresh = true
					worst = min(worst, t)
				}
			}
			if !fresh {
				return nil
			}
			s.log().Warn("error budget threshold crossed", "service", b.SLO.Service, "month", b.Month, "remaining", rem)
			return tx.Enqueue(&bot.Outgoing{ChannelID: s.Policy.Channel, Priority: bot.P1, Kind: "slo-warning",
				Ref:     fmt.Sprintf("slo:%s:%s:%d", b.SLO.Service, b.Month, int(math.Round(worst*1000))),
				Message: BudgetWarning(b, worst, s.Policy.Mentions, s.loc()), DueAt: now, CreatedAt: now})
		}); err != nil {
			return fmt.Errorf("slo warning for %s: %w", b.SLO.Service, err)
		}
	}
	return nil
}

func BudgetWarning(b Budget, threshold float64, m bot.Mentions, loc *time.Location) bot.Message {
	head := fmt.Sprintf("📉 Error budget of **%s**: less than %s left for %s", b.SLO.Service, FormatPercent(threshold, 0), monthName(b.Start))
	tone := bot.ToneWarning
	if threshold <= 0 {
		head = fmt.Sprintf("🚨 Error budget of **%s** is exhausted for %s", b.SLO.Service, monthName(b.Start))
		tone = bot.ToneAlarm
	}
	content := bot.MentionPrefix(m) + head
	return bot.Message{Content: content, Mentions: m, Title: b.SLO.Service + " — error budget", Tone: tone,
		Fields: BudgetFields(b, loc), Footer: "Klaxon warns once per threshold per month · /slo " + b.SLO.Service}
}

// BudgetFields describes a budget for a message.
func BudgetFields(b Budget, loc *time.Location) []bot.Field {
	mark := "✅"
	if !b.Met() {
		mark = "❌"
	}
	runsOut := "not this month at the current rate"
	switch {
	case b.Exhausted:
		runsOut = "exhausted on " + b.ExhaustsAt.In(loc).Format("Mon 2 Jan 15:04 MST")
	case !b.ExhaustsAt.IsZero():
		runsOut = "around " + b.ExhaustsAt.In(loc).Format("Mon 2 Jan") + " at the current rate"
	case b.Spent == 0:
		runsOut = "nothing spent"
	}
	fs := []bot.Field{
		{Name: "Availability", Value: fmt.Sprintf("%s %s (objective %s)", mark, FormatPercent(b.Availability, 3), FormatPercent(b.SLO.Availability, 3)), Inline: true},
		{Name: "Budget", Value: fmt.Sprintf("%s of %s spent (%s); %s left", FormatDuration(b.Spent), FormatDuration(b.Allowed),
			FormatPercent(b.SpentFraction(), 0), FormatDuration(max(b.Remaining(), 0))), Inline: true},
		{Name: "Burn rate", Value: fmt.Sprintf("%.2f× (1× spends the budget exactly by month end)", b.BurnRate), Inline: true},
		{Name: "Runs out", Value: runsOut, Inline: true},
		{Name: "Objectives", Value: fmt.Sprintf("latency < %s · errors < %s", FormatDuration(b.SLO.Latency), FormatPercent(b.SLO.ErrorRate, 3)), Inline: true},
	}
	src := fmt.Sprintf("%d outage(s) from the alert and incident record", len(b.Outages))
	if b.Source == "prometheus" {
		src = "Prometheus query"
	}
	if b.Note != "" {
		src += " — " + b.Note
	}
	return append(fs, bot.Field{Name: "Source", Value: src, Inline: true})
}

func monthName(t time.Time) string { return t.Format("January 2006") }

// FormatPercent formats a fraction as a percentage with up to digits
// decimals, trailing zeros dropped: 0.999 → "99.9 %".
func FormatPercent(f float64, digits int) string {
	s := fmt.Sprintf("%.*f", digits, f*100)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + " %"
}

// FormatDuration formats a duration for people: "43 min", "2 h 5 min", "3 d 4 h", "12 s", "100 ms".
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + FormatDuration(-d)
	case d == 0:
		return "0"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		m := d.Round(time.Second)
		if s := int(m%time.Minute) / int(time.Second); s != 0 && m < 10*time.Minute {
			return fmt.Sprintf("%d min %d s", int(m/time.Minute), s)
		}
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	case d < 24*time.Hour:
		m := d.Round(time.Minute)
		if mm := int(m%time.Hour) / int(time.Minute); mm != 0 {
			return fmt.Sprintf("%d h %d min", int(m/time.Hour), mm)
		}
		return fmt.Sprintf("%d h", int(m/time.Hour))
	}
	h := d.Round(time.Hour)
	if hh := int(h%(24*time.Hour)) / int(time.Hour); hh != 0 {
		return fmt.Sprintf("%d d %d h", int(h/(24*time.Hour)), hh)
	}
	return fmt.Sprintf("%d d", int(h/(24*time.Hour)))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// IncidentOutages turns incidents with affected services into outages
// (implements OutageSource): each service from the incident's start until
// it was mitigated or resolved, at the incident's priority; an open
// incident (reopened ones too) is ongoing. Where an alert group of the same
// service overlaps, DowntimeSegments counts the time once.
type IncidentOutages struct{}

var _ OutageSource = IncidentOutages{}

// Outages implements OutageSource.
func (IncidentOutages) Outages(tx Tx, from, to time.Time) ([]Outage, error) {
	incs, err := tx.IncidentsBetween(from, to)
	if err != nil {
		return nil, err
	}
	var out []Outage
	for _, inc := range incs {
		start := inc.StartedAt
		if start.IsZero() {
			start = inc.DetectedAt
		}
		var end time.Time
		switch {
		case inc.Status == bot.Mitigated:
			end = inc.MitigatedAt
		case incident.IsOpen(inc.Status):
			// ongoing: detected or investigating (again)
		case !inc.MitigatedAt.IsZero() && (inc.ResolvedAt.IsZero() || inc.MitigatedAt.Before(inc.ResolvedAt)):
			end = inc.MitigatedAt
		default:
			end = inc.ResolvedAt
		}
		seen := map[string]bool{}
		for _, svc := range inc.Services {
			svc = strings.TrimSpace(svc)
			if svc == "" || seen[strings.ToLower(svc)] {
				continue
			}
			seen[strings.ToLower(svc)] = true
			out = append(out, Outage{Service: svc, Priority: inc.Priority, Start: start, End: end,
				Name: inc.Ref() + " " + inc.Title, Ref: fmt.Sprintf("incident:%d", inc.ID)})
		}
	}
	return out, nil
}
