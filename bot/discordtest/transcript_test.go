package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// A few requests through the fake, and the transcript lines they make:
// a post with a role mention, an embed, buttons and allowed mentions; an
// edit that removes the buttons; a thread on the message; a pin; a DM; a refusal.
func TestTranscript(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return at }, OnViolation: func(err error) { t.Errorf("violation: %v", err) }})
	t.Cleanup(s.Close)
	guild := s.AddGuild("ops")
	ch := s.AddChannel(guild, "alerts-p0", discordgo.ChannelTypeGuildText)
	role := s.AddRole(guild, "on-call")
	anna := s.AddUser("anna")
	s.AddMember(guild, anna, role)

	var out bytes.Buffer
	tr := NewTranscript(s, &out, TranscriptOptions{Start: at.Add(-1500 * time.Millisecond), Now: func() time.Time { return at },
		EmbedColors: map[int]EmbedColor{0xE01E1E: {Word: "P0 red", Style: Red}}})
	tr.SetName(role, "on-call")
	tr.SetName(anna, "anna")

	_, body := raw(t, s, "POST", "/channels/"+ch+"/messages", fmt.Sprintf(`{
		"content": "<@&%s> **P0** in <#%s>",
		"embeds": [{"title": "🔴 P0 · GameServerDown", "color": %d, "description": "started <t:%d:R>",
			"fields": [{"name": "Status", "value": "Firing\nsince <t:%d:t>"}], "footer": {"text": "Klaxon"}}],
		"components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Acknowledge", "custom_id": "ack:1"},
			{"type": 2, "style": 5, "label": "Runbook", "url": "https://wiki.example/rb"}]}],
		"allowed_mentions": {"parse": [], "roles": [%q]}}`, role, ch, 0xE01E1E, at.Add(-2*time.Minute).Unix(), at.Unix(), role))
	var msg struct{ ID string }
	if err := json.Unmarshal(body, &msg); err != nil || msg.ID == "" {
		t.Fatalf("create message: %s", body)
	}
	raw(t, s, "PATCH", "/channels/"+ch+"/messages/"+msg.ID, `{"embeds": [{"title": "✅ resolved", "color": 3061373}], "components": []}`)
	raw(t, s, "POST", "/channels/"+ch+"/messages/"+msg.ID+"/threads", `{"name": "INC-1"}`)
	raw(t, s, "PUT", "/channels/"+ch+"/pins/"+msg.ID, "")
	_, body = raw(t, s, "POST", "/users/@me/channels", fmt.Sprintf(`{"recipient_id": %q}`, anna))
	var dm struct{ ID string }
	_ = json.Unmarshal(body, &dm)
	raw(t, s, "POST", "/channels/"+dm.ID+"/messages", `{"content": "please acknowledge", "allowed_mentions": {"parse": []}}`)
	raw(t, s, "DELETE", "/channels/"+ch+"/messages/1", "")
	tr.Flush(Event{At: at.Add(time.Second), Print: func() { tr.Line("  (the phone rings)") }})

	want := []string{
		"  +1.50s #alerts-p0 posts msg #1",
		"      @on-call P0 in #alerts-p0",
		"      ┃ [P0 red] 🔴 P0 · GameServerDown",
		"      ┃ started 2m0s ago",
		"      ┃ Status: Firing",
		"      ┃   since " + time.Unix(at.Unix(), 0).Format("2006-01-02 15:04:05 MST"),
		"      ┃ Klaxon",
		"      buttons: [Acknowledge] [Runbook ↗ https://wiki.example/rb]",
		"      🔔 notifies @on-call",
		"  +1.50s #alerts-p0 edits msg #1",
		"      ┃ [#2EB67D] ✅ resolved",
		"      buttons removed",
		"  +1.50s #alerts-p0 opens a thread “INC-1” on msg #1",
		"  +1.50s #alerts-p0 📌 pins msg #1",
		"  +1.50s opens a DM with @anna",
		"  +1.50s DM @anna sends a DM msg #2",
		"      please acknowledge",
		"  +1.50s ✗ DELETE /channels/" + ch + "/messages/1 answered 404",
		"  (the phone rings)",
	}
	// The event at +2.50s comes after the requests at +1.50s.
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transcript:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	st := tr.Stats()
	if st.Posts != 1 || st.Edits != 1 || st.Threads != 1 || st.DMs != 1 || st.Violations != 0 || tr.Seen() != 7 {
		t.Errorf("stats %+v, seen %d", st, tr.Seen())
	}

	// A second Flush prints only what is new; colours are ANSI when on.
	out.Reset()
	tr.Flush()
	if out.Len() != 0 {
		t.Errorf("second flush printed again:\n%s", out.String())
	}
	colored := NewTranscript(s, &out, TranscriptOptions{Color: true, Start: at})
	if got := colored.Paint(Bold, "x"); got != "\x1b[1mx\x1b[0m" {
		t.Errorf("Paint = %q", got)
	}
}
