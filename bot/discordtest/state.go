package discordtest

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// User is a Discord user known to the fake.
type User struct {
	ID         string
	Username   string
	GlobalName string
	Bot        bool
}

// Guild is a guild known to the fake.
type Guild struct {
	ID      string
	Name    string
	OwnerID string
}

// Role is a guild role. The @everyone role has the guild's id.
type Role struct {
	ID          string
	GuildID     string
	Name        string
	Position    int
	Permissions int64
}

// Member is a guild member.
type Member struct {
	GuildID  string
	UserID   string
	Roles    []string
	Nick     string
	JoinedAt time.Time
}

// Channel is a guild channel, thread or DM.
type Channel struct {
	ID       string
	GuildID  string
	Name     string
	Type     discordgo.ChannelType
	ParentID string // for threads: the channel they live in
	OwnerID  string // thread creator
	Topic    string
	Position int

	// Thread metadata.
	Archived            bool
	ArchiveTimestamp    time.Time // when Archived last changed (creation time until then)
	Locked              bool
	AutoArchiveDuration int
	Invitable           bool
	MemberIDs           []string // thread members
	StarterMessageID    string   // thread started from a message (== ID)

	RecipientIDs  []string    // DM recipients
	Overwrites    []Overwrite // permission overwrites (guild channels)
	CreatedAt     time.Time
	LastMessageID string
	MessageCount  int
}

// IsThread reports whether the channel is a thread.
func (c Channel) IsThread() bool {
	return c.Type == discordgo.ChannelTypeGuildPublicThread ||
		c.Type == discordgo.ChannelTypeGuildPrivateThread ||
		c.Type == discordgo.ChannelTypeGuildNewsThread
}

// Attachment is a file uploaded with a message.
type Attachment struct {
	ID          string
	Filename    string
	ContentType string
	Description string
	Data        []byte
}

// Message is the fake's view of a message.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string
	Author    User
	Content   string
	Embeds    []*discordgo.MessageEmbed
	// Components is the raw JSON array the bot sent (nil if none).
	Components      json.RawMessage
	AllowedMentions *discordgo.MessageAllowedMentions
	Attachments     []Attachment
	Flags           int
	TTS             bool
	Pinned          bool
	Reactions       []string // emoji added by the bot
	CreatedAt       time.Time
	EditedAt        time.Time // zero if never edited
	ThreadID        string    // thread started from this message
	WebhookID       string
	InteractionID   string // set for interaction responses/follow-ups
	ReferenceID     string // message_reference.message_id (replies)
	Deleted         bool
	// Nonce is the nonce the message was created with ("" if none); an
	// integer nonce is kept as its decimal digits. Discord does not store
	// nonces: only the create response and MESSAGE_CREATE carry them.
	Nonce string
	// nonceJSON is the nonce exactly as sent, echoed in the create
	// response and MESSAGE_CREATE.
	nonceJSON json.RawMessage
}

// Button is a button found in a message's components.
type Button struct {
	CustomID string
	Label    string
	URL      string
	Style    int
	Disabled bool
}

// Buttons lists the buttons in m.Components (depth-first, in order).
func (m Message) Buttons() []Button {
	return ComponentButtons(m.Components)
}

// ComponentButtons lists the buttons found in a raw components array.
func ComponentButtons(raw json.RawMessage) []Button {
	if len(raw) == 0 {
		return nil
	}
	var tree []any
	if json.Unmarshal(raw, &tree) != nil {
		return nil
	}
	var out []Button
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if t, _ := x["type"].(float64); t == 2 {
				b := Button{}
				b.CustomID, _ = x["custom_id"].(string)
				b.Label, _ = x["label"].(string)
				b.URL, _ = x["url"].(string)
				st, _ := x["style"].(float64)
				b.Style = int(st)
				b.Disabled, _ = x["disabled"].(bool)
				out = append(out, b)
			}
			for _, k := range []string{"components", "accessory"} {
				if c, ok := x[k]; ok {
					walk(c)
				}
			}
		}
	}
	walk(tree)
	return out
}

