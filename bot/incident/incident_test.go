package incident_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

// fakeThreads records what the incident job asks of Discord.
type fakeThreads struct {
	mu       sync.Mutex
	n        int
	fail     error
	threads  map[string]string // thread id -> parent channel
	sent     map[string][]bot.Message
	buttons  map[string][][]bot.Button
	pinned   []string
	edits    int
	members  map[string][]string
	archived []string
}

func newFakeThreads() *fakeThreads {
	return &fakeThreads{threads: map[string]string{}, sent: map[string][]bot.Message{}, buttons: map[string][][]bot.Button{}, members: map[string][]string{}}
}

func (f *fakeThreads) id() string { f.n++; return fmt.Sprintf("9%03d", f.n) }

func (f *fakeThreads) StartThread(_ context.Context, channelID, messageID, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.threads[messageID] = channelID
	return messageID, nil
}

func (f *fakeThreads) CreateThread(_ context.Context, channelID, name string, m bot.Message) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", "", f.fail
	}
	id := f.id()
	f.threads[id] = channelID
	f.sent[channelID] = append(f.sent[channelID], m)
	return id, id, nil
}

func (f *fakeThreads) Send(_ context.Context, channelID string, m bot.Message, bs []bot.Button) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.sent[channelID] = append(f.sent[channelID], m)
	f.buttons[channelID] = append(f.buttons[channelID], bs)
	return f.id(), nil
}

func (f *fakeThreads) Edit(context.Context, string, string, bot.Message, []bot.Button) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.edits++
	return f.fail
}

func (f *fakeThreads) Pin(_ context.Context, _, messageID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pinned = append(f.pinned, messageID)
	return f.fail
}

func (f *fakeThreads) AddMember(_ context.Context, threadID, userID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[threadID] = append(f.members[threadID], userID)
	return f.fail
}

func (f *fakeThreads) Archive(_ context.Context, threadID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.archived = append(f.archived, threadID)
	return f.fail
}

func (f *fakeThreads) texts(channelID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, m := range f.sent[channelID] {
		b.WriteString(m.Content + " " + m.Title + " " + m.Description + "\n")
	}
	return b.String()
}

type incFixture struct {
	db      *store.DB
	pg      *paging.Service
	pol     *bot.Policy
	inc     *incident.Service
	threads *fakeThreads
	engine  *bot.Engine
	clock   *bot.FakeClock
}

func newIncidents(t *testing.T, path string, tune func(*incident.Policy)) *incFixture {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "k.db")
	}
	db := bottest.OpenDB(t, path)
	t.Cleanup(func() { db.Close() })
	pg, pol := bottest.NewPaging(t, db)
	ip := incident.DefaultPolicy()
	ip.ChannelID, ip.StatusChannelID = "300", "301"
	if tune != nil {
		tune(&ip)
	}
	th := newFakeThreads()
	inc := &incident.Service{Store: db.Incident(), Policy: ip, Alerts: pol, Threads: th}
	pol.OnGroupChange = append(pol.OnGroupChange, inc.OnGroupChange)
	clock := bot.NewFakeClock(bottest.T0)
	// The outbound queue, without the card path: thread work and thread messages.
	e := &bot.Engine{Store: db, Policy: pol, Clock: clock, Threads: th, Senders: map[bot.ItemKind]bot.Sender{bot.ItemIncident: inc},
		Hooks: map[string]bot.SentHook{"triage": inc.ReportSent}, Log: slog.New(slog.DiscardHandler)}
	return &incFixture{db: db, pg: pg, pol: pol, inc: inc, threads: th, engine: e, clock: clock}
}

