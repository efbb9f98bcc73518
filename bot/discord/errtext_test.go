package discord_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
)

// TestErrorsNameTheDialledURL: with the API base pointing away from
// discord.com, a transport error names the address dialled, not the
// https://discord.com/api/v9/... URL discordgo built.
func TestErrorsNameTheDialledURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/api/v10"
	ln.Close() // refused from now on
	s, err := discord.NewSession("t", base)
	if err != nil {
		t.Fatal(err)
	}
	c := discord.New(s, discord.Options{Logger: slog.New(slog.DiscardHandler)})
	_, err = c.Send(context.Background(), "123456789012345678", &discordgo.MessageSend{Content: "hello"})
	if err == nil {
		t.Fatal("send to a closed port succeeded")
	}
	want := base + "/channels/123456789012345678/messages"
	if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "discord.com") {
		t.Errorf("error %q, want it to name %s and not discord.com", msg, want)
	}
	_, err = s.User("@me")
	if msg := discord.Dialled(s, err).Error(); !strings.Contains(msg, base+"/users/@me") || strings.Contains(msg, "discord.com") {
		t.Errorf("Dialled(User error) = %q, want %s/users/@me", msg, base)
	}
}

// TestUnknownUserErrorNamesTheUser: a DM to a user Discord does not know
// says which user, not an empty channel and message.
func TestUnknownUserErrorNamesTheUser(t *testing.T) {
	srv := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Errorf("violation: %v", err) }})
	defer srv.Close()
	s, err := discord.NewSession("t", srv.APIBase())
	if err != nil {
		t.Fatal(err)
	}
	m := &discord.Messenger{C: discord.New(s, discord.Options{Logger: slog.New(slog.DiscardHandler)})}
	_, err = m.DM(context.Background(), "987654321098765432", bot.Message{Content: "you are paged"})
	if err == nil {
		t.Fatal("DM to an unknown user succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "user 987654321098765432") || strings.Contains(msg, `""`) || strings.Contains(msg, "channel  ") {
		t.Errorf("error %q, want it to name user 987654321098765432", msg)
	}
}
