package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Response is one thing the bot did in answer to an interaction.
type Response struct {
	InteractionID string
	// Kind is "callback" (POST /interactions/…/callback), "http" (the body
	// of the bot's answer to an HTTP interaction), "edit-original",
	// "delete-original", "followup", "edit-followup" or "delete-followup".
	Kind string
	// Type is the callback type for callbacks (4 message, 5 deferred, 6
	// deferred update, 7 update, 8 autocomplete, 9 modal).
	Type discordgo.InteractionResponseType
	// Data is the raw JSON of the callback's data, or the webhook payload.
	Data      json.RawMessage
	Content   string // convenience: data.content
	Flags     int    // convenience: data.flags
	Files     []Attachment
	MessageID string    // message created or edited, if any
	At        time.Time // real time
	Elapsed   time.Duration
	Status    int // HTTP status the fake answered (or the bot, for "http")
}

// Ephemeral reports whether the response data carries the ephemeral flag.
func (r Response) Ephemeral() bool { return r.Flags&int(discordgo.MessageFlagsEphemeral) != 0 }

// Choices returns the autocomplete choices of a type 8 callback.
func (r Response) Choices() []discordgo.ApplicationCommandOptionChoice {
	var d struct {
		Choices []discordgo.ApplicationCommandOptionChoice `json:"choices"`
	}
	_ = json.Unmarshal(r.Data, &d)
	return d.Choices
}

// InteractionState is the fake's record of an interaction sent to the bot.
type InteractionState struct {
	ID, Token  string
	Type       discordgo.InteractionType
	ChannelID  string
	GuildID    string
	UserID     string
	MessageID  string // message of a component interaction
	SentAt     time.Time
	Acked      bool
	AckedAfter time.Duration
	Late       bool   // not acknowledged within the deadline
	OriginalID string // message behind @original, once there is one
	Responses  []Response
}

type interaction struct {
	InteractionState
	timer *time.Timer
}

func randomToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return "aW50ZXJhY3Rpb24" + hex.EncodeToString(b)
}

// prepare fills in id, token and application id, records the interaction,
// starts its deadline timer and returns the JSON payload.
func (s *Server) prepare(i discordgo.Interaction) (*interaction, []byte, error) {
	s.mu.Lock()
	now := s.opts.Now()
	if i.ID == "" {
		i.ID = s.st.nextID(now)
	}
	if i.Token == "" {
		i.Token = randomToken()
	}
	i.AppID = s.opts.ApplicationID
	i.Version = 1
	if i.Locale == "" {
		i.Locale = discordgo.EnglishUS
	}
	ch := s.st.channels[i.ChannelID]
	if ch != nil && i.GuildID == "" {
		i.GuildID = ch.GuildID
	}
	rec := &interaction{InteractionState: InteractionState{
		ID: i.ID, Token: i.Token, Type: i.Type, ChannelID: i.ChannelID, GuildID: i.GuildID, SentAt: time.Now(),
	}}
	if i.Member != nil && i.Member.User != nil {
		rec.UserID = i.Member.User.ID
	} else if i.User != nil {
		rec.UserID = i.User.ID
	}
	var msgJSON map[string]any
	if i.Message != nil && i.Message.ID != "" {
		rec.MessageID = i.Message.ID
		if m := s.st.messages[i.Message.ID]; m != nil {
			msgJSON = s.messageJSON(m)
		}
	}
	var chJSON map[string]any
	if ch != nil {
		chJSON = s.channelJSON(ch)
	}
	s.mu.Unlock()

	b, err := json.Marshal(i)
	if err != nil {
		return nil, nil, fmt.Errorf("discordtest: marshal interaction: %w", err)
	}
	var payload map[string]any
	if err := json.Unmarshal(b, &payload); err != nil {
		return nil, nil, err
	}
	if msgJSON != nil {
		payload["message"] = msgJSON
	}
	if d, ok := i.Data.(discordgo.ModalSubmitInteractionData); ok {
		// discordgo does not marshal modal components (json:"-")
		comps, err := json.Marshal(d.Components)
		if err != nil {
			return nil, nil, err
		}
		payload["data"] = map[string]any{"custom_id": d.CustomID, "components": json.RawMessage(comps)}
	}
	if chJSON != nil {
		payload["channel"] = chJSON
	}
	for k, v := range payload {
		if v == nil {
			delete(payload, k)
		}
	}
	if i.GuildID != "" {
		payload["context"] = 0
	} else {
		payload["context"] = 1
	}
	payload["app_permissions"] = "2248473465835073"
	payload["entitlements"] = []any{}
	payload["authorizing_integration_owners"] = map[string]any{"0": i.GuildID}
	b, err = json.Marshal(payload)
	if err != nil {
		return nil, nil, err
	}

	s.mu.Lock()
	s.st.interactions[rec.ID] = rec
	s.st.tokens[rec.Token] = rec.ID
	if i.Type != discordgo.InteractionPing && s.tryAdd() {
		id := rec.ID
		rec.timer = time.AfterFunc(s.opts.InteractionDeadline, func() {
			defer s.wg.Done()
			s.checkDeadline(id)
		})
	}
	s.mu.Unlock()
	return rec, b, nil
}

