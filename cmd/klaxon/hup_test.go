package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/heartbeat"
)

// SIGHUP reloads the runbooks directory (that a broken file keeps the old set
// is runbooks.Library's own test).
func TestSIGHUPReloadsRunbooks(t *testing.T) {
	dir := t.TempDir()
	w := newWorld(t, "runbooks:\n  dir: "+dir+"\n", map[string]string{"KLAXON_DISCORD_GATEWAY": "off"})
	reloaded := make(chan struct{}, 1)
	w.main.reloaded = func() { reloaded <- struct{}{} }
	stop := w.main.reloadOnHUP()
	defer stop()
	lib := w.main.Runbooks.Library
	if _, ok := lib.Current().Get("queue-stuck"); ok {
		t.Fatal("runbook present before it was written")
	}
	rb := "---\nid: queue-stuck\ntitle: Queue stuck\npriority: P2\nscenario: jobs pile up\nfirst_response: restart the worker\n---\n## Steps\n1. Restart the worker\n"
	if err := os.WriteFile(filepath.Join(dir, "queue-stuck.md"), []byte(rb), 0o600); err != nil {
		t.Fatal(err)
	}
	hup := func() {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	hup()
	// The reload happens on the signal goroutine, which says when it is done.
	select {
	case <-reloaded:
	case <-time.After(10 * time.Second): // a bound on a failure, not a wait for behaviour
		t.Fatal("SIGHUP did not reach the reload")
	}
	if _, ok := lib.Current().Get("queue-stuck"); !ok {
		t.Fatal("SIGHUP did not reload the runbooks directory")
	}
}

// hupAndWait sends SIGHUP and waits until the reload finished.
func hupAndWait(t *testing.T, reloaded <-chan struct{}) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reloaded:
	case <-time.After(10 * time.Second): // a bound on a failure, not a wait for behaviour
		t.Fatal("SIGHUP did not reach the reload")
	}
}

