package handlers_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/postmortem"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/runbooks"
	"github.com/marola-rp/klaxon/store"
)

// fakeSilencer records the silences it was asked for.
type fakeSilencer struct {
	mu      sync.Mutex
	created []map[string]string
}

func (f *fakeSilencer) CreateSilence(_ context.Context, m map[string]string, _, _ time.Time, _, _ string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, m)
	return fmt.Sprintf("sil-%d", len(f.created)), nil
}

func (f *fakeSilencer) ExpireSilence(context.Context, string) error { return nil }

func (f *fakeSilencer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.created)
}

// forgedEnv serves every interaction handler over the real HTTP endpoint
// (signed by the fake Discord, JSON round trip) on a real SQLite database.
type forgedEnv struct {
	t         *testing.T
	discord   *discordtest.Server
	priv      ed25519.PrivateKey
	guild     string
	staff     string
	endpoint  string
	db        *store.DB
	clock     *bot.FakeClock
	pol       *bot.Policy
	pg        *paging.Service
	silencer  *fakeSilencer
	channel   string // the alert channel
	threadA   string // INC A's thread (open incident)
	threadB   string // INC B's thread (resolved, with a post-mortem)
	user      string
	card      string // a message in channel, for component clicks
	gid       int64  // a firing P2 group
	incA      *bot.Incident
	incB      *bot.Incident
	checkA    *incident.Checklist
	checkB    *incident.Checklist
	pm        *postmortem.Postmortem
	incidents *incident.Service
	pms       *postmortem.Service
}

