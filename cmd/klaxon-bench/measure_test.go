package main

import (
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

func TestScanTextKlaxonAndAlertmanagerRenderings(t *testing.T) {
	// A Klaxon digest: two lines, one resolved; the footer names no group.
	digest := messageText("**Alert storm**: 1 alert group firing", []*discordgo.MessageEmbed{{
		Title:       "🌩️ Alert storm — 2 groups",
		Description: "🟡 P2 · Storm00001 — Storm group 1 · <t:1:R>\n✅ ~~P3 · Storm00002 — Storm group 2~~ · <t:2:R>",
		Fields:      []*discordgo.MessageEmbedField{{Name: "✅ Resolved", Value: "1"}},
		Footer:      &discordgo.MessageEmbedFooter{Text: "Klaxon · storm digest"},
	}})
	got := scanText(digest)
	if len(got) != 2 || got["Storm00001"] || !got["Storm00002"] {
		t.Errorf("digest scan = %v, want Storm00001 firing and Storm00002 resolved", got)
	}
	// A resolved Klaxon card: the title carries ✅, the footer the group key.
	card := messageText("", []*discordgo.MessageEmbed{{
		Title:  "✅ P0 · Outage001 — Database primary down",
		Footer: &discordgo.MessageEmbedFooter{Text: `Klaxon · group {}:{alertname="Outage001"}`},
	}})
	if got := scanText(card); len(got) != 1 || !got["Outage001"] {
		t.Errorf("card scan = %v", got)
	}
	// Alertmanager's default Discord message: the title says RESOLVED, the
	// label list below does not, and the group is still resolved.
	am := messageText("", []*discordgo.MessageEmbed{{
		Title:       "[RESOLVED] Storm00042 (P3 info)",
		Description: "Alerts Resolved:\nLabels:\n - alertname = Storm00042\n - priority = P3\n",
	}})
	if got := scanText(am); !got["Storm00042"] {
		t.Errorf("alertmanager resolved scan = %v", got)
	}
	firing := messageText("", []*discordgo.MessageEmbed{{Title: "[FIRING:1] Storm00042 (P3 info)"}})
	if got := scanText(firing); len(got) != 1 || got["Storm00042"] {
		t.Errorf("alertmanager firing scan = %v", got)
	}
	// Names must be whole: no match inside longer tokens.
	if got := scanText("XStorm00001 Storm000012 Outage0001 Storm1"); len(got) != 0 {
		t.Errorf("partial names matched: %v", got)
	}
}

func TestPayloadText(t *testing.T) {
	body := []byte(`{"content":"hi Outage002","embeds":[{"title":"Storm00007","fields":[{"name":"a","value":"Storm00008"}]}]}`)
	got := scanText(payloadText(body))
	if len(got) != 3 {
		t.Errorf("payload scan = %v, want 3 names", got)
	}
	if payloadText([]byte(`{"name":"Alert storm — all groups"}`)) != "" {
		t.Error("a thread creation body has no message text")
	}
	if payloadText([]byte("--boundary\r\n")) != "" || payloadText(nil) != "" {
		t.Error("non-JSON bodies give no text")
	}
}

func TestPresenceCountsOnlyTheRightChannelAndSplitsEditsFromNew(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	resolveAt := t0.Add(time.Minute)
	channelOf := func(name string) (string, bool) {
		switch name {
		case "Storm00001", "Storm00002", "Storm00003":
			return "p3", true
		case "Outage001":
			return "p0", true
		}
		return "", false
	}
	msgs := []shownMessage{
		// A digest posted during the storm and edited on resolve.
		{Channel: "p3", CreatedAt: t0, Text: "✅ ~~P3 · Storm00001~~\n🔵 P3 · Storm00002"},
		// A P0 shown in the wrong channel does not count.
		{Channel: "p3", CreatedAt: t0, Text: "✅ P0 · Outage001"},
		// A new message after the resolve push.
		{Channel: "p3", CreatedAt: resolveAt.Add(time.Second), Text: "[RESOLVED] Storm00002"},
		// An unknown name is ignored.
		{Channel: "p3", CreatedAt: t0, Text: "Storm09999"},
	}
	p := presence(msgs, channelOf, resolveAt)
	if len(p.Represented) != 2 || !p.Represented["Storm00001"] || !p.Represented["Storm00002"] {
		t.Errorf("represented = %v", p.Represented)
	}
	if len(p.ResolvedEdited) != 1 || !p.ResolvedEdited["Storm00001"] {
		t.Errorf("edited = %v", p.ResolvedEdited)
	}
	if len(p.ResolvedNew) != 1 || !p.ResolvedNew["Storm00002"] {
		t.Errorf("new = %v", p.ResolvedNew)
	}
	// Edited in place wins when a group was both edited and re-posted.
	msgs = append(msgs, shownMessage{Channel: "p3", CreatedAt: resolveAt.Add(2 * time.Second), Text: "✅ Storm00001"})
	p = presence(msgs, channelOf, resolveAt)
	if p.ResolvedNew["Storm00001"] || !p.ResolvedEdited["Storm00001"] {
		t.Errorf("edited/new for a group both edited and re-posted: %v / %v", p.ResolvedEdited, p.ResolvedNew)
	}
}

func TestFirstSeenAndLastOf(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	channelOf := func(name string) (string, bool) { return "c", name != "Outage009" }
	sent := []sentMessage{
		{At: t0.Add(3 * time.Second), Channel: "c", Text: "Storm00001\n✅ Storm00002"},
		{At: t0.Add(1 * time.Second), Channel: "c", Text: "Storm00002"},
		{At: t0.Add(2 * time.Second), Channel: "other", Text: "Storm00003"},
		{At: t0, Channel: "c", Text: "Outage009"},
	}
	shown, resolved := firstSeen(sent, channelOf)
	if !shown["Storm00002"].Equal(t0.Add(time.Second)) || !shown["Storm00001"].Equal(t0.Add(3*time.Second)) {
		t.Errorf("shown = %v", shown)
	}
	if _, ok := shown["Storm00003"]; ok {
		t.Error("a group in the wrong channel was counted as shown")
	}
	if _, ok := shown["Outage009"]; ok {
		t.Error("a group the receiver does not own was counted")
	}
	if len(resolved) != 1 || !resolved["Storm00002"].Equal(t0.Add(3*time.Second)) {
		t.Errorf("resolved = %v", resolved)
	}
	last, missing := lastOf(shown, []string{"Storm00001", "Storm00002", "Storm00003"})
	if !last.Equal(t0.Add(3*time.Second)) || missing != 1 {
		t.Errorf("lastOf = %v, %d missing", last, missing)
	}
}
