package discordtest

import (
	"encoding/json"
	"strconv"
	"time"
)

// Rendering of state into Discord's JSON shapes. Callers hold s.mu.

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+00:00") }

func (s *Server) userJSON(id string) map[string]any {
	u := s.st.users[id]
	if u == nil {
		u = &User{ID: id, Username: "unknown-" + id}
	}
	m := map[string]any{
		"id": u.ID, "username": u.Username, "discriminator": "0", "avatar": nil,
		"global_name": nilIfEmpty(u.GlobalName), "public_flags": 0, "flags": 0, "primary_guild": nil,
	}
	if u.Bot {
		m["bot"] = true
	}
	return m
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) channelJSON(c *Channel) map[string]any {
	m := map[string]any{
		"id": c.ID, "type": int(c.Type), "flags": 0,
		"last_message_id": nilIfEmpty(c.LastMessageID),
	}
	if c.Type == 1 { // DM
		var rs []any
		for _, r := range c.RecipientIDs {
			rs = append(rs, s.userJSON(r))
		}
		m["recipients"] = rs
		return m
	}
	m["guild_id"] = c.GuildID
	m["name"] = c.Name
	m["parent_id"] = nilIfEmpty(c.ParentID)
	m["nsfw"] = false
	m["rate_limit_per_user"] = 0
	if c.IsThread() {
		m["owner_id"] = c.OwnerID
		m["message_count"] = c.MessageCount
		m["member_count"] = len(c.MemberIDs)
		m["total_message_sent"] = c.MessageCount
		m["thread_metadata"] = map[string]any{
			"archived": c.Archived, "locked": c.Locked, "invitable": c.Invitable,
			"auto_archive_duration": c.AutoArchiveDuration,
			"archive_timestamp":     isoTime(c.archiveTimestamp()),
			"create_timestamp":      isoTime(c.CreatedAt),
		}
		return m
	}
	m["position"] = c.Position
	ows := []any{}
	for _, o := range c.Overwrites {
		ows = append(ows, map[string]any{"id": o.ID, "type": o.Type, "allow": strconv.FormatInt(o.Allow, 10), "deny": strconv.FormatInt(o.Deny, 10)})
	}
	m["permission_overwrites"] = ows
	m["topic"] = nilIfEmpty(c.Topic)
	return m
}

func (s *Server) messageJSON(m *Message) map[string]any {
	author := s.userJSON(m.Author.ID)
	if m.WebhookID != "" {
		author = map[string]any{"id": m.WebhookID, "username": m.Author.Username, "discriminator": "0000", "avatar": nil, "bot": true}
	}
	atts := []any{}
	for _, a := range m.Attachments {
		url := s.hs.URL + "/attachments/" + m.ChannelID + "/" + a.ID + "/" + a.Filename
		att := map[string]any{
			"id": a.ID, "filename": a.Filename, "size": len(a.Data), "url": url, "proxy_url": url,
			"content_type": a.ContentType,
		}
		if a.Description != "" { // a string when present, never null
			att["description"] = a.Description
		}
		atts = append(atts, att)
	}
	embeds := []any{}
	for _, e := range m.Embeds {
		b, _ := json.Marshal(e)
		var em map[string]any
		_ = json.Unmarshal(b, &em)
		if em["type"] == nil || em["type"] == "" {
			em["type"] = "rich"
		}
		embeds = append(embeds, em)
	}
	var comps any = []any{}
	if len(m.Components) > 0 && string(m.Components) != "null" {
		comps = m.Components
	}
	var edited any
	if !m.EditedAt.IsZero() {
		edited = isoTime(m.EditedAt)
	}
	reactions := []any{}
	for _, r := range m.Reactions {
		reactions = append(reactions, map[string]any{"count": 1, "me": true, "emoji": map[string]any{"id": nil, "name": r}})
	}
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "type": 0, "author": author,
		"content": m.Content, "timestamp": isoTime(m.CreatedAt), "edited_timestamp": edited,
		"tts": m.TTS, "mention_everyone": false, "mentions": []any{}, "mention_roles": []any{},
		"attachments": atts, "embeds": embeds, "components": comps, "pinned": m.Pinned,
		"flags": m.Flags, "reactions": reactions,
	}
	if m.GuildID != "" {
		out["guild_id"] = m.GuildID
	}
	if m.WebhookID != "" {
		out["webhook_id"] = m.WebhookID
	}
	if m.InteractionID != "" {
		out["application_id"] = s.opts.ApplicationID
		out["webhook_id"] = s.opts.ApplicationID
	}
	if m.ReferenceID != "" {
		out["type"] = 19
		out["message_reference"] = map[string]any{"message_id": m.ReferenceID, "channel_id": m.ChannelID}
	}
	if m.ThreadID != "" {
		if t := s.st.channels[m.ThreadID]; t != nil {
			out["thread"] = s.channelJSON(t)
		}
	}
	return out
}

func (s *Server) roleJSON(r *Role) map[string]any {
	return map[string]any{
		"id": r.ID, "name": r.Name, "color": 0, "hoist": false, "icon": nil, "unicode_emoji": nil,
		"colors":   map[string]any{"primary_color": 0, "secondary_color": nil, "tertiary_color": nil},
		"position": r.Position, "permissions": strconv.FormatInt(r.Permissions, 10),
		"managed": false, "mentionable": false, "flags": 0,
	}
}

func (s *Server) memberJSON(m *Member) map[string]any {
	roles := m.Roles
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{
		"user": s.userJSON(m.UserID), "nick": nilIfEmpty(m.Nick), "avatar": nil, "roles": roles,
		"joined_at": isoTime(m.JoinedAt), "deaf": false, "mute": false, "flags": 0, "pending": false,
	}
}

func (s *Server) guildJSON(g *Guild) map[string]any {
	roles := []any{}
	for _, id := range s.st.roleOrder[g.ID] {
		roles = append(roles, s.roleJSON(s.st.roles[id]))
	}
	return map[string]any{
		"id": g.ID, "name": g.Name, "icon": nil, "owner_id": g.OwnerID, "roles": roles,
		"emojis": []any{}, "stickers": []any{}, "features": []any{}, "verification_level": 0,
		"default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
		"system_channel_flags": 0, "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0,
		"application_id": nil, "afk_timeout": 300,
	}
}

// guildCreateJSON is the GUILD_CREATE gateway payload.
func (s *Server) guildCreateJSON(g *Guild) map[string]any {
	m := s.guildJSON(g)
	chans, threads := []any{}, []any{}
	for _, id := range s.st.channelOrder {
		c := s.st.channels[id]
		if c.GuildID != g.ID {
			continue
		}
		if c.IsThread() {
			if !c.Archived {
				threads = append(threads, s.channelJSON(c))
			}
		} else {
			chans = append(chans, s.channelJSON(c))
		}
	}
	members := []any{}
	for _, uid := range s.st.memberOrder[g.ID] {
		members = append(members, s.memberJSON(s.st.members[g.ID][uid]))
	}
	m["channels"], m["threads"], m["members"] = chans, threads, members
	m["member_count"] = len(members)
	m["joined_at"] = isoTime(s.opts.Now())
	m["large"], m["unavailable"] = false, false
	m["voice_states"], m["presences"], m["stage_instances"], m["guild_scheduled_events"] = []any{}, []any{}, []any{}, []any{}
	return m
}
