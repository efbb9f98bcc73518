package handlers

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"

	"github.com/marola-rp/klaxon/bot/text"
)

// Request is one interaction as a handler sees it.
type Request struct {
	*discordgo.Interaction
	// User is who acted (the member's user in a guild, the user in a DM).
	User *discordgo.User
	// RoleIDs are the acting member's roles ("" outside a guild).
	RoleIDs []string
	// Args are the command's options by name, flattened through subcommands.
	Args map[string]*discordgo.ApplicationCommandInteractionDataOption
	// Path is the command with its subcommand group and subcommand, e.g. "oncall override".
	Path string
	// CustomID is the component's or modal's custom_id; ID is what follows
	// the first ':' (e.g. "42" in "ack:42").
	CustomID, ID string
	// Focused is the option being typed, for autocomplete.
	Focused *discordgo.ApplicationCommandInteractionDataOption
	// Via is how the action reached Klaxon: "command", "button", "modal".
	Via string
}

// String returns the string option name, or "".
func (r *Request) String(name string) string {
	if o, ok := r.Args[name]; ok && o.Value != nil {
		if s, ok := o.Value.(string); ok {
			return s
		}
		return fmt.Sprint(o.Value)
	}
	return ""
}

// Int returns the integer option name and whether it was given.
func (r *Request) Int(name string) (int64, bool) {
	o, ok := r.Args[name]
	if !ok || o.Value == nil {
		return 0, false
	}
	switch v := o.Value.(type) {
	case float64:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Actor returns who acted, for the record.
func (r *Request) Actor() bot.Actor {
	a := bot.Actor{Via: r.Via}
	if r.User != nil {
		a.UserID, a.Name = r.User.ID, r.User.Username
		if r.User.GlobalName != "" {
			a.Name = r.User.GlobalName
		}
	}
	return a
}

// Reply is what a handler answers.
type Reply struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
	Files      []*discordgo.File
	// Ephemeral replies are seen only by the person who acted.
	Ephemeral bool
	// Update edits the message the component is on instead of replying.
	Update bool
	// Modal opens a modal (must be answered at once, never deferred).
	Modal *discordgo.InteractionResponseData
	// Choices answer an autocomplete.
	Choices []*discordgo.ApplicationCommandOptionChoice
}

// Handler handles one kind of interaction.
type Handler func(ctx context.Context, r *Request) (*Reply, error)

// Interactions routes Discord interactions from both transports (gateway
// events and the HTTP endpoint) to handlers, and answers within Discord's
// 3 seconds whatever the handlers are doing: a handler that is not done by
// Deadline gets a deferred answer, edited when it finishes.
type Interactions struct {
	Session   *discordgo.Session // for deferred edits and gateway replies
	PublicKey ed25519.PublicKey  // for the HTTP endpoint
	Now       func() time.Time
	Log       *slog.Logger
	// Deadline before a deferred answer is sent; default 2s.
	Deadline time.Duration
	// MaxSkew is the replay window for HTTP interaction timestamps; default 5m.
	MaxSkew time.Duration
	// Seen remembers HTTP interaction ids so that a second delivery of one
	// is refused (409); nil remembers them in memory only. ReplayKeep is how
	// long ids are kept (default DefaultReplayKeep, never less than the
	// timestamp window).
	Seen       InteractionLedger
	ReplayKeep time.Duration
	replayMu   sync.Mutex
	// Gate authorizes every interaction before its handler runs; nil
	// refuses everything but public actions.
	Gate *Gate

	mu           sync.RWMutex
	commands     map[string]route // by command path, e.g. "ack", "oncall override"
	components   map[string]route // by custom_id prefix before ':'
	modals       map[string]route
	autocomplete map[string]route // by command path
	features     []Feature        // what the routes answer (Declare)
	wg           sync.WaitGroup
}

type route struct {
	h         Handler
	ephemeral bool   // how a deferred answer starts out
	action    Action // what the gate checks
	dm        bool   // may be used from a DM by a member of the guild
	// priority finds the priority of the route's target, for the
	// permissions section; false when there is none (the handler then
	// answers what is wrong with the request).
	priority func(ctx context.Context, r *Request) (bot.Priority, bool)
}

// TargetPriority tells the gate how to find the priority of what a route
// acts on, so that the per-priority permissions apply.
func TargetPriority(f func(ctx context.Context, r *Request) (bot.Priority, bool)) RouteOption {
	return func(rt *route) { rt.priority = f }
}

// RouteOption tunes a route at registration.
type RouteOption func(*route)

// AllowDM lets a component be used from a DM by a member of the configured
// guild (e.g. a button on a page sent by DM); their roles are looked up in
// the guild. Without it, interactions from DMs are refused.
func AllowDM(r *route) { r.dm = true }

func (x *Interactions) init() {
	if x.commands == nil {
		x.commands, x.components, x.modals, x.autocomplete = map[string]route{}, map[string]route{}, map[string]route{}, map[string]route{}
	}
}

// add registers a route; a route must declare a known action.
func (x *Interactions) add(m func() map[string]route, key string, rt route, opts []RouteOption) {
	if _, ok := actionTable[rt.action]; !ok {
		panic(fmt.Sprintf("handlers: route %q declares action %q, which is not one of %v", key, rt.action, Actions()))
	}
	for _, o := range opts {
		o(&rt)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.init()
	m()[key] = rt
}

// Command registers a slash or message command by path ("incident declare")
// and the action it performs.
func (x *Interactions) Command(path string, action Action, ephemeral bool, h Handler, opts ...RouteOption) {
	x.add(func() map[string]route { return x.commands }, path, route{h: h, ephemeral: ephemeral, action: action}, opts)
}

// Component registers a button or select by custom_id prefix ("ack" for
// "ack:42") and the action it performs.
func (x *Interactions) Component(prefix string, action Action, h Handler, opts ...RouteOption) {
	x.add(func() map[string]route { return x.components }, prefix, route{h: h, ephemeral: true, action: action}, opts)
}

// Modal registers a modal submit by custom_id prefix and the action it performs.
func (x *Interactions) Modal(prefix string, action Action, ephemeral bool, h Handler, opts ...RouteOption) {
	x.add(func() map[string]route { return x.modals }, prefix, route{h: h, ephemeral: ephemeral, action: action}, opts)
}

// Autocomplete registers autocomplete for a command path, with the action
// that may see its choices.
func (x *Interactions) Autocomplete(path string, action Action, h Handler) {
	x.add(func() map[string]route { return x.autocomplete }, path, route{h: h, action: action}, nil)
}

// RouteInfo describes a registered route.
type RouteInfo struct {
	Type   string // "command", "component", "modal", "autocomplete"
	Key    string // command path or custom_id prefix
	Action Action
	DM     bool
}

// Routes lists every registered route, sorted by type and key.
func (x *Interactions) Routes() []RouteInfo {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []RouteInfo
	for typ, m := range map[string]map[string]route{"command": x.commands, "component": x.components, "modal": x.modals, "autocomplete": x.autocomplete} {
		for k, rt := range m {
			out = append(out, RouteInfo{Type: typ, Key: k, Action: rt.action, DM: rt.dm})
		}
	}
	slices.SortFunc(out, func(a, b RouteInfo) int { return strings.Compare(a.Type+" "+a.Key, b.Type+" "+b.Key) })
	return out
}

// Wait waits for deferred handlers to finish (for shutdown).
func (x *Interactions) Wait() { x.wg.Wait() }

// withoutToken is err's text without the interaction token: discordgo's
// transport errors quote the request URL (/interactions/{id}/{token}/callback,
// /webhooks/{app}/{token}), and the token lets anyone answer for the bot.
func withoutToken(err error, token string) string {
	if token == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), token, "<interaction token>")
}

