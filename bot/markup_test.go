package bot_test

import (
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

func TestReferences(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, got, want string
	}{
		{"user", bot.UserRef("777"), "\uE000u:777\uE001"},
		{"role", bot.RoleRef("555"), "\uE000r:555\uE001"},
		{"channel", bot.ChannelRef("222"), "\uE000c:222\uE001"},
		{"relative time", bot.TimeRef(at, bot.TimeRelative), "\uE000t:1741944600:R\uE001"},
		{"short time", bot.TimeRef(at, bot.TimeShortTime), "\uE000t:1741944600:t\uE001"},
		{"full time", bot.TimeRef(at, bot.TimeFull), "\uE000t:1741944600:f\uE001"},
		{"nobody to mention", bot.MentionPrefix(bot.Mentions{}), ""},
		{"roles then users", bot.MentionPrefix(bot.Mentions{Users: []string{"7", "8"}, Roles: []string{"5"}}), "\uE000r:5\uE001 \uE000u:7\uE001 \uE000u:8\uE001 "},
		{"actor by user", bot.ActorRef(bot.Actor{UserID: "7", Name: "ana", Via: "phone"}), "\uE000u:7\uE001"},
		{"actor by name", bot.ActorRef(bot.Actor{Name: "ana", Via: "phone"}), "ana"},
		{"actor by channel", bot.ActorRef(bot.Actor{Via: "phone"}), "phone"},
		{"nobody: Klaxon", bot.ActorRef(bot.Actor{}), "Klaxon"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// RenderRefs hands every reference to the renderer, drops what does not
// parse (a token cut by truncation) and leaves no private-use character.
func TestRenderRefs(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	s := "a " + bot.UserRef("7") + " b " + bot.TimeRef(at, bot.TimeFull) + " c"
	var got []bot.Ref
	out := bot.RenderRefs(s, func(r bot.Ref) string { got = append(got, r); return "[" + string(rune(r.Kind)) + "]" })
	if out != "a [u] b [t] c" || len(got) != 2 || got[0].ID != "7" || !got[1].At.Equal(at) || got[1].Style != bot.TimeFull {
		t.Errorf("RenderRefs = %q, %+v", out, got)
	}
	cut := string([]rune(s)[:5]) // "a " and a cut user token
	if out := bot.PlainRefs(cut + " " + bot.RoleRef("5")); out != "a u: role 5" {
		t.Errorf("cut token: %q", out)
	}
	if out := bot.PlainRefs("x \uE000z:1\uE001 \uE001y"); out != "x  y" {
		t.Errorf("unknown token: %q", out)
	}
	if out := bot.ReplaceUserRefs(s, func(id string) string { return "person " + id }); out != "a person 7 b "+bot.TimeRef(at, bot.TimeFull)+" c" {
		t.Errorf("ReplaceUserRefs = %q", out)
	}
	if bot.PlainRefs("plain <@7> text") != "plain <@7> text" {
		t.Error("text without tokens changed")
	}
}