func (s *Server) checkDeadline(id string) {
	s.mu.Lock()
	rec := s.st.interactions[id]
	late := rec != nil && !rec.Acked && !rec.Late
	if late {
		rec.Late = true
	}
	s.mu.Unlock()
	if late {
		s.violate(&Violation{Kind: "interaction", Detail: fmt.Sprintf("interaction %s (type %d) not acknowledged within %v", id, rec.Type, s.opts.InteractionDeadline)})
		s.notify()
	}
}

// Interact delivers an interaction to the bot as an INTERACTION_CREATE
// gateway dispatch. ID, token, application id, guild id (from the channel)
// and locale are filled in; for component interactions set i.Message.ID to
// a message known to the fake and its full JSON is sent. It returns the
// interaction's id and token.
func (s *Server) Interact(i discordgo.Interaction) (id, token string) {
	rec, payload, err := s.prepare(i)
	if err != nil {
		s.violate(&Violation{Kind: "interaction", Detail: err.Error()})
		return "", ""
	}
	if n := s.dispatchRaw("INTERACTION_CREATE", payload); n == 0 {
		s.logf("interaction %s dispatched with no connected gateway session", rec.ID)
	}
	return rec.ID, rec.Token
}

// Interaction returns the state of an interaction sent to the bot.
func (s *Server) Interaction(id string) (InteractionState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.st.interactions[id]
	if !ok {
		return InteractionState{}, false
	}
	st := rec.InteractionState
	st.Responses = slices.Clone(st.Responses)
	return st, true
}

// InteractionResponses returns everything the bot sent for an interaction:
// the callback, edits of the original response and follow-ups, in order.
func (s *Server) InteractionResponses(id string) []Response {
	st, _ := s.Interaction(id)
	return st.Responses
}

// AwaitResponses waits until the interaction has at least n responses.
func (s *Server) AwaitResponses(id string, n int, timeout time.Duration) ([]Response, bool) {
	var out []Response
	ok := s.Await(timeout, func() bool {
		out = s.InteractionResponses(id)
		return len(out) >= n
	})
	return out, ok
}

// ---- builders ----

func (s *Server) memberFor(channelID, userID string) (guildID string, m *discordgo.Member, u *discordgo.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	usr := s.st.users[userID]
	du := &discordgo.User{ID: userID}
	if usr != nil {
		du.Username, du.GlobalName, du.Discriminator = usr.Username, usr.GlobalName, "0"
	}
	ch := s.st.channels[channelID]
	if ch == nil || ch.GuildID == "" {
		return "", nil, du
	}
	dm := &discordgo.Member{GuildID: ch.GuildID, User: du, Permissions: 2248473465835073}
	if mem := s.st.members[ch.GuildID][userID]; mem != nil {
		dm.Roles = slices.Clone(mem.Roles)
		dm.JoinedAt = mem.JoinedAt
		dm.Nick = mem.Nick
	}
	if dm.Roles == nil {
		dm.Roles = []string{}
	}
	return ch.GuildID, dm, nil
}

