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

// TestIncidentThreads runs every bot.Threads call against the fake Discord,
// which validates each request against Discord's API description.
func TestIncidentThreads(t *testing.T) {
	srv := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Errorf("violation: %v", err) }})
	defer srv.Close()
	guild := srv.AddGuild("ops")
	text := srv.AddChannel(guild, "incidents", discordgo.ChannelTypeGuildText)
	forum := srv.AddChannel(guild, "incident-forum", discordgo.ChannelTypeGuildForum)
	user := srv.AddUser("anna")
	srv.AddMember(guild, user)
	s, err := srv.NewSession("Bot t")
	if err != nil {
		t.Fatal(err)
	}
	th := &discord.IncidentThreads{C: discord.New(s, discord.Options{Logger: slog.New(slog.DiscardHandler)})}
	ctx := context.Background()
	m := bot.Message{Content: "🚨 **INC-7** · P1 · Lag", Title: "INC-7", Description: "players lag"}

	cases := []struct {
		name    string
		channel string
	}{{"text channel", text}, {"forum", forum}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, first, err := th.CreateThread(ctx, c.channel, "INC-7 · P1 · Lag", m)
			if err != nil {
				t.Fatal(err)
			}
			ch, ok := srv.Channel(id)
			if !ok || ch.ParentID != c.channel || ch.Type != discordgo.ChannelTypeGuildPublicThread || first == "" {
				t.Fatalf("thread = %+v (first message %q)", ch, first)
			}
			sum, err := th.Send(ctx, id, bot.Message{Title: "summary"}, []bot.Button{
				{Label: "Snooze 30m", CustomID: "incsnz:7:30m"}, {Label: "Resolve", CustomID: "incres:7", Emoji: "✅", Style: "success"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := th.Pin(ctx, id, sum); err != nil {
				t.Fatal(err)
			}
			if err := th.Edit(ctx, id, sum, bot.Message{Title: "summary v2"}, nil); err != nil {
				t.Fatal(err)
			}
			got, _ := srv.Message(sum)
			if !got.Pinned || got.Embeds[0].Title != "summary v2" || len(got.Buttons()) != 0 {
				t.Errorf("summary = %+v", got)
			}
			if err := th.AddMember(ctx, id, user); err != nil {
				t.Fatal(err)
			}
			if msg, err := th.Message(ctx, id, sum); err != nil || msg.ID != sum {
				t.Errorf("read message: %v", err)
			}
			if err := th.Archive(ctx, id); err != nil {
				t.Fatal(err)
			}
			ch, _ = srv.Channel(id)
			if !ch.Archived || len(ch.MemberIDs) < 2 {
				t.Errorf("thread after archive = %+v", ch)
			}
		})
	}
	if _, _, err := th.CreateThread(ctx, "123456", "x", m); bot.AsSendError(err).Temporary {
		t.Errorf("unknown channel must be a refusal, got %v", err)
	}
}
