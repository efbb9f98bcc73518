package discordtest

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
)

func init() {
	register(map[string]handler{
		"POST /channels/{channel_id}/messages":                                           hCreateMessage,
		"GET /channels/{channel_id}/messages":                                            hListMessages,
		"GET /channels/{channel_id}/messages/{message_id}":                               hGetMessage,
		"PATCH /channels/{channel_id}/messages/{message_id}":                             hEditMessage,
		"DELETE /channels/{channel_id}/messages/{message_id}":                            hDeleteMessage,
		"PUT /channels/{channel_id}/pins/{message_id}":                                   hPin(true),
		"DELETE /channels/{channel_id}/pins/{message_id}":                                hPin(false),
		"PUT /channels/{channel_id}/messages/pins/{message_id}":                          hPin(true),
		"DELETE /channels/{channel_id}/messages/pins/{message_id}":                       hPin(false),
		"GET /channels/{channel_id}/pins":                                                hListPins(false),
		"GET /channels/{channel_id}/messages/pins":                                       hListPins(true),
		"PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me":    hReact(true),
		"DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me": hReact(false),
		"POST /channels/{channel_id}/typing":                                             func(c *call) (int, any) { return 204, nil },
	})
}

var handlers = map[string]handler{}

func register(m map[string]handler) {
	for k, h := range m {
		handlers[k] = h
	}
}

// msgPayload is the body of message create/edit requests (channel messages,
// webhooks, interaction responses).
type msgPayload struct {
	Content          *string                           `json:"content"`
	Embeds           json.RawMessage                   `json:"embeds"`
	Components       json.RawMessage                   `json:"components"`
	AllowedMentions  *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Flags            *int                              `json:"flags"`
	Attachments      json.RawMessage                   `json:"attachments"`
	TTS              bool                              `json:"tts"`
	StickerIDs       []string                          `json:"sticker_ids"`
	Poll             json.RawMessage                   `json:"poll"`
	MessageReference *struct {
		MessageID string `json:"message_id"`
	} `json:"message_reference"`
	Username string `json:"username"`
	// Nonce and EnforceNonce are read by POST /channels/{channel.id}/messages
	// only (see nonce.go).
	Nonce        json.RawMessage `json:"nonce"`
	EnforceNonce *bool           `json:"enforce_nonce"`
}

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// attachmentRefs parses payload "attachments": [{id, filename, description}].
type attachmentRef struct {
	ID          json.Number `json:"id"`
	Filename    string      `json:"filename"`
	Description string      `json:"description"`
}

// applyPayload sets the fields present in p on m. New files are appended
// (on edit, only the existing attachments listed in p.Attachments are kept).
func (s *Server) applyPayload(m *Message, p *msgPayload, files []Attachment, edit bool) *apiError {
	if p.Content != nil {
		m.Content = *p.Content
	}
	if p.Embeds != nil {
		var embeds []*discordgo.MessageEmbed
		if present(p.Embeds) {
			if err := json.Unmarshal(p.Embeds, &embeds); err != nil {
				return errf(400, 50035, "Invalid Form Body")
			}
		}
		m.Embeds = embeds
	}
	if p.Components != nil {
		if present(p.Components) {
			m.Components = slices.Clone(p.Components)
		} else {
			m.Components = nil
		}
	}
	if p.AllowedMentions != nil {
		m.AllowedMentions = p.AllowedMentions
	}
	if p.Flags != nil {
		m.Flags = *p.Flags
	}
	var refs []attachmentRef
	if present(p.Attachments) {
		_ = json.Unmarshal(p.Attachments, &refs)
	}
	if edit && p.Attachments != nil {
		keep := map[string]bool{}
		for _, r := range refs {
			keep[r.ID.String()] = true
		}
		var kept []Attachment
		for _, a := range m.Attachments {
			if keep[a.ID] {
				kept = append(kept, a)
			}
		}
		m.Attachments = kept
	} else {
		m.Attachments = slices.Clone(m.Attachments)
	}
	for i, f := range files {
		f.ID = s.st.nextID(s.opts.Now())
		for _, r := range refs {
			if r.ID.String() == strconv.Itoa(i) && r.Description != "" {
				f.Description = r.Description
			}
		}
		m.Attachments = append(m.Attachments, f)
	}
	return nil
}

func (p *msgPayload) empty(files []Attachment) bool {
	return (p.Content == nil || *p.Content == "") && !present(p.Embeds) && !present(p.Components) &&
		len(files) == 0 && len(p.StickerIDs) == 0 && !present(p.Poll)
}

