package discord

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func firingGroup() *bot.Group {
	return &bot.Group{
		ID: 42, Key: `{}/{severity="critical"}:{alertname="ServiceDown"}`, Receiver: "klaxon",
		Status: bot.Firing, Priority: bot.P0, PrioritySource: "severity=critical",
		GroupLabels:  map[string]string{"alertname": "ServiceDown"},
		CommonLabels: map[string]string{"alertname": "ServiceDown", "severity": "critical", "job": "game", "namespace": "prod"},
		CommonAnnotations: map[string]string{
			"summary":     "game-eu-1 is down",
			"description": "The game service has not answered health checks for 5 minutes.\nPlayers cannot connect.",
			"runbook_url": "https://runbooks.example.com/service-down",
		},
		ExternalURL: "http://alertmanager.example.com:9093",
		Alerts: []bot.Alert{
			{Fingerprint: "a1", Status: bot.Firing, StartsAt: t0.Add(-10 * time.Minute),
				Labels:       map[string]string{"alertname": "ServiceDown", "severity": "critical", "job": "game", "namespace": "prod", "instance": "game-eu-1:8080"},
				Annotations:  map[string]string{"summary": "game-eu-1 is down"},
				GeneratorURL: "http://prometheus.example.com/graph?g0.expr=up%3D%3D0"},
			{Fingerprint: "a2", Status: bot.Firing, StartsAt: t0.Add(-9 * time.Minute),
				Labels:       map[string]string{"alertname": "ServiceDown", "severity": "critical", "job": "game", "namespace": "prod", "instance": "game-eu-2:8080"},
				Annotations:  map[string]string{"summary": "game-eu-2 is down"},
				GeneratorURL: "http://prometheus.example.com/graph?g0.expr=up%3D%3D0"},
			{Fingerprint: "a3", Status: bot.Resolved, StartsAt: t0.Add(-8 * time.Minute), EndsAt: t0.Add(-2 * time.Minute),
				Labels:       map[string]string{"alertname": "ServiceDown", "severity": "critical", "job": "game", "namespace": "prod", "instance": "game-eu-3:8080"},
				Annotations:  map[string]string{"summary": "game-eu-3 is down"},
				GeneratorURL: "http://prometheus.example.com/graph?g0.expr=up%3D%3D0"},
		},
		CreatedAt: t0.Add(-10 * time.Minute), UpdatedAt: t0,
	}
}

func cardPost() bot.Post {
	return bot.Post{ID: 7, Kind: bot.Card, ChannelID: "111", Priority: bot.P0,
		Mentions: bot.Mentions{Roles: []string{"555"}, Users: []string{"777"}}}
}

func ackButtons(v bot.View) []discordgo.Button {
	if len(v.Groups) == 0 || v.Groups[0].Status == bot.Resolved {
		return nil
	}
	id := fmt.Sprint(v.Groups[0].ID)
	return []discordgo.Button{
		{Label: "Acknowledge", Style: discordgo.PrimaryButton, CustomID: "ack:" + id},
		{Label: "Resolve", Style: discordgo.SuccessButton, CustomID: "resolve:" + id},
		{Label: "bad", Style: discordgo.SecondaryButton, CustomID: ""}, // dropped: no custom_id
	}
}

// golden compares v's JSON with testdata/name.golden.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", path, buf.String())
	}
}

func mustValid(t *testing.T, m *Message) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	// The JSON must carry parse: [] so that nothing outside the lists pings.
	b, _ := json.Marshal(m.Send())
	if !bytes.Contains(b, []byte(`"allowed_mentions":{"parse":[]`)) {
		t.Fatalf("allowed_mentions.parse is not an empty list: %s", b)
	}
}

