package discord

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/postmortem"
	"github.com/marola-rp/klaxon/store"
)

// Golden files for every plain message kind the core builds, rendered as
// Discord receives them (go test -update rewrites them). They were written
// before the core stopped writing Discord markup and colours itself, and
// prove that move changed no byte sent to Discord.

func goldenMessage(t *testing.T, name string, m bot.Message) {
	t.Helper()
	golden(t, name, RenderMessage(m))
}

func TestGoldenPageMessage(t *testing.T) {
	g := firingGroup()
	m := bot.Mentions{Roles: []string{"555"}, Users: []string{"777", "778"}}
	goldenMessage(t, "msg_page", paging.PageMessage(g, bot.Route{}, 0, m))
	g.Priority = bot.P2
	goldenMessage(t, "msg_page_escalation", paging.PageMessage(g, bot.Route{}, 2, bot.Mentions{Users: []string{"777"}}))
	g.Priority = bot.P3
	goldenMessage(t, "msg_page_nobody", paging.PageMessage(g, bot.Route{}, 0, bot.Mentions{}))
}

func TestGoldenHandoffMessage(t *testing.T) {
	s := &paging.Schedule{Name: "primary"}
	goldenMessage(t, "msg_handoff", paging.HandoffMessage(s, "777", "778", t0.Add(7*24*time.Hour)))
	goldenMessage(t, "msg_handoff_open_ended", paging.HandoffMessage(s, "777", "777", time.Time{}))
	goldenMessage(t, "msg_handoff_gap", paging.HandoffMessage(s, "", "778", t0.Add(time.Hour)))
}

func TestGoldenReminderMessage(t *testing.T) {
	r := &calendar.Reminder{Name: "standup", Message: "Daily stand-up in *5 minutes*", Roles: []string{"555", "556"}, TimeZone: "Europe/Paris"}
	goldenMessage(t, "msg_reminder", calendar.ReminderMessage(r, calendar.RunPlan{Fire: t0}))
	goldenMessage(t, "msg_reminder_late", calendar.ReminderMessage(r, calendar.RunPlan{Fire: t0, CatchingUp: true}))
}

func TestGoldenBudgetWarning(t *testing.T) {
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	b := calendar.Budget{SLO: bot.SLO{Service: "web", Availability: 0.999}, Month: "2025-03", Start: start, End: start.AddDate(0, 1, 0),
		AsOf: t0, Period: 31 * 24 * time.Hour, Elapsed: t0.Sub(start), Allowed: 44 * time.Minute, Spent: 40 * time.Minute,
		Availability: 0.9978, BurnRate: 2.1, ExhaustsAt: t0.Add(30 * time.Hour)}
	m := bot.Mentions{Roles: []string{"555"}, Users: []string{"777"}}
	goldenMessage(t, "msg_budget_warning", calendar.BudgetWarning(b, 0.25, m, time.UTC))
	b.Spent, b.Exhausted, b.ExhaustsAt = 50*time.Minute, true, t0.Add(-time.Hour)
	goldenMessage(t, "msg_budget_exhausted", calendar.BudgetWarning(b, 0, bot.Mentions{}, time.UTC))
}

func sampleIncident() *bot.Incident {
	return &bot.Incident{ID: 42, Title: "Players cannot log in", Priority: bot.P1, Impact: "EU players cannot log in",
		Services: []string{"auth", "game"}, Status: bot.IncidentStatus("investigating"),
		Roles:     map[string]string{incident.CommanderRole: "777", "liaison": "779"},
		ChannelID: "111", ThreadID: "222", SummaryID: "333",
		StartedAt: t0.Add(-20 * time.Minute), DetectedAt: t0.Add(-15 * time.Minute), LastUpdateAt: t0.Add(-5 * time.Minute)}
}

func TestGoldenIncidentSummary(t *testing.T) {
	s := &incident.Service{Policy: incident.DefaultPolicy()}
	g := firingGroup()
	r := firingGroup()
	r.ID, r.Status = 43, bot.Resolved
	goldenMessage(t, "msg_incident_summary", s.IncidentSummary(sampleIncident(), []*bot.Group{g, r}, t0))

	inc := sampleIncident()
	inc.Status, inc.Impact, inc.Roles, inc.LastUpdateAt = bot.IncidentStatus("resolved"), "", nil, time.Time{}
	inc.ResolvedAt = t0.Add(75 * time.Minute)
	goldenMessage(t, "msg_incident_summary_resolved", s.IncidentSummary(inc, nil, t0))

	inc = sampleIncident()
	inc.Priority, inc.Roles, inc.Impact = bot.P0, nil, ""
	goldenMessage(t, "msg_incident_summary_no_commander", s.IncidentSummary(inc, nil, t0))
}

