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
		{"user", bot.UserRef("777"), "<@777>"},
		{"role", bot.RoleRef("555"), "<@&555>"},
		{"channel", bot.ChannelRef("222"), "<#222>"},
		{"relative time", bot.TimeRef(at, bot.TimeRelative), "<t:1741944600:R>"},
		{"short time", bot.TimeRef(at, bot.TimeShortTime), "<t:1741944600:t>"},
		{"full time", bot.TimeRef(at, bot.TimeFull), "<t:1741944600:f>"},
		{"nobody to mention", bot.MentionPrefix(bot.Mentions{}), ""},
		{"roles then users", bot.MentionPrefix(bot.Mentions{Users: []string{"7", "8"}, Roles: []string{"5"}}), "<@&5> <@7> <@8> "},
		{"actor by user", bot.ActorRef(bot.Actor{UserID: "7", Name: "ana", Via: "phone"}), "<@7>"},
		{"actor by name", bot.ActorRef(bot.Actor{Name: "ana", Via: "phone"}), "ana"},
		{"actor by channel", bot.ActorRef(bot.Actor{Via: "phone"}), "phone"},
		{"nobody: Klaxon", bot.ActorRef(bot.Actor{}), "Klaxon"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
