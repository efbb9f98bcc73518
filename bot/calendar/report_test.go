package calendar_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/chart"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
)

func calField(m bot.Message, name string) string {
	for _, f := range m.Fields {
		if strings.Contains(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

func TestMonthlySLAReportWithChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := bot.NewFakeClock(time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC))
	slos := &calendar.SLOs{Policy: calendar.DefaultSLOPolicy()}
	reports := &calendar.Reports{SLOs: slos, Charter: chart.Charter{},
		Policy: calendar.ReportPolicy{Channel: "800", Monthly: calendar.DefaultMonthlyReport, Weekly: calendar.DefaultWeeklyReport}}
	k := startCal(t, path, clock, reports)
	slos.Store = k.db.Calendar()
	defer k.db.Close()

	d := march.Add(4 * 24 * time.Hour)
	ack := func(after time.Duration) *bot.Action {
		return &bot.Action{Actor: bot.Actor{UserID: "501", Via: "button"}, At: d.Add(after)}
	}
	calGroup(t, k.db, "WebDown", "web", bot.P0, d, d.Add(40*time.Minute), ack(4*time.Minute))
	calGroup(t, k.db, "WebDown", "web", bot.P0, d.Add(48*time.Hour), d.Add(48*time.Hour+20*time.Minute), nil)
	calGroup(t, k.db, "DBSlow", "database", bot.P1, d.Add(72*time.Hour), d.Add(73*time.Hour), nil)
	calGroup(t, k.db, "DiskFull", "", bot.P2, d.Add(96*time.Hour), d.Add(97*time.Hour), nil)
	calGroup(t, k.db, "LastMonth", "web", bot.P0, march.Add(-48*time.Hour), march.Add(-47*time.Hour), nil)

	k.cycle(t) // first start: the schedules begin
	if n := len(calMessages(t, k.db, "report")); n != 0 {
		t.Fatalf("%d reports on first start", n)
	}
	clock.Set(time.Date(2026, 4, 1, 9, 0, 2, 0, time.UTC))
	k.cycle(t)
	k.cycle(t)
	msgs := calMessages(t, k.db, "report")
	if len(msgs) != 1 {
		t.Fatalf("%d reports, want 1", len(msgs))
	}
	m := msgs[0].Message
	if msgs[0].ChannelID != "800" || m.Title != "SLA report — March 2026" {
		t.Errorf("report %q to %s", m.Title, msgs[0].ChannelID)
	}
	if v := calField(m, "✅ web"); !strings.HasPrefix(v, "99.866 % (objective 99.5 %)") || !strings.Contains(v, "budget 27 % spent: 1 h of 3 h 43 min · 2 outage(s)") {
		t.Errorf("web field %q", v)
	}
	// 30 weighted minutes (a P1 hour) against a budget of 4 min 28 s.
	if v := calField(m, "❌ database"); !strings.Contains(v, "budget 672 % spent: 30 min of 4 min 28 s") {
		t.Errorf("database field %q", v)
	}
	if m.Description != "3 of 4 services met their availability objective." {
		t.Errorf("description %q", m.Description)
	}
	if v := calField(m, "by priority"); v != "4 in all · P0 2 · P1 1 · P2 1 · P3 0" {
		t.Errorf("by priority %q", v)
	}
	if v := calField(m, "MTTA"); !strings.Contains(v, "P0: MTTA 4 min · MTTR 30 min") || !strings.Contains(v, "P1: MTTA — · MTTR 1 h") {
		t.Errorf("response %q", v)
	}
	if v := calField(m, "Most frequent"); !strings.HasPrefix(v, "1. WebDown × 2") {
		t.Errorf("top alerts %q", v)
	}
	if len(m.Files) != 1 || m.Files[0].ContentType != "image/png" || m.Files[0].Name != "error-budget-2026-03.png" {
		t.Fatalf("files %+v", m.Files)
	}
	img, err := png.Decode(bytes.NewReader(m.Files[0].Data))
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if img.Bounds().Dx() < 300 {
		t.Errorf("chart %v", img.Bounds())
	}
	if os.Getenv("KLAXON_WRITE_CHART") != "" {
		os.WriteFile(os.Getenv("KLAXON_WRITE_CHART"), m.Files[0].Data, 0o644)
	}

	// Restarted the same day: no second report.
	k.db.Close()
	k = startCal(t, path, clock, &calendar.Reports{SLOs: slos, Charter: chart.Charter{}, Policy: reports.Policy})
	slos.Store = k.db.Calendar()
	clock.Advance(time.Hour)
	k.cycle(t)
	if n := len(calMessages(t, k.db, "report")); n != 1 {
		t.Fatalf("%d reports after a restart, want 1", n)
	}
}

func TestWeeklyDigest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	mon := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	clock := bot.NewFakeClock(mon.Add(-time.Hour))
	reports := &calendar.Reports{Policy: calendar.ReportPolicy{Channel: "800", Weekly: calendar.DefaultWeeklyReport}}
	k := startCal(t, path, clock, reports)
	defer k.db.Close()
	k.cycle(t)
	d := mon.Add(-3 * 24 * time.Hour)
	for i := range 3 {
		calGroup(t, k.db, "Flappy", "web", bot.P3, d.Add(time.Duration(i)*time.Hour), d.Add(time.Duration(i)*time.Hour+2*time.Minute), nil)
	}
	g := calGroup(t, k.db, "WebDown", "web", bot.P0, d, d.Add(time.Hour), &bot.Action{Actor: bot.Actor{UserID: "501"}, At: d.Add(3 * time.Minute)})
	err := k.db.Calendar().Update(context.Background(), func(tx calendar.Tx) error {
		for _, via := range []bot.Via{bot.ViaDM, bot.ViaPhone} {
			if err := tx.AddPage(&paging.PageRecord{GroupID: g.ID, Via: via, UserID: "501", Status: paging.PageSent, CreatedAt: d, SentAt: d.Add(time.Minute)}); err != nil {
				return err
			}
		}
		return tx.AddPage(&paging.PageRecord{GroupID: g.ID, Via: bot.ViaMention, UserID: "502", Status: paging.PageSent, CreatedAt: d, SentAt: d.Add(time.Minute)})
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(mon.Add(time.Second))
	k.cycle(t)
	msgs := calMessages(t, k.db, "report")
	if len(msgs) != 1 {
		t.Fatalf("%d digests", len(msgs))
	}
	m := msgs[0].Message
	if !strings.HasPrefix(m.Title, "Weekly noise and on-call digest — Mon 2 Mar to Mon 9 Mar 2026") {
		t.Errorf("title %q", m.Title)
	}
	for name, want := range map[string]string{
		"Alert groups":    "4 in all · P0 1 · P1 0 · P2 0 · P3 3",
		"Noisiest alerts": "1. Flappy × 3\n2. WebDown × 1",
		"Noise":           "3 of 4 (75 %) resolved by themselves within 5 min",
		"On call":         bot.UserRef("501") + ": 2 page(s) (dm, phone), 1 acknowledgement(s)\n" + bot.UserRef("502") + ": 1 page(s) (mention), 0 acknowledgement(s)",
		"Response":        "MTTA 3 min",
	} {
		if v := calField(m, name); !strings.Contains(v, want) {
			t.Errorf("%s = %q, want it to contain %q", name, v, want)
		}
	}
}

func TestParseMonth(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in, want, err string
	}{
		{"", "2026-03", ""}, {"last", "2026-02", ""}, {"2026-01", "2026-01", ""}, {"January 2025", "2025-01", ""},
		{"feb", "2026-02", ""}, {"december", "2025-12", ""}, {"03/2026", "2026-03", ""},
		{"2026-04", "", "in the future"}, {"smarch", "", "write e.g. 2026-03"},
	} {
		got, err := calendar.ParseMonth(tc.in, now, time.UTC)
		if tc.err != "" {
			if !strings.Contains(bot.ErrorMessage(err), tc.err) {
				t.Errorf("ParseMonth(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.Format("2006-01") != tc.want {
			t.Errorf("ParseMonth(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// TestSLAReportIncidentMeasures: the monthly report lists incidents by
// priority with MTTA and MTTR from the incident measures, as the incident
// lifecycle records them.
func TestSLAReportIncidentMeasures(t *testing.T) {
	ctx := context.Background()
	f := newIncidents(t)
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	who := bot.Actor{UserID: "501", Via: "command"}
	declare := func(p bot.Priority, at time.Time) int64 {
		t.Helper()
		inc, err := f.inc.Declare(ctx, incident.Declaration{Title: "trouble " + p.String(), Priority: p, Source: "command"}, who, at)
		if err != nil {
			t.Fatal(err)
		}
		return inc.ID
	}
	must := func(_ *bot.Incident, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	d := march.Add(4 * 24 * time.Hour)
	p0 := declare(bot.P0, d)
	must(f.inc.Assign(ctx, p0, "commander", "502", who, d.Add(5*time.Minute))) // a commander acknowledges
	must(f.inc.SetStatus(ctx, p0, bot.Mitigated, "", who, d.Add(20*time.Minute)))
	must(f.inc.SetStatus(ctx, p0, bot.IncResolved, "", who, d.Add(time.Hour)))
	p1 := declare(bot.P1, d.Add(24*time.Hour))
	must(f.inc.SetStatus(ctx, p1, bot.IncResolved, "", who, d.Add(26*time.Hour)))
	declare(bot.P2, d.Add(48*time.Hour))      // still open
	declare(bot.P0, march.Add(-24*time.Hour)) // last month: not in March's report
	must(f.inc.SetStatus(ctx, 4, bot.IncResolved, "", who, march.Add(-23*time.Hour)))

	r := &calendar.Reports{Store: f.db.Calendar(), SLOs: &calendar.SLOs{Store: f.db.Calendar(), Policy: calendar.DefaultSLOPolicy()}}
	m, err := r.SLAReport(ctx, march, march.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := "3 in all · P0 1 · P1 1 · P2 1 · P3 0\n" +
		"P0: MTTA 5 min · MTTR 1 h\n" +
		"P1: MTTA 2 h · MTTR 2 h\n" +
		"P2: MTTA — · MTTR —\n" +
		"all: MTTA 1 h 3 min · MTTR 1 h 30 min"
	if got := calField(m, "Incidents"); got != want {
		t.Errorf("incidents field:\n%s\nwant:\n%s", got, want)
	}
	// A month without incidents says so.
	m, err = r.SLAReport(ctx, march.AddDate(0, -2, 0), march)
	if err != nil {
		t.Fatal(err)
	}
	if got := calField(m, "Incidents"); got != "none" {
		t.Errorf("January incidents field %q, want none", got)
	}
}
