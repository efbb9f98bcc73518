package handlers

import "github.com/marola-rp/klaxon/bot/discord"

// markupReply renders the core's reference tokens (bot.UserRef, TimeRef, …)
// in every text of a reply — content, embeds, components, text files and a
// modal — into Discord markup. Every reply passes here, immediate or
// deferred, whatever handler made it.
func markupReply(rep *Reply) {
	if rep == nil {
		return
	}
	rep.Content = discord.Markup(rep.Content)
	discord.MarkupEmbeds(rep.Embeds)
	discord.MarkupComponents(rep.Components)
	discord.MarkupFiles(rep.Files)
	if m := rep.Modal; m != nil {
		m.Title, m.Content = discord.Markup(m.Title), discord.Markup(m.Content)
		discord.MarkupComponents(m.Components)
	}
	for _, c := range rep.Choices {
		if c != nil {
			c.Name = discord.Markup(c.Name)
		}
	}
}