// editConfig rewrites the world's configuration file with old replaced by new.
func editConfig(t *testing.T, w *world, old, new string) {
	t.Helper()
	b, err := os.ReadFile(w.config.file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("configuration has no %q", old)
	}
	if err := os.WriteFile(w.config.file, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSIGHUPReloadsConfiguration: a changed channel and ack deadline take
// effect without a restart; a change that needs one is named; a broken file
// is refused with its problem (ERROR log, metric) and the running
// configuration kept.
func TestSIGHUPReloadsConfiguration(t *testing.T) {
	w := newWorld(t, "", map[string]string{"KLAXON_DISCORD_GATEWAY": "off"})
	reloaded := make(chan struct{}, 1)
	w.main.reloaded = func() { reloaded <- struct{}{} }
	stop := w.main.reloadOnHUP()
	defer stop()
	policy := w.main.Engine.Policy

	// P2 moves to the P3 channel; P0's deadline becomes 5 minutes; the
	// engine interval changes (needs a restart).
	editConfig(t, w, fmt.Sprintf("P2: {channel: %q, ack_within: 2h}", w.channels[2]), fmt.Sprintf("P2: {channel: %q, ack_within: 2h}", w.channels[3]))
	editConfig(t, w, "ack_within: 15m", "ack_within: 5m")
	editConfig(t, w, "interval: 200ms", "interval: 300ms")
	hupAndWait(t, reloaded)
	if got := policy.Route(bot.P0).AckWithin; got != 5*time.Minute {
		t.Errorf("P0 ack deadline after reload = %s, want 5m", got)
	}
	resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody("Reloaded", "warning", time.Now()))
	resp.Body.Close()
	w.await("the P2 card in the new channel", func() bool {
		for _, m := range w.discord.Messages(w.channels[3]) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "Reloaded") {
				return true
			}
		}
		return false
	})
	if n := len(w.discord.Messages(w.channels[2])); n != 0 {
		t.Errorf("%d messages in the old P2 channel, want 0", n)
	}
	logs := w.logs.String()
	if !strings.Contains(logs, `"msg":"configuration reloaded"`) || !strings.Contains(logs, `"needs_restart":["engine"]`) {
		t.Errorf("no reload line naming engine as needing a restart in:\n%s", logs)
	}

	// A broken file: refused, named, the running configuration kept.
	editConfig(t, w, "ack_within: 5m", "ack_within: banana")
	hupAndWait(t, reloaded)
	if got := policy.Route(bot.P0).AckWithin; got != 5*time.Minute {
		t.Errorf("P0 ack deadline after a refused reload = %s, want 5m (kept)", got)
	}
	var refused map[string]any
	for _, line := range strings.Split(w.logs.String(), "\n") {
		if strings.Contains(line, "configuration reload refused") {
			_ = json.Unmarshal([]byte(line), &refused)
		}
	}
	if refused["level"] != "ERROR" || !strings.Contains(fmt.Sprint(refused["problems"]), `"banana" is not a duration`) {
		t.Errorf("refused reload logged as %v, want ERROR naming the bad duration", refused)
	}
	metrics := get(t, w.url("/metrics"))
	for _, want := range []string{`klaxon_config_reload_total{result="applied"} 1`, `klaxon_config_reload_total{result="refused"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestAdminReloadCommand: /admin reload refuses a broken file and names the
// problem in its reply, applies a fixed one (a changed channel takes
// effect), and is refused to members who are not staff.
func TestAdminReloadCommand(t *testing.T) {
	var anna, guest string
	w := newWorldWith(t, worldOptions{Setup: func(w *world) {
		anna, guest = w.discord.AddUser("anna"), w.discord.AddUser("guest")
		w.discord.AddMember(w.guild, anna, w.staff)
		w.discord.AddMember(w.guild, guest, w.oncall)
	}})
	if !w.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("klaxon did not connect to the gateway")
	}
	reload := func(user string) string {
		t.Helper()
		id, _ := w.discord.Interact(w.discord.SlashCommand(w.channels[0], user, "admin", discordtest.Subcommand("reload")))
		rs, ok := w.discord.AwaitResponses(id, 1, 30*time.Second)
		if !ok {
			t.Fatal("no answer to /admin reload")
		}
		if rs[0].Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
			if rs, ok = w.discord.AwaitResponses(id, 2, 30*time.Second); !ok {
				t.Fatal("the deferred answer to /admin reload never came")
			}
		}
		return rs[len(rs)-1].Content
	}
	policy := w.main.Engine.Policy

	if got := reload(guest); !strings.Contains(got, "only <@&"+w.staff+">") {
		t.Errorf("/admin reload by a guest = %q, want refused", got)
	}
	editConfig(t, w, "ack_within: 15m", "ack_within: banana")
	if got := reload(anna); !strings.HasPrefix(got, "❌") || !strings.Contains(got, `"banana" is not a duration`) || !strings.Contains(got, "running configuration is kept") {
		t.Errorf("/admin reload of a broken file = %q, want the problem and the running configuration kept", got)
	}
	if got := policy.Route(bot.P0).AckWithin; got != 15*time.Minute {
		t.Errorf("P0 ack deadline after a refused reload = %s, want 15m", got)
	}
	editConfig(t, w, "ack_within: banana", "ack_within: 15m")
	editConfig(t, w, fmt.Sprintf("P1: {channel: %q", w.channels[1]), fmt.Sprintf("P1: {channel: %q", w.channels[2]))
	if got := reload(anna); !strings.HasPrefix(got, "✅") || !strings.Contains(got, "configuration reloaded") {
		t.Errorf("/admin reload of a fixed file = %q, want applied", got)
	}
	if got := policy.Route(bot.P1).ChannelID; got != w.channels[2] {
		t.Errorf("P1 channel after /admin reload = %s, want %s", got, w.channels[2])
	}
	// Access is reloaded too: the on-call role becomes staff, and the guest
	// (on call, not staff) may reload now.
	editConfig(t, w, fmt.Sprintf("staff_roles: [%q]", w.staff), fmt.Sprintf("staff_roles: [%q, %q]", w.staff, w.oncall))
	if got := reload(anna); !strings.HasPrefix(got, "✅") {
		t.Fatalf("/admin reload with a new staff role = %q", got)
	}
	if got := reload(guest); !strings.HasPrefix(got, "✅") {
		t.Errorf("/admin reload by an on-call member after on-call became staff = %q, want applied", got)
	}
}

// TestReloadSwapsSchedules: a reload that swaps anna out of the rotation
// for bob and gives the schedule an announce channel changes, without a
// restart, who /oncall names, who a P0 pages, and whom the handoff job
// announces; schedules are not named as needing a restart.
func TestReloadSwapsSchedules(t *testing.T) {
	pw := newPagingWorld(t, "")
	sub := discordtest.Subcommand
	if now, _ := pw.slash(pw.bob, "oncall", sub("now")); !strings.Contains(now, "**Now:** <@"+pw.anna+">") {
		t.Fatalf("/oncall now before the reload = %s, want anna", now)
	}
	editConfig(t, pw.world, fmt.Sprintf("participants: [%q]", pw.anna),
		fmt.Sprintf("participants: [%q]\n    announce_channel: %q", pw.bob, pw.channels[3]))
	if got, _ := pw.slash(pw.anna, "admin", sub("reload")); !strings.Contains(got, "configuration reloaded") || strings.Contains(got, "schedules") && strings.Contains(got, "needs a restart") {
		t.Fatalf("/admin reload = %s, want applied with nothing needing a restart", got)
	}
	if now, _ := pw.slash(pw.bob, "oncall", sub("now")); !strings.Contains(now, "**Now:** <@"+pw.bob+">") {
		t.Errorf("/oncall now after the reload = %s, want bob", now)
	}
	pw.fire("DatabaseDown", "critical", 0)
	pw.await("the page to bob", func() bool { return pw.messagesMentioning(pw.channels[0], pw.bob) == 1 })
	if n := pw.messagesMentioning(pw.channels[0], pw.anna); n != 0 {
		t.Errorf("anna was paged %d times after being swapped out", n)
	}
	pw.clock.Advance(2 * time.Second) // the handoff job runs at most once a second
	pw.await("the handoff to bob announced", func() bool {
		for _, m := range pw.discord.Messages(pw.channels[3]) {
			if strings.Contains(m.Content, "On-call handoff") && strings.Contains(m.Content, pw.bob) {
				return true
			}
		}
		return false
	})
}

// TestReloadHeartbeats: a monitor added by a reload accepts pings (404
// before); a changed grace takes effect at the next engine run; a monitor
// removed while late has its open alert resolved, and the reply says so.
func TestReloadHeartbeats(t *testing.T) {
	pw := newPagingWorldEnv(t, "heartbeats:\n  - name: backup\n    period: 1h\n    grace: 30m\n    priority: P2\n",
		map[string]string{"KLAXON_HEARTBEAT_TOKEN": "hb-token"})
	ping := func(name string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, pw.url("/heartbeat/"+name), nil)
		req.Header.Set("Authorization", "Bearer hb-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	reload := func() string {
		t.Helper()
		got, _ := pw.slash(pw.anna, "admin", discordtest.Subcommand("reload"))
		if !strings.Contains(got, "configuration reloaded") || strings.Contains(got, "needs a restart") {
			t.Fatalf("/admin reload = %s, want applied with nothing needing a restart", got)
		}
		return got
	}
	status := func(name string) heartbeat.Status {
		t.Helper()
		es, err := pw.main.Heartbeats.List(context.Background(), pw.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Monitor.Name == name {
				return e.State.Status
			}
		}
		return "absent"
	}
	if code := ping("nightly"); code != http.StatusNotFound {
		t.Fatalf("ping of an unconfigured monitor = %d, want 404", code)
	}
	if code := ping("backup"); code/100 != 2 {
		t.Fatalf("ping of backup = %d", code)
	}
	editConfig(t, pw.world, "grace: 30m\n    priority: P2\n", "grace: 1m\n    priority: P2\n  - name: nightly\n    period: 24h\n")
	reload()
	if code := ping("nightly"); code/100 != 2 {
		t.Errorf("ping of the monitor added by the reload = %d, want accepted", code)
	}
	pw.tick(time.Hour + 5*time.Minute) // late with the new 1m grace, not with the old 30m
	if got := status("backup"); got != heartbeat.Late {
		t.Errorf("backup after 1h05m with grace 1m = %s, want late", got)
	}
	var g *bot.Group
	groupOf := func() *bot.Group {
		t.Helper()
		if err := pw.main.DB.View(context.Background(), func(tx bot.Tx) (err error) {
			g, err = tx.(interface {
				LatestGroup(string) (*bot.Group, error)
			}).LatestGroup(heartbeat.GroupKey("backup"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := groupOf(); g == nil || g.Status != bot.Firing {
		t.Fatalf("backup's alert group = %+v, want firing", g)
	}

	// backup is removed while late: its alert is resolved and the reply says so.
	editConfig(t, pw.world, "  - name: backup\n    period: 1h\n    grace: 1m\n    priority: P2\n", "")
	if got := reload(); !strings.Contains(got, "their open alerts resolved: backup") {
		t.Errorf("/admin reload removing a late monitor = %s, want its alert named as resolved", got)
	}
	if g := groupOf(); g == nil || g.Status != bot.Resolved {
		t.Errorf("removed monitor's alert group = %+v, want resolved", g)
	}
	if code := ping("backup"); code != http.StatusNotFound {
		t.Errorf("ping of the removed monitor = %d, want 404", code)
	}
}

// TestSIGHUPReloadsIncidents: the incidents policy is replaced by a reload:
// P0 stops opening incidents by itself once auto_open no longer names it,
// and a new role can be assigned; incidents are not named as needing a
// restart.
func TestSIGHUPReloadsIncidents(t *testing.T) {
	w := newWorld(t, "", map[string]string{"KLAXON_DISCORD_GATEWAY": "off"})
	reloaded := make(chan struct{}, 1)
	w.main.reloaded = func() { reloaded <- struct{}{} }
	stop := w.main.reloadOnHUP()
	defer stop()
	opened := func() int { return strings.Count(w.logs.String(), `"msg":"incident opened by alert"`) }
	fire := func(name string) {
		t.Helper()
		resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody(name, "critical", time.Now()))
		resp.Body.Close()
	}
	fire("BeforeReload")
	if n := opened(); n != 1 {
		t.Fatalf("%d incidents opened by a P0 with the default auto_open, want 1", n)
	}
	b, err := os.ReadFile(w.config.file)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "\nincidents:\n  auto_open: [P3]\n  roles:\n    - name: commander\n    - name: liaison\n"...)
	if err := os.WriteFile(w.config.file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	hupAndWait(t, reloaded)
	if logs := w.logs.String(); !strings.Contains(logs, `"msg":"configuration reloaded"`) || strings.Contains(logs, `"needs_restart":["incidents"]`) {
		t.Fatalf("reload not applied, or incidents named as needing a restart:\n%s", logs)
	}
	fire("AfterReload")
	if n := opened(); n != 1 {
		t.Errorf("%d incidents opened after auto_open became [P3], want still 1", n)
	}
	if got := w.main.incidents.RoleNames(); !slices.Contains(got, "liaison") {
		t.Errorf("incident roles after the reload = %v, want liaison among them", got)
	}
}

// TestSIGHUPReloadsReminders: a reminder added to the configuration by a
// reload is stored (and so fires) without a restart, and one removed is
// removed; reminders are not named as needing a restart.
func TestSIGHUPReloadsReminders(t *testing.T) {
	var w *world
	rem := func(name string) string {
		return fmt.Sprintf("    - {name: %s, cron: \"0 10 * * 1\", channel: %q, message: %s}\n", name, w.channels[1], name)
	}
	w = newWorldWith(t, worldOptions{Env: map[string]string{"KLAXON_DISCORD_GATEWAY": "off"},
		Setup: func(w0 *world) { w = w0; w.opts.Config = "reminders:\n  list:\n" + rem("restore-test") }})
	reloaded := make(chan struct{}, 1)
	w.main.reloaded = func() { reloaded <- struct{}{} }
	stop := w.main.reloadOnHUP()
	defer stop()
	stored := func() []string {
		var names []string
		if err := w.main.DB.Calendar().View(context.Background(), func(tx calendar.Tx) error {
			rs, err := tx.Reminders()
			for _, r := range rs {
				names = append(names, r.Name)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		return names
	}
	awaitExternal(t, "the configured reminder stored", func() bool { return slices.Equal(stored(), []string{"restore-test"}) })
	editConfig(t, w, rem("restore-test"), rem("rotate-keys"))
	hupAndWait(t, reloaded)
	if logs := w.logs.String(); !strings.Contains(logs, `"msg":"configuration reloaded"`) || strings.Contains(logs, `"needs_restart":["reminders"]`) {
		t.Fatalf("reload not applied, or reminders named as needing a restart:\n%s", logs)
	}
	awaitExternal(t, "the reloaded reminders stored", func() bool { return slices.Equal(stored(), []string{"rotate-keys"}) })
}