func TestGoldenFiringCard(t *testing.T) {
	opt := RenderOptions{Actions: ackButtons}
	m := RenderCard(firingGroup(), cardPost(), t0, opt)
	mustValid(t, m)
	golden(t, "card_firing_p0", m.Send())

	if m.Content != "<@&555> <@777> **P0 critical outage**: ServiceDown" {
		t.Errorf("content = %q", m.Content)
	}
	am := m.AllowedMentions
	if fmt.Sprint(am.Roles, am.Users) != "[555] [777]" {
		t.Errorf("allowed mentions = %+v", am)
	}
	if len(m.Components) != 2 {
		t.Fatalf("want a link row and an action row, got %d rows", len(m.Components))
	}
	if e := m.Embeds[0]; e.Color != ColorP0 || !strings.HasPrefix(e.Title, "🔴 P0 · ServiceDown — game-eu-1 is down") {
		t.Errorf("embed title/colour: %q %#x", e.Title, e.Color)
	}

	// Editing the same firing card never pings.
	p := cardPost()
	p.MessageID = "999"
	ed := RenderCard(firingGroup(), p, t0, opt)
	if am := ed.AllowedMentions; len(am.Roles)+len(am.Users) != 0 {
		t.Errorf("edit allows mentions: %+v", am)
	}
}

func TestGoldenResolvedCard(t *testing.T) {
	g := firingGroup()
	g.Status = bot.Resolved
	for i := range g.Alerts {
		g.Alerts[i].Status = bot.Resolved
		g.Alerts[i].EndsAt = t0.Add(2 * time.Minute)
	}
	g.ResolvedAt = t0.Add(2 * time.Minute) // 12 minutes after the first alert started
	p := cardPost()
	p.MessageID = "999"
	m := RenderCard(g, p, t0.Add(2*time.Minute), RenderOptions{Actions: ackButtons})
	mustValid(t, m)
	golden(t, "card_resolved", m.Edit(p.ChannelID, p.MessageID))

	e := m.Embeds[0]
	if e.Color != ColorResolved || !strings.HasPrefix(e.Title, "✅ P0 · ServiceDown") {
		t.Errorf("title/colour: %q %#x", e.Title, e.Color)
	}
	if e.Fields[0].Value != "Resolved after 12m" {
		t.Errorf("status = %q", e.Fields[0].Value)
	}
	if m.Content != "" || len(m.AllowedMentions.Roles)+len(m.AllowedMentions.Users) != 0 {
		t.Errorf("resolved card mentions: %q %+v", m.Content, m.AllowedMentions)
	}
	// A card created already resolved pings nobody either.
	c := RenderCard(g, cardPost(), t0, RenderOptions{})
	if c.Content != "" || len(c.AllowedMentions.Roles) != 0 {
		t.Errorf("resolved creation mentions: %q %+v", c.Content, c.AllowedMentions)
	}
}

func TestGoldenHostileCard(t *testing.T) {
	g := firingGroup()
	g.CommonLabels["alertname"] = "Evil @everyone <@&123> `x`"
	g.CommonAnnotations["summary"] = "@here <@&123> **bold** `tick`"
	g.CommonAnnotations["description"] = "@everyone please look <@&123> <@456>\n```\nunclosed"
	g.CommonAnnotations["runbook_url"] = "javascript:alert(1)"
	g.Alerts[0].Labels["pod"] = "x`y`z"
	g.Alerts[0].GeneratorURL = "ftp://nope"
	m := RenderCard(g, cardPost(), t0, RenderOptions{})
	mustValid(t, m)
	golden(t, "card_hostile", m.Send())

	am := m.AllowedMentions
	if len(am.Parse) != 0 || fmt.Sprint(am.Roles) != "[555]" || fmt.Sprint(am.Users) != "[777]" {
		t.Errorf("allowed mentions = %+v", am)
	}
	if strings.Contains(m.Content, "@everyone") || strings.Contains(m.Content, "<@&123>") {
		t.Errorf("content carries live mentions from alert data: %q", m.Content)
	}
	for _, row := range m.Components {
		for _, c := range row.(discordgo.ActionsRow).Components {
			if u := c.(discordgo.Button).URL; !strings.HasPrefix(u, "http") {
				t.Errorf("bad link kept: %q", u)
			}
		}
	}
}

