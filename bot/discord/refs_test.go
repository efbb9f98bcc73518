package discord

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

// refsText holds one reference of every kind.
func refsText() string {
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	return "by " + bot.UserRef("7") + " for " + bot.RoleRef("5") + " in " + bot.ChannelRef("9") + " at " +
		bot.TimeRef(at, bot.TimeRelative) + " / " + bot.TimeRef(at, bot.TimeFull)
}

const refsMarkup = "by <@7> for <@&5> in <#9> at <t:1741944600:R> / <t:1741944600:f>"

func noPrivateUse(t *testing.T, what string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(buf.String()) // components marshal themselves
	if strings.ContainsAny(s, string(bot.RefOpen)+string(bot.RefClose)) {
		t.Errorf("%s: a reference token is left: %s", what, s)
	}
	if !strings.Contains(s, "<@7>") {
		t.Errorf("%s: the user reference is not rendered: %s", what, s)
	}
}

// Every text field of a core message is rendered: no token reaches Discord.
func TestRenderMessageRendersEveryReference(t *testing.T) {
	r := refsText()
	m := bot.Message{
		Content: r, Title: r, Description: r, Footer: r, Tone: bot.ToneInfo,
		Fields:  []bot.Field{{Name: r, Value: r}, {Name: "x", Value: r, Inline: true}},
		Buttons: []bot.Button{{Label: "ack " + bot.UserRef("7"), CustomID: "ack:1"}},
		Files:   []bot.File{{Name: "doc.md", ContentType: "text/markdown; charset=utf-8", Data: []byte(r)}},
	}
	send := RenderMessage(m)
	noPrivateUse(t, "message", send)
	if send.Content != refsMarkup || send.Embeds[0].Title != refsMarkup[:min(len(refsMarkup), MaxTitle)] ||
		send.Embeds[0].Description != refsMarkup || send.Embeds[0].Footer.Text != refsMarkup ||
		send.Embeds[0].Fields[0].Name != refsMarkup || send.Embeds[0].Fields[1].Value != refsMarkup {
		t.Errorf("not rendered as Discord markup: %+v %+v", send, send.Embeds[0])
	}
	if b := send.Components[0].(discordgo.ActionsRow).Components[0].(discordgo.Button); b.Label != "ack <@7>" {
		t.Errorf("button label %q", b.Label)
	}
	data, _ := io.ReadAll(send.Files[0].Reader)
	if string(data) != refsMarkup {
		t.Errorf("file %q, want %q", data, refsMarkup)
	}
	// Incident thread messages and forum posts render through RenderMessage too.
	noPrivateUse(t, "incident message", RenderIncidentMessage(m, []bot.Button{{Label: bot.UserRef("7"), CustomID: "x"}}))
}

// A card's texts from the core (paging problems) are rendered too, and
// a thread's name.
func TestRenderCardRendersReferences(t *testing.T) {
	g := firingGroup()
	g.Notes = []string{bot.UserRef("7") + " does not accept DMs"}
	msg := RenderCard(g, bot.Post{}, time.Now(), RenderOptions{})
	noPrivateUse(t, "card", msg)
	if got := threadName("INC-1 " + bot.UserRef("7")); got != "INC-1 <@7>" {
		t.Errorf("thread name %q", got)
	}
}

// Text stored before tokens holds Discord markup: it is sent unchanged, and
// LegacyRefs reads it as the tokens that render to it.
func TestLegacyMarkup(t *testing.T) {
	old := refsMarkup + " and <@!8>"
	if got := Markup(old); got != old {
		t.Errorf("legacy markup changed: %q", got)
	}
	tok := LegacyRefs(old)
	if strings.Contains(tok, "<") {
		t.Errorf("LegacyRefs left markup: %q", tok)
	}
	if got := Markup(tok); got != refsMarkup+" and <@8>" {
		t.Errorf("Markup(LegacyRefs(%q)) = %q", old, got)
	}
	if got := bot.PlainRefs(tok); got != "by user 7 for role 5 in channel 9 at 2025-03-14 09:30 UTC / 2025-03-14 09:30 UTC and user 8" {
		t.Errorf("plain %q", got)
	}
}

// Menus and text inputs nested in rows (a modal's prefilled section) are rendered.
func TestMarkupComponents(t *testing.T) {
	cs := []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.TextInput{Label: "l", Value: bot.UserRef("7")},
		discordgo.SelectMenu{Placeholder: bot.UserRef("7"), Options: []discordgo.SelectMenuOption{{Label: bot.UserRef("7")}}},
	}}}
	MarkupComponents(cs)
	noPrivateUse(t, "components", cs)
}