// OnGateway is a discordgo handler for INTERACTION_CREATE events.
func (x *Interactions) OnGateway(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	resp, answered := x.dispatch(context.Background(), ic.Interaction)
	defer answered()
	if resp == nil {
		return
	}
	if err := s.InteractionRespond(ic.Interaction, resp); err != nil {
		x.log().Error("answer interaction", "interaction", ic.ID, "err", withoutToken(err, ic.Token))
	}
}

// ServeHTTP is the HTTP interactions endpoint (POST /interactions):
// Ed25519-verified with a replay window; PING answers PONG. An interaction
// id delivered a second time is refused with 409 Conflict (see Seen).
func (x *Interactions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err := x.verify(r.Header, body); err != nil {
		x.log().Warn("rejected interaction", "err", err)
		http.Error(w, "invalid request signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "malformed interaction: "+err.Error(), http.StatusBadRequest)
		return
	}
	if i.Type != discordgo.InteractionPing {
		if i.ID == "" {
			http.Error(w, "malformed interaction: no id", http.StatusBadRequest)
			return
		}
		first, err := x.firstDelivery(r.Context(), i.ID)
		if err != nil {
			x.log().Error("interaction not handled: cannot record its id", "interaction", i.ID, "err", err)
			http.Error(w, "cannot record the interaction; try again", http.StatusServiceUnavailable)
			return
		}
		if !first {
			// Correctly signed and within the timestamp window, but handled
			// already: a replay of a captured request. Refused, not acted on.
			x.log().Warn("rejected interaction: delivered before (replay)", "interaction", i.ID)
			http.Error(w, "interaction "+i.ID+" was already handled: replays are refused", http.StatusConflict)
			return
		}
	}
	var resp *discordgo.InteractionResponse
	if i.Type == discordgo.InteractionPing {
		resp = &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong}
	} else {
		var answered func()
		resp, answered = x.dispatch(r.Context(), &i)
		defer answered()
		defer flush(w) // the answer is on the wire before a deferred edit may follow
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (x *Interactions) verify(h http.Header, body []byte) error {
	if len(x.PublicKey) != ed25519.PublicKeySize {
		return errors.New("no public key configured")
	}
	sig, err := hex.DecodeString(h.Get("X-Signature-Ed25519"))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errors.New("missing or malformed X-Signature-Ed25519")
	}
	ts := h.Get("X-Signature-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or malformed X-Signature-Timestamp")
	}
	if !ed25519.Verify(x.PublicKey, append([]byte(ts), body...), sig) {
		return errors.New("signature does not match")
	}
	skew := x.MaxSkew
	if skew <= 0 {
		skew = 5 * time.Minute
	}
	if d := x.now().Sub(time.Unix(sec, 0)); d > skew || d < -skew {
		return fmt.Errorf("timestamp is %s away from now: replayed or clock skew", d.Round(time.Second))
	}
	return nil
}

