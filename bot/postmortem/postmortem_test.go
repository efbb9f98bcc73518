package postmortem_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/marola-rp/klaxon/bot/discord"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/bot/postmortem"
	"github.com/marola-rp/klaxon/store"
)

var update = flag.Bool("update", false, "rewrite testdata/postmortem.golden.md")

// pmT0 is when the fixture incident started.
var pmT0 = time.Date(2026, 3, 14, 20, 1, 0, 0, time.UTC)

type pmEnv struct {
	t   *testing.T
	db  *store.DB
	pms *postmortem.Service
	inc *bot.Incident
	ctx context.Context
}

// newPMEnv stores a resolved P0 incident as the incidents feature would
// leave it: two linked alert groups, roles, a timeline and a runbook checklist.
func newPMEnv(t *testing.T) *pmEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &pmEnv{t: t, db: db, ctx: ctx}
	slo := calendar.DefaultSLOPolicy()
	e.pms = &postmortem.Service{Store: db.Postmortem(), Policy: postmortem.Policy{ForumChannel: "900", SLOs: slo.Services, Weights: slo.Weights,
		Sensitive: []string{"instance", "*_ip"}}}
	at := func(m int) time.Time { return pmT0.Add(time.Duration(m) * time.Minute) }
	game := &bot.Group{Key: `{}:{alertname="GameServerDown"}`, Status: bot.Resolved, Priority: bot.P0,
		CommonLabels:      map[string]string{"alertname": "GameServerDown", "service": "game", "instance": "eu-1.marola.internal:30120", "severity": "critical"},
		CommonAnnotations: map[string]string{"summary": "Game server eu-1 is down", "runbook": "service-down", "origin_ip": "203.0.113.77"},
		Alerts: []bot.Alert{{Fingerprint: "a1", Status: bot.Resolved, StartsAt: at(0), EndsAt: at(47),
			Labels: map[string]string{"alertname": "GameServerDown", "service": "game", "instance": "eu-1.marola.internal:30120"}}},
		CreatedAt: at(1), UpdatedAt: at(47), ResolvedAt: at(47), Version: 3,
		Ack: &bot.Action{Actor: bot.Actor{UserID: "501", Name: "ana", Via: "button"}, At: at(4)}}
	db2 := &bot.Group{Key: `{}:{alertname="MySQLTooManyConnections"}`, Status: bot.Resolved, Priority: bot.P1,
		CommonLabels:      map[string]string{"alertname": "MySQLTooManyConnections", "service": "database"},
		CommonAnnotations: map[string]string{"summary": "MariaDB refuses connections | max_connections reached"},
		CreatedAt:         at(-3), UpdatedAt: at(40), ResolvedAt: at(40), Version: 2}
	e.inc = &bot.Incident{Title: "EU game server down", Priority: bot.P0, Impact: "All EU players disconnected; no logins",
		Services: []string{"game"}, Status: bot.IncResolved, Roles: map[string]string{"commander": "501", "scribe": "502"},
		ChannelID: "100", ThreadID: "7001", CreatedBy: bot.Actor{UserID: "501", Name: "ana", Via: "command"},
		StartedAt: at(-3), DetectedAt: at(1), AckedAt: at(4), MitigatedAt: at(38), ResolvedAt: at(47)}
	err = db.Postmortem().Update(ctx, func(tx postmortem.Tx) error {
		for _, g := range []*bot.Group{game, db2} {
			if err := tx.SaveGroup(g); err != nil {
				return err
			}
			e.inc.GroupIDs = append(e.inc.GroupIDs, g.ID)
		}
		if err := tx.SaveIncident(e.inc); err != nil {
			return err
		}
		for _, ev := range []bot.TimelineEvent{
			{At: at(2), Kind: "declared", Actor: bot.Actor{UserID: "501", Name: "ana"}, Text: "P0 declared from the GameServerDown card"},
			{At: at(9), Kind: "note", Actor: bot.Actor{UserID: "502", Name: "bo"}, Text: "DB at max_connections; eu-1.marola.internal:30120 crash-looping"},
			{At: at(38), Kind: "status update", Actor: bot.Actor{UserID: "501", Name: "ana"}, Text: "Mitigated: pool size lowered, server restarted"},
			{At: at(47), Kind: "resolved", Actor: bot.Actor{UserID: "501", Name: "ana"}, Text: "Players back, saves verified"},
		} {
			ev.IncidentID = e.inc.ID
			if err := tx.AddTimelineEvent(&ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := incident.StartChecklist(ctx, db.Incident(), e.inc.ID, "service-down", "Service Down", []string{"Confirm from outside", "Name a lead", "Check the host"},
		"7001", bot.Actor{UserID: "502", Name: "bo"}, at(5))
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []int{0, 2} {
		if _, done, err := incident.ToggleStep(ctx, db.Incident(), c.IncidentID, c.ID, step, bot.Actor{UserID: "502", Name: "bo", Via: "button"}, at(6+i)); err != nil || !done {
			t.Fatalf("toggle step %d: done %v, %v", step, done, err)
		}
	}
	return e
}

func (e *pmEnv) timeline() []bot.TimelineEvent {
	var tl []bot.TimelineEvent
	if err := e.db.Postmortem().View(e.ctx, func(tx postmortem.Tx) (err error) { tl, err = tx.Timeline(e.inc.ID); return err }); err != nil {
		e.t.Fatal(err)
	}
	return tl
}

func (e *pmEnv) queued(now time.Time) []bot.Outgoing {
	var ms []bot.Outgoing
	if err := e.db.Postmortem().View(e.ctx, func(tx postmortem.Tx) (err error) { ms, err = bottest.DueMessages(tx, now, 100); return err }); err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func (e *pmEnv) sent(ms []bot.Outgoing) {
	if err := e.db.Postmortem().Update(e.ctx, func(tx postmortem.Tx) error {
		for _, m := range ms {
			if err := tx.RemoveItem(m.ID); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

func TestChecklistStepsOnTimeline(t *testing.T) {
	e := newPMEnv(t)
	var steps []bot.TimelineEvent
	for _, ev := range e.timeline() {
		if strings.HasPrefix(ev.Kind, "runbook") {
			steps = append(steps, ev)
		}
	}
	if len(steps) != 3 {
		t.Fatalf("runbook timeline events = %+v, want started + 2 steps", steps)
	}
	if steps[1].Kind != "runbook step" || steps[1].Actor.Name != "bo" || !steps[1].At.Equal(pmT0.Add(6*time.Minute)) ||
		!strings.Contains(steps[1].Text, "step 1/3 done: Confirm from outside") {
		t.Errorf("first step event = %+v", steps[1])
	}
	// Clicking a done step again undoes it, on the record too.
	var c *incident.Checklist
	_ = e.db.Postmortem().View(e.ctx, func(tx postmortem.Tx) error { cs, err := tx.Checklists(e.inc.ID); c = cs[0]; return err })
	c2, done, err := incident.ToggleStep(e.ctx, e.db.Incident(), c.IncidentID, c.ID, 0, bot.Actor{UserID: "503", Name: "cy"}, pmT0.Add(20*time.Minute))
	if err != nil || done || c2.Done[0] != nil || c2.Done[2] == nil || c2.DoneCount() != 1 {
		t.Fatalf("undo: done=%v err=%v checklist=%+v", done, err, c2)
	}
	undone := 0
	for _, ev := range e.timeline() {
		if ev.Kind == "runbook step undone" && ev.Actor.Name == "cy" && ev.At.Equal(pmT0.Add(20*time.Minute)) {
			undone++
		}
	}
	if undone != 1 {
		t.Errorf("%d undo events by cy, want 1", undone)
	}
	if _, _, err := incident.ToggleStep(e.ctx, e.db.Incident(), c.IncidentID, c.ID, 3, bot.Actor{}, pmT0); bot.ErrorCode(err) != bot.EInvalid {
		t.Errorf("step out of range: %v, want EInvalid", err)
	}
}

func TestRunbookRefs(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    *bot.Group
		want []string
	}{
		{"label first", &bot.Group{CommonLabels: map[string]string{"runbook": "ddos-attack"}, CommonAnnotations: map[string]string{"runbook_url": "https://wiki/x/service-down"}},
			[]string{"ddos-attack", "https://wiki/x/service-down"}},
		{"annotation", &bot.Group{CommonAnnotations: map[string]string{"runbook": " game-bug "}}, []string{"game-bug"}},
		{"alert level", &bot.Group{Alerts: []bot.Alert{{Annotations: map[string]string{"runbook_url": "u"}}, {Annotations: map[string]string{"runbook_url": "u"}}}}, []string{"u"}},
		{"none", &bot.Group{CommonLabels: map[string]string{"alertname": "X"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := incident.RunbookRefs(tc.g)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPostmortemGolden renders the post-mortem of a real incident record:
// incident, linked alert groups, timeline, checklist, action items, an edit.
func TestPostmortemGolden(t *testing.T) {
	e := newPMEnv(t)
	created := pmT0.Add(20 * time.Hour)
	pm, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{UserID: "501", Name: "ana", Via: "command"}, created)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pms.AddActionItem(e.ctx, e.inc.ID, "502", created.Add(7*24*time.Hour), "Alert on MariaDB connections at 80% | not 100%",
		bot.Actor{UserID: "501", Name: "ana"}, created.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	a2, err := e.pms.AddActionItem(e.ctx, e.inc.ID, "501", created.Add(3*24*time.Hour), "Cap the connection pool per resource", bot.Actor{UserID: "501", Name: "ana"}, created.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pms.CompleteActionItem(e.ctx, a2.ID, bot.Actor{UserID: "501", Name: "ana"}, created.Add(30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pms.Edit(e.ctx, pm.ID, "root_cause", "A resource update opened a DB connection per player.\nMariaDB hit max_connections; the game server crash-looped on DB timeouts.",
		pm.Revision, bot.Actor{UserID: "502", Name: "bo", Via: "modal"}, created.Add(31*time.Hour)); err != nil {
		t.Fatal(err)
	}
	md, _, err := e.pms.Markdown(e.ctx, e.inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The document as its readers get it, on Discord (forum post, /postmortem
	// export): references rendered. The golden file was written when the core
	// still spelled Discord markup, and proves the move changed no byte.
	md = discord.Markup(md)
	golden := filepath.Join("testdata", "postmortem.golden.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -run TestPostmortemGolden -update)", err)
	}
	if md != string(want) {
		t.Errorf("rendered post-mortem differs from %s (rerun with -update if intended):\n%s", golden, md)
	}
	// Revisions: the draft, then the edit, each with its Markdown.
	var revs []postmortem.Revision
	_ = e.db.Postmortem().View(e.ctx, func(tx postmortem.Tx) (err error) { revs, err = tx.Revisions(pm.ID); return err })
	if len(revs) != 2 || revs[0].Changed != "" || revs[1].Changed != "root_cause" || revs[1].Actor.Name != "bo" ||
		!strings.Contains(revs[1].Markdown, "crash-looped") || strings.Contains(revs[0].Markdown, "crash-looped") {
		t.Errorf("revisions = %+v", revs)
	}
}

func TestPostmortemCreateRules(t *testing.T) {
	e := newPMEnv(t)
	open := &bot.Incident{Title: "still burning", Priority: bot.P1, Status: bot.Investigating, ThreadID: "7002", StartedAt: pmT0, DetectedAt: pmT0}
	if err := e.db.Postmortem().Update(e.ctx, func(tx postmortem.Tx) error { return tx.SaveIncident(open) }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pms.Create(e.ctx, open.ID, bot.Actor{}, pmT0); bot.ErrorCode(err) != bot.EConflict || !strings.Contains(bot.ErrorMessage(err), "resolve it first") {
		t.Errorf("create on an open incident: %v, want a conflict telling to resolve first", err)
	}
	if _, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{}, pmT0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{}, pmT0); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("second create: %v, want EConflict", err)
	}
}

func TestPostmortemEditConflict(t *testing.T) {
	e := newPMEnv(t)
	pm, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{}, pmT0)
	if err != nil {
		t.Fatal(err)
	}
	ana, bo := bot.Actor{UserID: "501", Name: "ana"}, bot.Actor{UserID: "502", Name: "bo"}
	// Both open the summary at revision 1; ana saves first.
	if _, err := e.pms.Edit(e.ctx, pm.ID, "summary", "ana's summary", 1, ana, pmT0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, text string
		base            int
		code            string
	}{
		{"same section from an old revision", "summary", "bo's summary", 1, bot.EConflict},
		{"other section from an old revision", "impact", "bo's impact", 1, ""},
		{"same section from the current revision", "summary", "bo's summary", 2, ""},
		{"no revision", "impact", "x", 0, bot.EInvalid},
		{"negative revision", "impact", "x", -1, bot.EInvalid},
		{"a revision it never had", "summary", "bo's summary", 99, bot.EInvalid},
		{"unknown section", "nope", "x", 0, bot.EInvalid},
		{"too long", "impact", strings.Repeat("é", postmortem.MaxSectionRunes+1), 0, bot.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.pms.Edit(e.ctx, pm.ID, tc.key, tc.text, tc.base, bo, pmT0.Add(2*time.Minute))
			if got := bot.ErrorCode(err); got != tc.code {
				t.Errorf("code %q (%v), want %q", got, err, tc.code)
			}
		})
	}
}

// fakeDrafter answers like an LLM would, or fails.
type fakeDrafter struct {
	draft *postmortem.Draft
	err   error
	block bool // wait for the deadline
	got   postmortem.DraftInput
}

func (f *fakeDrafter) Draft(ctx context.Context, in postmortem.DraftInput) (*postmortem.Draft, error) {
	f.got = in
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.draft, f.err
}

func TestPostmortemDraftFallback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		d        *fakeDrafter
		model    string
		llmKeys  []string
		note     string
		inDoc    string
		notInDoc string
	}{
		{"llm draft", &fakeDrafter{draft: &postmortem.Draft{Model: "gpt-test", Sections: map[string]string{"summary": "LLM summary.", "root_cause": "LLM cause."}}},
			"gpt-test", []string{"summary", "root_cause"}, "", "🤖 **LLM draft — for humans to review.** Summary, Root cause analysis were drafted by `gpt-test`", ""},
		{"error", &fakeDrafter{err: errors.New("llm: HTTP 500: upstream overloaded")}, "", nil,
			"the LLM request failed (llm: HTTP 500: upstream overloaded), so the template was used", "ℹ️ Drafted from the template", "🤖"},
		{"refusal", &fakeDrafter{err: &postmortem.DraftRefused{Reason: "I can't help with that."}}, "", nil,
			"the LLM declined to draft (I can't help with that.), so the template was used", "declined", "🤖"},
		{"timeout", &fakeDrafter{block: true}, "", nil, "the LLM did not answer within 20ms, so the template was used", "did not answer", "🤖"},
		{"empty answer", &fakeDrafter{draft: &postmortem.Draft{Model: "m"}}, "", nil, "the LLM declined to draft (the answer had no sections), so the template was used", "", "🤖"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newPMEnv(t)
			e.pms.Drafter = tc.d
			e.pms.Policy.DraftTimeout = 20 * time.Millisecond
			pm, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{UserID: "501"}, pmT0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if pm.LLMModel != tc.model || strings.Join(pm.LLMSections, ",") != strings.Join(tc.llmKeys, ",") || pm.DraftNote != tc.note {
				t.Errorf("model %q sections %v note %q; want %q %v %q", pm.LLMModel, pm.LLMSections, pm.DraftNote, tc.model, tc.llmKeys, tc.note)
			}
			if tc.model == "" && pm.Sections["summary"] != postmortem.TemplateSections(&postmortem.Record{Incident: e.inc, Groups: nil})["summary"] &&
				!strings.Contains(pm.Sections["summary"], "INC-1: **EU game server down**") {
				t.Errorf("fallback summary is not the template: %q", pm.Sections["summary"])
			}
			md, _, _ := e.pms.Markdown(e.ctx, e.inc.ID)
			if tc.inDoc != "" && !strings.Contains(md, tc.inDoc) {
				t.Errorf("document lacks %q:\n%s", tc.inDoc, md)
			}
			if tc.notInDoc != "" && strings.Contains(md, tc.notInDoc) {
				t.Errorf("document has %q", tc.notInDoc)
			}
			// Once a human edits an LLM section, it is no longer marked as LLM draft.
			if tc.model != "" {
				pm2, err := e.pms.Edit(e.ctx, pm.ID, "summary", "Human summary.", pm.Revision, bot.Actor{UserID: "501"}, pmT0.Add(2*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(pm2.LLMSections, ",") != "root_cause" {
					t.Errorf("LLM sections after edit = %v, want [root_cause]", pm2.LLMSections)
				}
			}
		})
	}
}

func TestDraftInputHasNoSensitiveData(t *testing.T) {
	e := newPMEnv(t)
	d := &fakeDrafter{draft: &postmortem.Draft{Model: "m", Sections: map[string]string{"summary": "s"}}}
	e.pms.Drafter = d
	if _, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{}, pmT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	in := d.got
	dump := strings.ToLower(strings.Join([]string{in.Title, in.Impact, strings.Join(in.ActionItems, " "), anyString(in.Timeline), anyString(in.Alerts), anyString(in.Template)}, "\n"))
	for _, secret := range []string{"eu-1.marola.internal", "203.0.113.77", "origin_ip", `"instance"`} {
		if strings.Contains(dump, secret) {
			t.Errorf("drafter input contains sensitive %q:\n%s", secret, dump)
		}
	}
	if !strings.Contains(dump, "crash-looping") || !strings.Contains(dump, postmortem.Redacted) {
		t.Errorf("the note's other text should be kept and the value redacted:\n%s", dump)
	}
	if in.Alerts[0].Labels["service"] != "game" {
		t.Errorf("non-sensitive labels should be sent: %v", in.Alerts[0].Labels)
	}
}

func anyString(v any) string { return strings.ReplaceAll(fmt.Sprintf("%+v", v), "\n", " ") }

func TestActionItemReminders(t *testing.T) {
	e := newPMEnv(t)
	created := pmT0.Add(24 * time.Hour)
	due := created.Add(3 * 24 * time.Hour)
	e.pms.Policy.RemindEvery = 24 * time.Hour
	a, err := e.pms.AddActionItem(e.ctx, e.inc.ID, "502", due, "Add a disk alert", bot.Actor{UserID: "501"}, created)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want string // substring of the one reminder expected, "" for none
	}{
		{"nothing early", created.Add(time.Hour), ""},
		{"a day before", due.Add(-24 * time.Hour), "is due " + string(bot.RefOpen) + "t:"},
		{"not twice", due.Add(-23 * time.Hour), ""},
		{"at the due time", due, "is due now"},
		{"overdue a day later", due.Add(24 * time.Hour), "Overdue action item #1"},
		{"after downtime: one, not a burst", due.Add(5 * 24 * time.Hour), "Overdue action item #1"},
		{"then quiet", due.Add(5*24*time.Hour + time.Hour), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.pms.Run(e.ctx, tc.at); err != nil {
				t.Fatal(err)
			}
			ms := e.queued(tc.at)
			defer e.sent(ms)
			var reminders []bot.Outgoing
			for _, m := range ms {
				if strings.HasPrefix(m.Ref, "action:") {
					reminders = append(reminders, m)
				}
			}
			switch {
			case tc.want == "" && len(reminders) > 0:
				t.Errorf("got %d reminders, want none: %q", len(reminders), reminders[0].Message.Content)
			case tc.want != "" && len(reminders) != 1:
				t.Fatalf("got %d reminders, want 1", len(reminders))
			case tc.want != "":
				m := reminders[0]
				if m.UserID != "502" || m.Kind != postmortem.KindReminder || !strings.Contains(m.Message.Content, tc.want) ||
					!strings.Contains(m.Message.Content, "Add a disk alert") {
					t.Errorf("reminder = %+v, want a DM to 502 containing %q", m, tc.want)
				}
			}
		})
	}
	if _, err := e.pms.CompleteActionItem(e.ctx, a.ID, bot.Actor{UserID: "502"}, due.Add(6*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	later := due.Add(30 * 24 * time.Hour)
	if err := e.pms.Run(e.ctx, later); err != nil {
		t.Fatal(err)
	}
	for _, m := range e.queued(later) {
		if strings.HasPrefix(m.Ref, "action:") {
			t.Errorf("reminder after done: %q", m.Message.Content)
		}
	}
	if _, err := e.pms.CompleteActionItem(e.ctx, a.ID, bot.Actor{}, later); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("done twice: %v, want EConflict", err)
	}
}

func TestDuePolicyRemindsCommanderUntilPublished(t *testing.T) {
	e := newPMEnv(t)
	e.pms.Policy.DueAfter = 5 * 24 * time.Hour
	resolved := e.inc.ResolvedAt
	due := resolved.Add(5 * 24 * time.Hour)
	run := func(at time.Time) []bot.Outgoing {
		t.Helper()
		if err := e.pms.Run(e.ctx, at); err != nil {
			t.Fatal(err)
		}
		ms := e.queued(at)
		e.sent(ms)
		var out []bot.Outgoing
		for _, m := range ms {
			if strings.HasPrefix(m.Ref, "due:") {
				out = append(out, m)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"right after resolution", resolved.Add(time.Hour), ""},
		{"two days before", due.Add(-48 * time.Hour), "is due " + string(bot.RefOpen) + "t:"},
		{"quiet in between", due.Add(-24 * time.Hour), ""},
		{"due", due, "**overdue**"},
		{"a day overdue", due.Add(24 * time.Hour), "/postmortem create"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(tc.at)
			if tc.want == "" {
				if len(got) != 0 {
					t.Errorf("got %q, want no reminder", got[0].Message.Content)
				}
				return
			}
			if len(got) != 1 || got[0].UserID != "501" || !strings.Contains(got[0].Message.Content, tc.want) {
				t.Fatalf("got %+v, want one DM to the commander containing %q", got, tc.want)
			}
		})
	}
	pm, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{UserID: "501"}, due.Add(25*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := run(due.Add(48 * time.Hour)); len(got) != 1 || !strings.Contains(got[0].Message.Content, "A draft exists") {
		t.Errorf("with a draft: %+v", got)
	}
	if _, err := e.pms.Publish(e.ctx, pm.ID, bot.Actor{UserID: "501"}, due.Add(49*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{due.Add(72 * time.Hour), due.Add(30 * 24 * time.Hour)} {
		if got := run(at); len(got) != 0 {
			t.Errorf("reminder after publication at %s: %q", at, got[0].Message.Content)
		}
	}
}

func TestDuePolicyOnlyForRequiredPriorities(t *testing.T) {
	e := newPMEnv(t)
	p3 := &bot.Incident{Title: "typo on the website", Priority: bot.P3, Status: bot.Closed, ThreadID: "7003", StartedAt: pmT0, DetectedAt: pmT0,
		ResolvedAt: pmT0.Add(time.Hour), CreatedBy: bot.Actor{UserID: "509"}}
	if err := e.db.Postmortem().Update(e.ctx, func(tx postmortem.Tx) error { return tx.SaveIncident(p3) }); err != nil {
		t.Fatal(err)
	}
	at := pmT0.Add(30 * 24 * time.Hour)
	e.pms.Policy.Require = []bot.Priority{bot.P0}
	if err := e.pms.Run(e.ctx, pmT0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_ = e.db.Postmortem().View(e.ctx, func(tx postmortem.Tx) error {
		if _, err := tx.PostmortemDueOf(p3.ID); bot.ErrorCode(err) != bot.ENotFound {
			t.Errorf("P3 incident got a due date: %v", err)
		}
		d, err := tx.PostmortemDueOf(e.inc.ID)
		if err != nil || !d.DueAt.Equal(e.inc.ResolvedAt.Add(5*24*time.Hour)) {
			t.Errorf("P0 due = %+v, %v", d, err)
		}
		return nil
	})
	_ = at
}

// fakeForum is a ForumPublisher that records posts and fails on demand.
type fakeForum struct {
	posts map[string]bot.Message
	fail  []error // returned by the next calls, in order
	calls int
}

func (f *fakeForum) next() error {
	f.calls++
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return err
	}
	return nil
}

func (f *fakeForum) CreateForumPost(_ context.Context, forumID, name string, m bot.Message) (string, error) {
	if err := f.next(); err != nil {
		return "", err
	}
	if f.posts == nil {
		f.posts = map[string]bot.Message{}
	}
	id := "thread-" + forumID
	f.posts[id] = m
	return id, nil
}

func (f *fakeForum) EditForumPost(_ context.Context, threadID string, m bot.Message) error {
	if err := f.next(); err != nil {
		return err
	}
	if _, ok := f.posts[threadID]; !ok {
		return &bot.SendError{Op: "edit", Status: 404, Code: 10008, Gone: true, MessageGone: true, Err: errors.New("unknown message")}
	}
	f.posts[threadID] = m
	return nil
}

func TestPublishJobRetriesUntilConfirmed(t *testing.T) {
	e := newPMEnv(t)
	forum := &fakeForum{}
	job := &postmortem.PublishJob{Postmortems: e.pms, Forum: forum}
	clock := bot.NewFakeClock(pmT0)
	queue := &bot.Engine{Store: e.db, Policy: &bot.Policy{}, Clock: clock, Senders: map[bot.ItemKind]bot.Sender{bot.ItemForum: job},
		Log: slog.New(slog.DiscardHandler)}
	run := func(at time.Time) {
		t.Helper()
		clock.Set(at)
		if err := job.Run(e.ctx, at); err != nil {
			t.Fatal(err)
		}
		if err := queue.Cycle(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	t1 := pmT0.Add(24 * time.Hour)
	pm, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{UserID: "501"}, t1)
	if err != nil {
		t.Fatal(err)
	}
	load := func() (*postmortem.Postmortem, *bot.Item) {
		var p *postmortem.Postmortem
		var item *bot.Item
		_ = e.db.Postmortem().View(e.ctx, func(tx postmortem.Tx) (err error) {
			if p, err = tx.Postmortem(pm.ID); err != nil {
				return err
			}
			live, err := tx.DueItems(t1.Add(1000*time.Hour), 100)
			if err != nil {
				return err
			}
			dead, err := tx.DeadItems(100)
			for _, it := range append(live, dead...) {
				if it.Kind == bot.ItemForum && it.Target == pm.ID {
					item = &it
				}
			}
			return err
		})
		return p, item
	}
	if run(t1); forum.calls != 0 {
		t.Fatalf("a draft must not be posted: calls %d", forum.calls)
	}
	if _, err := e.pms.Publish(e.ctx, pm.ID, bot.Actor{UserID: "501"}, t1); err != nil {
		t.Fatal(err)
	}
	forum.fail = []error{
		&bot.SendError{Op: "create", Paced: true, RetryAfter: 2 * time.Second},
		&bot.SendError{Op: "create", Status: 502, Temporary: true, Err: errors.New("bad gateway")},
	}
	steps := []struct {
		name     string
		at       time.Time
		calls    int
		thread   string
		dirty    bool
		attempts int // of the queue item; -1: no item
	}{
		{"paced: not sent, no attempt counted", t1, 1, "", true, 0},
		{"waits for the pacer", t1.Add(time.Second), 1, "", true, 0},
		{"5xx: Discord is down, the item keeps its place", t1.Add(2 * time.Second), 2, "", true, 1},
		{"still within the outage backoff", t1.Add(2*time.Second + bot.OutageBackoffMin/2), 2, "", true, 1},
		{"the probe after the backoff is confirmed", t1.Add(3 * time.Second), 3, "thread-900", false, -1},
		{"nothing to do", t1.Add(20 * time.Second), 3, "thread-900", false, -1},
	}
	for _, s := range steps {
		run(s.at)
		p, item := load()
		attempts := -1
		if item != nil {
			attempts = item.Attempts
		}
		if forum.calls != s.calls || p.ForumThreadID != s.thread || p.PublishDirty != s.dirty || attempts != s.attempts {
			t.Fatalf("%s: calls %d thread %q dirty %v attempts %d; want %d %q %v %d", s.name, forum.calls, p.ForumThreadID, p.PublishDirty,
				attempts, s.calls, s.thread, s.dirty, s.attempts)
		}
	}
	post := forum.posts["thread-900"]
	if len(post.Files) != 1 || post.Files[0].Name != "INC-1-postmortem.md" || !strings.Contains(string(post.Files[0].Data), "## Root cause analysis") {
		t.Errorf("forum post files = %+v", post.Files)
	}
	// An edit updates the post; a refusal is a dead letter, not retried
	// until requeued.
	t2 := t1.Add(time.Hour)
	cur, _ := load()
	if _, err := e.pms.Edit(e.ctx, pm.ID, "lessons_learned", "Alert on connections before they run out.", cur.Revision, bot.Actor{UserID: "502"}, t2); err != nil {
		t.Fatal(err)
	}
	forum.fail = []error{&bot.SendError{Op: "edit", Status: 403, Code: 50013, Err: errors.New("Missing Permissions")}}
	run(t2)
	if p, item := load(); !p.PublishDirty || !strings.Contains(p.PublishError, "50013") || item == nil || item.DeadAt.IsZero() {
		t.Errorf("after a refusal: %+v, item %+v", p, item)
	}
	calls := forum.calls
	if run(t2.Add(time.Hour)); forum.calls != calls {
		t.Errorf("a dead letter was retried by itself: %d calls, want %d", forum.calls, calls)
	}
	if err := e.db.Postmortem().Update(e.ctx, func(tx postmortem.Tx) error { _, err := tx.RequeueDead(t2.Add(time.Hour)); return err }); err != nil {
		t.Fatal(err)
	}
	run(t2.Add(time.Hour))
	if p, item := load(); p.PublishDirty || p.PublishError != "" || item != nil || !strings.Contains(string(forum.posts["thread-900"].Files[0].Data), "before they run out") {
		t.Errorf("after the requeue: dirty %v err %q item %+v", p.PublishDirty, p.PublishError, item)
	}
	// Action items change the document too.
	if _, err := e.pms.AddActionItem(e.ctx, e.inc.ID, "502", t2.Add(48*time.Hour), "Pool limits", bot.Actor{UserID: "501"}, t2.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p, _ := load(); !p.PublishDirty {
		t.Error("adding an action item did not mark the forum post for update")
	}
	// The post was deleted on Discord: it is created again.
	delete(forum.posts, "thread-900")
	run(t2.Add(2 * time.Hour))
	run(t2.Add(2 * time.Hour))
	if p, _ := load(); p.PublishDirty || p.ForumThreadID != "thread-900" || !strings.Contains(string(forum.posts["thread-900"].Files[0].Data), "Pool limits") {
		t.Errorf("after deletion: %+v", p)
	}
}

// TestPostmortemCreateMovesTheIncident: drafting the post-mortem of a
// resolved incident moves it to post-mortem (a timeline event, a new
// version for the pinned summary); a closed one stays closed.
func TestPostmortemCreateMovesTheIncident(t *testing.T) {
	tests := []struct {
		name       string
		from, want bot.IncidentStatus
		moved      bool
	}{
		{name: "resolved moves to post-mortem", from: bot.IncResolved, want: bot.PostMortem, moved: true},
		{name: "closed stays closed", from: bot.Closed, want: bot.Closed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPMEnv(t)
			var before *bot.Incident
			if err := e.db.Postmortem().Update(e.ctx, func(tx postmortem.Tx) (err error) {
				if before, err = tx.Incident(e.inc.ID); err != nil {
					return err
				}
				before.Status = tc.from
				return tx.SaveIncident(before)
			}); err != nil {
				t.Fatal(err)
			}
			at := pmT0.Add(24 * time.Hour)
			if _, err := e.pms.Create(e.ctx, e.inc.ID, bot.Actor{UserID: "501", Name: "ana"}, at); err != nil {
				t.Fatal(err)
			}
			var after *bot.Incident
			if err := e.db.Postmortem().View(e.ctx, func(tx postmortem.Tx) (err error) { after, err = tx.Incident(e.inc.ID); return err }); err != nil {
				t.Fatal(err)
			}
			if after.Status != tc.want {
				t.Errorf("status %s, want %s", after.Status, tc.want)
			}
			moved := slices.ContainsFunc(e.timeline(), func(ev bot.TimelineEvent) bool {
				return ev.Kind == "status changed" && ev.Ref == "status:post-mortem" && ev.At.Equal(at) && ev.Actor.UserID == "501"
			})
			if moved != tc.moved || (after.Version > before.Version) != tc.moved {
				t.Errorf("timeline event %v, version %d → %d; want moved %v", moved, before.Version, after.Version, tc.moved)
			}
			if tc.moved {
				if err := incident.CheckTransition(after.Ref(), after.Status, bot.Closed); err != nil {
					t.Errorf("post-mortem → closed: %v", err)
				}
				// The document's own timeline does not list the move.
				md, _, err := e.pms.Markdown(e.ctx, e.inc.ID)
				if err != nil || strings.Contains(md, "resolved → post-mortem") {
					t.Errorf("markdown lists the move (%v)", err)
				}
			}
		})
	}
}
