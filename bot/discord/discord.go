// Package discord is Klaxon's Discord adapter: it implements bot.Discord on a
// discordgo session, rendering posts (render.go), pacing every REST call so
// a healthy run never meets a 429 (pacer.go), and pointing discordgo at the
// configured REST base URL (transport.go).
//
// cmd builds the session with NewSession, which amounts to:
//
//	s, _ := discordgo.New("Bot " + token)
//	t, _ := discord.NewTransport(apiBase, http.DefaultTransport)
//	s.Client = &http.Client{Transport: t, Timeout: 20 * time.Second}
//	s.ShouldRetryOnRateLimit = false // a 429 comes back as an error
//	s.MaxRestRetries = 0             // and so does a 502
//	s.Identify.Intents = Guilds | GuildMessages | GuildMessageReactions | DirectMessages
//
// and then wraps it with New. All REST traffic of that session, including
// calls made on it directly (interaction replies), goes through the
// Transport, so the Pacer learns every bucket's state.
package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/metrics"
)

// Discord JSON error codes the adapter tells apart.
const (
	CodeUnknownChannel     = 10003
	CodeUnknownGuild       = 10004
	CodeUnknownMessage     = 10008
	CodeUnknownUser        = 10013
	CodeMissingAccess      = 50001
	CodeCannotDM           = 50007
	CodeMissingPermissions = 50013
	CodeInvalidFormBody    = 50035
	CodeThreadExists       = 160004
)

// ThreadArchiveMinutes is the auto-archive duration of threads Klaxon starts.
const ThreadArchiveMinutes = 1440

// Intents are the gateway intents Klaxon asks for.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
	discordgo.IntentsGuildMessageReactions | discordgo.IntentsDirectMessages

// Options configures a Client.
type Options struct {
	Now        func() time.Time // default time.Now; also the pacer's clock
	Logger     *slog.Logger     // default slog.Default()
	Render     RenderOptions
	GlobalRate int // requests per second over all routes; default DefaultGlobalRate

	// Metrics is where the transport counts requests; nil keeps what it has.
	Metrics *metrics.Metrics
}

// Client is the Discord adapter. It implements bot.Discord and is safe for
// concurrent use.
type Client struct {
	s     *discordgo.Session
	pacer *Pacer
	now   func() time.Time
	log   *slog.Logger
	opt   RenderOptions
}

var _ bot.Discord = (*Client)(nil)

// NewSession returns a discordgo session for the bot token talking to the
// REST base apiBase ("" means DefaultAPIBase) through a Transport, with
// discordgo's own retrying turned off and Klaxon's gateway intents.
func NewSession(token, apiBase string) (*discordgo.Session, error) {
	token = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(token), "Bot "))
	if token == "" {
		return nil, errors.New("discord bot token is empty")
	}
	t, err := NewTransport(apiBase, http.DefaultTransport)
	if err != nil {
		return nil, err
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, err
	}
	s.Client = &http.Client{Transport: t, Timeout: 20 * time.Second}
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.Identify.Intents = Intents
	return s, nil
}

// New wraps s. It turns off discordgo's retrying (ShouldRetryOnRateLimit,
// MaxRestRetries) and makes sure s.Client goes through a Transport that
// reports to this client's pacer; a foreign transport is wrapped, without
// URL rewriting. Use one Client per session.
func New(s *discordgo.Session, opt Options) *Client {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	if s.Client == nil {
		s.Client = &http.Client{Timeout: 20 * time.Second}
	}
	t, ok := s.Client.Transport.(*Transport)
	if !ok {
		next := s.Client.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		t = &Transport{next: next}
		c := *s.Client
		c.Transport = t
		s.Client = &c
	}
	p := NewPacer(PacerOptions{Now: opt.Now, GlobalRate: opt.GlobalRate})
	t.SetPacer(p)
	if opt.Metrics != nil {
		t.SetMetrics(opt.Metrics)
	}
	return &Client{s: s, pacer: p, now: opt.Now, log: opt.Logger, opt: opt.Render}
}

// Auth returns when Discord last accepted and last refused the token.
func (c *Client) Auth() (ok, refused time.Time) {
	if t, isT := c.s.Client.Transport.(*Transport); isT {
		return t.Auth()
	}
	return time.Time{}, time.Time{}
}

