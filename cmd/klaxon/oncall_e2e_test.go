package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discordtest"
)

// userOption is a USER command option (Discord sends the user's id).
func userOption(name, id string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionUser, Value: id}
}

// slash runs a slash command over the gateway as userID and returns the
// final answer (the callback, or the edit of a deferred one) as raw JSON.
func (pw *pagingWorld) slash(userID, name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) (string, discordtest.Response) {
	pw.t.Helper()
	id, _ := pw.discord.Interact(pw.discord.SlashCommand(pw.channels[0], userID, name, opts...))
	var final discordtest.Response
	pw.await("the answer to /"+name, func() bool {
		for _, r := range pw.discord.InteractionResponses(id) {
			if r.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource && len(r.Data) > 0 {
				final = r
				return true
			}
		}
		return false
	})
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(final.Data)), final
}

// /oncall now, override, overrides and remove, through the real handlers:
// an override changes who is on call and who a P0 pages; removing it gives
// the pager back.
func TestOnCallOverrideChangesWhoIsPaged(t *testing.T) {
	pw := newPagingWorld(t, "")
	sub := discordtest.Subcommand
	opt := discordtest.Option

	now, r := pw.slash(pw.bob, "oncall", sub("now"))
	if !r.Ephemeral() || !strings.Contains(now, "primary") || !strings.Contains(now, "**Now:** <@"+pw.anna+">") {
		t.Fatalf("/oncall now = %s, want anna now on primary, ephemeral", now)
	}

	got, r := pw.slash(pw.bob, "oncall", sub("override", opt("schedule", "primary"), opt("duration", "4h"),
		userOption("user", pw.bob), opt("reason", "anna at the dentist")))
	if r.Ephemeral() || !strings.Contains(got, "<@"+pw.bob+"> holds the pager for **primary**") || !strings.Contains(got, "override #1") {
		t.Fatalf("/oncall override = %s", got)
	}
	now, _ = pw.slash(pw.bob, "oncall", sub("now", opt("schedule", "primary")))
	if !strings.Contains(now, "**Now:** <@"+pw.bob+">") {
		t.Fatalf("/oncall now after the override = %s, want bob now", now)
	}
	list, r := pw.slash(pw.anna, "oncall", sub("overrides"))
	if !r.Ephemeral() || !strings.Contains(list, "`#1` <@"+pw.bob+">") || !strings.Contains(list, "anna at the dentist") {
		t.Fatalf("/oncall overrides = %s", list)
	}
	bad, r := pw.slash(pw.bob, "oncall", sub("override", opt("schedule", "primary"), opt("duration", "forever")))
	if !r.Ephemeral() || !strings.Contains(bad, "type how long the override lasts") {
		t.Errorf("override with a bad duration = %s", bad)
	}

	// A P0 for the schedule now pages bob, by mention and phone, not anna.
	pw.fire("DatabaseDown", "critical", 0)
	pw.await("the page to bob", func() bool { return pw.messagesMentioning(pw.channels[0], pw.bob) == 1 })
	pw.await("the call to bob", func() bool {
		calls := pw.twilio.Calls()
		return len(calls) == 1 && calls[0].To == "+15550100502"
	})
	if n := pw.messagesMentioning(pw.channels[0], pw.anna); n != 0 {
		t.Errorf("anna was paged %d times during bob's override", n)
	}

	// /oncall remove's id: autocomplete offers the override, "you" for its holder.
	ac, _ := pw.discord.Interact(pw.discord.Autocomplete(pw.channels[0], pw.bob, "oncall", sub("remove", discordtest.Focused(opt("id", "")))))
	var choices []discordgo.ApplicationCommandOptionChoice
	pw.await("the override choices", func() bool {
		rs := pw.discord.InteractionResponses(ac)
		if len(rs) > 0 {
			choices = rs[0].Choices()
		}
		return len(rs) > 0
	})
	if len(choices) != 1 || fmt.Sprint(choices[0].Value) != "1" || !strings.HasPrefix(choices[0].Name, "#1 primary · you · ") || !strings.Contains(choices[0].Name, "anna at the dentist") {
		t.Errorf("/oncall remove autocomplete = %+v, want override #1", choices)
	}
	gone, r := pw.slash(pw.bob, "oncall", sub("remove", opt("id", 1)))
	if r.Ephemeral() || !strings.Contains(gone, "Override #1 removed by <@"+pw.bob+">") {
		t.Fatalf("/oncall remove = %s", gone)
	}
	again, r := pw.slash(pw.bob, "oncall", sub("remove", opt("id", 1)))
	if !r.Ephemeral() || !strings.Contains(again, "there is no override #1") {
		t.Errorf("second /oncall remove = %s", again)
	}
	list, _ = pw.slash(pw.bob, "oncall", sub("overrides", opt("schedule", "primary")))
	if !strings.Contains(list, "No current or upcoming overrides for **primary**") {
		t.Errorf("/oncall overrides after remove = %s", list)
	}
	now, _ = pw.slash(pw.bob, "oncall", sub("now"))
	if !strings.Contains(now, "**Now:** <@"+pw.anna+">") {
		t.Errorf("/oncall now after remove = %s, want anna again", now)
	}
}

