package discordtest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestMessages(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name  string
		send  *discordgo.MessageSend
		check func(t *testing.T, m Message)
	}{
		{
			name: "embeds components allowed_mentions",
			send: &discordgo.MessageSend{
				Content: "🔥 incident #1",
				Embeds: []*discordgo.MessageEmbed{{
					Title: "HighLatency", Description: "p99 > 2s", Color: 0xff0000,
					Fields: []*discordgo.MessageEmbedField{{Name: "service", Value: "api", Inline: true}},
					Footer: &discordgo.MessageEmbedFooter{Text: "alertmanager"},
				}},
				Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.Button{Label: "Ack", CustomID: "ack:1", Style: discordgo.PrimaryButton},
					discordgo.Button{Label: "Runbook", URL: "https://example.com/rb", Style: discordgo.LinkButton},
				}}},
				AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Roles: []string{e.role}},
			},
			check: func(t *testing.T, m Message) {
				if len(m.Embeds) != 1 || m.Embeds[0].Title != "HighLatency" || m.Embeds[0].Fields[0].Value != "api" {
					t.Errorf("embeds = %+v", m.Embeds)
				}
				b := m.Buttons()
				if len(b) != 2 || b[0].CustomID != "ack:1" || b[0].Label != "Ack" || b[1].URL != "https://example.com/rb" {
					t.Errorf("buttons = %+v", b)
				}
				if m.AllowedMentions == nil || len(m.AllowedMentions.Parse) != 0 || len(m.AllowedMentions.Roles) != 1 {
					t.Errorf("allowed mentions = %+v", m.AllowedMentions)
				}
				if m.Author.ID != e.srv.BotUserID() || !m.Author.Bot {
					t.Errorf("author = %+v", m.Author)
				}
			},
		},
		{
			name: "multipart attachment",
			send: &discordgo.MessageSend{
				Content: "graph",
				Files:   []*discordgo.File{{Name: "latency.png", ContentType: "image/png", Reader: bytes.NewReader(pngBytes)}},
			},
			check: func(t *testing.T, m Message) {
				if len(m.Attachments) != 1 {
					t.Fatalf("attachments = %+v", m.Attachments)
				}
				a := m.Attachments[0]
				if a.Filename != "latency.png" || a.ContentType != "image/png" || !bytes.Equal(a.Data, pngBytes) {
					t.Errorf("attachment = %s %s %d bytes", a.Filename, a.ContentType, len(a.Data))
				}
			},
		},
		{
			name: "content of exactly 2000 runes",
			send: &discordgo.MessageSend{Content: strings.Repeat("é", 2000)},
			check: func(t *testing.T, m Message) {
				if len([]rune(m.Content)) != 2000 {
					t.Errorf("content runes = %d", len([]rune(m.Content)))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.dg.ChannelMessageSendComplex(e.channel, tc.send)
			if err != nil {
				t.Fatal(err)
			}
			m, ok := e.srv.Message(got.ID)
			if !ok {
				t.Fatalf("message %s not stored", got.ID)
			}
			if got.Content != m.Content || got.ChannelID != e.channel {
				t.Errorf("discordgo saw %q in %s, fake stored %q", got.Content, got.ChannelID, m.Content)
			}
			tc.check(t, m)
			// read back through the API too
			again, err := e.dg.ChannelMessage(e.channel, got.ID)
			if err != nil || again.ID != got.ID || len(again.Embeds) != len(m.Embeds) || len(again.Attachments) != len(m.Attachments) {
				t.Errorf("GET message = %+v, %v", again, err)
			}
		})
	}
}

