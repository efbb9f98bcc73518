package discord

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

// Markup renders the core's reference tokens in s (bot.UserRef, RoleRef,
// ChannelRef, TimeRef) as Discord markup. Text stored by versions before
// tokens already holds Discord markup and passes through unchanged.
func Markup(s string) string { return bot.RenderRefs(s, markupRef) }

func markupRef(r bot.Ref) string {
	switch r.Kind {
	case bot.RefUser:
		return "<@" + r.ID + ">"
	case bot.RefRole:
		return "<@&" + r.ID + ">"
	case bot.RefChannel:
		return "<#" + r.ID + ">"
	}
	return "<t:" + strconv.FormatInt(r.At.Unix(), 10) + ":" + string(rune(r.Style)) + ">"
}

// legacyRef is the Discord markup older versions stored in text: user
// (also "<@!id>"), role, channel and timestamp references.
var legacyRef = regexp.MustCompile(`<(@!?|@&|#)(\d{1,20})>|<t:(-?\d{1,15})(?::([tTdDfFR]))?>`)

// LegacyRefs turns the Discord markup that versions before reference tokens
// stored in text into tokens, so that the core can read old text as new
// (post-mortem redaction: postmortem.Service.Legacy).
func LegacyRefs(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	return legacyRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := legacyRef.FindStringSubmatch(m)
		switch sub[1] {
		case "@", "@!":
			return bot.UserRef(sub[2])
		case "@&":
			return bot.RoleRef(sub[2])
		case "#":
			return bot.ChannelRef(sub[2])
		}
		n, err := strconv.ParseInt(sub[3], 10, 64)
		if err != nil {
			return m
		}
		style := bot.TimeStyle('f')
		if sub[4] != "" {
			style = bot.TimeStyle(sub[4][0])
		}
		return bot.TimeRef(time.Unix(n, 0), style)
	})
}

// markupMessage renders the references in every text field of m: content,
// embeds (title, description, field names and values, footer, author) and
// components (button and menu labels and placeholders). enforce calls it
// first, so every rendered message passes here before Discord's limits
// are applied.
func markupMessage(m *Message) {
	m.Content = Markup(m.Content)
	MarkupEmbeds(m.Embeds)
	MarkupComponents(m.Components)
}

// MarkupEmbeds renders the references in every text field of es.
func MarkupEmbeds(es []*discordgo.MessageEmbed) {
	for _, e := range es {
		if e == nil {
			continue
		}
		e.Title = Markup(e.Title)
		e.Description = Markup(e.Description)
		for _, f := range e.Fields {
			if f != nil {
				f.Name, f.Value = Markup(f.Name), Markup(f.Value)
			}
		}
		if e.Footer != nil {
			e.Footer.Text = Markup(e.Footer.Text)
		}
		if e.Author != nil {
			e.Author.Name = Markup(e.Author.Name)
		}
	}
}

// MarkupComponents renders the references in the labels, placeholders and
// values of cs (buttons, menus, text inputs, nested in rows).
func MarkupComponents(cs []discordgo.MessageComponent) {
	for i, c := range cs {
		switch c := c.(type) {
		case discordgo.ActionsRow:
			MarkupComponents(c.Components)
		case *discordgo.ActionsRow:
			MarkupComponents(c.Components)
		case discordgo.Button:
			c.Label = Markup(c.Label)
			cs[i] = c
		case *discordgo.Button:
			c.Label = Markup(c.Label)
		case discordgo.SelectMenu:
			markupMenu(&c)
			cs[i] = c
		case *discordgo.SelectMenu:
			markupMenu(c)
		case discordgo.TextInput:
			c.Label, c.Placeholder, c.Value = Markup(c.Label), Markup(c.Placeholder), Markup(c.Value)
			cs[i] = c
		case *discordgo.TextInput:
			c.Label, c.Placeholder, c.Value = Markup(c.Label), Markup(c.Placeholder), Markup(c.Value)
		}
	}
}

func markupMenu(m *discordgo.SelectMenu) {
	m.Placeholder = Markup(m.Placeholder)
	for i := range m.Options {
		m.Options[i].Label = Markup(m.Options[i].Label)
		m.Options[i].Description = Markup(m.Options[i].Description)
	}
}

// MarkupFiles renders the references in text attachments (a post-mortem's
// Markdown document), which Discord users read as Discord text too.
func MarkupFiles(fs []*discordgo.File) {
	for _, f := range fs {
		if f == nil || f.Reader == nil || !strings.HasPrefix(f.ContentType, "text/") {
			continue
		}
		data, err := io.ReadAll(f.Reader)
		if err != nil {
			continue
		}
		f.Reader = bytes.NewReader([]byte(Markup(string(data))))
	}
}

// threadName is a thread's or forum post's name as Discord takes it.
func threadName(name string) string { return truncate(singleLine(Markup(name)), MaxThreadName) }
