package discord_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
)

// TestForumCreatesAreReconciled: forum posts take no nonce. When Discord
// made the post but the answer was lost, the retry finds the post by name
// instead of creating a second one — for incident threads in a forum and
// for post-mortem forum posts alike. Text-channel threads start on a
// message created with a nonce, so their retry returns the same thread.
func TestForumCreatesAreReconciled(t *testing.T) {
	srv := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Errorf("violation: %v", err) }})
	defer srv.Close()
	guild := srv.AddGuild("ops")
	text := srv.AddChannel(guild, "incidents", discordgo.ChannelTypeGuildText)
	forum := srv.AddChannel(guild, "incident-forum", discordgo.ChannelTypeGuildForum)
	pmForum := srv.AddChannel(guild, "post-mortems", discordgo.ChannelTypeGuildForum)
	s, err := srv.NewSession("Bot t")
	if err != nil {
		t.Fatal(err)
	}
	c := discord.New(s, discord.Options{Logger: slog.New(slog.DiscardHandler)})
	th := &discord.IncidentThreads{C: c}
	pm := &discord.Forum{C: c}
	ctx := context.Background()
	m := bot.Message{Content: "🚨 INC-7", Title: "INC-7", Nonce: "kxi7a"}

	cases := []struct {
		name    string
		channel string
		create  func() (string, error)
	}{
		{"incident thread in a forum", forum, func() (string, error) {
			id, _, err := th.CreateThread(ctx, forum, "INC-7 · P1 · Lag", m)
			return id, err
		}},
		{"incident thread in a text channel", text, func() (string, error) {
			id, _, err := th.CreateThread(ctx, text, "INC-7 · P1 · Lag", m)
			return id, err
		}},
		{"post-mortem forum post", pmForum, func() (string, error) {
			return pm.CreateForumPost(ctx, pmForum, "INC-7 · P1 · Lag", bot.Message{Title: "Post-mortem"})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The create that makes the post loses its answer.
			srv.InjectFault(discordtest.Fault{Method: "POST", PathContains: "/channels/" + tc.channel + "/", DropAfterHandle: true, Times: 1})
			if _, err := tc.create(); err == nil {
				t.Fatal("the lost answer was not an error")
			}
			if n := len(srv.Threads(tc.channel)) + srv.MessageCount(tc.channel); n != 1 {
				t.Fatalf("after the lost answer: %d threads and messages, want 1 (Discord made it)", n)
			}
			id, err := tc.create()
			if err != nil {
				t.Fatal(err)
			}
			threads := srv.Threads(tc.channel)
			if len(threads) != 1 || threads[0].ID != id {
				t.Errorf("after the retry: threads %+v, want only %s", threads, id)
			}
			if tc.channel == text && srv.MessageCount(text) != 1 {
				t.Errorf("after the retry: %d announcement messages, want 1", srv.MessageCount(text))
			}
		})
	}
}
