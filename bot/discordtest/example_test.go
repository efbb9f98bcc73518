package discordtest_test

import (
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/marola-rp/klaxon/bot/discordtest"
)

func Example() {
	srv := discordtest.New(discordtest.Options{
		OnViolation: func(err error) { fmt.Println("violation:", err) }, // tests: t.Error
	})
	defer srv.Close()
	guild := srv.AddGuild("ops")
	channel := srv.AddChannel(guild, "incidents", discordgo.ChannelTypeGuildText)

	dg, _ := srv.NewSession("Bot token") // a real discordgo session
	if _, err := dg.ChannelMessageSend(channel, "HighLatency firing"); err != nil {
		fmt.Println(err)
	}
	msgs, _ := srv.AwaitMessages(channel, 1, time.Second)
	fmt.Println(msgs[0].Content, len(srv.Violations()))
	// Output: HighLatency firing 0
}
