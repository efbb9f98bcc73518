package discordtest

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Thread listings. Creating a thread or a forum post takes no nonce, so a
// client that lost the response looks the thread up with these before
// creating it again.

func init() {
	register(map[string]handler{
		"GET /guilds/{guild_id}/threads/active":              hActiveThreads,
		"GET /channels/{channel_id}/threads/archived/public": hArchivedPublicThreads,
	})
}

// defaultArchivedLimit is the number of archived threads listed when the
// request gives no limit.
const defaultArchivedLimit = 50

func (c Channel) archiveTimestamp() time.Time {
	if c.ArchiveTimestamp.IsZero() {
		return c.CreatedAt
	}
	return c.ArchiveTimestamp
}

// threadsJSON is Discord's ThreadsResponse: the threads, a thread member
// object for each one the bot has joined, and has_more.
func (s *Server) threadsJSON(threads []*Channel, hasMore bool) map[string]any {
	ts, members := []any{}, []any{}
	for _, t := range threads {
		ts = append(ts, s.channelJSON(t))
		if slices.Contains(t.MemberIDs, s.opts.BotUserID) {
			members = append(members, map[string]any{
				"id": t.ID, "user_id": s.opts.BotUserID, "join_timestamp": isoTime(t.CreatedAt), "flags": 0,
			})
		}
	}
	return map[string]any{"threads": ts, "members": members, "has_more": hasMore}
}

// hActiveThreads is GET /guilds/{guild.id}/threads/active: every thread of
// the guild that is not archived — threads started on messages, threads
// without a message, forum posts; public and private — newest first (by
// id, as Discord orders them).
func hActiveThreads(c *call) (int, any) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	gid := c.params["guild_id"]
	if s.st.guilds[gid] == nil {
		return 0, errUnknownGuild
	}
	var threads []*Channel
	for _, id := range s.st.channelOrder {
		if ch := s.st.channels[id]; ch.GuildID == gid && ch.IsThread() && !ch.Archived {
			threads = append(threads, ch)
		}
	}
	slices.SortFunc(threads, func(a, b *Channel) int { return cmp.Compare(snowflake(b.ID), snowflake(a.ID)) })
	return 200, s.threadsJSON(threads, false)
}

// hArchivedPublicThreads is GET /channels/{channel.id}/threads/archived/public:
// the channel's archived threads that are not private (forum posts
// included), most recently archived first; before (an ISO 8601
// timestamp) keeps the threads archived before it, limit (2–100, checked
// against the OpenAPI description) bounds the count.
func hArchivedPublicThreads(c *call) (int, any) {
	s := c.s
	limit := defaultArchivedLimit
	if l, err := strconv.Atoi(c.query.Get("limit")); err == nil && l > 0 {
		limit = l
	}
	var before time.Time
	if v := c.query.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			c.violate("query", "before is not an ISO 8601 timestamp: "+v)
			return 0, formError([]fieldError{{Path: []string{"before"}, Code: "DATE_TIME_TYPE_PARSE", Message: "Could not parse " + v + ". Should be ISO8601."}})
		}
		before = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := s.st.channels[c.params["channel_id"]]
	if parent == nil {
		return 0, errUnknownChannel
	}
	switch parent.Type {
	case discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews, discordgo.ChannelTypeGuildForum, discordgo.ChannelTypeGuildMedia:
	default:
		return 0, errf(400, 50024, "Cannot execute action on this channel type")
	}
	var threads []*Channel
	for _, id := range s.st.channelOrder {
		ch := s.st.channels[id]
		if ch.ParentID != parent.ID || !ch.IsThread() || !ch.Archived || ch.Type == discordgo.ChannelTypeGuildPrivateThread {
			continue
		}
		if !before.IsZero() && !ch.archiveTimestamp().Before(before) {
			continue
		}
		threads = append(threads, ch)
	}
	slices.SortStableFunc(threads, func(a, b *Channel) int {
		return cmp.Or(b.archiveTimestamp().Compare(a.archiveTimestamp()), cmp.Compare(snowflake(b.ID), snowflake(a.ID)))
	})
	more := len(threads) > limit
	return 200, s.threadsJSON(threads[:min(len(threads), limit)], more)
}