// Session returns the wrapped session.
func (c *Client) Session() *discordgo.Session { return c.s }

// Pacer returns the client's pacer.
func (c *Client) Pacer() *Pacer { return c.pacer }

// Publish renders v and creates its message (when v.Post.MessageID is "",
// returning the new id) or edits it (returning the same id).
func (c *Client) Publish(ctx context.Context, v bot.View) (string, error) {
	if v.Now.IsZero() {
		v.Now = c.now()
	}
	op := "create " + string(v.Post.Kind)
	if v.Post.MessageID != "" {
		op = "edit " + string(v.Post.Kind)
	}
	if v.Post.ChannelID == "" {
		return "", &bot.SendError{Op: op, Err: fmt.Errorf("post %d has no channel", v.Post.ID)}
	}
	m, err := Render(v, c.opt)
	if err != nil {
		return "", &bot.SendError{Op: op, Err: err}
	}
	if v.Post.MessageID == "" {
		msg, err := c.send(ctx, op, v.Post.ChannelID, m.Send(), v.Nonce)
		if err != nil {
			return "", err
		}
		return msg.ID, nil
	}
	if _, err := c.edit(ctx, op, m.Edit(v.Post.ChannelID, v.Post.MessageID)); err != nil {
		return v.Post.MessageID, err
	}
	return v.Post.MessageID, nil
}

// StartThread starts a public thread on a message and returns its id. If
// the message already has a thread, that thread (whose id is the
// message's) is returned.
func (c *Client) StartThread(ctx context.Context, channelID, messageID, name string) (string, error) {
	const op = "start thread"
	name = threadName(name)
	if name == "" {
		name = "Klaxon"
	}
	path := discordgo.EndpointChannelMessageThread(channelID, messageID)
	var ch *discordgo.Channel
	err := c.do(ctx, op, http.MethodPost, path, target{channel: channelID, message: messageID}, func(o discordgo.RequestOption) (err error) {
		ch, err = c.s.MessageThreadStartComplex(channelID, messageID, &discordgo.ThreadStart{
			Name: name, AutoArchiveDuration: ThreadArchiveMinutes,
		}, o)
		return err
	})
	if err != nil {
		if se := bot.AsSendError(err); se.Code == CodeThreadExists {
			return messageID, nil
		}
		return "", err
	}
	return ch.ID, nil
}

// Send creates a message in channelID, paced, with errors mapped to
// *bot.SendError like Publish.
func (c *Client) Send(ctx context.Context, channelID string, m *discordgo.MessageSend) (*discordgo.Message, error) {
	return c.send(ctx, "create message", channelID, m, "")
}

// SendNonce is Send with a nonce and enforce_nonce: when the same nonce was
// used in the last few minutes, Discord answers with the message it created
// then instead of creating a second one. "" sends no nonce.
func (c *Client) SendNonce(ctx context.Context, channelID string, m *discordgo.MessageSend, nonce string) (*discordgo.Message, error) {
	return c.send(ctx, "create message", channelID, m, nonce)
}

// Edit edits message m.ID in m.Channel, paced, with errors mapped to
// *bot.SendError like Publish.
func (c *Client) Edit(ctx context.Context, m *discordgo.MessageEdit) (*discordgo.Message, error) {
	return c.edit(ctx, "edit message", m)
}

func (c *Client) send(ctx context.Context, op, channelID string, m *discordgo.MessageSend, nonce string) (*discordgo.Message, error) {
	var msg *discordgo.Message
	err := c.do(ctx, op, http.MethodPost, discordgo.EndpointChannelMessages(channelID), target{channel: channelID}, func(o discordgo.RequestOption) (err error) {
		if nonce == "" {
			msg, err = c.s.ChannelMessageSendComplex(channelID, m, o)
			return err
		}
		msg, err = sendWithNonce(c.s, channelID, m, nonce, o)
		return err
	})
	return msg, err
}

// MaxNonce is the longest string nonce Discord accepts.
const MaxNonce = 25

// nonceSend is a message-create body with Discord's nonce fields, which
// discordgo's MessageSend lacks.
type nonceSend struct {
	*discordgo.MessageSend
	Nonce        string `json:"nonce"`
	EnforceNonce bool   `json:"enforce_nonce"`
}

