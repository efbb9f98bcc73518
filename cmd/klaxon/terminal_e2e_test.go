package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/handlers"
)

const adminToken = "e2e-admin-token-77d2"

// terminalWorld is a running Klaxon with the admin API on, a schedule whose
// on-call is anna, a second escalation step paging the leads, and
// admin.users listing anna (on-call, staff), bob (leads, staff) and carol
// (on-call only: not staff). dave is staff in Discord but not listed.
type terminalWorld struct {
	*world
	anna, bob, carol, dave, leads string
	clock                         *bot.FakeClock
}

func newTerminalWorld(t *testing.T) *terminalWorld {
	t.Helper()
	tw := &terminalWorld{clock: bot.NewFakeClock(time.Now().UTC().Truncate(time.Second))}
	tw.world = newWorldWith(t, worldOptions{
		Clock: tw.clock,
		Env:   map[string]string{"KLAXON_ADMIN_TOKEN": adminToken, "KLAXON_DISCORD_GATEWAY": "off"},
		Setup: func(w *world) {
			tw.anna, tw.bob = w.discord.AddUser("anna"), w.discord.AddUser("bob")
			tw.carol, tw.dave = w.discord.AddUser("carol"), w.discord.AddUser("dave")
			tw.leads = w.discord.AddRole(w.guild, "leads")
			w.discord.AddMember(w.guild, tw.anna, w.oncall, w.staff)
			w.discord.AddMember(w.guild, tw.bob, tw.leads, w.staff)
			w.discord.AddMember(w.guild, tw.carol, w.oncall)
			w.discord.AddMember(w.guild, tw.dave, w.staff)
			w.opts.Config = fmt.Sprintf(`
schedules:
  - name: primary
    time_zone: Europe/Berlin
    rotation: weekly
    handoff: "09:00"
    start: "2026-01-05"
    participants: [%q]
users:
  %q: {name: Anna}
escalation:
  P0:
    steps:
      - delay: 0m
        targets:
          - schedule: primary
            via: [mention]
      - delay: 5m
        targets:
          - role: %q
permissions:
  resolve:
    P0: [%q]
admin:
  users:
    %q: [%q, %q]
    %q: [%q, %q]
    %q: [%q]
`, tw.anna, tw.anna, tw.leads, tw.leads, tw.anna, w.oncall, w.staff, tw.bob, tw.leads, w.staff, tw.carol, w.oncall)
		},
	})
	return tw
}

// terminal runs a terminal command as `klaxon` would, against env.
func (tw *terminalWorld) terminal(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// env is the environment of an operator of the running server.
func (tw *terminalWorld) env() map[string]string {
	return map[string]string{"KLAXON_ADMIN_URL": tw.url(""), "KLAXON_ADMIN_TOKEN": adminToken}
}

func (tw *terminalWorld) fire(alertname string) (card discordtest.Message, gid string) {
	tw.t.Helper()
	resp := postJSON(tw.t, tw.url("/webhook/alertmanager"), webhookToken, webhookBody(alertname, "critical", tw.clock.Now().Add(-time.Minute)))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tw.t.Fatalf("webhook: %s", resp.Status)
	}
	tw.await(alertname+" card", func() bool {
		for _, m := range tw.discord.Messages(tw.channels[0]) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "· "+alertname) {
				card = m
				return true
			}
		}
		return false
	})
	for _, b := range card.Buttons() {
		if id, ok := strings.CutPrefix(b.CustomID, "ack:"); ok {
			return card, id
		}
	}
	tw.t.Fatalf("card has no Acknowledge button: %+v", card.Buttons())
	return card, ""
}

// tick moves the fake clock and runs two engine cycles.
func (tw *terminalWorld) tick(d time.Duration) {
	tw.t.Helper()
	tw.clock.Advance(d)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 {
		if err := tw.main.Engine.CycleAndWait(ctx); err != nil {
			tw.t.Fatalf("engine cycle: %v", err)
		}
	}
}

// pagesTo counts the pages mentioning a user or role in the P0 channel.
func (tw *terminalWorld) pagesTo(id string) int {
	n := 0
	for _, m := range tw.discord.Messages(tw.channels[0]) {
		if m.AllowedMentions != nil && (contains(m.AllowedMentions.Roles, id) || contains(m.AllowedMentions.Users, id)) && strings.Contains(m.Content, "📟") {
			n++
		}
	}
	return n
}

// actions is alert group gid's action log.
func (tw *terminalWorld) actions(gid string) []paging.ActionRecord {
	tw.t.Helper()
	var id int64
	fmt.Sscan(gid, &id)
	var out []paging.ActionRecord
	if err := tw.main.DB.Paging().View(context.Background(), func(tx paging.Tx) (err error) { out, err = tx.Actions(id); return err }); err != nil {
		tw.t.Fatalf("action log: %v", err)
	}
	return out
}

