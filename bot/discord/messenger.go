package discord

import (
	"bytes"
	"context"
	"net/http"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

var _ bot.Messenger = (*Messenger)(nil)

// Messenger implements bot.Messenger on a Client: plain messages for pages,
// reminders, announcements and reports, with the Client's pacing and error mapping.
type Messenger struct {
	C  *Client
	mu sync.Mutex
	dm map[string]string // user id -> DM channel id
}

// RenderMessage turns a core message into a Discord message. Only
// m.Mentions are allowed to ping, whatever the text says.
func RenderMessage(m bot.Message) *discordgo.MessageSend {
	msg := &Message{Content: m.Content}
	if m.Title != "" || m.Description != "" || len(m.Fields) > 0 {
		e := &discordgo.MessageEmbed{Title: m.Title, Description: m.Description, URL: m.URL, Color: ToneColor(m.Tone)}
		if !validURL(m.URL) {
			e.URL = ""
		}
		for _, f := range m.Fields {
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: orDash(f.Name), Value: orDash(f.Value), Inline: f.Inline})
		}
		if m.Footer != "" {
			e.Footer = &discordgo.MessageEmbedFooter{Text: m.Footer}
		}
		msg.Embeds = []*discordgo.MessageEmbed{e}
	}
	if bs := renderButtons(m.Buttons); len(bs) > 0 {
		msg.Components = buttonRows(nil, bs)
	}
	enforce(msg) // renders the references, then applies Discord's limits
	out := &discordgo.MessageSend{
		Content: msg.Content, Embeds: msg.Embeds, Components: msg.Components,
		AllowedMentions: &discordgo.MessageAllowedMentions{
			Parse: []discordgo.AllowedMentionType{}, Roles: cleanIDs(m.Mentions.Roles), Users: cleanIDs(m.Mentions.Users),
		},
	}
	for _, f := range m.Files {
		out.Files = append(out.Files, &discordgo.File{Name: f.Name, ContentType: f.ContentType, Reader: bytes.NewReader(f.Data)})
	}
	MarkupFiles(out.Files)
	if m.ReplyTo != "" {
		out.Reference = &discordgo.MessageReference{MessageID: m.ReplyTo}
		f := false
		out.Reference.FailIfNotExists = &f
	}
	if out.Content == "" && len(out.Embeds) == 0 && len(out.Files) == 0 {
		out.Content = "…"
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Send implements bot.Messenger.
func (m *Messenger) Send(ctx context.Context, channelID string, msg bot.Message) (string, error) {
	got, err := m.C.SendNonce(ctx, channelID, RenderMessage(msg), msg.Nonce)
	if err != nil {
		return "", err
	}
	return got.ID, nil
}

// Edit implements bot.Messenger.
func (m *Messenger) Edit(ctx context.Context, channelID, messageID string, msg bot.Message) error {
	s := RenderMessage(msg)
	content, embeds := s.Content, s.Embeds
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	_, err := m.C.Edit(ctx, &discordgo.MessageEdit{Channel: channelID, ID: messageID, Content: &content, Embeds: &embeds,
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}})
	return err
}

// DM implements bot.Messenger: it opens (and remembers) the DM channel, then sends.
func (m *Messenger) DM(ctx context.Context, userID string, msg bot.Message) (string, error) {
	m.mu.Lock()
	ch, ok := m.dm[userID]
	m.mu.Unlock()
	if !ok {
		var c *discordgo.Channel
		err := m.C.do(ctx, "open DM", http.MethodPost, discordgo.EndpointUserChannels("@me"), target{user: userID}, func(o discordgo.RequestOption) (err error) {
			c, err = m.C.s.UserChannelCreate(userID, o)
			return err
		})
		if err != nil {
			return "", err
		}
		ch = c.ID
		m.mu.Lock()
		if m.dm == nil {
			m.dm = map[string]string{}
		}
		m.dm[userID] = ch
		m.mu.Unlock()
	}
	return m.Send(ctx, ch, msg)
}