func hugeGroup() *bot.Group {
	g := firingGroup()
	big := strings.Repeat("Сервис недоступен 🔥🚨 — ", 420) // ~10 KB of multi-byte runes
	g.CommonLabels["alertname"] = "Огромная" + strings.Repeat("🚨", 300)
	g.CommonLabels["service"] = strings.Repeat("сервис-", 200)
	g.CommonAnnotations["summary"] = big
	g.CommonAnnotations["description"] = big + "\n```\n" + big
	g.TruncatedAlerts = 17
	g.Key = strings.Repeat("{ключ=\"значение\"}", 200)
	g.Alerts = nil
	for i := range 500 {
		st := bot.Firing
		if i%7 == 0 {
			st = bot.Resolved
		}
		g.Alerts = append(g.Alerts, bot.Alert{
			Fingerprint: fmt.Sprintf("f%04d", i), Status: st, StartsAt: t0.Add(-time.Duration(i) * time.Second),
			Labels:      map[string]string{"alertname": "X", "instance": fmt.Sprintf("узел-%d-%s", i, strings.Repeat("я", 80)), "pod": strings.Repeat("🙂", 50)},
			Annotations: map[string]string{"summary": fmt.Sprintf("алерт %d %s", i, strings.Repeat("ж", 300))},
		})
	}
	return g
}

func TestGoldenHugeCard(t *testing.T) {
	m := RenderCard(hugeGroup(), cardPost(), t0, RenderOptions{MaxAlerts: 500, Actions: ackButtons})
	mustValid(t, m)
	golden(t, "card_huge", m.Send())
	last := m.Embeds[0].Fields[len(m.Embeds[0].Fields)-1].Value
	if !strings.Contains(last, "more alerts") || !strings.Contains(last, "+17 alerts not sent by Alertmanager (max_alerts)") {
		t.Errorf("last field lacks the overflow notes: %q", last)
	}
}

func digestGroups() []*bot.Group {
	mk := func(id int64, name, summary string, p bot.Priority, resolved bool) *bot.Group {
		g := &bot.Group{ID: id, Key: name, Status: bot.Firing, Priority: p,
			CommonLabels:      map[string]string{"alertname": name},
			CommonAnnotations: map[string]string{"summary": summary},
			Alerts:            []bot.Alert{{Fingerprint: "f", Status: bot.Firing, StartsAt: t0.Add(-time.Duration(id) * time.Minute)}},
		}
		if resolved {
			g.Status, g.ResolvedAt = bot.Resolved, t0.Add(-time.Minute)
			g.Alerts[0].Status = bot.Resolved
		}
		return g
	}
	return []*bot.Group{
		mk(1, "HighCPU", "web-2 at 97% CPU", bot.P2, false),
		mk(2, "DiskFull", "db-1 /var 95% *full*", bot.P2, false),
		mk(3, "HighLatency", "p99 1.2s on api", bot.P3, true),
		mk(4, "PodRestarts", "worker restarting", bot.P3, false),
	}
}

func TestGoldenDigest(t *testing.T) {
	v := bot.View{
		Post:   bot.Post{ID: 9, Kind: bot.Digest, ChannelID: "111", Mentions: bot.Mentions{Roles: []string{"555"}}},
		Groups: digestGroups(),
		Stats:  bot.DigestStats{Groups: 40, Firing: [4]int{0, 0, 25, 12}, Resolved: 3, Pages: 2, Since: t0.Add(-5 * time.Minute)},
		Now:    t0,
	}
	m := RenderDigest(v, RenderOptions{})
	mustValid(t, m)
	golden(t, "digest", m.Send())
	e := m.Embeds[0]
	if e.Title != "🌩️ Alert storm — 40 groups" || e.Color != ColorP2 {
		t.Errorf("title/colour: %q %#x", e.Title, e.Color)
	}
	if !strings.Contains(e.Description, "… 36 more in the thread") {
		t.Errorf("description lacks the thread pointer:\n%s", e.Description)
	}
	if fmt.Sprint(m.AllowedMentions.Roles) != "[555]" || !strings.HasPrefix(m.Content, "<@&555> **Alert storm**: 37 alert groups firing") {
		t.Errorf("mentions: %q %+v", m.Content, m.AllowedMentions)
	}

	// All resolved: green, the edit pings nobody, the thread is linked.
	v.Post.MessageID, v.Post.ThreadID = "5", "6"
	v.Stats.Firing, v.Stats.Resolved = [4]int{}, 40
	m = RenderDigest(v, RenderOptions{})
	mustValid(t, m)
	if e := m.Embeds[0]; e.Color != ColorResolved || !strings.Contains(e.Description, "in <#6>") {
		t.Errorf("resolved digest: %#x %q", e.Color, e.Description)
	}
	if m.Content != "" || len(m.AllowedMentions.Roles) != 0 {
		t.Errorf("resolved digest mentions: %q %+v", m.Content, m.AllowedMentions)
	}
}