func TestGoldenUserReport(t *testing.T) {
	r := &incident.UserReport{ID: 9, Text: "I can't log in since 10:00", Reporter: bot.Actor{UserID: "780", Name: "player1"},
		ChannelID: "444", Status: "open", CreatedAt: t0}
	goldenMessage(t, "msg_user_report", incident.TriageMessage(r, nil))
	r.Status, r.IncidentID, r.HandledBy = "declared", 42, bot.Actor{UserID: "777"}
	goldenMessage(t, "msg_user_report_declared", incident.TriageMessage(r, sampleIncident()))
	r.Status, r.HandledBy = "dismissed", bot.Actor{Name: "mod"}
	goldenMessage(t, "msg_user_report_dismissed", incident.TriageMessage(r, nil))
}

func TestGoldenPostmortemPost(t *testing.T) {
	inc := sampleIncident()
	inc.Status = bot.IncidentStatus("resolved")
	rec := &postmortem.Record{Incident: inc,
		Postmortem: &postmortem.Postmortem{ID: 1, IncidentID: 42, Revision: 3, UpdatedAt: t0},
		Actions:    []*postmortem.ActionItem{{Status: postmortem.ActionOpen}, {Status: postmortem.ActionOpen}, {}}}
	md := "# INC-42 — Players cannot log in\n\n## Summary\n\nThe auth service ran out of connections. Players saw <@&555>-free text.\n"
	goldenMessage(t, "msg_postmortem_post", postmortem.ForumMessage(rec, md))
}

// The SLA report and the weekly digest are built from a real record.
func TestGoldenReports(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	g := &bot.Group{Key: "k1", Receiver: "k", Status: bot.Resolved, Priority: bot.P0, CommonLabels: map[string]string{"alertname": "WebDown", "service": "web"},
		CreatedAt: start, UpdatedAt: start, ResolvedAt: start.Add(2 * time.Hour),
		Alerts: []bot.Alert{{Fingerprint: "f", Status: bot.Resolved, StartsAt: start, EndsAt: start.Add(2 * time.Hour)}}}
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.SaveGroup(g) }); err != nil {
		t.Fatal(err)
	}
	r := &calendar.Reports{Store: db.Calendar(), SLOs: &calendar.SLOs{Store: db.Calendar(), Policy: calendar.DefaultSLOPolicy()}}
	m, err := r.SLAReport(ctx, start, time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	m.Files = nil // the chart has its own tests
	goldenMessage(t, "msg_sla_report", m)
	w, err := r.WeeklyDigest(ctx, start.Add(-3*24*time.Hour), start.Add(4*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	goldenMessage(t, "msg_weekly_digest", w)
}

func TestEveryToneHasAColour(t *testing.T) {
	if c := ToneColor(bot.ToneNone); c != 0 {
		t.Errorf("ToneNone colour = %#x, want none", c)
	}
	for tone := bot.ToneP0; tone <= bot.ToneDocument; tone++ {
		if ToneColor(tone) == 0 {
			t.Errorf("tone %d has no colour", tone)
		}
	}
	for p, want := range map[bot.Priority]int{bot.P0: ColorP0, bot.P1: ColorP1, bot.P2: ColorP2, bot.P3: ColorP3} {
		if got := ToneColor(bot.PriorityTone(p)); got != want {
			t.Errorf("%s: colour %#x, want the card's %#x", p, got, want)
		}
	}
}

func TestGoldenPostmortemReminders(t *testing.T) {
	inc := sampleIncident()
	inc.Status = bot.IncidentStatus("resolved")
	a := &postmortem.ActionItem{ID: 5, IncidentID: 42, Text: "Raise the auth pool limit", OwnerID: "779", DueAt: t0.Add(24 * time.Hour), Status: postmortem.ActionOpen}
	goldenMessage(t, "msg_action_reminder_due", postmortem.ActionReminder(a, inc, t0, 24*time.Hour))
	goldenMessage(t, "msg_action_reminder_overdue", postmortem.ActionReminder(a, inc, t0.Add(72*time.Hour), 24*time.Hour))
	pm := &postmortem.Postmortem{ID: 1, IncidentID: 42, Revision: 2}
	d := &postmortem.Due{IncidentID: 42, DueAt: t0.Add(48 * time.Hour), State: "pending"}
	goldenMessage(t, "msg_postmortem_due", postmortem.DueReminder(inc, pm, d, t0))
	goldenMessage(t, "msg_postmortem_overdue", postmortem.DueReminder(inc, nil, d, t0.Add(96*time.Hour)))
}