// sendWithNonce creates a message like ChannelMessageSendComplex, with
// nonce and enforce_nonce in the body (JSON, or payload_json beside files).
func sendWithNonce(s *discordgo.Session, channelID string, m *discordgo.MessageSend, nonce string, o discordgo.RequestOption) (*discordgo.Message, error) {
	if len(nonce) > MaxNonce {
		return nil, fmt.Errorf("nonce %q is longer than %d characters", nonce, MaxNonce)
	}
	for _, e := range m.Embeds {
		if e.Type == "" {
			e.Type = discordgo.EmbedTypeRich
		}
	}
	body := nonceSend{MessageSend: m, Nonce: nonce, EnforceNonce: true}
	endpoint := discordgo.EndpointChannelMessages(channelID)
	var resp []byte
	var err error
	if len(m.Files) > 0 {
		contentType, b, encErr := discordgo.MultipartBodyWithJSON(body, m.Files)
		if encErr != nil {
			return nil, encErr
		}
		resp, err = s.RequestRaw(http.MethodPost, endpoint, contentType, b, endpoint, 0, o)
	} else {
		resp, err = s.RequestWithBucketID(http.MethodPost, endpoint, body, endpoint, o)
	}
	if err != nil {
		return nil, err
	}
	var msg discordgo.Message
	if err := json.Unmarshal(resp, &msg); err != nil {
		return nil, fmt.Errorf("decode created message: %w", err)
	}
	return &msg, nil
}

func (c *Client) edit(ctx context.Context, op string, m *discordgo.MessageEdit) (*discordgo.Message, error) {
	var msg *discordgo.Message
	err := c.do(ctx, op, http.MethodPatch, discordgo.EndpointChannelMessage(m.Channel, m.ID), target{channel: m.Channel, message: m.ID}, func(o discordgo.RequestOption) (err error) {
		msg, err = c.s.ChannelMessageEditComplex(m, o)
		return err
	})
	return msg, err
}

// CheckAccess reads the channel, reporting clearly when Klaxon cannot see
// it or it is not a channel messages can be posted in. It does not prove
// that Klaxon may post there: Discord checks that only when posting.
func (c *Client) CheckAccess(ctx context.Context, channelID string) error {
	const op = "check channel"
	if !isSnowflake(channelID) {
		return &bot.SendError{Op: op, Err: fmt.Errorf("channel id %q is not a Discord id (digits only)", channelID)}
	}
	var ch *discordgo.Channel
	err := c.do(ctx, op, http.MethodGet, discordgo.EndpointChannel(channelID), target{channel: channelID}, func(o discordgo.RequestOption) (err error) {
		ch, err = c.s.Channel(channelID, o)
		return err
	})
	if err != nil {
		return err
	}
	switch ch.Type {
	case discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews,
		discordgo.ChannelTypeGuildPublicThread, discordgo.ChannelTypeGuildPrivateThread, discordgo.ChannelTypeGuildNewsThread:
		return nil
	}
	return &bot.SendError{Op: op, Err: fmt.Errorf("channel %s (%q) is not a text channel (type %d): choose a text or announcement channel", channelID, ch.Name, ch.Type)}
}

// target is what a request is about, for error messages.
type target struct{ channel, message, user string }

// errPaced is the cause of a paced SendError.
var errPaced = errors.New("rate limit bucket empty; not sent")

// do runs one paced REST call: it asks the pacer first and returns a Paced
// SendError without sending when a bucket is empty.
func (c *Client) do(ctx context.Context, op, method, path string, t target, call func(discordgo.RequestOption) error) error {
	if err := ctx.Err(); err != nil {
		return &bot.SendError{Op: op, Temporary: true, Err: err}
	}
	now := c.now()
	if wait, global := c.pacer.Take(method, path, now); wait > 0 {
		return &bot.SendError{Op: op, Paced: true, Global: global, RetryAfter: wait, Err: errPaced}
	}
	r := &reservation{}
	err := call(discordgo.WithContext(withReservation(ctx, r)))
	if !r.sent.Load() {
		c.pacer.Cancel(method, path, now)
	}
	if err == nil {
		return nil
	}
	se := c.mapError(op, t, err)
	switch {
	case se.Status == http.StatusTooManyRequests:
		c.log.Warn("discord rate limited a request the pacer let through", "op", op, "channel", t.channel, "retry_after", se.RetryAfter, "global", se.Global)
	case !se.Temporary:
		c.log.Debug("discord refused a request", "op", op, "channel", t.channel, "status", se.Status, "code", se.Code, "err", se.Err)
	}
	return se
}