// The terminal against the running server: alerts after a webhook, refusals
// naming the role, a wrong token, and an acknowledgement that stops the
// escalation and is recorded as the user's, via the terminal.
func TestTerminalAgainstRunningServer(t *testing.T) {
	tw := newTerminalWorld(t)
	card, gid := tw.fire("GameServerDown")
	tw.await("step 1 paging anna", func() bool { return tw.pagesTo(tw.anna) == 1 })

	code, out, errs := tw.terminal(tw.env(), "alerts", "--as", tw.anna, "--json")
	if code != 0 {
		t.Fatalf("alerts: exit %d, %s", code, errs)
	}
	var rows []handlers.AlertRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("alerts --json: %v\n%s", err, out)
	}
	if len(rows) != 1 || fmt.Sprint(rows[0].ID) != gid || rows[0].Priority != "P0" || rows[0].State != "firing" || rows[0].Title != "GameServerDown" || rows[0].AckedBy != "" {
		t.Fatalf("alerts = %+v, want group %s, P0, firing, GameServerDown", rows, gid)
	}
	code, out, _ = tw.terminal(tw.env(), "alerts", "--as", tw.anna)
	if code != 0 || !strings.Contains(out, "ID") || !strings.Contains(out, gid+"   P0") || !strings.Contains(out, "firing") || !strings.Contains(out, "GameServerDown") {
		t.Errorf("alerts table (exit %d):\n%s", code, out)
	}

	// Not listed in admin.users: the server asks Discord, where dave is staff.
	if code, _, errs := tw.terminal(tw.env(), "alerts", "--as", tw.dave); code != 0 {
		t.Errorf("dave (staff in Discord) alerts: exit %d, %s", code, errs)
	}

	// carol is not staff: refused, naming the role needed.
	code, _, errs = tw.terminal(tw.env(), "ack", gid, "--as", tw.carol)
	if code != 1 || !strings.Contains(errs, "(403)") || !strings.Contains(errs, "only role "+tw.staff+" may acknowledge alerts") {
		t.Errorf("carol ack: exit %d, %q; want 1 and a 403 naming role %s", code, errs, tw.staff)
	}
	// anna may acknowledge but not resolve a P0: permissions.resolve.P0 is the leads.
	code, _, errs = tw.terminal(tw.env(), "resolve", gid, "--as", tw.anna)
	if code != 1 || !strings.Contains(errs, "only role "+tw.leads+" may resolve a P0 alert") {
		t.Errorf("anna resolve P0: exit %d, %q; want a refusal naming role %s", code, errs, tw.leads)
	}

	// A wrong token: 401, before anything else.
	bad := tw.env()
	bad["KLAXON_ADMIN_TOKEN"] = "not-the-token"
	if code, _, errs := tw.terminal(bad, "ack", gid, "--as", tw.anna); code != 1 || !strings.Contains(errs, "(401)") || !strings.Contains(errs, "admin token is missing or wrong") {
		t.Errorf("wrong token: exit %d, %q; want 1 and a 401", code, errs)
	}
	req, _ := http.NewRequest(http.MethodPost, tw.url("/admin/v1/alerts/"+gid+"/ack"), nil)
	req.Header.Set(handlers.AdminUserHeader, tw.anna)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %s, want 401", resp.Status)
	}
	if !strings.Contains(tw.logs.String(), "admin API: wrong or missing token") {
		t.Errorf("the refused token is not logged")
	}
	if g, _ := tw.main.Paging.Group(context.Background(), rows[0].ID); g.Ack != nil {
		t.Fatalf("group acknowledged by a refused request: %+v", g.Ack)
	}

	code, out, errs = tw.terminal(tw.env(), "ack", "--as", tw.anna, gid)
	if code != 0 || !strings.Contains(out, "GameServerDown: acknowledged by "+tw.anna+" via terminal") {
		t.Fatalf("anna ack: exit %d\n%s\n%s", code, out, errs)
	}
	acts := tw.actions(gid)
	if len(acts) == 0 || acts[len(acts)-1].Kind != "acknowledged" || acts[len(acts)-1].Action.UserID != tw.anna || acts[len(acts)-1].Action.Via != handlers.ViaTerminal {
		t.Errorf("action log = %+v, want the last entry acknowledged by anna via terminal", acts)
	}
	tw.await("card edited to acknowledged via terminal", func() bool {
		m, _ := tw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "Acknowledged by <@"+tw.anna+"> via terminal")
	})
	code, out, _ = tw.terminal(tw.env(), "alerts", "--as", tw.anna)
	if code != 0 || !strings.Contains(out, "acknowledged") || !strings.Contains(out, tw.anna+" (terminal)") {
		t.Errorf("alerts after the ack (exit %d):\n%s", code, out)
	}
	// The escalation stopped: the leads are never paged.
	tw.tick(6 * time.Minute)
	tw.tick(30 * time.Minute)
	if n := tw.pagesTo(tw.leads); n != 0 {
		t.Errorf("leads paged %d times after the terminal's acknowledgement", n)
	}
	// The P0's incident timeline has the acknowledgement, by anna via terminal.
	var events []bot.TimelineEvent
	if err := tw.main.DB.Incident().View(context.Background(), func(tx incident.Tx) error {
		inc, err := tx.IncidentOfGroup(rows[0].ID)
		if err != nil {
			return err
		}
		events, err = tx.Timeline(inc.ID)
		return err
	}); err != nil {
		t.Fatalf("timeline: %v", err)
	}
	onTimeline := false
	for _, e := range events {
		onTimeline = onTimeline || (strings.Contains(e.Text, "acknowledged") && e.Actor.UserID == tw.anna && e.Actor.Via == handlers.ViaTerminal)
	}
	if !onTimeline {
		t.Errorf("the incident timeline lacks anna's acknowledgement via terminal: %+v", events)
	}

	code, out, errs = tw.terminal(tw.env(), "oncall", "primary", "--as", tw.anna, "--json")
	var oc []handlers.OnCallRow
	if code != 0 || json.Unmarshal([]byte(out), &oc) != nil || len(oc) != 1 || oc[0].Now == nil || oc[0].Now.UserID != tw.anna || oc[0].Now.Name != "Anna" {
		t.Errorf("oncall: exit %d %s\n%s", code, errs, out)
	}
	if code, _, errs := tw.terminal(tw.env(), "oncall", "nosuch", "--as", tw.anna); code != 1 || !strings.Contains(errs, `there is no schedule "nosuch"`) {
		t.Errorf("oncall nosuch: exit %d %q", code, errs)
	}
}