// /page pages the chosen person or schedule with the chosen priority, and
// is refused to a member without the permission.
func TestPageCommand(t *testing.T) {
	pw := newPagingWorld(t, "")
	opt := discordtest.Option
	player := pw.discord.AddUser("player")
	pw.discord.AddMember(pw.guild, player)

	refused, r := pw.slash(player, "page", opt("message", "help"), userOption("user", pw.anna))
	if !r.Ephemeral() || !strings.Contains(refused, "alert.page") {
		t.Fatalf("/page by a player = %s, want an ephemeral refusal naming alert.page", refused)
	}
	if ch, ok := pw.discord.DMChannel(pw.anna); ok && len(pw.discord.Messages(ch)) > 0 {
		t.Fatalf("the refused /page reached anna: %+v", pw.discord.Messages(ch))
	}

	// A P1 page of a person who is not on call (so that nothing but /page
	// reaches them): mention and DM, no phone call.
	got, _ := pw.slash(pw.anna, "page", opt("message", "EU server lagging"), userOption("user", pw.bob))
	if !strings.Contains(got, "Paged <@"+pw.bob+"> (P1)") || !strings.Contains(got, "EU server lagging") {
		t.Fatalf("/page user = %s", got)
	}
	pw.await("the DM to bob", func() bool {
		ch, ok := pw.discord.DMChannel(pw.bob)
		if !ok {
			return false
		}
		for _, m := range pw.discord.Messages(ch) {
			if strings.Contains(cardText(m), "EU server lagging") {
				return true
			}
		}
		return false
	})
	pw.await("the P1 page in the P1 channel", func() bool { return pw.messagesMentioning(pw.channels[1], pw.bob) == 1 })
	if n := len(pw.twilio.Calls()); n != 0 {
		t.Errorf("a P1 page placed %d calls", n)
	}

	// A P0 page of a schedule reaches its on-call by phone too.
	got, _ = pw.slash(pw.bob, "page", opt("message", "login server down"), opt("schedule", "primary"), opt("priority", "P0"))
	if !strings.Contains(got, "Paged the on-call of **primary** (P0)") {
		t.Fatalf("/page schedule = %s", got)
	}
	pw.await("the P0 page in the P0 channel", func() bool { return pw.messagesMentioning(pw.channels[0], pw.anna) >= 1 })
	// The manual P0 also runs the P0 policy (the schedule by phone), so anna may get two calls; nobody else gets one.
	pw.await("the call to anna", func() bool {
		calls := pw.twilio.Calls()
		for _, c := range calls {
			if c.To != "+15550100501" {
				return false
			}
		}
		return len(calls) >= 1
	})

	both, r := pw.slash(pw.bob, "page", opt("message", "x"), userOption("user", pw.anna), opt("schedule", "primary"))
	if !r.Ephemeral() || !strings.Contains(both, "not both") {
		t.Errorf("/page user and schedule = %s", both)
	}
}