// mapError turns a discordgo error into a *bot.SendError saying whether to
// retry and, for refusals, what to fix.
func (c *Client) mapError(op string, t target, err error) *bot.SendError {
	err = Dialled(c.s, err)
	var rl *discordgo.RateLimitError
	var rest *discordgo.RESTError
	switch {
	case errors.As(err, &rl):
		se := &bot.SendError{Op: op, Status: http.StatusTooManyRequests, Temporary: true, Err: err}
		if rl.RateLimit != nil && rl.TooManyRequests != nil {
			se.RetryAfter = rl.RetryAfter
		}
		if gw := c.pacer.GlobalPause(c.now()); gw > 0 {
			se.Global = true
			se.RetryAfter = max(se.RetryAfter, gw)
		}
		if se.RetryAfter <= 0 {
			se.RetryAfter = time.Second
		}
		return se
	case errors.As(err, &rest) && rest.Response != nil:
		status := rest.Response.StatusCode
		code, msg := 0, ""
		if rest.Message != nil {
			code, msg = rest.Message.Code, rest.Message.Message
		}
		se := &bot.SendError{Op: op, Status: status, Code: code}
		switch {
		case status >= 500 || status == http.StatusRequestTimeout:
			se.Temporary = true
			se.Err = err
		case status == http.StatusTooManyRequests: // 429 whose body discordgo could not read
			se.Temporary = true
			se.RetryAfter = time.Second
			if ra, ok := seconds(rest.Response.Header.Get("Retry-After")); ok {
				se.RetryAfter = ra
			}
			se.Err = err
		default:
			se.Err = explain(status, code, msg, t, err)
			switch code {
			case CodeUnknownChannel, CodeUnknownMessage, CodeUnknownGuild, CodeUnknownUser:
				se.Gone = true
			case CodeCannotDM:
				se.DMsClosed = true
			}
			se.MessageGone = code == CodeUnknownMessage
		}
		return se
	}
	// Transport errors, timeouts, a 502 discordgo did not retry, bodies it
	// could not decode: none of them say the request is wrong.
	se := &bot.SendError{Op: op, Temporary: true, Err: err}
	if s, ok := strings.CutPrefix(err.Error(), "Exceeded Max retries HTTP "); ok {
		if n, err := strconv.Atoi(strings.Fields(s + " ")[0]); err == nil {
			se.Status = n
		}
	}
	return se
}

// explain words a 4xx refusal as what to fix.
func explain(status, code int, msg string, t target, err error) error {
	const perms = "give the bot View Channel, Send Messages, Embed Links, Read Message History, Create Public Threads and Send Messages in Threads there (channel settings → Permissions)"
	ch := t.channel
	var text string
	switch {
	case status == http.StatusUnauthorized:
		text = "Discord rejected the bot token: check KLAXON_DISCORD_TOKEN (Developer Portal → your application → Bot → Reset Token)"
	case code == CodeMissingAccess:
		text = fmt.Sprintf("Klaxon lacks access to channel %s: invite the bot to the server and %s", ch, perms)
	case code == CodeMissingPermissions:
		text = fmt.Sprintf("Klaxon lacks permissions in channel %s: %s", ch, perms)
	case code == CodeUnknownUser:
		text = fmt.Sprintf("Discord does not know user %s: check the user id in the configuration (Developer Mode → right-click the user → Copy User ID)", orNone(t.user))
	case code == CodeUnknownGuild:
		text = "Discord does not know the server (guild), or the bot is not in it: check discord.guild_id and invite the bot"
	case code == CodeUnknownChannel:
		text = fmt.Sprintf("channel %s does not exist or Klaxon is not in its server: check the channel id in the configuration (Developer Mode → right-click the channel → Copy Channel ID)", ch)
	case code == CodeUnknownMessage:
		text = fmt.Sprintf("message %s in channel %s no longer exists (deleted?)", t.message, ch)
	case code == CodeCannotDM:
		text = "Discord does not let Klaxon send this user direct messages (they share no server with the bot or have DMs from server members turned off)"
	case code == CodeThreadExists:
		text = fmt.Sprintf("message %s in channel %s already has a thread", t.message, ch)
	case code == CodeInvalidFormBody || status == http.StatusBadRequest:
		text = "Discord rejected the request as invalid (a Klaxon bug; please report it with this message)"
	case status == http.StatusForbidden:
		text = fmt.Sprintf("Discord forbids this in channel %s: %s", ch, perms)
	case status == http.StatusNotFound:
		text = "Discord does not know " + unknownTarget(t)
	default:
		text = "Discord refused the request"
	}
	if msg != "" {
		text += " (Discord: " + msg + ")"
	}
	return &refusal{text: text, err: err}
}