// With the server stopped, the terminal works on the database directly
// (and says so), with admin.users' roles; the card edit it queued reaches
// Discord when the server runs again. While a server holds the database,
// the direct mode refuses.
func TestTerminalDatabaseModeWhenServerIsDown(t *testing.T) {
	tw := newTerminalWorld(t)
	card, gid := tw.fire("DatabaseDown")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	env := map[string]string{"KLAXON_ADMIN_URL": refused, "KLAXON_CONFIG": tw.config.file, "KLAXON_DB": tw.dbPath}

	// A server holds the database: no direct mode.
	code, _, errs := tw.terminal(env, "ack", gid, "--as", tw.anna)
	if code != 1 || !strings.Contains(errs, "connection refused") || !strings.Contains(errs, "is in use") {
		t.Errorf("ack while the server holds the database: exit %d, %q", code, errs)
	}

	if err := tw.main.Close(); err != nil {
		t.Fatal(err)
	}
	code, _, errs = tw.terminal(env, "ack", gid, "--as", tw.dave)
	if code != 1 || !strings.Contains(errs, "not listed under admin.users") {
		t.Errorf("dave (not in admin.users) in database mode: exit %d, %q", code, errs)
	}
	code, _, errs = tw.terminal(env, "ack", gid, "--as", tw.carol)
	if code != 1 || !strings.Contains(errs, "only role "+tw.staff+" may acknowledge alerts") {
		t.Errorf("carol in database mode: exit %d, %q", code, errs)
	}
	code, out, errs := tw.terminal(env, "ack", gid, "--as", tw.anna, "--json")
	if code != 0 || !strings.Contains(errs, "working on the database directly") {
		t.Fatalf("ack in database mode: exit %d\n%s\n%s", code, out, errs)
	}
	var res handlers.ActResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.State != "acknowledged" || res.Via != handlers.ViaTerminal || res.By != tw.anna {
		t.Errorf("ack result = %+v (%v)", res, err)
	}
	if m, _ := tw.discord.Message(card.ID); strings.Contains(cardText(m), "Acknowledged") {
		t.Fatalf("the card changed while no server ran")
	}

	tw.start()
	// The database mode stamped its work with the system clock; the server
	// runs on the fake one, which must pass it (and the pacer's memory of
	// the last send) for the edit to be due.
	tw.clock.Set(time.Now().Add(time.Second))
	tw.tick(time.Minute)
	tw.await("the queued card edit after the restart", func() bool {
		m, _ := tw.discord.Message(card.ID)
		return strings.Contains(cardText(m), "Acknowledged by <@"+tw.anna+"> via terminal")
	})
	acts := tw.actions(gid)
	if len(acts) == 0 || acts[len(acts)-1].Action.Via != handlers.ViaTerminal {
		t.Errorf("action log = %+v", acts)
	}
}

// Usage errors exit 2 and name what is missing.
func TestTerminalUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ack"}, "wrong number of arguments"},
		{[]string{"ack", "x1", "--as", "1"}, `"x1" is not an alert number`},
		{[]string{"alerts", "extra", "--as", "1"}, "wrong number of arguments"},
		{[]string{"alerts"}, "say who you are"},
		{[]string{"resolve", "3", "--nope"}, "flag provided but not defined"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, func(string) string { return "" }, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
}
