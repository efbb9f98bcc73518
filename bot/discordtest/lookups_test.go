package discordtest

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

// threadWorld is a guild with one thread of every kind: on a message,
// without a message (public and private), a forum post, one archived
// thread in the text channel and one archived forum post, plus a thread
// in another guild.
type threadWorld struct {
	*env
	clock                                *bot.FakeClock
	onMessage, standalone, private, post *discordgo.Channel
	archived, archivedPost, elsewhere    *discordgo.Channel
	archivedAt                           time.Time
}

func newThreadWorld(t *testing.T) *threadWorld {
	t.Helper()
	clock := bot.NewFakeClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	w := &threadWorld{env: newEnv(t, Options{Now: clock.Now}), clock: clock}
	must := func(ch *discordgo.Channel, err error) *discordgo.Channel {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		return ch
	}
	m, err := w.dg.ChannelMessageSend(w.channel, "firing")
	if err != nil {
		t.Fatal(err)
	}
	w.onMessage = must(w.dg.MessageThreadStartComplex(w.channel, m.ID, &discordgo.ThreadStart{Name: "inc-1", AutoArchiveDuration: 1440}))
	w.standalone = must(w.dg.ThreadStartComplex(w.channel, &discordgo.ThreadStart{Name: "inc-2", Type: discordgo.ChannelTypeGuildPublicThread}))
	w.private = must(w.dg.ThreadStartComplex(w.channel, &discordgo.ThreadStart{Name: "war-room", Type: discordgo.ChannelTypeGuildPrivateThread}))
	w.post = must(w.dg.ForumThreadStartComplex(w.forum, &discordgo.ThreadStart{Name: "postmortem inc-1"}, &discordgo.MessageSend{Content: "summary"}))
	w.archived = must(w.dg.ThreadStartComplex(w.channel, &discordgo.ThreadStart{Name: "inc-0", Type: discordgo.ChannelTypeGuildPublicThread}))
	w.archivedPost = must(w.dg.ForumThreadStartComplex(w.forum, &discordgo.ThreadStart{Name: "postmortem inc-0"}, &discordgo.MessageSend{Content: "old"}))
	other := w.srv.AddGuild("other")
	otherChan := w.srv.AddChannel(other, "general", discordgo.ChannelTypeGuildText)
	w.elsewhere = must(w.dg.ThreadStartComplex(otherChan, &discordgo.ThreadStart{Name: "not ours", Type: discordgo.ChannelTypeGuildPublicThread}))

	archived := true
	w.archivedAt = clock.Now()
	if _, err := w.dg.ChannelEdit(w.archived.ID, &discordgo.ChannelEdit{Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if _, err := w.dg.ChannelEdit(w.archivedPost.ID, &discordgo.ChannelEdit{Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	return w
}

func threadIDs(list *discordgo.ThreadsList) []string {
	var ids []string
	for _, th := range list.Threads {
		ids = append(ids, th.ID)
	}
	return ids
}

func TestGuildThreadsActive(t *testing.T) {
	w := newThreadWorld(t)
	list, err := w.dg.GuildThreadsActive(w.guild)
	if err != nil {
		t.Fatal(err)
	}
	// newest first, archived ones and other guilds' left out
	want := []string{w.post.ID, w.private.ID, w.standalone.ID, w.onMessage.ID}
	if got := threadIDs(list); !slices.Equal(got, want) {
		t.Errorf("active threads = %v, want %v", got, want)
	}
	wantParent := map[string][2]string{
		w.onMessage.ID:  {w.channel, "inc-1"},
		w.standalone.ID: {w.channel, "inc-2"},
		w.private.ID:    {w.channel, "war-room"},
		w.post.ID:       {w.forum, "postmortem inc-1"},
	}
	for _, th := range list.Threads {
		if got, want := [2]string{th.ParentID, th.Name}, wantParent[th.ID]; got != want {
			t.Errorf("thread %s: parent, name = %v, want %v", th.ID, got, want)
		}
	}
	if len(list.Members) != len(want) {
		t.Errorf("members = %d, want one per thread the bot joined (%d)", len(list.Members), len(want))
	}
	for _, m := range list.Members {
		if m.UserID != w.srv.BotUserID() || !slices.Contains(want, m.ID) {
			t.Errorf("member = %+v, want the bot in a listed thread", m)
		}
	}
	if list.HasMore {
		t.Error("has_more = true, want false")
	}
	_, body := raw(t, w.srv, "GET", "/guilds/"+w.guild+"/threads/active", "")
	checkResponse(t, w.srv, "GET", "/guilds/{guild_id}/threads/active", body)
}

// TestReconcileLostThreadCreate shows the lookup a client needs when the
// answer to a thread create is lost: the thread is listed among the
// active ones under its parent and name.
func TestReconcileLostThreadCreate(t *testing.T) {
	e := newEnv(t, Options{})
	e.srv.InjectFault(Fault{Route: "/channels/{channel_id}/threads", DropAfterHandle: true, Times: 1})
	if _, err := e.dg.ForumThreadStartComplex(e.forum, &discordgo.ThreadStart{Name: "postmortem inc-9"}, &discordgo.MessageSend{Content: "summary"}); err == nil {
		t.Fatal("forum post create succeeded, want a transport error")
	}
	list, err := e.dg.GuildThreadsActive(e.guild)
	if err != nil {
		t.Fatal(err)
	}
	found := slices.IndexFunc(list.Threads, func(th *discordgo.Channel) bool {
		return th.ParentID == e.forum && th.Name == "postmortem inc-9"
	})
	if found < 0 {
		t.Fatalf("active threads %v do not list the post whose create answer was lost", threadIDs(list))
	}
	if th := e.srv.Threads(e.forum); len(th) != 1 || th[0].ID != list.Threads[found].ID {
		t.Errorf("forum posts = %+v, want only %s", th, list.Threads[found].ID)
	}
}

func TestThreadsArchivedPublic(t *testing.T) {
	w := newThreadWorld(t)
	// a second archived thread in the text channel, archived last
	archived := true
	w.clock.Advance(time.Hour)
	if _, err := w.dg.ChannelEdit(w.standalone.ID, &discordgo.ChannelEdit{Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	// an archived private thread is not public
	if _, err := w.dg.ChannelEdit(w.private.ID, &discordgo.ChannelEdit{Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	before := w.archivedAt.Add(time.Minute)
	tests := []struct {
		name        string
		channel     string
		before      *time.Time
		limit       int
		want        []string
		wantHasMore bool
	}{
		{"text channel, most recently archived first", w.channel, nil, 0, []string{w.standalone.ID, w.archived.ID}, false},
		{"limit", w.channel, nil, 2, []string{w.standalone.ID, w.archived.ID}, false},
		{"before", w.channel, &before, 0, []string{w.archived.ID}, false},
		{"forum posts", w.forum, nil, 0, []string{w.archivedPost.ID}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, err := w.dg.ThreadsArchived(tc.channel, tc.before, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := threadIDs(list); !slices.Equal(got, tc.want) {
				t.Errorf("archived threads = %v, want %v", got, tc.want)
			}
			if list.HasMore != tc.wantHasMore {
				t.Errorf("has_more = %v, want %v", list.HasMore, tc.wantHasMore)
			}
			for _, th := range list.Threads {
				if th.ParentID != tc.channel || th.ThreadMetadata == nil || !th.ThreadMetadata.Archived {
					t.Errorf("thread %s: parent %s, metadata %+v; want archived, in %s", th.ID, th.ParentID, th.ThreadMetadata, tc.channel)
				}
			}
		})
	}
	// has_more: three archived threads, limit 2
	w.clock.Advance(time.Hour)
	if _, err := w.dg.ChannelEdit(w.onMessage.ID, &discordgo.ChannelEdit{Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	list, err := w.dg.ThreadsArchived(w.channel, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := threadIDs(list), []string{w.onMessage.ID, w.standalone.ID}; !slices.Equal(got, want) || !list.HasMore {
		t.Errorf("limit 2 of 3: %v has_more %v, want %v has_more true", got, list.HasMore, want)
	}
	if got := list.Threads[0].ThreadMetadata.ArchiveTimestamp; !got.Equal(w.clock.Now()) {
		t.Errorf("archive_timestamp = %v, want the time of archiving %v", got, w.clock.Now())
	}
	_, body := raw(t, w.srv, "GET", "/channels/"+w.channel+"/threads/archived/public", "")
	checkResponse(t, w.srv, "GET", "/channels/{channel_id}/threads/archived/public", body)
}

func TestThreadsArchivedPublicRejects(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		inThread   bool
		wantStatus int
		wantCode   int
		violation  string
	}{
		{"limit below 2", "?limit=1", false, 400, 50035, "query violation"},
		{"limit above 100", "?limit=101", false, 400, 50035, "query violation"},
		{"limit not a number", "?limit=ten", false, 400, 50035, "query violation"},
		{"before not a timestamp", "?before=yesterday", false, 400, 50035, "query violation"},
		{"called on a thread", "", true, 400, 50024, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got collect
			e := newEnv(t, Options{OnViolation: got.add})
			ch := e.channel
			if tc.inThread {
				th, err := e.dg.ThreadStartComplex(e.channel, &discordgo.ThreadStart{Name: "t", Type: discordgo.ChannelTypeGuildPublicThread})
				if err != nil {
					t.Fatal(err)
				}
				ch = th.ID
			}
			resp, b := raw(t, e.srv, "GET", "/channels/"+ch+"/threads/archived/public"+tc.query, "")
			var body apiErrorBody
			_ = json.Unmarshal(b, &body)
			if resp.StatusCode != tc.wantStatus || body.Code != tc.wantCode {
				t.Errorf("got %d %s, want %d with code %d", resp.StatusCode, b, tc.wantStatus, tc.wantCode)
			}
			v := got.list()
			if tc.violation == "" && len(v) != 0 || tc.violation != "" && (len(v) != 1 || !strings.Contains(v[0].Error(), tc.violation)) {
				t.Errorf("violations = %v, want %q", v, tc.violation)
			}
		})
	}
}

func TestChannelMessagesList(t *testing.T) {
	e := newEnv(t, Options{NoRateLimits: true})
	var ids []string // oldest first
	for i := range 6 {
		m, _, err := sendRaw(e.dg, e.channel, map[string]any{"content": "m" + strconv.Itoa(i), "nonce": "n" + strconv.Itoa(i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if err := e.dg.ChannelMessageDelete(e.channel, ids[5]); err != nil {
		t.Fatal(err)
	}
	// live: m0..m4, newest first from here on
	tests := []struct {
		name                  string
		limit                 int
		before, after, around string
		want                  []string
	}{
		{"newest, default limit", 0, "", "", "", []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"newest two", 2, "", "", "", []string{ids[4], ids[3]}},
		{"before", 2, ids[3], "", "", []string{ids[2], ids[1]}},
		{"before the oldest", 2, ids[0], "", "", nil},
		{"after: the oldest ones after it, newest first", 2, "", ids[1], "", []string{ids[3], ids[2]}},
		{"after, fewer left than limit", 10, "", ids[2], "", []string{ids[4], ids[3]}},
		{"around", 3, "", "", ids[2], []string{ids[3], ids[2], ids[1]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := e.dg.ChannelMessages(e.channel, tc.limit, tc.before, tc.after, tc.around)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("messages = %v, want %v", got, tc.want)
			}
		})
	}

	// Discord does not store nonces: fetched messages have none.
	_, b := raw(t, e.srv, "GET", "/channels/"+e.channel+"/messages?limit=5", "")
	checkResponse(t, e.srv, "GET", "/channels/{channel_id}/messages", b)
	var listed []map[string]any
	if err := json.Unmarshal(b, &listed); err != nil || len(listed) != 5 {
		t.Fatalf("list = %s, %v", b, err)
	}
	for _, m := range listed {
		if _, ok := m["nonce"]; ok {
			t.Errorf("listed message %v has a nonce; Discord only returns it when creating", m["id"])
		}
	}
	_, b = raw(t, e.srv, "GET", "/channels/"+e.channel+"/messages/"+ids[0], "")
	if strings.Contains(string(b), `"nonce"`) {
		t.Errorf("fetched message has a nonce: %s", b)
	}
}

func TestChannelMessagesListRejects(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		wantCode  int
		violation string
	}{
		{"limit 0", "?limit=0", 50035, "query violation"},
		{"limit 101", "?limit=101", 50035, "query violation"},
		{"before not a snowflake", "?before=latest", 50035, "query violation"},
		{"before and after together", "?before=2&after=1", 0, "mutually exclusive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got collect
			e := newEnv(t, Options{OnViolation: got.add})
			resp, b := raw(t, e.srv, "GET", "/channels/"+e.channel+"/messages"+tc.query, "")
			var body apiErrorBody
			_ = json.Unmarshal(b, &body)
			if tc.wantCode != 0 && (resp.StatusCode != 400 || body.Code != tc.wantCode) {
				t.Errorf("got %d %s, want 400 with code %d", resp.StatusCode, b, tc.wantCode)
			}
			if v := got.list(); len(v) != 1 || !strings.Contains(v[0].Error(), tc.violation) {
				t.Errorf("violations = %v, want one with %q", v, tc.violation)
			}
		})
	}
}
