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
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/alertmanager"
	"github.com/marola-rp/klaxon/bot/alertmanager/amtest"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

// TestSilencePermissionCoversPriority: who may silence is decided by the
// most urgent priority the silence's matchers can cover, and the silence
// made in a real Alertmanager carries exactly the matchers checked.
func TestSilencePermissionCoversPriority(t *testing.T) {
	am := amtest.Start(t, `
route: {receiver: none}
receivers: [{name: none}]
`)
	ctx := context.Background()
	fake := discordtest.New(discordtest.Options{})
	t.Cleanup(fake.Close)
	guild := fake.AddGuild("marola")
	channel := fake.AddChannel(guild, "alerts", discordgo.ChannelTypeGuildText)
	leads := fake.AddRole(guild, "leads")
	anna, lead := fake.AddUser("anna"), fake.AddUser("lea")
	staff := fake.AddRole(guild, "staff")
	fake.AddMember(guild, anna, staff)
	fake.AddMember(guild, lead, staff, leads)

	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := bot.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	pol := &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	pg := &paging.Service{Store: db.Paging(), Policy: pol, Log: slog.New(slog.DiscardHandler)}
	client, err := alertmanager.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	gate := &handlers.Gate{Access: &handlers.Access{GuildID: guild, Staff: []string{staff},
		ByPriority: handlers.Permissions{handlers.ActSilence: {bot.P0: {leads}, bot.P1: {leads}}}}}
	x := &handlers.Interactions{PublicKey: pub, Seen: db, Deadline: time.Minute, Gate: gate}
	(&handlers.Alerts{Paging: pg, Silences: &paging.Silences{Silencer: client, Paging: pg, Classifier: pol.Classifier}, Clock: clock, Log: slog.New(slog.DiscardHandler),
		Gate: gate}).Register(x)
	srv := httptest.NewServer(x)
	t.Cleanup(srv.Close)

	ingest := func(key string, alerts ...map[string]string) int64 {
		t.Helper()
		n := bot.Notification{GroupKey: key, Receiver: "klaxon", GroupLabels: map[string]string{"alertname": alerts[0]["alertname"]}}
		for i, l := range alerts {
			n.Alerts = append(n.Alerts, bot.Alert{Fingerprint: fmt.Sprintf("%s-%d", key, i), Status: bot.Firing, Labels: l, StartsAt: clock.Now()})
		}
		res, err := bot.Ingest(ctx, db, pol, n, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return res.GroupID
	}
	click := func(user string, customID string) string {
		t.Helper()
		_, resp, body, err := fake.PostInteraction(ctx, srv.URL, priv, fake.ButtonClick(channel, "1", user, customID))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("interaction: %v %v %s", err, resp, body)
		}
		var a answer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		return a.Data.Content
	}
	silences := func() int {
		t.Helper()
		var ss []struct{ Status struct{ State string } }
		r, err := http.Get(am.URL + "/api/v2/silences")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		if err := json.NewDecoder(r.Body).Decode(&ss); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range ss {
			if s.Status.State == "active" {
				n++
			}
		}
		return n
	}

	// All P2 by the same severity: the silence pins severity=warning and an
	// absent priority, so it covers P2 only: anyone may.
	pinned := ingest("pinned", map[string]string{"alertname": "HighCPU", "severity": "warning", "instance": "a"},
		map[string]string{"alertname": "HighCPU", "severity": "warning", "instance": "b"})
	if s := click(anna, fmt.Sprintf("sild:%d:1h0m0s", pinned)); !strings.Contains(s, "silenced in Alertmanager") {
		t.Fatalf("P2 silence pinning the severity by anna: %q", s)
	}
	// A P2 group whose alerts differ in severity: the silence cannot pin it,
	// so a P0 (severity=critical) joining later would match: leads only.
	mixed := ingest("mixed", map[string]string{"alertname": "Lag", "severity": "warning"}, map[string]string{"alertname": "Lag", "severity": "info"})
	if g := groupOf(t, db, mixed); g.Priority != bot.P2 {
		t.Fatalf("mixed group is %s, want P2", g.Priority)
	}
	for _, id := range []string{fmt.Sprintf("sil:%d", mixed), fmt.Sprintf("sild:%d:1h0m0s", mixed)} {
		s := click(anna, id)
		if !strings.Contains(s, "only <@&"+leads+"> may silence a P0 alert") || !strings.Contains(s, "would also cover P0 alerts") {
			t.Errorf("%s by anna: %q, want a refusal naming the leads and P0", id, s)
		}
	}
	if n := silences(); n != 1 {
		t.Fatalf("%d active silences, want 1 (anna's refused one not created)", n)
	}
	if s := click(lead, fmt.Sprintf("sild:%d:1h0m0s", mixed)); !strings.Contains(s, "silenced in Alertmanager") {
		t.Errorf("lead silencing the mixed group: %q", s)
	}
	// An explicit priority label on every alert pins the cover.
	labelled := ingest("labelled", map[string]string{"alertname": "Queue", "priority": "P2", "severity": "critical"})
	if s := click(anna, fmt.Sprintf("sild:%d:1h0m0s", labelled)); !strings.Contains(s, "silenced in Alertmanager") {
		t.Errorf("priority=P2 silence by anna: %q", s)
	}
	if n := silences(); n != 3 {
		t.Errorf("%d active silences, want 3", n)
	}
}

func groupOf(t *testing.T, db *store.DB, id int64) *bot.Group {
	t.Helper()
	var g *bot.Group
	if err := db.View(context.Background(), func(tx bot.Tx) (err error) { g, err = tx.Group(id); return err }); err != nil {
		t.Fatal(err)
	}
	return g
}