func (s *Server) base(typ discordgo.InteractionType, channelID, userID string) discordgo.Interaction {
	gid, m, u := s.memberFor(channelID, userID)
	return discordgo.Interaction{Type: typ, ChannelID: channelID, GuildID: gid, Member: m, User: u}
}

// SlashCommand builds a chat-input command interaction invoked by userID in
// channelID. The command id is taken from the registered commands.
func (s *Server) SlashCommand(channelID, userID, name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) discordgo.Interaction {
	i := s.base(discordgo.InteractionApplicationCommand, channelID, userID)
	s.mu.Lock()
	id := s.commandIDLocked(i.GuildID, name)
	s.mu.Unlock()
	i.Data = discordgo.ApplicationCommandInteractionData{ID: id, Name: name, CommandType: discordgo.ChatApplicationCommand, Options: opts}
	return i
}

// Autocomplete builds an autocomplete interaction; mark the option being
// typed with Focused.
func (s *Server) Autocomplete(channelID, userID, name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) discordgo.Interaction {
	i := s.SlashCommand(channelID, userID, name, opts...)
	i.Type = discordgo.InteractionApplicationCommandAutocomplete
	return i
}

// ButtonClick builds a button interaction on a message known to the fake.
func (s *Server) ButtonClick(channelID, messageID, userID, customID string) discordgo.Interaction {
	i := s.base(discordgo.InteractionMessageComponent, channelID, userID)
	i.Message = &discordgo.Message{ID: messageID, ChannelID: channelID}
	i.Data = discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.ButtonComponent}
	return i
}

// SelectMenu builds a string-select interaction on a message.
func (s *Server) SelectMenu(channelID, messageID, userID, customID string, values ...string) discordgo.Interaction {
	i := s.base(discordgo.InteractionMessageComponent, channelID, userID)
	i.Message = &discordgo.Message{ID: messageID, ChannelID: channelID}
	if values == nil {
		values = []string{}
	}
	i.Data = discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.SelectMenuComponent, Values: values}
	return i
}

// ModalSubmit builds a modal submission; fields maps text input custom_id
// to value (one action row per field, in the order given by keys).
func (s *Server) ModalSubmit(channelID, userID, customID string, keys []string, fields map[string]string) discordgo.Interaction {
	i := s.base(discordgo.InteractionModalSubmit, channelID, userID)
	var rows []discordgo.MessageComponent
	for _, k := range keys {
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.TextInput{CustomID: k, Value: fields[k]},
		}})
	}
	i.Data = discordgo.ModalSubmitInteractionData{CustomID: customID, Components: rows}
	return i
}

// Option builds a command option; the type is inferred from value (string,
// int, bool, float64). Use Subcommand for sub-commands.
func Option(name string, value any) *discordgo.ApplicationCommandInteractionDataOption {
	o := &discordgo.ApplicationCommandInteractionDataOption{Name: name, Value: value}
	switch v := value.(type) {
	case string:
		o.Type = discordgo.ApplicationCommandOptionString
	case int:
		o.Type, o.Value = discordgo.ApplicationCommandOptionInteger, float64(v)
	case int64:
		o.Type, o.Value = discordgo.ApplicationCommandOptionInteger, float64(v)
	case bool:
		o.Type = discordgo.ApplicationCommandOptionBoolean
	case float64:
		o.Type = discordgo.ApplicationCommandOptionNumber
	}
	return o
}

// Focused marks an option as the one being autocompleted.
func Focused(o *discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	o.Focused = true
	return o
}

// Subcommand builds a sub-command option holding opts.
func Subcommand(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}
}
