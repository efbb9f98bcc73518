package discord

import (
	"context"
	"net/http"
	"slices"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

var _ bot.Threads = (*IncidentThreads)(nil)

// IncidentThreads implements bot.Threads on a Client: incident threads,
// pinned summaries, thread members and archiving, paced like every other
// request, errors mapped to *bot.SendError.
type IncidentThreads struct {
	C *Client

	mu    sync.Mutex
	types map[string]discordgo.ChannelType // channel id -> type, learned once
}

// RenderIncidentMessage renders a core message with buttons.
func RenderIncidentMessage(m bot.Message, buttons []bot.Button) *discordgo.MessageSend {
	m.Buttons = append(slices.Clip(m.Buttons), buttons...)
	return RenderMessage(m)
}

// renderButtons turns the core's buttons into Discord's.
func renderButtons(buttons []bot.Button) []discordgo.Button {
	var bs []discordgo.Button
	for _, b := range buttons {
		db := discordgo.Button{Label: b.Label, CustomID: b.CustomID, Style: buttonStyle(b.Style)}
		if b.Emoji != "" {
			db.Emoji = &discordgo.ComponentEmoji{Name: b.Emoji}
		}
		bs = append(bs, db)
	}
	return bs
}

func buttonStyle(s string) discordgo.ButtonStyle {
	switch s {
	case "primary":
		return discordgo.PrimaryButton
	case "success":
		return discordgo.SuccessButton
	case "danger":
		return discordgo.DangerButton
	}
	return discordgo.SecondaryButton
}

func (t *IncidentThreads) channelType(ctx context.Context, channelID string) (discordgo.ChannelType, error) {
	t.mu.Lock()
	typ, ok := t.types[channelID]
	t.mu.Unlock()
	if ok {
		return typ, nil
	}
	var ch *discordgo.Channel
	err := t.C.do(ctx, "read channel", http.MethodGet, discordgo.EndpointChannel(channelID), target{channel: channelID}, func(o discordgo.RequestOption) (err error) {
		ch, err = t.C.s.Channel(channelID, o)
		return err
	})
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	if t.types == nil {
		t.types = map[string]discordgo.ChannelType{}
	}
	t.types[channelID] = ch.Type
	t.mu.Unlock()
	return ch.Type, nil
}

// StartThread implements bot.Threads.
func (t *IncidentThreads) StartThread(ctx context.Context, channelID, messageID, name string) (string, error) {
	return t.C.StartThread(ctx, channelID, messageID, name)
}

// CreateThread implements bot.Threads: a forum post in a forum, otherwise a
// thread on a new message in the channel.
func (t *IncidentThreads) CreateThread(ctx context.Context, channelID, name string, m bot.Message) (string, string, error) {
	typ, err := t.channelType(ctx, channelID)
	if err != nil {
		return "", "", err
	}
	name = threadName(name)
	if typ == discordgo.ChannelTypeGuildForum || typ == discordgo.ChannelTypeGuildMedia {
		const op = "create forum post"
		// Forum posts take no nonce: one whose answer was lost is found, not made twice.
		if id, err := t.C.FindThread(ctx, channelID, name); err != nil || id != "" {
			return id, id, err
		}
		var th *discordgo.Channel
		err := t.C.do(ctx, op, http.MethodPost, discordgo.EndpointChannelThreads(channelID), target{channel: channelID}, func(o discordgo.RequestOption) (err error) {
			th, err = t.C.s.ForumThreadStartComplex(channelID, &discordgo.ThreadStart{Name: name, AutoArchiveDuration: ThreadArchiveMinutes}, RenderMessage(m), o)
			return err
		})
		if err != nil {
			return "", "", err
		}
		return th.ID, th.ID, nil
	}
	msg, err := t.C.SendNonce(ctx, channelID, RenderMessage(m), m.Nonce)
	if err != nil {
		return "", "", err
	}
	id, err := t.C.StartThread(ctx, channelID, msg.ID, name)
	if err != nil {
		return "", msg.ID, err
	}
	return id, msg.ID, nil
}

// Send implements bot.Threads.
func (t *IncidentThreads) Send(ctx context.Context, channelID string, m bot.Message, buttons []bot.Button) (string, error) {
	msg, err := t.C.SendNonce(ctx, channelID, RenderIncidentMessage(m, buttons), m.Nonce)
	if err != nil {
		return "", err
	}
	return msg.ID, nil
}

// Edit implements bot.Threads.
func (t *IncidentThreads) Edit(ctx context.Context, channelID, messageID string, m bot.Message, buttons []bot.Button) error {
	s := RenderIncidentMessage(m, buttons)
	content, embeds, comps := s.Content, s.Embeds, s.Components
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	_, err := t.C.Edit(ctx, &discordgo.MessageEdit{Channel: channelID, ID: messageID, Content: &content, Embeds: &embeds,
		Components: &comps, AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}})
	return err
}

// Pin implements bot.Threads.
func (t *IncidentThreads) Pin(ctx context.Context, channelID, messageID string) error {
	return t.C.do(ctx, "pin message", http.MethodPut, discordgo.EndpointChannelMessagePin(channelID, messageID), target{channel: channelID, message: messageID},
		func(o discordgo.RequestOption) error { return t.C.s.ChannelMessagePin(channelID, messageID, o) })
}

// AddMember implements bot.Threads.
func (t *IncidentThreads) AddMember(ctx context.Context, threadID, userID string) error {
	return t.C.do(ctx, "add thread member", http.MethodPut, discordgo.EndpointThreadMember(threadID, userID), target{channel: threadID},
		func(o discordgo.RequestOption) error { return t.C.s.ThreadMemberAdd(threadID, userID, o) })
}

// Archive implements bot.Threads.
func (t *IncidentThreads) Archive(ctx context.Context, threadID string) error {
	yes := true
	return t.C.do(ctx, "archive thread", http.MethodPatch, discordgo.EndpointChannel(threadID), target{channel: threadID}, func(o discordgo.RequestOption) error {
		_, err := t.C.s.ChannelEditComplex(threadID, &discordgo.ChannelEdit{Archived: &yes}, o)
		return err
	})
}

// Message reads one message (for a 📌 reaction: what to add to the timeline).
func (t *IncidentThreads) Message(ctx context.Context, channelID, messageID string) (*discordgo.Message, error) {
	var m *discordgo.Message
	err := t.C.do(ctx, "read message", http.MethodGet, discordgo.EndpointChannelMessage(channelID, messageID), target{channel: channelID, message: messageID},
		func(o discordgo.RequestOption) (err error) {
			m, err = t.C.s.ChannelMessage(channelID, messageID, o)
			return err
		})
	return m, err
}