func newForgedEnv(t *testing.T) *forgedEnv {
	t.Helper()
	ctx := context.Background()
	e := &forgedEnv{t: t, discord: discordtest.New(discordtest.Options{}), clock: bot.NewFakeClock(time.Now().UTC().Truncate(time.Second)),
		silencer: &fakeSilencer{}}
	t.Cleanup(e.discord.Close)
	t.Cleanup(func() {
		for _, v := range e.discord.Violations() {
			t.Errorf("fake Discord: %v", v)
		}
	})
	pub, priv, _ := ed25519.GenerateKey(nil)
	e.priv = priv
	g := e.discord.AddGuild("marola")
	e.channel = e.discord.AddChannel(g, "alerts", discordgo.ChannelTypeGuildText)
	e.threadA = e.discord.AddChannel(g, "inc-a", discordgo.ChannelTypeGuildPublicThread)
	e.threadB = e.discord.AddChannel(g, "inc-b", discordgo.ChannelTypeGuildPublicThread)
	e.user = e.discord.AddUser("anna")
	e.staff = e.discord.AddRole(g, "staff")
	e.guild = g
	e.discord.AddMember(g, e.user, e.staff)
	s, err := e.discord.NewSession("token")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.ChannelMessageSend(e.channel, "card")
	if err != nil {
		t.Fatal(err)
	}
	e.card = m.ID

	e.db, err = store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.pol = &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range e.pol.Routes {
		e.pol.Routes[i] = bot.Route{ChannelID: e.channel, AckWithin: bot.Priority(i).DefaultAckDeadline()}
	}
	e.pg = &paging.Service{Store: e.db.Paging(), Policy: e.pol, Log: slog.New(slog.DiscardHandler)}
	e.pol.OnGroupChange = []bot.GroupHook{e.pg.OnGroupChange}
	labels := map[string]string{"alertname": "HighCPU", "service": "game", "severity": "warning"}
	res, err := bot.Ingest(ctx, e.db, e.pol, bot.Notification{GroupKey: "cpu", Receiver: "klaxon", GroupLabels: map[string]string{"alertname": "HighCPU"},
		CommonLabels: labels, Alerts: []bot.Alert{{Fingerprint: "f1", Status: bot.Firing, Labels: labels, StartsAt: e.clock.Now()}}}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.gid = res.GroupID

	anna := bot.Actor{UserID: e.user, Name: "anna"}
	e.incidents = &incident.Service{Store: e.db.Incident()}
	if e.incA, err = e.incidents.Declare(ctx, incident.Declaration{Title: "Login queue stuck", Priority: bot.P1, Source: "command"}, anna, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.incB = &bot.Incident{Title: "EU down", Priority: bot.P0, Status: bot.IncResolved, Roles: map[string]string{}, ThreadID: e.threadB,
		CreatedBy: anna, StartedAt: e.clock.Now().Add(-time.Hour), DetectedAt: e.clock.Now().Add(-time.Hour), ResolvedAt: e.clock.Now()}
	err = e.db.Incident().Update(ctx, func(tx incident.Tx) error {
		inc, err := tx.Incident(e.incA.ID)
		if err != nil {
			return err
		}
		inc.ThreadID = e.threadA
		e.incA = inc
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		return tx.SaveIncident(e.incB)
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{"Check the node", "Restart it"}
	if e.checkA, err = incident.StartChecklist(ctx, e.db.Incident(), e.incA.ID, "service-down", "Service Down", steps, e.threadA, anna, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if e.checkB, err = incident.StartChecklist(ctx, e.db.Incident(), e.incB.ID, "service-down", "Service Down", steps, e.threadB, anna, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.pms = &postmortem.Service{Store: e.db.Postmortem()}
	if e.pm, err = e.pms.Create(ctx, e.incB.ID, anna, e.clock.Now()); err != nil {
		t.Fatal(err)
	}

	lib, errs := runbooks.NewLibrary("")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	gate := &handlers.Gate{Access: &handlers.Access{GuildID: e.guild, Staff: []string{e.staff}}}
	x := &handlers.Interactions{PublicKey: pub, Seen: e.db, Deadline: time.Minute, Gate: gate}
	(&handlers.Alerts{Paging: e.pg, Silences: &paging.Silences{Silencer: e.silencer, Paging: e.pg, Classifier: e.pol.Classifier}, Clock: e.clock, Gate: gate,
		Log: slog.New(slog.DiscardHandler)}).Register(x)
	(&handlers.Incidents{Incidents: e.incidents, Triage: e.incidents, Clock: e.clock}).Register(x)
	(&handlers.Postmortems{Core: e.pms, Clock: e.clock}).Register(x)
	(&handlers.Runbooks{Library: lib, Checklists: &incident.Checklists{Store: e.db.Incident()}, Clock: e.clock}).Register(x)
	srv := httptest.NewServer(x)
	t.Cleanup(srv.Close)
	e.endpoint = srv.URL
	return e
}

// answer is the interaction callback Klaxon answered with.
type answer struct {
	Type int `json:"type"`
	Data struct {
		Content string `json:"content"`
		Flags   int    `json:"flags"`
	} `json:"data"`
}

func (a answer) ephemeral() bool { return a.Data.Flags&int(discordgo.MessageFlagsEphemeral) != 0 }

func (e *forgedEnv) post(i discordgo.Interaction) answer {
	e.t.Helper()
	_, resp, body, err := e.discord.PostInteraction(context.Background(), e.endpoint, e.priv, i)
	if err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("interaction: %v %v %s", err, resp, body)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		e.t.Fatalf("answer %s: %v", body, err)
	}
	return a
}

func (e *forgedEnv) click(channel, customID string) answer {
	e.t.Helper()
	return e.post(e.discord.ButtonClick(channel, e.card, e.user, customID))
}

func (e *forgedEnv) modal(channel, customID string, fields map[string]string) answer {
	e.t.Helper()
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	return e.post(e.discord.ModalSubmit(channel, e.user, customID, keys, fields))
}

// refused asserts an ephemeral refusal containing want.
func refused(t *testing.T, a answer, want string) {
	t.Helper()
	if !a.ephemeral() || !strings.Contains(a.Data.Content, "⚠️") || !strings.Contains(a.Data.Content, want) {
		t.Errorf("answer %+v, want an ephemeral refusal containing %q", a, want)
	}
}

func (e *forgedEnv) group() *bot.Group {
	e.t.Helper()
	var g *bot.Group
	if err := e.db.View(context.Background(), func(tx bot.Tx) (err error) { g, err = tx.Group(e.gid); return err }); err != nil {
		e.t.Fatal(err)
	}
	return g
}

// TestForgedCustomIDs sends controls Klaxon never made: every one is refused
// with an ephemeral message, and nothing changes.
func TestForgedCustomIDs(t *testing.T) {
	e := newForgedEnv(t)
	gid := fmt.Sprint(e.gid)
	inc := fmt.Sprint(e.incA.ID)
	for _, tc := range []struct {
		name, customID, want string
	}{
		{"silence for 10 years", "sild:" + gid + ":87600h", "not a silence duration"},
		{"silence for 2^63 ns", "sild:" + gid + ":2562047h47m16.854775807s", "not a silence duration"},
		{"silence in days overflowing int64", "sild:" + gid + ":106751991167301d", "not a silence duration"},
		{"negative silence", "sild:" + gid + ":-1h", "not a silence duration"},
		{"zero silence", "sild:" + gid + ":0s", "not a silence duration"},
		{"silence under a minute", "sild:" + gid + ":59s", "not a silence duration"},
		{"non-numeric silence", "sild:" + gid + ":forever", "not a silence duration"},
		{"silence of a non-numeric group", "sild:abc:1h", "malformed"},
		{"silence with an extra field", "sild:" + gid + ":1h:x", "malformed"},
		{"ack with a sign", "ack:+" + gid, "malformed"},
		{"ack with a leading zero", "ack:0" + gid, "malformed"},
		{"ack with a trailing field", "ack:" + gid + ":1", "malformed"},
		{"ack of a negative id", "ack:-" + gid, "malformed"},
		{"ack of an id beyond int64", "ack:99999999999999999999", "malformed"},
		{"ack of nothing", "ack:", "malformed"},
		{"ack in hex", "ack:0x1", "malformed"},
		{"resolve with spaces", "resolve: " + gid, "malformed"},
		{"snooze for 25h", "incsnz:" + inc + ":25h", "not a snooze"},
		{"snooze for a year", "incsnz:" + inc + ":8760h", "not a snooze"},
		{"negative snooze", "incsnz:" + inc + ":-30m", "not a snooze"},
		{"non-numeric snooze", "incsnz:" + inc + ":later", "not a snooze"},
		{"snooze of a non-numeric incident", "incsnz:INC-1:30m", "malformed"},
		{"commander of incident 1.5", "inccmd:1.5", "malformed"},
		{"checklist step 0", fmt.Sprintf("rbstep:%d:0", e.checkA.ID), "malformed"},
		{"checklist step -1", fmt.Sprintf("rbstep:%d:-1", e.checkA.ID), "malformed"},
		{"checklist step beyond any checklist", fmt.Sprintf("rbstep:%d:999999999999", e.checkA.ID), "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			channel := e.channel
			if strings.HasPrefix(tc.customID, "rbstep:") {
				channel = e.threadA
			}
			refused(t, e.click(channel, tc.customID), tc.want)
		})
	}
	if n := e.silencer.count(); n != 0 {
		t.Errorf("%d silences created by forged buttons", n)
	}
	if g := e.group(); g.Ack != nil || g.Silence != nil || g.Status != bot.Firing {
		t.Errorf("group changed by forged buttons: ack %+v silence %+v status %s", g.Ack, g.Silence, g.Status)
	}
	var st *incident.State
	if err := e.db.Incident().View(context.Background(), func(tx incident.Tx) (err error) { st, err = tx.IncidentState(e.incA.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if !st.SnoozedUntil.IsZero() {
		t.Errorf("incident snoozed until %s by a forged button", st.SnoozedUntil)
	}

	// The controls Klaxon does make still work.
	if a := e.click(e.channel, "sild:"+gid+":1h0m0s"); !strings.Contains(a.Data.Content, "silenced in Alertmanager") {
		t.Errorf("real silence button: %+v", a)
	}
	if a := e.click(e.threadA, "incsnz:"+inc+":30m"); !strings.Contains(a.Data.Content, "snoozed") {
		t.Errorf("real snooze button: %+v", a)
	}
}

// TestSilenceDurationSameOnEveryPath: the button, the custom modal and
// /silence accept and refuse exactly the same durations.
func TestSilenceDurationSameOnEveryPath(t *testing.T) {
	e := newForgedEnv(t)
	gid := fmt.Sprint(e.gid)
	for _, d := range []string{"1m", "59s", "1h0m0s", "720h", "720h0m1s", "30d", "31d", "-1d", "0d", "1.5h", "1e3h", "9999999999999999999d"} {
		t.Run(d, func(t *testing.T) {
			button := e.click(e.channel, "sild:"+gid+":"+d)
			modal := e.modal(e.channel, "silm:"+gid, map[string]string{"duration": d})
			command := e.post(e.discord.SlashCommand(e.channel, e.user, "silence", discordtest.Option("alert", gid), discordtest.Option("duration", d)))
			_, perr := handlers.ParseSilenceDuration(d)
			for name, a := range map[string]answer{"button": button, "modal": modal, "command": command} {
				ok := strings.Contains(a.Data.Content, "silenced in Alertmanager")
				if ok != (perr == nil) {
					t.Errorf("%s: accepted %v, ParseSilenceDuration says %v: %q", name, ok, perr, a.Data.Content)
				}
			}
		})
	}
}

// TestForgedPostmortemRevision: the edit form's revision is checked against
// the post-mortem's history on the server.
func TestForgedPostmortemRevision(t *testing.T) {
	e := newForgedEnv(t)
	ctx := context.Background()
	pm := fmt.Sprint(e.pm.ID)
	text := map[string]string{"text": "Forged summary."}
	for _, tc := range []struct{ name, customID, want string }{
		{"revision the post-mortem never had", "pmedit:" + pm + ":summary:99", "never had"},
		{"revision 0", "pmedit:" + pm + ":summary:0", "malformed"},
		{"negative revision", "pmedit:" + pm + ":summary:-1", "malformed"},
		{"non-numeric revision", "pmedit:" + pm + ":summary:latest", "malformed"},
		{"revision beyond int", "pmedit:" + pm + ":summary:99999999999", "malformed"},
		{"missing revision", "pmedit:" + pm + ":summary", "malformed"},
		{"unknown section", "pmedit:" + pm + ":secrets:1", "no section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, e.modal(e.threadB, tc.customID, text), tc.want)
		})
	}
	// Stale: bo saves the summary at revision 2; anna's form, opened at
	// revision 1, is refused and gives her text back.
	if _, err := e.pms.Edit(ctx, e.pm.ID, "summary", "bo's summary", 1, bot.Actor{UserID: "502", Name: "bo"}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	stale := e.modal(e.threadB, "pmedit:"+pm+":summary:1", map[string]string{"text": "anna's summary"})
	if !stale.ephemeral() || !strings.Contains(stale.Data.Content, "changed the Summary after you opened the editor") || !strings.Contains(stale.Data.Content, "anna's summary") {
		t.Errorf("stale revision: %+v, want a refusal giving the text back", stale)
	}
	var cur *postmortem.Postmortem
	if err := e.db.Postmortem().View(ctx, func(tx postmortem.Tx) (err error) { cur, err = tx.Postmortem(e.pm.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if cur.Revision != 2 || cur.Sections["summary"] != "bo's summary" {
		t.Errorf("post-mortem at revision %d with summary %q; want 2 and bo's", cur.Revision, cur.Sections["summary"])
	}
	// The current revision is accepted.
	if a := e.modal(e.threadB, "pmedit:"+pm+":summary:2", map[string]string{"text": "anna's summary"}); !strings.Contains(a.Data.Content, "revision 3") {
		t.Errorf("edit at the current revision: %+v", a)
	}
}

// TestForgedChecklistID: a checklist button carrying another incident's
// checklist is refused in this incident's thread, and outside any thread.
func TestForgedChecklistID(t *testing.T) {
	e := newForgedEnv(t)
	ctx := context.Background()
	refused(t, e.click(e.threadA, fmt.Sprintf("rbstep:%d:1", e.checkB.ID)), "belongs to another incident")
	refused(t, e.click(e.channel, fmt.Sprintf("rbstep:%d:1", e.checkA.ID)), "not an incident thread")
	for _, c := range []*incident.Checklist{e.checkA, e.checkB} {
		var got *incident.Checklist
		if err := e.db.Incident().View(ctx, func(tx incident.Tx) (err error) { got, err = tx.Checklist(c.ID); return err }); err != nil {
			t.Fatal(err)
		}
		if got.DoneCount() != 0 {
			t.Errorf("checklist %d (incident %d) has %d steps done after forged clicks", c.ID, c.IncidentID, got.DoneCount())
		}
	}
	// Its own thread works.
	a := e.click(e.threadA, fmt.Sprintf("rbstep:%d:1", e.checkA.ID))
	if a.Type != int(discordgo.InteractionResponseUpdateMessage) {
		t.Errorf("own checklist step: %+v, want the checklist updated", a)
	}
}

// TestDurationBounds: the shared parsers' bounds, exactly.
func TestDurationBounds(t *testing.T) {
	for _, tc := range []struct {
		parse func(string) (time.Duration, error)
		in    string
		want  time.Duration // 0: refused
	}{
		{handlers.ParseSilenceDuration, "1m", time.Minute},
		{handlers.ParseSilenceDuration, "59s", 0},
		{handlers.ParseSilenceDuration, "30d", 30 * 24 * time.Hour},
		{handlers.ParseSilenceDuration, "720h0m1s", 0},
		{handlers.ParseSilenceDuration, " 2H ", 2 * time.Hour},
		{handlers.ParseSilenceDuration, "106751991167301d", 0},
		{handlers.ParseSnoozeDuration, "1m", time.Minute},
		{handlers.ParseSnoozeDuration, "59s", 0},
		{handlers.ParseSnoozeDuration, "24h", 24 * time.Hour},
		{handlers.ParseSnoozeDuration, "24h0m1s", 0},
		{handlers.ParseSnoozeDuration, "1d", 24 * time.Hour},
		{handlers.ParseSnoozeDuration, "2d", 0},
		{handlers.ParseSnoozeDuration, "-30m", 0},
	} {
		got, err := tc.parse(tc.in)
		if tc.want == 0 && (err == nil || bot.ErrorCode(err) != bot.EInvalid) {
			t.Errorf("%q: got %v, %v; want refused", tc.in, got, err)
		}
		if tc.want != 0 && (err != nil || got != tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