func (f *incFixture) get(t *testing.T, id int64) (*bot.Incident, *incident.State, []bot.TimelineEvent) {
	t.Helper()
	var inc *bot.Incident
	var st *incident.State
	var tl []bot.TimelineEvent
	err := f.db.Incident().View(context.Background(), func(tx incident.Tx) (err error) {
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		if st, err = tx.IncidentState(id); err != nil {
			return err
		}
		tl, err = tx.Timeline(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return inc, st, tl
}

func (f *incFixture) run(t *testing.T, now time.Time) {
	t.Helper()
	if err := f.inc.Run(context.Background(), now); err != nil {
		t.Fatalf("job at %s: %v", now, err)
	}
	f.clock.Set(now)
	if err := f.engine.Cycle(context.Background()); err != nil {
		t.Fatalf("queue at %s: %v", now, err)
	}
}

func kinds(tl []bot.TimelineEvent) []string {
	var out []string
	for _, e := range tl {
		out = append(out, e.Kind)
	}
	return out
}

func hasKind(tl []bot.TimelineEvent, kind string) bool {
	for _, e := range tl {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

func TestIncidentTransitions(t *testing.T) {
	cases := []struct {
		name     string
		from, to bot.IncidentStatus
		ok       bool
		says     string
	}{
		{"detected to investigating", bot.Detected, bot.Investigating, true, ""},
		{"skip to resolved", bot.Investigating, bot.IncResolved, true, ""},
		{"mitigation did not hold", bot.Mitigated, bot.Investigating, true, ""},
		{"reopen", bot.IncResolved, bot.Investigating, true, ""},
		{"post-mortem after resolution", bot.IncResolved, bot.PostMortem, true, ""},
		{"same status", bot.Mitigated, bot.Mitigated, false, "already mitigated"},
		{"back to detected", bot.Investigating, bot.Detected, false, "**mitigated** or **resolved**"},
		{"post-mortem while open", bot.Investigating, bot.PostMortem, false, "from investigating it can go to"},
		{"closed is final", bot.Closed, bot.Investigating, false, "cannot change any more"},
		{"post-mortem back to resolved", bot.PostMortem, bot.IncResolved, false, "**closed**"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := incident.CheckTransition("INC-1", c.from, c.to)
			if (err == nil) != c.ok {
				t.Fatalf("got %v, want ok=%v", err, c.ok)
			}
			if err != nil && !strings.Contains(bot.ErrorMessage(err), c.says) {
				t.Errorf("message %q does not say %q", bot.ErrorMessage(err), c.says)
			}
		})
	}
}

func TestParseIncidentRefAndStatus(t *testing.T) {
	for in, want := range map[string]int64{"INC-42": 42, "inc42": 42, "#7": 7, "12": 12, "3 · P1 · Lag": 3} {
		if got, err := incident.ParseRef(in); err != nil || got != want {
			t.Errorf("ParseIncidentRef(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "INC-", "the lag one", "0"} {
		if _, err := incident.ParseRef(bad); bot.ErrorCode(err) != bot.EInvalid {
			t.Errorf("ParseIncidentRef(%q) = %v, want EInvalid", bad, err)
		}
	}
	if s, err := incident.ParseStatus("Post Mortem"); err != nil || s != bot.PostMortem {
		t.Errorf("ParseIncidentStatus = %q, %v", s, err)
	}
}

func TestAutoOpen(t *testing.T) {
	cases := []struct {
		name     string
		severity string
		autoOpen [4]bool
		want     bool
	}{
		{"P0 opens by default", "critical", [4]bool{true, true}, true},
		{"P1 opens by default", "error", [4]bool{true, true}, true},
		{"P2 does not by default", "warning", [4]bool{true, true}, false},
		{"P2 opens when configured", "warning", [4]bool{false, false, true}, true},
		{"P0 does not when turned off", "critical", [4]bool{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newIncidents(t, "", func(p *incident.Policy) { p.AutoOpen = c.autoOpen })
			n := bottest.P0("{}:{alertname=\"Down\"}")
			n.CommonLabels["severity"] = c.severity
			n.Alerts[0].Labels["severity"] = c.severity
			res, err := bot.Ingest(context.Background(), f.db, f.pol, n, bottest.T0)
			if err != nil {
				t.Fatal(err)
			}
			var inc *bot.Incident
			err = f.db.Incident().View(context.Background(), func(tx incident.Tx) (err error) { inc, err = tx.IncidentOfGroup(res.GroupID); return err })
			if got := err == nil; got != c.want {
				t.Fatalf("incident opened = %v (%v), want %v", got, err, c.want)
			}
			if !c.want {
				return
			}
			_, st, tl := f.get(t, inc.ID)
			if inc.Status != bot.Detected || st.PostID == 0 || inc.ChannelID != f.pol.Routes[inc.Priority].ChannelID {
				t.Errorf("incident = %+v, state %+v: want detected, on the alert card", inc, st)
			}
			if !hasKind(tl, "declared") || !hasKind(tl, "alert fired") {
				t.Errorf("timeline = %v", kinds(tl))
			}
		})
	}
}

// TestIncidentOnCard: the thread starts on the alert card once the card is
// on Discord; the summary is pinned; queued messages follow; the alert's
// acknowledgement and resolution land on the timeline.
func TestIncidentOnCard(t *testing.T) {
	ctx := context.Background()
	f := newIncidents(t, "", nil)
	res, err := bot.Ingest(ctx, f.db, f.pol, bottest.P0("k1"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	var inc *bot.Incident
	var card *bot.Post
	_ = f.db.Incident().View(ctx, func(tx incident.Tx) error {
		inc, _ = tx.IncidentOfGroup(res.GroupID)
		ps, _ := tx.PostsOfGroup(res.GroupID)
		card = &ps[0]
		return nil
	})
	f.run(t, bottest.T0.Add(time.Second))
	if got, _, _ := f.get(t, inc.ID); got.ThreadID != "" {
		t.Fatalf("thread created before the card exists: %s", got.ThreadID)
	}
	// The engine delivers the card.
	if err := f.db.Update(ctx, func(tx bot.Tx) error { card.MessageID = "777"; return tx.UpdatePost(card) }); err != nil {
		t.Fatal(err)
	}
	f.run(t, bottest.T0.Add(2*time.Second))
	got, st, _ := f.get(t, inc.ID)
	if got.ThreadID != "777" || f.threads.threads["777"] != card.ChannelID {
		t.Fatalf("thread = %q on %v, want on card message 777", got.ThreadID, f.threads.threads)
	}
	if got.SummaryID == "" || len(f.threads.pinned) != 1 || f.threads.pinned[0] != got.SummaryID || st.SummaryVersion != got.Version {
		t.Errorf("summary %q pinned %v version %d/%d", got.SummaryID, f.threads.pinned, st.SummaryVersion, got.Version)
	}
	if !strings.Contains(f.threads.texts("777"), inc.Ref()) {
		t.Errorf("thread has no summary: %s", f.threads.texts("777"))
	}

	// Acknowledge the alert: the job copies it to the timeline, the incident is acknowledged.
	if _, err := f.pg.Acknowledge(ctx, res.GroupID, bot.Actor{UserID: "501", Via: "button"}, bottest.T0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.run(t, bottest.T0.Add(3*time.Minute+time.Second))
	got, _, tl := f.get(t, inc.ID)
	if got.Status != bot.Investigating || !got.AckedAt.Equal(bottest.T0.Add(3*time.Minute)) || !hasKind(tl, "acknowledged") {
		t.Errorf("after ack: status %s acked %s timeline %v", got.Status, got.AckedAt, kinds(tl))
	}
	if f.threads.edits == 0 {
		t.Errorf("summary not edited after the acknowledgement")
	}
	if m := f.threads.members["777"]; len(m) != 1 || m[0] != "501" {
		t.Errorf("thread members = %v, want the person who acknowledged", m)
	}
	// Running the job again copies nothing twice.
	f.run(t, bottest.T0.Add(4*time.Minute))
	_, _, tl2 := f.get(t, inc.ID)
	if len(tl2) != len(tl) {
		t.Errorf("timeline grew from %d to %d on a quiet cycle: %v", len(tl), len(tl2), kinds(tl2))
	}

	// Alertmanager resolves it.
	n := bottest.P0("k1")
	n.Alerts[0].Status, n.Alerts[0].EndsAt = bot.Resolved, bottest.T0.Add(5*time.Minute)
	if _, err := bot.Ingest(ctx, f.db, f.pol, n, bottest.T0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.run(t, bottest.T0.Add(5*time.Minute+time.Second))
	_, _, tl = f.get(t, inc.ID)
	if !hasKind(tl, "alert resolved") || !strings.Contains(f.threads.texts("777"), "Every alert linked") {
		t.Errorf("resolution not recorded: %v\n%s", kinds(tl), f.threads.texts("777"))
	}
}

func TestDeclareAssignUpdateResolve(t *testing.T) {
	ctx := context.Background()
	f := newIncidents(t, "", nil)
	lead := bot.Actor{UserID: "600", Name: "lead", Via: "command"}
	inc, err := f.inc.Declare(ctx, incident.Declaration{Title: "Players lag on EU-1", Priority: bot.P1, Source: "command"}, lead, bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.inc.Declare(ctx, incident.Declaration{Title: "  ", Priority: bot.P1}, lead, bottest.T0); bot.ErrorCode(err) != bot.EInvalid {
		t.Errorf("empty title: %v", err)
	}
	f.run(t, bottest.T0.Add(time.Second))
	got, _, _ := f.get(t, inc.ID)
	if got.ThreadID == "" || f.threads.threads[got.ThreadID] != "300" {
		t.Fatalf("thread %q not in the incidents channel: %v", got.ThreadID, f.threads.threads)
	}
	if _, err := f.inc.Assign(ctx, inc.ID, "janitor", "601", lead, bottest.T0.Add(time.Minute)); bot.ErrorCode(err) != bot.EInvalid ||
		!strings.Contains(bot.ErrorMessage(err), "commander, communications, scribe") {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := f.inc.Assign(ctx, inc.ID, "Commander", "601", lead, bottest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _, _ = f.get(t, inc.ID)
	if got.Status != bot.Investigating || got.Roles["commander"] != "601" || !got.AckedAt.Equal(bottest.T0.Add(time.Minute)) {
		t.Errorf("after commander: %+v", got)
	}
	// The DM with the instructions is queued.
	var dms []bot.Outgoing
	_ = f.db.View(ctx, func(tx bot.Tx) (err error) {
		dms, err = bottest.DueMessages(tx, bottest.T0.Add(time.Hour), 100)
		return err
	})
	foundDM := false
	for _, m := range dms {
		if m.UserID == "601" && m.Kind == "incident-role" && strings.Contains(m.Message.Description, "lead the response") {
			foundDM = true
		}
	}
	if !foundDM {
		t.Errorf("no role DM queued: %+v", dms)
	}
	if _, err := f.inc.PostUpdate(ctx, inc.ID, "Restarted the proxy; watching.", lead, bottest.T0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	statusPosts := 0
	_ = f.db.View(ctx, func(tx bot.Tx) error {
		ms, _ := bottest.DueMessages(tx, bottest.T0.Add(time.Hour), 100)
		for _, m := range ms {
			if m.ChannelID == "301" && strings.Contains(m.Message.Description, "Restarted the proxy") {
				statusPosts++
			}
		}
		return nil
	})
	if statusPosts != 1 {
		t.Errorf("status channel got %d updates, want 1", statusPosts)
	}
	if _, err := f.inc.SetStatus(ctx, inc.ID, bot.PostMortem, "", lead, bottest.T0.Add(3*time.Minute)); bot.ErrorCode(err) != bot.EConflict ||
		!strings.Contains(bot.ErrorMessage(err), "**mitigated** or **resolved**") {
		t.Errorf("investigating → post-mortem: %v", err)
	}
	if _, err := f.inc.SetStatus(ctx, inc.ID, bot.Mitigated, "proxy restarted", lead, bottest.T0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.inc.SetStatus(ctx, inc.ID, bot.IncResolved, "root cause fixed", lead, bottest.T0.Add(40*time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.run(t, bottest.T0.Add(41*time.Minute))
	got, _, tl := f.get(t, inc.ID)
	th := f.threads.texts(got.ThreadID)
	for _, want := range []string{"is now **commander**", "Update · INC-1", "mitigated", "INC-1 resolved"} {
		if !strings.Contains(th, want) {
			t.Errorf("thread lacks %q:\n%s", want, th)
		}
	}
	for _, want := range []string{"declared", "role assigned", "status update", "status changed", "resolved"} {
		if !hasKind(tl, want) {
			t.Errorf("timeline lacks %q: %v", want, kinds(tl))
		}
	}
	// Measures are stored.
	var ms []incident.Measure
	_ = f.db.Incident().View(ctx, func(tx incident.Tx) (err error) {
		ms, err = tx.IncidentMeasures(bottest.T0.Add(-time.Hour), bottest.T0.Add(time.Hour))
		return err
	})
	if len(ms) != 1 || ms[0].TimeToAck != time.Minute || ms[0].TimeToMitigate != 10*time.Minute || ms[0].TimeToResolve != 40*time.Minute {
		t.Fatalf("measures = %+v", ms)
	}
	means := incident.MeanTimes(ms)
	if means[bot.P1].MTTA != time.Minute || means[bot.P1].MTTR != 40*time.Minute || means[bot.P0].Incidents != 0 {
		t.Errorf("means = %+v", means)
	}
	// Archive after 24h, once.
	f.run(t, bottest.T0.Add(40*time.Minute+23*time.Hour))
	if len(f.threads.archived) != 0 {
		t.Errorf("archived too early")
	}
	f.run(t, bottest.T0.Add(40*time.Minute+24*time.Hour))
	f.run(t, bottest.T0.Add(40*time.Minute+25*time.Hour))
	if len(f.threads.archived) != 1 || f.threads.archived[0] != got.ThreadID {
		t.Errorf("archived = %v, want the thread once", f.threads.archived)
	}
}

// TestReminders drives the job with a fake clock: status-update reminders
// per priority with snooze, the commander reminder, and the mitigated nudge.
func TestReminders(t *testing.T) {
	ctx := context.Background()
	f := newIncidents(t, "", nil)
	clock := bot.NewFakeClock(bottest.T0)
	lead := bot.Actor{UserID: "600", Via: "command"}
	inc, err := f.inc.Declare(ctx, incident.Declaration{Title: "Login broken", Priority: bot.P0}, lead, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) string {
		clock.Advance(d)
		f.run(t, clock.Now())
		got, _, _ := f.get(t, inc.ID)
		return f.threads.texts(got.ThreadID)
	}
	count := func(s, sub string) int { return strings.Count(s, sub) }
	th := step(time.Second)
	if count(th, "no commander") != 0 || count(th, "No status update") != 0 {
		t.Fatalf("reminders at once:\n%s", th)
	}
	th = step(10 * time.Minute)
	if count(th, "no commander") != 1 {
		t.Errorf("commander reminder after 10m: %d\n%s", count(th, "no commander"), th)
	}
	th = step(20 * time.Minute) // 30m after detection
	if count(th, "No status update") != 1 || count(th, "no commander") != 2 {
		t.Errorf("after 30m: %d update reminders, %d commander reminders; want 1 and 2 (every 10m)", count(th, "No status update"), count(th, "no commander"))
	}
	got, _, _ := f.get(t, inc.ID)
	bs := f.threads.buttons[got.ThreadID]
	last := bs[len(bs)-1]
	if len(last) != 3 || !strings.HasPrefix(last[1].CustomID, "incsnz:") {
		t.Errorf("reminder buttons = %+v", last)
	}
	// Snooze 2h: nothing at +30m, +1h; the reminder is back after 2h.
	if _, err := f.inc.Snooze(ctx, inc.ID, 2*time.Hour, lead, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.inc.Assign(ctx, inc.ID, "commander", "601", lead, clock.Now()); err != nil {
		t.Fatal(err)
	}
	step(30 * time.Minute)
	th = step(30 * time.Minute)
	if n := count(th, "No status update"); n != 1 {
		t.Errorf("snoozed: %d reminders, want still 1", n)
	}
	th = step(61 * time.Minute)
	if n := count(th, "No status update"); n != 2 {
		t.Errorf("after the snooze: %d reminders, want 2", n)
	}
	// An update resets the clock.
	if _, err := f.inc.PostUpdate(ctx, inc.ID, "DB failover in progress", lead, clock.Now()); err != nil {
		t.Fatal(err)
	}
	th = step(29 * time.Minute)
	if n := count(th, "No status update"); n != 2 {
		t.Errorf("29m after an update: %d reminders, want 2", n)
	}
	// Mitigated: no update reminders; a nudge a day later.
	if _, err := f.inc.SetStatus(ctx, inc.ID, bot.Mitigated, "", lead, clock.Now()); err != nil {
		t.Fatal(err)
	}
	th = step(23 * time.Hour)
	if count(th, "No status update") != 2 || count(th, "has been mitigated") != 0 {
		t.Errorf("mitigated, 23h: %s", th)
	}
	th = step(time.Hour)
	if count(th, "has been mitigated") != 1 {
		t.Errorf("no nudge after 24h mitigated:\n%s", th)
	}
	if count(th, "no commander") != 2 {
		t.Errorf("commander reminders = %d after one was assigned, want still 2", count(th, "no commander"))
	}
}

// TestIncidentRestart: the thread cannot be created while Discord refuses;
// Klaxon restarts on the same database and the job finishes the work.
func TestIncidentRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	f := newIncidents(t, path, nil)
	f.threads.fail = &bot.SendError{Op: "create thread", Temporary: true, Err: fmt.Errorf("502")}
	inc, err := f.inc.Declare(ctx, incident.Declaration{Title: "Payments down", Priority: bot.P0}, bot.Actor{UserID: "600"}, bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.inc.PostUpdate(ctx, inc.ID, "Looking into it", bot.Actor{UserID: "600"}, bottest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.run(t, bottest.T0.Add(2*time.Minute))
	f.db.Close()

	g := newIncidents(t, path, nil)
	g.run(t, bottest.T0.Add(3*time.Minute))
	got, _, tl := g.get(t, inc.ID)
	if got.ThreadID == "" || got.SummaryID == "" {
		t.Fatalf("after restart: thread %q summary %q", got.ThreadID, got.SummaryID)
	}
	if !strings.Contains(g.threads.texts(got.ThreadID), "Looking into it") {
		t.Errorf("the update queued before the restart was lost:\n%s", g.threads.texts(got.ThreadID))
	}
	if !hasKind(tl, "status update") || g.threads.members[got.ThreadID][0] != "600" {
		t.Errorf("timeline %v members %v", kinds(tl), g.threads.members)
	}
}

func TestReportsAndTimelineMessages(t *testing.T) {
	ctx := context.Background()
	f := newIncidents(t, "", func(p *incident.Policy) { p.TriageChannelID = "302" })
	player := bot.Actor{UserID: "700", Name: "player"}
	staff := bot.Actor{UserID: "600", Name: "staff"}
	r1, err := f.inc.Report(ctx, "Server lags since 20:00", "55", player, bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	f.run(t, bottest.T0.Add(time.Second))
	if !strings.Contains(f.threads.texts("302"), "Server lags") {
		t.Fatalf("no triage message: %v", f.threads.sent)
	}
	_, inc, err := f.inc.DeclareFromReport(ctx, r1.ID, bot.P2, staff, bottest.T0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.inc.DismissReport(ctx, r1.ID, staff, bottest.T0.Add(2*time.Minute)); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("dismissing a declared report: %v", err)
	}
	r2, _ := f.inc.Report(ctx, "Can't log in", "55", player, bottest.T0.Add(3*time.Minute))
	if _, _, err := f.inc.LinkReport(ctx, r2.ID, inc.ID, staff, bottest.T0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.run(t, bottest.T0.Add(5*time.Minute))
	var rep *incident.UserReport
	_ = f.db.Incident().View(ctx, func(tx incident.Tx) (err error) { rep, err = tx.Report(r1.ID); return err })
	if rep.Status != incident.ReportDeclared || rep.MessageID == "" || rep.IncidentID != inc.ID {
		t.Errorf("report = %+v", rep)
	}
	pm := incident.PinnedMessage{Link: "https://discord.com/channels/1/2/3", AuthorID: "700", Content: "it's the DB"}
	if _, err := f.inc.AddMessage(ctx, inc.ID, pm, staff, bottest.T0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.inc.AddMessage(ctx, inc.ID, pm, staff, bottest.T0.Add(7*time.Minute)); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("pinning twice: %v", err)
	}
	_, _, tl := f.get(t, inc.ID)
	reports, pins := 0, 0
	for _, e := range tl {
		switch e.Kind {
		case "user report":
			reports++
		case "pinned message":
			pins++
		}
	}
	if reports != 2 || pins != 1 {
		t.Errorf("timeline: %d reports, %d pins: %v", reports, pins, kinds(tl))
	}
}
