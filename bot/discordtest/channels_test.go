package discordtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestThreads(t *testing.T) {
	e := newEnv(t, Options{})
	m, err := e.dg.ChannelMessageSend(e.channel, "incident #7")
	if err != nil {
		t.Fatal(err)
	}
	th, err := e.dg.MessageThreadStartComplex(e.channel, m.ID, &discordgo.ThreadStart{Name: "inc-7", AutoArchiveDuration: 1440})
	if err != nil {
		t.Fatal(err)
	}
	if th.ID != m.ID || th.ParentID != e.channel || th.Type != discordgo.ChannelTypeGuildPublicThread || th.ThreadMetadata == nil {
		t.Errorf("thread = %+v", th)
	}
	if got, _ := e.srv.Message(m.ID); got.ThreadID != th.ID {
		t.Errorf("message thread = %q", got.ThreadID)
	}
	if _, err := e.dg.MessageThreadStartComplex(e.channel, m.ID, &discordgo.ThreadStart{Name: "again"}); err == nil {
		t.Error("second thread on one message accepted")
	}
	if _, err := e.dg.ChannelMessageSend(th.ID, "timeline entry"); err != nil {
		t.Fatal(err)
	}
	if err := e.dg.ThreadMemberAdd(th.ID, e.user); err != nil {
		t.Fatal(err)
	}
	archived := true
	if _, err := e.dg.ChannelEdit(th.ID, &discordgo.ChannelEdit{Name: "inc-7 resolved", Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	threads := e.srv.Threads(e.channel)
	if len(threads) != 1 || !threads[0].Archived || threads[0].Name != "inc-7 resolved" || len(threads[0].MemberIDs) != 2 {
		t.Errorf("threads = %+v", threads)
	}
	if msgs := e.srv.Messages(th.ID); len(msgs) != 1 || msgs[0].Content != "timeline entry" {
		t.Errorf("thread messages = %+v", msgs)
	}
	// private thread without a message (type given)
	pt, err := e.dg.ThreadStartComplex(e.channel, &discordgo.ThreadStart{Name: "war-room", Type: discordgo.ChannelTypeGuildPrivateThread, AutoArchiveDuration: 60})
	if err != nil || pt.Type != discordgo.ChannelTypeGuildPrivateThread {
		t.Fatalf("private thread = %+v, %v", pt, err)
	}
	// forum post
	post, err := e.dg.ForumThreadStartComplex(e.forum, &discordgo.ThreadStart{Name: "postmortem inc-7", AutoArchiveDuration: 10080}, &discordgo.MessageSend{Content: "summary"})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := e.srv.Messages(post.ID); len(msgs) != 1 || msgs[0].ID != post.ID || msgs[0].Content != "summary" {
		t.Errorf("forum post messages = %+v", msgs)
	}
	if _, err := e.dg.ChannelMessageSend(e.forum, "x"); err == nil {
		t.Error("posting into a forum channel accepted")
	}
}

func TestDMs(t *testing.T) {
	e := newEnv(t, Options{})
	bob := e.srv.AddUser("bob")
	tests := []struct {
		name     string
		user     string
		closed   bool
		wantCode int
	}{
		{"open DM", e.user, false, 0},
		{"closed DM", bob, true, discordgo.ErrCodeCannotSendMessagesToThisUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.SetDMClosed(tc.user, tc.closed)
			ch, err := e.dg.UserChannelCreate(tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if id, _ := e.srv.DMChannel(tc.user); id != ch.ID || ch.Type != discordgo.ChannelTypeDM || ch.Recipients[0].ID != tc.user {
				t.Errorf("dm channel = %+v", ch)
			}
			_, err = e.dg.ChannelMessageSend(ch.ID, "you are on call")
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			re := restErr(t, err)
			if re.Response.StatusCode != 403 || re.Message.Code != tc.wantCode {
				t.Errorf("got %d %s", re.Response.StatusCode, re.ResponseBody)
			}
		})
	}
}

func TestWebhooks(t *testing.T) {
	e := newEnv(t, Options{})
	id, token, url := e.srv.CreateWebhook(e.channel)
	if !strings.HasPrefix(url, e.srv.URL()+"/api/webhooks/") {
		t.Errorf("url = %s", url)
	}
	// Alertmanager-style: plain POST to the URL, no wait
	body := `{"content":"","embeds":[{"title":"[FIRING:1] HighLatency","description":"p99 high","color":10038562}]}`
	resp, err := e.srv.Client().Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Errorf("execute: %d", resp.StatusCode)
	}
	msgs := e.srv.Messages(e.channel)
	if len(msgs) != 1 || msgs[0].WebhookID != id || msgs[0].Embeds[0].Title != "[FIRING:1] HighLatency" {
		t.Fatalf("messages = %+v", msgs)
	}
	// wait=true through discordgo returns the message
	m, err := e.dg.WebhookExecute(id, token, true, &discordgo.WebhookParams{Content: "resolved", Username: "alertmanager"})
	if err != nil || m.Content != "resolved" || m.WebhookID != id || m.Author.Username != "alertmanager" {
		t.Errorf("execute wait: %+v %v", m, err)
	}
	// bad token
	resp2, b := raw(t, e.srv, "POST", "/webhooks/"+id+"/wrong", `{"content":"x"}`)
	var apiErr struct{ Code int }
	_ = json.Unmarshal(b, &apiErr)
	if resp2.StatusCode != 401 || apiErr.Code != 50027 {
		t.Errorf("bad token: %d %s", resp2.StatusCode, b)
	}
}