func (m Message) clone() Message {
	m.Embeds = slices.Clone(m.Embeds)
	m.Attachments = slices.Clone(m.Attachments)
	m.Reactions = slices.Clone(m.Reactions)
	return m
}

func (c Channel) clone() Channel {
	c.MemberIDs = slices.Clone(c.MemberIDs)
	c.RecipientIDs = slices.Clone(c.RecipientIDs)
	c.Overwrites = slices.Clone(c.Overwrites)
	return c
}

// Webhook is an incoming webhook created with CreateWebhook.
type Webhook struct {
	ID        string
	Token     string
	ChannelID string
	GuildID   string
	Name      string
}

// state is all REST state; guarded by Server.mu.
type state struct {
	lastID int64

	users        map[string]*User
	guilds       map[string]*Guild
	guildOrder   []string
	roles        map[string]*Role
	roleOrder    map[string][]string // guild -> role ids
	members      map[string]map[string]*Member
	memberOrder  map[string][]string
	channels     map[string]*Channel
	channelOrder []string
	messages     map[string]*Message
	channelMsgs  map[string][]string   // channel -> message ids in creation order
	nonces       map[nonceKey][]string // message ids created with a nonce, oldest first
	edits        map[string]int
	dms          map[string]string // recipient -> DM channel
	dmClosed     map[string]bool
	commands     map[string][]*command // "" or guild id -> commands
	webhooks     map[string]*Webhook

	interactions map[string]*interaction
	tokens       map[string]string // interaction token -> id

	requests   []Request
	violations []error
	faults     []*faultState
}

func (st *state) init() {
	st.users = map[string]*User{}
	st.guilds = map[string]*Guild{}
	st.roles = map[string]*Role{}
	st.roleOrder = map[string][]string{}
	st.members = map[string]map[string]*Member{}
	st.memberOrder = map[string][]string{}
	st.channels = map[string]*Channel{}
	st.messages = map[string]*Message{}
	st.channelMsgs = map[string][]string{}
	st.nonces = map[nonceKey][]string{}
	st.edits = map[string]int{}
	st.dms = map[string]string{}
	st.dmClosed = map[string]bool{}
	st.commands = map[string][]*command{}
	st.webhooks = map[string]*Webhook{}
	st.interactions = map[string]*interaction{}
	st.tokens = map[string]string{}
}

const discordEpochMS = 1420070400000

// nextID returns a new snowflake, strictly increasing even with a frozen
// clock.
func (st *state) nextID(now time.Time) string {
	id := (now.UnixMilli() - discordEpochMS) << 22
	if id <= st.lastID {
		id = st.lastID + 1
	}
	st.lastID = id
	return strconv.FormatInt(id, 10)
}

// ---- setup helpers ----

// AddUser creates a user and returns its id.
func (s *Server) AddUser(username string) string {
	s.mu.Lock()
	id := s.st.nextID(s.opts.Now())
	s.st.users[id] = &User{ID: id, Username: username, GlobalName: username}
	s.mu.Unlock()
	s.notify()
	return id
}

// AddGuild creates a guild (with its @everyone role and the bot as member)
// and returns its id.
func (s *Server) AddGuild(name string) string {
	s.mu.Lock()
	now := s.opts.Now()
	id := s.st.nextID(now)
	s.st.guilds[id] = &Guild{ID: id, Name: name, OwnerID: s.opts.BotUserID}
	s.st.guildOrder = append(s.st.guildOrder, id)
	s.st.roles[id] = &Role{ID: id, GuildID: id, Name: "@everyone", Permissions: 0}
	s.st.roleOrder[id] = []string{id}
	s.st.members[id] = map[string]*Member{}
	s.addMemberLocked(id, s.opts.BotUserID, now)
	s.mu.Unlock()
	s.notify()
	return id
}

