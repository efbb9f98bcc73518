package discord

import (
	"context"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/postmortem"
)

// Forum implements bot.ForumPublisher on a Client: post-mortems published
// as forum posts (a thread whose starter message carries the document),
// paced and with errors mapped like every other request.
type Forum struct {
	C *Client
}

var _ postmortem.ForumPublisher = (*Forum)(nil)

// CreateForumPost implements bot.ForumPublisher.
func (f *Forum) CreateForumPost(ctx context.Context, forumID, name string, m bot.Message) (string, error) {
	const op = "create forum post"
	name = threadName(name)
	if name == "" {
		name = "Post-mortem"
	}
	if !isSnowflake(forumID) {
		return "", &bot.SendError{Op: op, Err: fmt.Errorf("forum channel id %q is not a Discord id (digits only)", forumID)}
	}
	// Forum posts take no nonce: one whose answer was lost is found, not made twice.
	if id, err := f.C.FindThread(ctx, forumID, name); err != nil || id != "" {
		return id, err
	}
	send := RenderMessage(m)
	var ch *discordgo.Channel
	err := f.C.do(ctx, op, http.MethodPost, discordgo.EndpointChannelThreads(forumID), target{channel: forumID}, func(o discordgo.RequestOption) (err error) {
		ch, err = f.C.s.ForumThreadStartComplex(forumID, &discordgo.ThreadStart{Name: name, AutoArchiveDuration: 10080}, send, o)
		return err
	})
	if err != nil {
		return "", err
	}
	return ch.ID, nil
}

// EditForumPost implements bot.ForumPublisher: it replaces the starter
// message's text, embed and attachments.
func (f *Forum) EditForumPost(ctx context.Context, threadID string, m bot.Message) error {
	s := RenderMessage(m)
	content, embeds := s.Content, s.Embeds
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	keep := []*discordgo.MessageAttachment{} // drop the old document; the new one is in Files
	_, err := f.C.edit(ctx, "edit forum post", &discordgo.MessageEdit{Channel: threadID, ID: threadID, Content: &content, Embeds: &embeds,
		Files: s.Files, Attachments: &keep, AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}})
	return err
}