func TestGoldenPage(t *testing.T) {
	var groups []*bot.Group
	for i := range 10 {
		groups = append(groups, digestGroups()...)
		_ = i
	}
	v := bot.View{Post: bot.Post{ID: 10, Kind: bot.Page, ChannelID: "6", DigestID: 9, Seq: 2}, Groups: groups[:40], Now: t0}
	m := RenderPage(v, RenderOptions{})
	mustValid(t, m)
	golden(t, "page", m.Send())
	e := m.Embeds[0]
	if e.Title != "Page 2" || strings.Count(e.Description, "\n")+1 != 40 || len(e.Fields) != 0 {
		t.Errorf("page: %q, %d lines, %d fields", e.Title, strings.Count(e.Description, "\n")+1, len(e.Fields))
	}
}

func TestPageOfFortyLongGroupsFits(t *testing.T) {
	var groups []*bot.Group
	for i := range 40 {
		g := firingGroup()
		g.Priority = bot.Priority(i % 4)
		g.CommonLabels["alertname"] = strings.Repeat("Ж*", 100)
		g.CommonAnnotations["summary"] = strings.Repeat("🔥_", 100)
		if i%3 == 0 {
			g.Status, g.ResolvedAt = bot.Resolved, t0
		}
		groups = append(groups, g)
	}
	m := RenderPage(bot.View{Post: bot.Post{Kind: bot.Page, Seq: 1}, Groups: groups, Now: t0}, RenderOptions{})
	mustValid(t, m)
	e := m.Embeds[0]
	lines := strings.Count(e.Description, "\n") + 1
	for _, f := range e.Fields {
		lines += strings.Count(f.Value, "\n") + 1
		if strings.Contains(f.Value, "more") {
			t.Fatalf("page of 40 dropped groups: %q", f.Value)
		}
	}
	if lines != 40 {
		t.Fatalf("page shows %d lines, want 40", lines)
	}
}

func TestRenderKinds(t *testing.T) {
	if _, err := Render(bot.View{Post: bot.Post{Kind: bot.Card}}, RenderOptions{}); err == nil {
		t.Error("card without a group rendered")
	}
	if _, err := Render(bot.View{Post: bot.Post{Kind: "nope"}}, RenderOptions{}); err == nil {
		t.Error("unknown kind rendered")
	}
	if m, err := Render(bot.View{Post: bot.Post{Kind: bot.Card}, Groups: []*bot.Group{firingGroup()}, Now: t0}, RenderOptions{}); err != nil || m.Validate() != nil {
		t.Errorf("card: %v", err)
	}
}

