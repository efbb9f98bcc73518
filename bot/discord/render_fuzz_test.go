package discord

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discordtest"
)

// FuzzRender renders cards, storm digests and digest pages from arbitrary
// alert text and checks that every message is one Discord accepts: the fake
// Discord's validator (the official OpenAPI description plus the limits it
// omits: content 2,000, title 256, description 4,096, 25 fields of 256/1,024,
// 6,000 over all embeds, 5 rows of 5 buttons, custom_id 1–100) and Render's
// own Validate, for a creation and for an edit, with no live mention.
//
// Run it longer with: go test ./bot/discord -run '^$' -fuzz '^FuzzRender$' -fuzztime 5m
func FuzzRender(f *testing.F) {
	// Seeds: the texts of real Alertmanager deliveries (the webhook's
	// fixtures) and of the hostile and huge golden cards.
	paths, _ := filepath.Glob(filepath.Join("..", "..", "handlers", "testdata", "alertmanager", "*.json"))
	if len(paths) == 0 {
		f.Fatal("no Alertmanager fixtures in handlers/testdata/alertmanager")
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var fx struct {
			Body struct {
				GroupKey, ExternalURL string
				CommonLabels          map[string]string
				Alerts                []struct {
					Labels, Annotations map[string]string
					GeneratorURL        string
					StartsAt            time.Time
				}
			}
		}
		if err := json.Unmarshal(raw, &fx); err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		for i, a := range fx.Body.Alerts {
			f.Add(a.Labels["alertname"], a.Annotations["summary"], a.Annotations["description"], a.Labels["instance"], fx.Body.GroupKey,
				a.Annotations["runbook_url"], a.GeneratorURL, fx.Body.ExternalURL, uint16(len(fx.Body.Alerts)), uint8(0), a.StartsAt.UnixNano(), uint8(i))
		}
	}
	hostile, huge := firingGroup(), hugeGroup()
	f.Add("Evil @everyone <@&123> `x`", "@here <@&123> **bold** `tick`", "@everyone please look <@&123> <@456>\n```\nunclosed",
		"x`y`z", hostile.Key, "javascript:alert(1)", "ftp://nope", "http://am:9093", uint16(3), uint8(0), t0.UnixNano(), uint8(0x15))
	f.Add(huge.CommonLabels["alertname"], huge.CommonAnnotations["summary"], huge.CommonAnnotations["description"],
		huge.CommonLabels["service"], huge.Key, "https://r.example/"+strings.Repeat("é", 600), "http://p/x", "", uint16(500), uint8(200), t0.UnixNano(), uint8(0xff))

	f.Fuzz(func(t *testing.T, alertname, summary, description, label, key, runbook, genURL, extURL string,
		nAlerts uint16, maxAlerts uint8, startNs int64, flags uint8) {
		start := time.Unix(0, startNs).UTC() // the store holds Unix nanoseconds: every start it can give
		if start.Equal(time.Unix(0, 0)) {
			start = time.Time{}
		}
		g := &bot.Group{
			ID: int64(nAlerts), Key: key, Receiver: label, Status: bot.Firing, Priority: bot.Priority(flags >> 4 % 4), PrioritySource: summary,
			GroupLabels:       map[string]string{"alertname": alertname},
			CommonLabels:      map[string]string{"alertname": alertname, "service": label, "instance": description, label: summary},
			CommonAnnotations: map[string]string{"summary": summary, "description": description, "runbook_url": runbook},
			ExternalURL:       extURL, TruncatedAlerts: int(maxAlerts) * int(nAlerts), CreatedAt: start, UpdatedAt: start,
		}
		for i := range int(nAlerts % 150) {
			a := bot.Alert{Fingerprint: fmt.Sprintf("%s%d", label, i), Status: bot.Firing, StartsAt: start.Add(time.Duration(i) * time.Second),
				Labels:       map[string]string{"alertname": alertname, "instance": fmt.Sprintf("%s-%d", label, i), label: description},
				Annotations:  map[string]string{"summary": fmt.Sprintf("%s %d", summary, i), "description": description, "runbook_url": runbook},
				GeneratorURL: genURL}
			if i%3 == int(flags%3) {
				a.Status, a.EndsAt = bot.Resolved, a.StartsAt.Add(time.Minute)
			}
			g.Alerts = append(g.Alerts, a)
		}
		if flags&1 != 0 {
			g.Status, g.ResolvedAt = bot.Resolved, start.Add(time.Hour)
		}
		if flags&2 != 0 {
			g.Notes = []string{summary, description}
		}
		if flags&4 != 0 {
			g.Ack = &bot.Action{Actor: bot.Actor{Name: label, Via: alertname}, At: start}
		}
		if flags&8 != 0 {
			g.Silence = &bot.Silence{ID: key, Until: t0.Add(time.Hour), CreatedBy: bot.Actor{UserID: label}}
		}
		opt := RenderOptions{AlertmanagerURL: extURL, MaxAlerts: int(maxAlerts), Actions: func(v bot.View) []discordgo.Button {
			return []discordgo.Button{
				{Label: alertname, Style: discordgo.PrimaryButton, CustomID: "ack:" + key},
				{Label: "Runbook", Style: discordgo.SecondaryButton, CustomID: label},
				{Label: summary, Style: discordgo.LinkButton, URL: runbook},
			}
		}}
		post := bot.Post{ID: 7, Kind: bot.Card, ChannelID: "111", Priority: g.Priority,
			Mentions: bot.Mentions{Roles: []string{"555", label}, Users: []string{"777", alertname}}}
		check := func(what string, m *Message) {
			t.Helper()
			if err := m.Validate(); err != nil {
				t.Fatalf("%s: Validate: %v", what, err)
			}
			create, err := json.Marshal(m.Send())
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if err := discordtest.CheckBody("POST", "/channels/111/messages", create); err != nil {
				t.Fatalf("%s: Discord would refuse the creation: %v\n%s", what, err, create)
			}
			edit, err := json.Marshal(m.Edit("111", "222"))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if err := discordtest.CheckBody("PATCH", "/channels/111/messages/222", edit); err != nil {
				t.Fatalf("%s: Discord would refuse the edit: %v\n%s", what, err, edit)
			}
			am := m.AllowedMentions
			if am == nil || am.Parse == nil || len(am.Parse) != 0 {
				t.Fatalf("%s: allowed_mentions %+v, want parse: []", what, am)
			}
			for _, id := range append(append([]string(nil), am.Roles...), am.Users...) {
				if id != "555" && id != "777" && id != label && id != alertname {
					t.Fatalf("%s: allowed mention %q is none of the configured ones", what, id)
				}
				if strings.Trim(id, "0123456789") != "" {
					t.Fatalf("%s: allowed mention %q is not a snowflake", what, id)
				}
			}
			// Valid text stays valid: a cut inside a rune would show as U+FFFD.
			if utf8.ValidString(alertname + summary + description + label + key) {
				texts := []string{m.Content}
				for _, e := range m.Embeds {
					texts = append(texts, e.Title, e.Description)
					for _, fl := range e.Fields {
						texts = append(texts, fl.Name, fl.Value)
					}
				}
				for _, s := range texts {
					if !utf8.ValidString(s) {
						t.Fatalf("%s: text became invalid UTF-8: %q", what, s)
					}
				}
			}
		}
		for _, messageID := range []string{"", "999"} {
			post.MessageID = messageID
			m, err := Render(bot.View{Post: post, Groups: []*bot.Group{g}, Now: t0}, opt)
			if err != nil {
				t.Fatal(err)
			}
			check("card", m)
		}
		other := *g
		other.ID, other.Status = g.ID+1, bot.Firing
		v := bot.View{Post: bot.Post{ID: 8, Kind: bot.Digest, ChannelID: "111", Seq: int(flags), Mentions: post.Mentions},
			Groups: []*bot.Group{g, &other}, Stats: bot.DigestStats{Groups: int(nAlerts), Firing: [4]int{int(maxAlerts), 1, 2, int(nAlerts)}}, Now: t0}
		check("digest", RenderDigest(v, opt))
		v.Post.Kind, v.Post.DigestID = bot.Page, 8
		check("page", RenderPage(v, opt))
	})
}