// unknownTarget names what a 404 was about: the most specific id known.
func unknownTarget(t target) string {
	switch {
	case t.message != "" && t.channel != "":
		return fmt.Sprintf("message %s in channel %s (deleted, or the id is wrong)", t.message, t.channel)
	case t.channel != "":
		return fmt.Sprintf("channel %s (deleted, or Klaxon is not in its server)", t.channel)
	case t.user != "":
		return fmt.Sprintf("user %s (check the user id)", t.user)
	}
	return "what this request named"
}

func orNone(id string) string {
	if id == "" {
		return "(no id)"
	}
	return id
}

// refusal is a permanent Discord error with advice; it unwraps to the
// *discordgo.RESTError.
type refusal struct {
	text string
	err  error
}

func (r *refusal) Error() string { return r.text }
func (r *refusal) Unwrap() error { return r.err }

// IsUnknownMessage reports whether err says the message no longer exists
// (Discord code 10008), e.g. someone deleted a card Klaxon edits.
func IsUnknownMessage(err error) bool {
	var se *bot.SendError
	if errors.As(err, &se) && (se.MessageGone || se.Code == CodeUnknownMessage) {
		return true
	}
	var rest *discordgo.RESTError
	return errors.As(err, &rest) && rest.Message != nil && rest.Message.Code == CodeUnknownMessage
}

// IsMissingAccess reports whether err says Klaxon may not see or post in the
// channel (codes 50001, 50013, 10003, or HTTP 403).
func IsMissingAccess(err error) bool {
	var se *bot.SendError
	if !errors.As(err, &se) || se.Temporary || se.Paced {
		return false
	}
	switch se.Code {
	case CodeMissingAccess, CodeMissingPermissions, CodeUnknownChannel:
		return true
	}
	return se.Status == http.StatusForbidden
}

// FindThread returns the id of an active thread named name in channel
// parentID (a forum post, or a thread in a text channel), or "" when there
// is none. Creates that take no nonce look first, so that one whose answer
// was lost is not made twice.
func (c *Client) FindThread(ctx context.Context, parentID, name string) (string, error) {
	const op = "find thread"
	var ch *discordgo.Channel
	err := c.do(ctx, op, http.MethodGet, discordgo.EndpointChannel(parentID), target{channel: parentID}, func(o discordgo.RequestOption) (err error) {
		ch, err = c.s.Channel(parentID, o)
		return err
	})
	if err != nil {
		return "", err
	}
	if ch.GuildID == "" {
		return "", nil
	}
	var list *discordgo.ThreadsList
	err = c.do(ctx, op, http.MethodGet, discordgo.EndpointGuildActiveThreads(ch.GuildID), target{channel: parentID}, func(o discordgo.RequestOption) (err error) {
		list, err = c.s.GuildThreadsActive(ch.GuildID, o)
		return err
	})
	if err != nil {
		return "", err
	}
	for _, th := range list.Threads {
		if th.ParentID == parentID && th.Name == name {
			return th.ID, nil
		}
	}
	return "", nil
}

// MemberRoles returns a function that looks a user up in a guild: their
// role ids, or a bot.ENotFound error when they are not a member. The
// authorization gate uses it for interactions from DMs.
func MemberRoles(s *discordgo.Session) func(ctx context.Context, guildID, userID string) ([]string, error) {
	return func(ctx context.Context, guildID, userID string) ([]string, error) {
		m, err := s.GuildMember(guildID, userID, discordgo.WithContext(ctx))
		if err != nil {
			var re *discordgo.RESTError
			if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusNotFound {
				return nil, bot.Errorf(bot.ENotFound, "user %s is not a member of guild %s", userID, guildID)
			}
			return nil, fmt.Errorf("get guild member: %w", err)
		}
		return m.Roles, nil
	}
}