func (x *Interactions) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

func (x *Interactions) log() *slog.Logger { return bot.OrDiscard(x.Log) }

// Dispatch runs the handler for i and returns the first answer to send.
// When the handler takes longer than Deadline, the answer is a deferral and
// the handler's reply is sent later as an edit of the original response.
func (x *Interactions) Dispatch(ctx context.Context, i *discordgo.Interaction) *discordgo.InteractionResponse {
	resp, answered := x.dispatch(ctx, i)
	answered()
	return resp
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// dispatch is Dispatch for a transport that sends the first answer itself:
// it calls answered once Discord has it, and only then may a deferred
// handler's edit or follow-up go out (Discord refuses them before).
func (x *Interactions) dispatch(ctx context.Context, i *discordgo.Interaction) (*discordgo.InteractionResponse, func()) {
	sent := make(chan struct{})
	var once sync.Once
	answered := func() { once.Do(func() { close(sent) }) }
	return x.dispatchAfter(ctx, i, sent), answered
}

func (x *Interactions) dispatchAfter(ctx context.Context, i *discordgo.Interaction, sent <-chan struct{}) *discordgo.InteractionResponse {
	req, rt, auto, err := x.route(i)
	if err != nil && i.Type == discordgo.InteractionApplicationCommandAutocomplete {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{}}}
	}
	if err != nil {
		return respond(i, &Reply{Content: bot.ErrorMessage(err), Ephemeral: true})
	}
	log := x.log().With("interaction", i.ID, "kind", i.Type.String(), "path", req.Path+req.CustomID)
	if err := x.authorize(ctx, req, rt); err != nil {
		log.Info("interaction refused", "action", string(rt.action), "user", req.Actor().UserID, "guild", i.GuildID, "why", bot.PlainRefs(bot.ErrorMessage(err)))
		if auto != nil { // an autocomplete can only answer choices: none
			return &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
				Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{}}}
		}
		return respond(i, &Reply{Content: "🚫 " + bot.ErrorMessage(err), Ephemeral: true})
	}
	if auto != nil {
		rep, err := x.safe(ctx, auto, req)
		if err != nil || rep == nil {
			rep = &Reply{}
		}
		return &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: limitChoices(rep.Choices)}}
	}
	deadline := x.Deadline
	if deadline <= 0 {
		deadline = 2 * time.Second
	}
	// The handler outlives the request: it gets a context of its own, bounded
	// by the 15 minutes Discord allows for follow-ups.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 14*time.Minute)
	done := make(chan *Reply, 1)
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		defer cancel()
		rep, err := x.safe(hctx, rt.h, req)
		if err != nil {
			if bot.ErrorCode(err) == bot.EInternal {
				log.Error("interaction failed", "err", err)
			}
			rep = &Reply{Content: "⚠️ " + bot.ErrorMessage(err), Ephemeral: true}
		}
		done <- rep
	}()
	t := time.NewTimer(deadline)
	defer t.Stop()
	select {
	case rep := <-done:
		return respond(i, rep)
	case <-t.C:
	}
	// Too slow: defer now, edit the original response when the handler ends.
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		rep := <-done
		markupReply(rep)
		if x.Session == nil {
			return
		}
		select { // the deferral must reach Discord first
		case <-sent:
		case <-time.After(10 * time.Second):
		}
		noPing := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
		if i.Type == discordgo.InteractionMessageComponent && !rep.Update {
			// A deferred component update would overwrite the card: answer in a follow-up.
			var flags discordgo.MessageFlags
			if rep.Ephemeral {
				flags = discordgo.MessageFlagsEphemeral
			}
			if _, err := x.Session.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: truncateRunes(rep.Content, 2000),
				Embeds: rep.Embeds, Components: rep.Components, Files: rep.Files, Flags: flags, AllowedMentions: noPing}); err != nil {
				log.Error("send deferred interaction follow-up", "err", withoutToken(err, i.Token))
			}
			return
		}
		edit := &discordgo.WebhookEdit{Content: &rep.Content, Embeds: &rep.Embeds, Components: &rep.Components, Files: rep.Files,
			AllowedMentions: noPing}
		if _, err := x.Session.InteractionResponseEdit(i, edit); err != nil {
			log.Error("edit deferred interaction answer", "err", withoutToken(err, i.Token))
		}
	}()
	if i.Type == discordgo.InteractionMessageComponent {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	}
	var flags discordgo.MessageFlags
	if rt.ephemeral {
		flags = discordgo.MessageFlagsEphemeral
	}
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags}}
}