func TestEditPinReact(t *testing.T) {
	e := newEnv(t, Options{})
	m, err := e.dg.ChannelMessageSend(e.channel, "firing")
	if err != nil {
		t.Fatal(err)
	}
	content := "resolved"
	embeds := []*discordgo.MessageEmbed{{Title: "Resolved"}}
	if _, err := e.dg.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: m.ID, Channel: e.channel, Content: &content, Embeds: &embeds}); err != nil {
		t.Fatal(err)
	}
	if err := e.dg.ChannelMessagePin(e.channel, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.dg.MessageReactionAdd(e.channel, m.ID, "✅"); err != nil {
		t.Fatal(err)
	}
	got, _ := e.srv.Message(m.ID)
	if got.Content != "resolved" || len(got.Embeds) != 1 || got.EditedAt.IsZero() || !got.Pinned || len(got.Reactions) != 1 || got.Reactions[0] != "✅" {
		t.Errorf("message = %+v", got)
	}
	if n := e.srv.Edits(m.ID); n != 1 {
		t.Errorf("edits = %d, want 1", n)
	}
	msgs, err := e.dg.ChannelMessages(e.channel, 10, "", "", "")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("list = %v, %v", msgs, err)
	}
	if err := e.dg.ChannelMessageDelete(e.channel, m.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Messages(e.channel)); n != 0 {
		t.Errorf("messages after delete = %d", n)
	}
	_, err = e.dg.ChannelMessage(e.channel, m.ID)
	if re := restErr(t, err); re.Message == nil || re.Message.Code != discordgo.ErrCodeUnknownMessage {
		t.Errorf("get deleted: %v", err)
	}
	_, err = e.dg.ChannelMessageSend("123", "x")
	if re := restErr(t, err); re.Response.StatusCode != 404 || re.Message.Code != discordgo.ErrCodeUnknownChannel {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestSpecViolations(t *testing.T) {
	var violations []error
	e := newEnv(t, Options{NoRateLimits: true, OnViolation: func(err error) { violations = append(violations, err) }})
	base, err := e.dg.ChannelMessageSend(e.channel, "base")
	if err != nil {
		t.Fatal(err)
	}
	row := func(n int) discordgo.ActionsRow {
		var bs []discordgo.MessageComponent
		for i := 0; i < n; i++ {
			bs = append(bs, discordgo.Button{Label: "b", CustomID: "id" + strings.Repeat("x", i)})
		}
		return discordgo.ActionsRow{Components: bs}
	}
	manyEmbeds := func(n int) []*discordgo.MessageEmbed {
		var out []*discordgo.MessageEmbed
		for i := 0; i < n; i++ {
			out = append(out, &discordgo.MessageEmbed{Title: "t"})
		}
		return out
	}
	send := func(ms *discordgo.MessageSend) func() error {
		return func() error { _, err := e.dg.ChannelMessageSendComplex(e.channel, ms); return err }
	}
	tests := []struct {
		name     string
		do       func() error
		wantCode int
		field    string // a fragment expected in the violation text
	}{
		{"content 2001 runes", send(&discordgo.MessageSend{Content: strings.Repeat("é", 2001)}), 50035, "content"},
		{"11 embeds", send(&discordgo.MessageSend{Embeds: manyEmbeds(11)}), 50035, "embeds"},
		{"embed title 257", send(&discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: strings.Repeat("a", 257)}}}), 50035, "embeds.0.title"},
		{"embeds over 6000 total", send(&discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{
			{Description: strings.Repeat("a", 4000)}, {Description: strings.Repeat("b", 2001)}}}), 50035, "6000"},
		{"26 fields", send(&discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: "x", Fields: func() []*discordgo.MessageEmbedField {
			var f []*discordgo.MessageEmbedField
			for i := 0; i < 26; i++ {
				f = append(f, &discordgo.MessageEmbedField{Name: "n", Value: "v"})
			}
			return f
		}()}}}), 50035, "fields"},
		{"6 action rows", send(&discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{row(1), row(1), row(1), row(1), row(1), row(1)}}), 50035, "components"},
		{"6 buttons in a row", send(&discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{row(6)}}), 50035, "components.0.components"},
		{"custom_id 101", send(&discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "b", CustomID: strings.Repeat("c", 101)}}}}}), 50035, "custom_id"},
		{"empty message", send(&discordgo.MessageSend{}), 50006, "empty"},
		{"thread auto_archive 61", func() error {
			_, err := e.dg.MessageThreadStartComplex(e.channel, base.ID, &discordgo.ThreadStart{Name: "t", AutoArchiveDuration: 61})
			return err
		}, 50035, "auto_archive_duration"},
		{"thread name 101", func() error {
			_, err := e.dg.MessageThreadStartComplex(e.channel, base.ID, &discordgo.ThreadStart{Name: strings.Repeat("n", 101)})
			return err
		}, 50035, "name"},
		{"thread without message lacks type", func() error {
			_, err := e.dg.ThreadStartComplex(e.channel, &discordgo.ThreadStart{Name: "t", AutoArchiveDuration: 60})
			return err
		}, 50035, "type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(violations)
			err := tc.do()
			re := restErr(t, err)
			if re.Response.StatusCode != 400 || re.Message == nil || re.Message.Code != tc.wantCode {
				t.Fatalf("got %d %s", re.Response.StatusCode, re.ResponseBody)
			}
			if len(violations) != before+1 {
				t.Fatalf("violations: %d new, want 1", len(violations)-before)
			}
			if v := violations[before].Error(); !strings.Contains(v, tc.field) {
				t.Errorf("violation %q does not mention %q", v, tc.field)
			}
		})
	}
	if n := len(e.srv.Messages(e.channel)); n != 1 {
		t.Errorf("rejected requests created messages: %d", n)
	}
}

func TestRoutesAndAuth(t *testing.T) {
	var violations []error
	e := newEnv(t, Options{Token: "test-token", OnViolation: func(err error) { violations = append(violations, err) }})
	tests := []struct {
		name, method, path string
		status             int
		violation          bool
	}{
		{"v10 get channel", "GET", "/api/v10/channels/" + e.channel, 200, false},
		{"v9 get channel", "GET", "/api/v9/channels/" + e.channel, 200, false},
		{"unknown route", "GET", "/api/v10/nope/1", 404, true},
		{"wrong method", "DELETE", "/api/v10/gateway", 405, true},
		{"unknown guild", "GET", "/api/v10/guilds/1", 404, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(violations)
			req, _ := http.NewRequest(tc.method, "https://discord.com"+tc.path, nil)
			req.Header.Set("Authorization", "Bot test-token")
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || (len(violations) > before) != tc.violation {
				t.Errorf("status %d (want %d), violations %d", resp.StatusCode, tc.status, len(violations)-before)
			}
		})
	}
	bad, _ := e.srv.NewSession("other")
	if _, err := bad.User("@me"); err == nil {
		t.Error("wrong token accepted")
	}
	u, err := e.dg.User("@me")
	if err != nil || u.ID != e.srv.BotUserID() || !u.Bot {
		t.Errorf("@me = %+v, %v", u, err)
	}
	g, err := e.dg.Guild(e.guild)
	if err != nil || g.Name != "ops" {
		t.Errorf("guild = %+v, %v", g, err)
	}
	chans, err := e.dg.GuildChannels(e.guild)
	if err != nil || len(chans) != 2 {
		t.Errorf("channels = %v, %v", chans, err)
	}
	roles, err := e.dg.GuildRoles(e.guild)
	if err != nil || len(roles) != 2 {
		t.Errorf("roles = %v, %v", roles, err)
	}
	mem, err := e.dg.GuildMember(e.guild, e.user)
	if err != nil || mem.User.Username != "alice" || len(mem.Roles) != 1 || mem.Roles[0] != e.role {
		t.Errorf("member = %+v, %v", mem, err)
	}
}
