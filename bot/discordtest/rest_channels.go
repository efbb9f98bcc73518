package discordtest

import (
	"slices"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

func init() {
	register(map[string]handler{
		"GET /channels/{channel_id}":                                  hGetChannel,
		"PATCH /channels/{channel_id}":                                hPatchChannel,
		"DELETE /channels/{channel_id}":                               hDeleteChannel,
		"POST /channels/{channel_id}/messages/{message_id}/threads":   hThreadFromMessage,
		"POST /channels/{channel_id}/threads":                         hThreadWithoutMessage,
		"PUT /channels/{channel_id}/thread-members/{user_id}":         hThreadMember(true),
		"DELETE /channels/{channel_id}/thread-members/{user_id}":      hThreadMember(false),
		"PUT /channels/{channel_id}/thread-members/@me":               hThreadMember(true),
		"DELETE /channels/{channel_id}/thread-members/@me":            hThreadMember(false),
		"GET /channels/{channel_id}/thread-members":                   hListThreadMembers,
		"GET /guilds/{guild_id}":                                      hGetGuild,
		"GET /guilds/{guild_id}/channels":                             hGuildChannels,
		"GET /guilds/{guild_id}/roles":                                hGuildRoles,
		"GET /guilds/{guild_id}/members":                              hGuildMembers,
		"GET /guilds/{guild_id}/members/{user_id}":                    hGetMember,
		"PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}":    hMemberRole(true),
		"DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}": hMemberRole(false),
		"GET /users/@me":               hGetMe,
		"GET /users/{user_id}":         hGetUser,
		"GET /users/@me/guilds":        hMyGuilds,
		"POST /users/@me/channels":     hCreateDM,
		"GET /gateway":                 hGateway(false),
		"GET /gateway/bot":             hGateway(true),
		"GET /applications/@me":        hApplication,
		"GET /oauth2/applications/@me": hApplication,
	})
}

func hGetChannel(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.st.channels[c.params["channel_id"]]
	if ch == nil {
		return 0, errUnknownChannel
	}
	return 200, s.channelJSON(ch)
}

func hDeleteChannel(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.st.channels[c.params["channel_id"]]
	if ch == nil {
		return 0, errUnknownChannel
	}
	out := s.channelJSON(ch)
	delete(s.st.channels, ch.ID)
	s.st.channelOrder = slices.DeleteFunc(s.st.channelOrder, func(id string) bool { return id == ch.ID })
	return 200, out
}

func hPatchChannel(c *call) (int, any) {
	s := c.s
	var p struct {
		Name                *string `json:"name"`
		Topic               *string `json:"topic"`
		Archived            *bool   `json:"archived"`
		Locked              *bool   `json:"locked"`
		Invitable           *bool   `json:"invitable"`
		AutoArchiveDuration *int    `json:"auto_archive_duration"`
		Position            *int    `json:"position"`
	}
	if err := c.decode(&p); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.st.channels[c.params["channel_id"]]
	if ch == nil {
		return 0, errUnknownChannel
	}
	cp := ch.clone()
	if p.Name != nil {
		cp.Name = *p.Name
	}
	if p.Topic != nil {
		cp.Topic = *p.Topic
	}
	if p.Position != nil {
		cp.Position = *p.Position
	}
	if ch.IsThread() {
		if ch.Archived && ch.Locked && (p.Archived == nil || *p.Archived) {
			return 0, errArchivedThread
		}
		if p.Archived != nil {
			if cp.Archived != *p.Archived {
				cp.ArchiveTimestamp = s.opts.Now()
			}
			cp.Archived = *p.Archived
		}
		if p.Locked != nil {
			cp.Locked = *p.Locked
		}
		if p.Invitable != nil {
			cp.Invitable = *p.Invitable
		}
		if p.AutoArchiveDuration != nil {
			cp.AutoArchiveDuration = *p.AutoArchiveDuration
		}
	} else if p.Archived != nil || p.Locked != nil {
		c.violate("body", "archived/locked set on a channel that is not a thread")
		return 0, formError([]fieldError{{Path: []string{"archived"}, Code: "BASE_TYPE_INVALID", Message: "Only threads can be archived"}})
	}
	*ch = cp
	return 200, s.channelJSON(ch)
}

type threadPayload struct {
	Name                string      `json:"name"`
	AutoArchiveDuration int         `json:"auto_archive_duration"`
	Type                int         `json:"type"`
	Invitable           *bool       `json:"invitable"`
	Message             *msgPayload `json:"message"`
}

func (s *Server) newThreadLocked(id string, parent *Channel, p *threadPayload, typ discordgo.ChannelType) *Channel {
	dur := p.AutoArchiveDuration
	if dur == 0 {
		dur = 1440
	}
	t := &Channel{
		ID: id, GuildID: parent.GuildID, Name: p.Name, Type: typ, ParentID: parent.ID,
		OwnerID: s.opts.BotUserID, AutoArchiveDuration: dur, Invitable: p.Invitable == nil || *p.Invitable,
		MemberIDs: []string{s.opts.BotUserID},
	}
	t.CreatedAt = s.opts.Now()
	t.ArchiveTimestamp = t.CreatedAt
	s.st.channels[id] = t
	s.st.channelOrder = append(s.st.channelOrder, id)
	return t
}

func hThreadFromMessage(c *call) (int, any) {
	s := c.s
	var p threadPayload
	if err := c.decode(&p); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.messageLocked(c.params["channel_id"], c.params["message_id"])
	if e != nil {
		return 0, e
	}
	parent := s.st.channels[m.ChannelID]
	if parent.IsThread() || parent.Type == discordgo.ChannelTypeDM {
		return 0, errf(400, 50024, "Cannot execute action on this channel type")
	}
	if m.ThreadID != "" {
		return 0, errThreadExists
	}
	typ := discordgo.ChannelTypeGuildPublicThread
	if parent.Type == discordgo.ChannelTypeGuildNews {
		typ = discordgo.ChannelTypeGuildNewsThread
	}
	t := s.newThreadLocked(m.ID, parent, &p, typ)
	t.StarterMessageID = m.ID
	cp := m.clone()
	cp.ThreadID = t.ID
	*m = cp
	return 201, s.channelJSON(t)
}

func hThreadWithoutMessage(c *call) (int, any) {
	s := c.s
	var p threadPayload
	if err := c.decode(&p); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := s.st.channels[c.params["channel_id"]]
	if parent == nil {
		return 0, errUnknownChannel
	}
	if parent.IsThread() || parent.Type == discordgo.ChannelTypeDM {
		return 0, errf(400, 50024, "Cannot execute action on this channel type")
	}
	forum := parent.Type == discordgo.ChannelTypeGuildForum || parent.Type == discordgo.ChannelTypeGuildMedia
	if forum {
		if p.Message == nil || p.Message.empty(c.files) {
			c.violate("body", "forum thread needs a non-empty message")
			return 0, formError([]fieldError{{Path: []string{"message"}, Code: "BASE_TYPE_REQUIRED", Message: "This field is required"}})
		}
		id := s.st.nextID(s.opts.Now())
		t := s.newThreadLocked(id, parent, &p, discordgo.ChannelTypeGuildPublicThread)
		m, e := s.newMessageLocked(t, p.Message, c.files, s.botUser())
		if e != nil {
			return 0, e
		}
		// the starter message of a forum post has the thread's id
		delete(s.st.messages, m.ID)
		m.ID = id
		s.st.messages[id] = m
		s.st.channelMsgs[id] = []string{id}
		t.LastMessageID, t.StarterMessageID = id, id
		out := s.channelJSON(t)
		out["message"] = s.messageJSON(m)
		return 201, out
	}
	typ := discordgo.ChannelType(p.Type)
	if p.Type == 0 {
		typ = discordgo.ChannelTypeGuildPrivateThread
	}
	t := s.newThreadLocked(s.st.nextID(s.opts.Now()), parent, &p, typ)
	return 201, s.channelJSON(t)
}

func hThreadMember(add bool) handler {
	return func(c *call) (int, any) {
		s := c.s
		uid := c.params["user_id"]
		if uid == "" {
			uid = s.opts.BotUserID
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.st.channels[c.params["channel_id"]]
		if t == nil {
			return 0, errUnknownChannel
		}
		if !t.IsThread() {
			return 0, errf(400, 50024, "Cannot execute action on this channel type")
		}
		if s.st.users[uid] == nil {
			return 0, errUnknownUser
		}
		if t.Archived && add {
			return 0, errArchivedThread
		}
		cp := t.clone()
		i := slices.Index(cp.MemberIDs, uid)
		switch {
		case add && i < 0:
			cp.MemberIDs = append(cp.MemberIDs, uid)
		case !add && i >= 0:
			cp.MemberIDs = slices.Delete(cp.MemberIDs, i, i+1)
		}
		*t = cp
		return 204, nil
	}
}

func hListThreadMembers(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.channels[c.params["channel_id"]]
	if t == nil {
		return 0, errUnknownChannel
	}
	out := []any{}
	for _, u := range t.MemberIDs {
		out = append(out, map[string]any{"id": t.ID, "user_id": u, "join_timestamp": isoTime(t.CreatedAt), "flags": 0})
	}
	return 200, out
}

func hGetGuild(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.guilds[c.params["guild_id"]]
	if g == nil {
		return 0, errUnknownGuild
	}
	return 200, s.guildJSON(g)
}

func hGuildChannels(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	gid := c.params["guild_id"]
	if s.st.guilds[gid] == nil {
		return 0, errUnknownGuild
	}
	out := []any{}
	for _, id := range s.st.channelOrder {
		if ch := s.st.channels[id]; ch.GuildID == gid && !ch.IsThread() {
			out = append(out, s.channelJSON(ch))
		}
	}
	return 200, out
}

func hGuildRoles(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	gid := c.params["guild_id"]
	if s.st.guilds[gid] == nil {
		return 0, errUnknownGuild
	}
	out := []any{}
	for _, id := range s.st.roleOrder[gid] {
		out = append(out, s.roleJSON(s.st.roles[id]))
	}
	return 200, out
}

func hGuildMembers(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	gid := c.params["guild_id"]
	if s.st.guilds[gid] == nil {
		return 0, errUnknownGuild
	}
	limit := 1
	if l, err := strconv.Atoi(c.query.Get("limit")); err == nil && l > 0 {
		limit = min(l, 1000)
	}
	after, _ := strconv.ParseInt(c.query.Get("after"), 10, 64)
	out := []any{}
	for _, uid := range s.st.memberOrder[gid] {
		n, _ := strconv.ParseInt(uid, 10, 64)
		if n <= after {
			continue
		}
		if len(out) >= limit {
			break
		}
		out = append(out, s.memberJSON(s.st.members[gid][uid]))
	}
	return 200, out
}

func hGetMember(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	gid := c.params["guild_id"]
	if s.st.guilds[gid] == nil {
		return 0, errUnknownGuild
	}
	m := s.st.members[gid][c.params["user_id"]]
	if m == nil {
		return 0, errUnknownMember
	}
	return 200, s.memberJSON(m)
}

func hMemberRole(add bool) handler {
	return func(c *call) (int, any) {
		s := c.s
		s.mu.Lock()
		defer s.mu.Unlock()
		gid, rid := c.params["guild_id"], c.params["role_id"]
		if s.st.guilds[gid] == nil {
			return 0, errUnknownGuild
		}
		m := s.st.members[gid][c.params["user_id"]]
		if m == nil {
			return 0, errUnknownMember
		}
		if r := s.st.roles[rid]; r == nil || r.GuildID != gid {
			return 0, errUnknownRole
		}
		roles := slices.Clone(m.Roles)
		i := slices.Index(roles, rid)
		switch {
		case add && i < 0:
			roles = append(roles, rid)
		case !add && i >= 0:
			roles = slices.Delete(roles, i, i+1)
		}
		m.Roles = roles
		return 204, nil
	}
}

func hGetMe(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userJSON(s.opts.BotUserID)
	u["verified"], u["mfa_enabled"] = true, false
	return 200, u
}

func hGetUser(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.users[c.params["user_id"]] == nil {
		return 0, errUnknownUser
	}
	return 200, s.userJSON(c.params["user_id"])
}

func hMyGuilds(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range s.st.guildOrder {
		g := s.st.guilds[id]
		out = append(out, map[string]any{"id": g.ID, "name": g.Name, "icon": nil, "owner": true, "permissions": "0", "features": []any{}})
	}
	return 200, out
}

func hCreateDM(c *call) (int, any) {
	s := c.s
	var p struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := c.decode(&p); err != nil {
		return 0, errf(400, 50109, "The request body contains invalid JSON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.users[p.RecipientID] == nil {
		return 0, errUnknownUser
	}
	id, ok := s.st.dms[p.RecipientID]
	if !ok {
		now := s.opts.Now()
		id = s.st.nextID(now)
		s.st.channels[id] = &Channel{ID: id, Type: discordgo.ChannelTypeDM, RecipientIDs: []string{p.RecipientID}, CreatedAt: now}
		s.st.channelOrder = append(s.st.channelOrder, id)
		s.st.dms[p.RecipientID] = id
	}
	c.chanID = id
	return 200, s.channelJSON(s.st.channels[id])
}

func hGateway(bot bool) handler {
	return func(c *call) (int, any) {
		out := map[string]any{"url": c.s.GatewayURL()}
		if bot {
			out["shards"] = 1
			out["session_start_limit"] = map[string]any{"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
		}
		return 200, out
	}
}

func hApplication(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return 200, map[string]any{
		"id": s.opts.ApplicationID, "name": s.opts.BotUsername, "icon": nil, "description": "",
		"bot_public": false, "bot_require_code_grant": false, "verify_key": "", "flags": 0,
		"bot": s.userJSON(s.opts.BotUserID),
	}
}