func (x *Interactions) safe(ctx context.Context, h Handler, r *Request) (rep *Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, r)
}

func (x *Interactions) route(i *discordgo.Interaction) (*Request, route, Handler, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	req := &Request{Interaction: i, Args: map[string]*discordgo.ApplicationCommandInteractionDataOption{}}
	if i.Member != nil {
		req.User, req.RoleIDs = i.Member.User, i.Member.Roles
	} else {
		req.User = i.User
	}
	unknown := bot.Errorf(bot.ENotFound, "Klaxon does not know this action; it may be from an older version. Try /alerts.")
	switch i.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		d := i.ApplicationCommandData()
		parts := []string{d.Name}
		opts := d.Options
		for len(opts) == 1 && (opts[0].Type == discordgo.ApplicationCommandOptionSubCommand || opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup) {
			parts = append(parts, opts[0].Name)
			opts = opts[0].Options
		}
		req.Path = strings.Join(parts, " ")
		for _, o := range opts {
			req.Args[o.Name] = o
			if o.Focused {
				req.Focused = o
			}
		}
		req.Via = "command"
		if i.Type == discordgo.InteractionApplicationCommandAutocomplete {
			if rt, ok := x.autocomplete[req.Path]; ok {
				return req, rt, rt.h, nil
			}
			return req, route{}, nil, unknown
		}
		if rt, ok := x.commands[req.Path]; ok {
			return req, rt, nil, nil
		}
		return req, route{}, nil, unknown
	case discordgo.InteractionMessageComponent:
		d := i.MessageComponentData()
		req.CustomID, req.Via = d.CustomID, "button"
		prefix, id, _ := strings.Cut(d.CustomID, ":")
		req.ID = id
		if rt, ok := x.components[prefix]; ok {
			return req, rt, nil, nil
		}
		return req, route{}, nil, unknown
	case discordgo.InteractionModalSubmit:
		d := i.ModalSubmitData()
		req.CustomID, req.Via = d.CustomID, "modal"
		prefix, id, _ := strings.Cut(d.CustomID, ":")
		req.ID = id
		if rt, ok := x.modals[prefix]; ok {
			return req, rt, nil, nil
		}
		return req, route{}, nil, unknown
	}
	return req, route{}, nil, unknown
}