// postableLocked checks that bot messages may be posted in channel id.
func (s *Server) postableLocked(id string) (*Channel, *apiError) {
	ch := s.st.channels[id]
	if ch == nil {
		return nil, errUnknownChannel
	}
	switch ch.Type {
	case discordgo.ChannelTypeGuildForum, discordgo.ChannelTypeGuildMedia, discordgo.ChannelTypeGuildCategory:
		return nil, errf(400, 50008, "Cannot send messages in a non-text channel")
	case discordgo.ChannelTypeDM:
		for _, r := range ch.RecipientIDs {
			if s.st.dmClosed[r] {
				return nil, errCannotDM
			}
		}
	}
	if ch.IsThread() && ch.Archived {
		if ch.Locked {
			return nil, errArchivedThread
		}
		ch.Archived = false // posting unarchives an unlocked thread
		ch.ArchiveTimestamp = s.opts.Now()
	}
	return ch, nil
}

// newMessageLocked creates a message in channel ch.
func (s *Server) newMessageLocked(ch *Channel, p *msgPayload, files []Attachment, author User) (*Message, *apiError) {
	now := s.opts.Now()
	m := &Message{ID: s.st.nextID(now), ChannelID: ch.ID, GuildID: ch.GuildID, Author: author, CreatedAt: now, TTS: p.TTS}
	if err := s.applyPayload(m, p, files, false); err != nil {
		return nil, err
	}
	if p.MessageReference != nil {
		m.ReferenceID = p.MessageReference.MessageID
	}
	s.st.messages[m.ID] = m
	s.st.channelMsgs[ch.ID] = append(s.st.channelMsgs[ch.ID], m.ID)
	ch.LastMessageID = m.ID
	if ch.IsThread() {
		ch.MessageCount++
	}
	return m, nil
}

func (s *Server) botUser() User { return *s.st.users[s.opts.BotUserID] }

func hCreateMessage(c *call) (int, any) {
	s := c.s
	var p msgPayload
	if err := c.decode(&p); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	if p.empty(c.files) {
		c.violate("body", "empty message (no content, embeds, components, files, stickers or poll)")
		return 0, errEmptyMessage
	}
	nonce, hasNonce := parseNonce(p.Nonce)
	s.mu.Lock()
	defer s.mu.Unlock()
	chID, author, now := c.params["channel_id"], s.botUser(), s.opts.Now()
	if s.st.channels[chID] == nil {
		return 0, errUnknownChannel
	}
	if hasNonce && p.EnforceNonce != nil && *p.EnforceNonce {
		if first := s.firstWithNonceLocked(nonceKey{channel: chID, author: author.ID, nonce: nonce}, now); first != nil {
			if first.Deleted {
				return 0, errUnknownMessage
			}
			return 200, s.createdJSON(first)
		}
	}
	ch, e := s.postableLocked(chID)
	if e != nil {
		return 0, e
	}
	m, e := s.newMessageLocked(ch, &p, c.files, author)
	if e != nil {
		return 0, e
	}
	if hasNonce {
		s.setNonceLocked(m, nonce, p.Nonce)
	}
	intent := discordgo.IntentsGuildMessages
	if ch.Type == discordgo.ChannelTypeDM {
		intent = discordgo.IntentsDirectMessages
	}
	c.dispatch("MESSAGE_CREATE", s.createdJSON(m), int(intent))
	return 200, s.createdJSON(m)
}

// messageLocked finds a message in a channel.
func (s *Server) messageLocked(channelID, messageID string) (*Message, *apiError) {
	if s.st.channels[channelID] == nil {
		return nil, errUnknownChannel
	}
	m := s.st.messages[messageID]
	if m == nil || m.ChannelID != channelID || m.Deleted {
		return nil, errUnknownMessage
	}
	return m, nil
}

func hGetMessage(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.messageLocked(c.params["channel_id"], c.params["message_id"])
	if e != nil {
		return 0, e
	}
	return 200, s.messageJSON(m)
}