// AddChannel creates a channel in a guild and returns its id.
func (s *Server) AddChannel(guildID, name string, typ discordgo.ChannelType) string {
	s.mu.Lock()
	now := s.opts.Now()
	id := s.st.nextID(now)
	pos := 0
	for _, c := range s.st.channels {
		if c.GuildID == guildID && !c.IsThread() {
			pos++
		}
	}
	s.st.channels[id] = &Channel{ID: id, GuildID: guildID, Name: name, Type: typ, Position: pos, CreatedAt: now}
	s.st.channelOrder = append(s.st.channelOrder, id)
	s.mu.Unlock()
	s.notify()
	return id
}

// AddRole creates a role in a guild and returns its id.
func (s *Server) AddRole(guildID, name string) string {
	s.mu.Lock()
	id := s.st.nextID(s.opts.Now())
	s.st.roles[id] = &Role{ID: id, GuildID: guildID, Name: name, Position: len(s.st.roleOrder[guildID])}
	s.st.roleOrder[guildID] = append(s.st.roleOrder[guildID], id)
	s.mu.Unlock()
	s.notify()
	return id
}

// AddMember makes a user a member of a guild with the given roles (calling
// it again replaces the roles).
func (s *Server) AddMember(guildID, userID string, roleIDs ...string) {
	s.mu.Lock()
	m := s.addMemberLocked(guildID, userID, s.opts.Now())
	m.Roles = slices.Clone(roleIDs)
	s.mu.Unlock()
	s.notify()
}

func (s *Server) addMemberLocked(guildID, userID string, now time.Time) *Member {
	if s.st.members[guildID] == nil {
		s.st.members[guildID] = map[string]*Member{}
	}
	m := s.st.members[guildID][userID]
	if m == nil {
		m = &Member{GuildID: guildID, UserID: userID, JoinedAt: now}
		s.st.members[guildID][userID] = m
		s.st.memberOrder[guildID] = append(s.st.memberOrder[guildID], userID)
	}
	return m
}

// SetDMClosed makes messages to the user's DM channel fail with 50007.
func (s *Server) SetDMClosed(userID string, closed bool) {
	s.mu.Lock()
	s.st.dmClosed[userID] = closed
	s.mu.Unlock()
}

// ---- queries (safe for concurrent use; they return copies) ----

// Messages returns the channel's current (not deleted) messages in creation
// order.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.st.channelMsgs[channelID] {
		if m := s.st.messages[id]; m != nil && !m.Deleted {
			out = append(out, m.clone())
		}
	}
	return out
}

// Message returns a message by id (deleted messages too, with Deleted set).
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.st.messages[id]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// Edits is the number of successful edits of a message (any route).
func (s *Server) Edits(messageID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.edits[messageID]
}

// Channel returns a channel (or thread, or DM) by id.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.channels[id]
	if !ok {
		return Channel{}, false
	}
	return c.clone(), true
}

// Threads returns the threads whose parent is parentID, in creation order.
func (s *Server) Threads(parentID string) []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, id := range s.st.channelOrder {
		if c := s.st.channels[id]; c.ParentID == parentID && c.IsThread() {
			out = append(out, c.clone())
		}
	}
	return out
}

// DMChannel returns the DM channel id opened with a user, if any.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.dms[userID]
	return id, ok
}

// Member returns a guild member.
func (s *Server) Member(guildID, userID string) (Member, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.st.members[guildID][userID]
	if !ok {
		return Member{}, false
	}
	c := *m
	c.Roles = slices.Clone(m.Roles)
	return c, true
}

// Violations returns every violation recorded so far.
func (s *Server) Violations() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.violations)
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.requests)
}

// ResetRecords forgets recorded requests, violations and gateway events
// (state is kept).
func (s *Server) ResetRecords() {
	s.mu.Lock()
	s.st.requests = nil
	s.st.violations = nil
	s.mu.Unlock()
	s.gw.mu.Lock()
	s.gw.events = nil
	s.gw.mu.Unlock()
}