// authorize runs the gate for a routed request; for a DM it replaces the
// request's roles with the member's roles in the guild.
func (x *Interactions) authorize(ctx context.Context, req *Request, rt route) error {
	o := Origin{GuildID: req.GuildID, UserID: req.Actor().UserID, Roles: req.RoleIDs}
	if req.Member == nil && req.GuildID != "" {
		o.Roles = nil // a guild interaction without a member is not one Discord sends
	}
	roles, err := x.Gate.Check(ctx, o, rt.action, rt.dm)
	if err != nil {
		return err
	}
	req.RoleIDs = roles
	if rt.priority != nil {
		if p, ok := rt.priority(ctx, req); ok {
			return x.Gate.CheckPriority(rt.action, p, roles)
		}
	}
	return nil
}

// ModalValues returns a modal submission's text inputs by custom_id.
func ModalValues(i *discordgo.Interaction) map[string]string {
	out := map[string]string{}
	var walk func(cs []discordgo.MessageComponent)
	walk = func(cs []discordgo.MessageComponent) {
		for _, c := range cs {
			switch v := c.(type) {
			case *discordgo.ActionsRow:
				walk(v.Components)
			case *discordgo.TextInput:
				out[v.CustomID] = v.Value
			}
		}
	}
	walk(i.ModalSubmitData().Components)
	return out
}

func limitChoices(cs []*discordgo.ApplicationCommandOptionChoice) []*discordgo.ApplicationCommandOptionChoice {
	if cs == nil {
		return []*discordgo.ApplicationCommandOptionChoice{}
	}
	if len(cs) > 25 {
		cs = cs[:25]
	}
	for _, c := range cs {
		c.Name = truncateRunes(c.Name, 100)
	}
	return cs
}

func truncateRunes(s string, n int) string { return text.Truncate(s, n) }

// respond turns a reply into the immediate interaction response.
func respond(i *discordgo.Interaction, rep *Reply) *discordgo.InteractionResponse {
	if rep == nil {
		rep = &Reply{Content: "Done.", Ephemeral: true}
	}
	markupReply(rep)
	if rep.Modal != nil {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: rep.Modal}
	}
	data := &discordgo.InteractionResponseData{
		Content: truncateRunes(rep.Content, 2000), Embeds: rep.Embeds, Components: rep.Components, Files: rep.Files,
		// Replies never ping: what a handler echoes may contain user text.
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	}
	if rep.Ephemeral {
		data.Flags = discordgo.MessageFlagsEphemeral
	}
	typ := discordgo.InteractionResponseChannelMessageWithSource
	if rep.Update && i.Type == discordgo.InteractionMessageComponent {
		typ = discordgo.InteractionResponseUpdateMessage
	}
	return &discordgo.InteractionResponse{Type: typ, Data: data}
}