// hListMessages is GET /channels/{channel.id}/messages: with before, the
// newest limit messages older than it; with after, the oldest limit
// messages newer than it; with around, the message and those around it
// (half of limit on each side); otherwise the newest limit. Always newest
// first, as Discord answers. Nonces are not included: Discord does not
// store them.
func hListMessages(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	chID := c.params["channel_id"]
	if s.st.channels[chID] == nil {
		return 0, errUnknownChannel
	}
	limit := 50
	if l, err := strconv.Atoi(c.query.Get("limit")); err == nil && l > 0 {
		limit = l // the query check has bounded it to 1–100
	}
	var anchors []string
	for _, k := range []string{"around", "before", "after"} {
		if c.query.Has(k) {
			anchors = append(anchors, k)
		}
	}
	if len(anchors) > 1 {
		c.violate("query", "around, before and after are mutually exclusive; got "+strings.Join(anchors, ", ")+" (the fake uses "+anchors[0]+")")
	}
	var live []*Message // oldest first
	for _, id := range s.st.channelMsgs[chID] {
		if m := s.st.messages[id]; !m.Deleted {
			live = append(live, m)
		}
	}
	var sel []*Message // oldest first
	if len(anchors) == 0 {
		sel = live[max(0, len(live)-limit):]
	} else {
		x, _ := strconv.ParseInt(c.query.Get(anchors[0]), 10, 64)
		// live[:i] are older than x, live[i:] are x and newer
		i, _ := slices.BinarySearchFunc(live, x, func(m *Message, x int64) int { return cmp.Compare(snowflake(m.ID), x) })
		switch anchors[0] {
		case "before":
			sel = live[max(0, i-limit):i]
		case "after":
			if i < len(live) && snowflake(live[i].ID) == x {
				i++
			}
			sel = live[i:min(len(live), i+limit)]
		case "around":
			newer := live[i:min(len(live), i+(limit+1)/2)]
			older := live[max(0, i-(limit-len(newer))):i]
			sel = append(slices.Clone(older), newer...)
		}
	}
	out := []any{}
	for i := len(sel) - 1; i >= 0; i-- {
		out = append(out, s.messageJSON(sel[i]))
	}
	return 200, out
}

func snowflake(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

func hEditMessage(c *call) (int, any) {
	s := c.s
	var p msgPayload
	if err := c.decode(&p); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.messageLocked(c.params["channel_id"], c.params["message_id"])
	if e != nil {
		return 0, e
	}
	if m.Author.ID != s.opts.BotUserID || m.WebhookID != "" {
		c.violate("state", "editing a message not authored by the bot")
		return 0, errNotAuthor
	}
	if e := s.editLocked(m, &p, c.files); e != nil {
		return 0, e
	}
	return 200, s.messageJSON(m)
}

// editLocked applies an edit, replacing *m so that copies handed out
// earlier are not affected.
func (s *Server) editLocked(m *Message, p *msgPayload, files []Attachment) *apiError {
	cp := m.clone()
	if err := s.applyPayload(&cp, p, files, true); err != nil {
		return err
	}
	if cp.Content == "" && len(cp.Embeds) == 0 && len(cp.Attachments) == 0 && !present(cp.Components) {
		return errEmptyMessage
	}
	cp.EditedAt = s.opts.Now()
	*m = cp
	s.st.edits[m.ID]++
	return nil
}

func hDeleteMessage(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.messageLocked(c.params["channel_id"], c.params["message_id"])
	if e != nil {
		return 0, e
	}
	cp := m.clone()
	cp.Deleted = true
	*m = cp
	return 204, nil
}

func hPin(pin bool) handler {
	return func(c *call) (int, any) {
		s := c.s
		s.mu.Lock()
		defer s.mu.Unlock()
		m, e := s.messageLocked(c.params["channel_id"], c.params["message_id"])
		if e != nil {
			return 0, e
		}
		cp := m.clone()
		cp.Pinned = pin
		*m = cp
		return 204, nil
	}
}

func hListPins(newShape bool) handler {
	return func(c *call) (int, any) {
		s := c.s
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.st.channels[c.params["channel_id"]] == nil {
			return 0, errUnknownChannel
		}
		var msgs []any
		var items []any
		ids := s.st.channelMsgs[c.params["channel_id"]]
		for i := len(ids) - 1; i >= 0; i-- {
			m := s.st.messages[ids[i]]
			if m.Pinned && !m.Deleted {
				msgs = append(msgs, s.messageJSON(m))
				items = append(items, map[string]any{"pinned_at": isoTime(m.CreatedAt), "message": s.messageJSON(m)})
			}
		}
		if newShape {
			if items == nil {
				items = []any{}
			}
			return 200, map[string]any{"items": items, "has_more": false}
		}
		if msgs == nil {
			msgs = []any{}
		}
		return 200, msgs
	}
}

func hReact(add bool) handler {
	return func(c *call) (int, any) {
		s := c.s
		s.mu.Lock()
		defer s.mu.Unlock()
		m, e := s.messageLocked(c.params["channel_id"], c.params["message_id"])
		if e != nil {
			return 0, e
		}
		emoji := c.params["emoji_name"]
		cp := m.clone()
		i := slices.Index(cp.Reactions, emoji)
		switch {
		case add && i < 0:
			cp.Reactions = append(cp.Reactions, emoji)
		case !add && i >= 0:
			cp.Reactions = slices.Delete(cp.Reactions, i, i+1)
		}
		*m = cp
		return 204, nil
	}
}