// randText returns text mixing ASCII, Cyrillic, emoji, markdown and mentions.
func randText(r *rand.Rand, max int) string {
	parts := []string{"a", "Ж", "🔥", "👩‍💻", "`", "*", "_", "~", "\n", " ", "@everyone", "<@&1>", "```", "é", "\\", "|", "http://x.y/", "字"}
	n := r.IntN(max + 1)
	var b strings.Builder
	for range n {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

func randGroup(r *rand.Rand, maxAlerts, textMax int) *bot.Group {
	randText := func(r *rand.Rand, n int) string { return randText(r, min(n, textMax)) }
	g := &bot.Group{
		ID: r.Int64N(1000), Key: randText(r, 3000), Priority: bot.Priority(r.IntN(4)), PrioritySource: randText(r, 300),
		Status:            bot.Firing,
		GroupLabels:       map[string]string{},
		CommonLabels:      map[string]string{"alertname": randText(r, 400), "service": randText(r, 2000), "instance": randText(r, 50)},
		CommonAnnotations: map[string]string{"summary": randText(r, 3000), "description": randText(r, 6000), "runbook_url": "https://r.example/" + randText(r, 600)},
		TruncatedAlerts:   r.IntN(3) * 1000,
		ExternalURL:       "http://am:9093",
	}
	if r.IntN(3) == 0 {
		g.Status, g.ResolvedAt = bot.Resolved, t0
	}
	for i := range r.IntN(maxAlerts + 1) {
		size := 30
		if i < 5 {
			size = 1500 // a few huge ones, the rest small: generating text is the slow part
		}
		g.Alerts = append(g.Alerts, bot.Alert{
			Fingerprint: fmt.Sprint(i), Status: bot.Firing, StartsAt: t0.Add(-time.Hour),
			Labels:       map[string]string{"alertname": randText(r, 50), "k" + randText(r, 20): randText(r, size/3)},
			Annotations:  map[string]string{"summary": randText(r, size)},
			GeneratorURL: "http://p/" + randText(r, size/2),
		})
	}
	return g
}

func TestRenderLimitsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 120 {
		g := randGroup(r, 300, 6000)
		p := cardPost()
		if i%2 == 1 {
			p.MessageID = "1"
		}
		p.Mentions.Roles = append(p.Mentions.Roles, "not-an-id", "555")
		opt := RenderOptions{MaxAlerts: 1 + r.IntN(600), Actions: func(bot.View) []discordgo.Button {
			var bs []discordgo.Button
			for j := range r.IntN(40) {
				bs = append(bs, discordgo.Button{Label: randText(r, 120), CustomID: fmt.Sprintf("x:%d:%s", j, strings.Repeat("9", r.IntN(110)))})
			}
			return bs
		}}
		m := RenderCard(g, p, t0, opt)
		if err := m.Validate(); err != nil {
			t.Fatalf("card %d: %v", i, err)
		}
		if len(m.AllowedMentions.Roles) > 1 || (len(m.AllowedMentions.Roles) == 1 && m.AllowedMentions.Roles[0] != "555") {
			t.Fatalf("card %d: roles %v", i, m.AllowedMentions.Roles)
		}

		var groups []*bot.Group
		for range r.IntN(45) {
			groups = append(groups, randGroup(r, 2, 300))
		}
		v := bot.View{Post: bot.Post{Kind: bot.Digest, Seq: 3, Mentions: p.Mentions}, Groups: groups,
			Stats: bot.DigestStats{Groups: len(groups) + r.IntN(1000), Firing: [4]int{r.IntN(9), 0, r.IntN(500), 1}}, Now: t0}
		if err := RenderDigest(v, opt).Validate(); err != nil {
			t.Fatalf("digest %d: %v", i, err)
		}
		if err := RenderPage(v, opt).Validate(); err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello", 4, "hel…"},
		{"привет", 3, "пр…"},
		{"🔥🔥🔥", 2, "🔥…"},
		{"ab", 1, "…"},
		{"ab", 0, ""},
		{"a   b", 3, "a…"},
	} {
		if got := truncate(c.in, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	if got := codeSpan("a`b\nc"); got != "`aˋb c`" {
		t.Errorf("codeSpan = %q", got)
	}
	if got := escapeMarkdown("*x* _y_ `z` <@&1>"); got != "\\*x\\* \\_y\\_ \\`z\\` \\<@&1\\>" {
		t.Errorf("escapeMarkdown = %q", got)
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{45 * time.Second, "45s"}, {12 * time.Minute, "12m"}, {65 * time.Minute, "1h 5m"}, {2 * time.Hour, "2h"}, {51 * time.Hour, "2d 3h"}} {
		if got := humanDuration(c.d); got != c.want {
			t.Errorf("humanDuration(%s) = %q", c.d, got)
		}
	}
}

// A card created only after its group was acknowledged (Discord was down,
// the channel's backlog was long, or the card was deleted and is posted
// again) pings nobody: the page is answered.
func TestAcknowledgedCardCreationDoesNotPing(t *testing.T) {
	g := firingGroup()
	g.Ack = &bot.Action{Actor: bot.Actor{UserID: "777", Via: "phone"}, At: t0}
	m := RenderCard(g, cardPost(), t0, RenderOptions{Actions: ackButtons})
	mustValid(t, m)
	if am := m.AllowedMentions; len(am.Roles)+len(am.Users) != 0 {
		t.Errorf("creation of an acknowledged card allows mentions: %+v", am)
	}
}
