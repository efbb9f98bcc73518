package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/handlers"
)

// gateWorld is a running Klaxon with the people of the permission matrix.
type gateWorld struct {
	*world
	priv                               ed25519.PrivateKey
	leads                              string // role: access.incident and access.admin
	player, responder, lead, stranger  string // users
	otherGuild, otherChannel, dmMember string
	dmStranger                         string
	msgs                               map[string]string // channel → a message to click buttons on
}

func newGateWorld(t *testing.T) *gateWorld {
	t.Helper()
	gw := &gateWorld{msgs: map[string]string{}}
	pub, priv, _ := ed25519.GenerateKey(nil)
	gw.priv = priv
	gw.world = newWorldWith(t, worldOptions{Setup: func(w *world) {
		d := w.discord
		gw.leads = d.AddRole(w.guild, "leads")
		gw.player, gw.responder, gw.lead, gw.stranger = d.AddUser("player"), d.AddUser("responder"), d.AddUser("lead"), d.AddUser("stranger")
		d.AddMember(w.guild, gw.player)
		d.AddMember(w.guild, gw.responder, w.staff)
		d.AddMember(w.guild, gw.lead, gw.leads)
		gw.otherGuild = d.AddGuild("Another server")
		gw.otherChannel = d.AddChannel(gw.otherGuild, "general", discordgo.ChannelTypeGuildText)
		otherAdmin := d.AddRole(gw.otherGuild, "admin")
		d.AddMember(gw.otherGuild, gw.responder, otherAdmin) // staff here, someone else there
		w.opts.Config = fmt.Sprintf(`
interactions:
  public_key: %s
access:
  staff_roles: [%q]
  incident: [%q]
  admin: [%q]
reminders:
  time_zone: UTC
`, hex.EncodeToString(pub), w.staff, gw.leads, gw.leads)
	}})
	ctx := context.Background()
	if _, err := discord.RegisterCommands(ctx, gw.main.Session, gw.discord.ApplicationID(), gw.guild, handlers.Commands()); err != nil {
		t.Fatal(err)
	}
	// Messages to click on, in the guild, in the other guild, and in DMs.
	bot, err := gw.discord.NewSession("Bot " + discordToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{gw.responder, gw.stranger} {
		ch, err := bot.UserChannelCreate(u)
		if err != nil {
			t.Fatal(err)
		}
		if u == gw.responder {
			gw.dmMember = ch.ID
		} else {
			gw.dmStranger = ch.ID
		}
	}
	for _, ch := range []string{gw.channels[3], gw.otherChannel, gw.dmMember, gw.dmStranger} {
		m, err := bot.ChannelMessageSend(ch, "a message with buttons")
		if err != nil {
			t.Fatal(err)
		}
		gw.msgs[ch] = m.ID
	}
	return gw
}

// interaction builds the interaction that reaches route from user in channel.
func (gw *gateWorld) interaction(r handlers.RouteInfo, channel, user string) discordgo.Interaction {
	d := gw.discord
	switch r.Type {
	case "component":
		return d.ButtonClick(channel, gw.msgs[channel], user, r.Key+":1")
	case "modal":
		return d.ModalSubmit(channel, user, r.Key+":1", []string{"text"}, map[string]string{"text": "x"})
	}
	parts := strings.Fields(r.Key)
	if r.Key == handlers.AddToTimeline {
		i := d.SlashCommand(channel, user, r.Key)
		data := i.Data.(discordgo.ApplicationCommandInteractionData)
		data.CommandType, data.TargetID = discordgo.MessageApplicationCommand, gw.msgs[gw.channels[3]]
		i.Data = data
		return i
	}
	var opts []*discordgo.ApplicationCommandInteractionDataOption
	if r.Type == "autocomplete" {
		opts = append(opts, discordtest.Focused(discordtest.Option("q", "")))
	}
	switch len(parts) {
	case 2:
		opts = []*discordgo.ApplicationCommandInteractionDataOption{discordtest.Subcommand(parts[1], opts...)}
	case 3:
		opts = []*discordgo.ApplicationCommandInteractionDataOption{{Name: parts[1], Type: discordgo.ApplicationCommandOptionSubCommandGroup,
			Options: []*discordgo.ApplicationCommandInteractionDataOption{discordtest.Subcommand(parts[2], opts...)}}}
	}
	if r.Type == "autocomplete" {
		return d.Autocomplete(channel, user, parts[0], opts...)
	}
	return d.SlashCommand(channel, user, parts[0], opts...)
}

// gateAnswer is the first thing Klaxon answered to an interaction.
type gateAnswer struct {
	Type discordgo.InteractionResponseType
	Data json.RawMessage
}

// send delivers i over the transport and returns its id and first gateAnswer.
func (gw *gateWorld) send(t *testing.T, transport string, i discordgo.Interaction) (string, gateAnswer) {
	t.Helper()
	d := gw.discord
	if transport == "gateway" {
		id, _ := d.Interact(i)
		rs, ok := d.AwaitResponses(id, 1, 20*time.Second)
		if !ok {
			t.Fatalf("no gateAnswer to interaction %s", id)
		}
		return id, gateAnswer{Type: rs[0].Type, Data: rs[0].Data}
	}
	id, resp, body, err := d.PostInteraction(context.Background(), gw.url("/interactions"), gw.priv, i)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /interactions: %v %v %s", err, resp, body)
	}
	var a gateAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	return id, a
}

// refusals returns the ids of the interactions the gate refused, from Klaxon's log.
func (gw *gateWorld) refusals() map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(gw.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct{ Msg, Interaction string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "interaction refused" {
			out[l.Interaction] = true
		}
	}
	return out
}

// TestPermissionMatrix sends every registered route (every command path,
// autocomplete, button/select prefix and modal) as each kind of person, from
// each kind of place, over both transports, and checks the gate's decision:
// refusals are ephemeral, ping nobody and name the role(s) needed and the
// kind; what is allowed is not refused by the gate (it may fail later, e.g.
// for a missing option: the matrix sends none).
func TestPermissionMatrix(t *testing.T) {
	gw := newGateWorld(t)
	routes := gw.main.Interactions.Routes()
	covered := map[handlers.Action]bool{}
	for _, r := range routes {
		covered[r.Action] = true
	}
	for _, a := range handlers.Actions() {
		if !covered[a] {
			t.Errorf("action %s has no registered route in this configuration: the matrix does not cover it", a)
		}
	}
	kindOf := func(a handlers.Action) handlers.Kind { k, _ := handlers.KindOf(a); return k }
	type who struct {
		name, user, channel string
		allowed             func(r handlers.RouteInfo) bool
		needs               func(k handlers.Kind) string // the role a refusal names
	}
	needs := func(k handlers.Kind) string {
		if k == handlers.KindIncident || k == handlers.KindAdmin {
			return gw.leads
		}
		return gw.staff
	}
	people := []who{
		{"unprivileged member", gw.player, gw.channels[3], func(r handlers.RouteInfo) bool { return kindOf(r.Action) == handlers.KindPublic }, needs},
		{"responder (staff)", gw.responder, gw.channels[3], func(r handlers.RouteInfo) bool {
			k := kindOf(r.Action)
			return k != handlers.KindIncident && k != handlers.KindAdmin
		}, needs},
		{"lead (incident, admin)", gw.lead, gw.channels[3], func(r handlers.RouteInfo) bool {
			k := kindOf(r.Action)
			return k == handlers.KindPublic || k == handlers.KindIncident || k == handlers.KindAdmin
		}, needs},
		{"DM from a guild member", gw.responder, gw.dmMember, func(r handlers.RouteInfo) bool { return r.DM }, needs},
		{"DM from a stranger", gw.stranger, gw.dmStranger, func(handlers.RouteInfo) bool { return false }, needs},
		{"another guild", gw.responder, gw.otherChannel, func(handlers.RouteInfo) bool { return false }, needs},
	}
	for _, transport := range []string{"gateway", "http"} {
		t.Run(transport, func(t *testing.T) {
			type sent struct {
				who   who
				route handlers.RouteInfo
				id    string
				a     gateAnswer
			}
			var all []sent
			for _, p := range people {
				for _, r := range routes {
					id, a := gw.send(t, transport, gw.interaction(r, p.channel, p.user))
					all = append(all, sent{p, r, id, a})
				}
			}
			refused := gw.refusals()
			allowedN, refusedN := 0, 0
			for _, s := range all {
				what := fmt.Sprintf("%s: %s %q (%s)", s.who.name, s.route.Type, s.route.Key, s.route.Action)
				want := s.who.allowed(s.route)
				if want {
					allowedN++
					if refused[s.id] {
						t.Errorf("%s: refused by the gate, want allowed: %s", what, s.a.Data)
					}
					continue
				}
				refusedN++
				if !refused[s.id] {
					t.Errorf("%s: not refused by the gate (gateAnswer type %d: %.200s)", what, s.a.Type, s.a.Data)
					continue
				}
				if s.route.Type == "autocomplete" {
					var d struct{ Choices []any }
					if s.a.Type != discordgo.InteractionApplicationCommandAutocompleteResult || json.Unmarshal(s.a.Data, &d) != nil || len(d.Choices) != 0 {
						t.Errorf("%s: refused autocomplete answered %d %s, want no choices", what, s.a.Type, s.a.Data)
					}
					continue
				}
				var d struct {
					Content         string
					Flags           int
					AllowedMentions *struct{ Parse []string } `json:"allowed_mentions"`
				}
				if err := json.Unmarshal(s.a.Data, &d); err != nil || s.a.Type != discordgo.InteractionResponseChannelMessageWithSource {
					t.Errorf("%s: refusal answered type %d %s", what, s.a.Type, s.a.Data)
					continue
				}
				k := kindOf(s.route.Action)
				if d.Flags&int(discordgo.MessageFlagsEphemeral) == 0 || d.AllowedMentions == nil || len(d.AllowedMentions.Parse) != 0 {
					t.Errorf("%s: refusal is not ephemeral with allowed_mentions parse []: %s", what, s.a.Data)
				}
				if !strings.HasPrefix(d.Content, "🚫") || !strings.Contains(d.Content, "kind `"+string(k)+"`") ||
					(k != handlers.KindPublic && !strings.Contains(d.Content, "<@&"+s.who.needs(k)+">")) {
					t.Errorf("%s: refusal %q does not name the role <@&%s> and kind %s", what, d.Content, s.who.needs(k), k)
				}
			}
			t.Logf("%s: %d routes × %d people: %d allowed, %d refused", transport, len(routes), len(people), allowedN, refusedN)
		})
	}
}

// TestAcknowledgeFromADM: a member of the server acknowledges a real alert
// with an Acknowledge button pressed in a DM (their roles looked up in the
// server); a stranger's DM press is refused and changes nothing.
func TestAcknowledgeFromADM(t *testing.T) {
	gw := newGateWorld(t)
	resp := postJSON(t, gw.url("/webhook/alertmanager"), webhookToken, webhookBody("DBDown", "critical", time.Now().Add(-time.Minute)))
	resp.Body.Close()
	var gid string
	gw.await("the P0 card", func() bool {
		for _, m := range gw.discord.Messages(gw.channels[0]) {
			for _, b := range m.Buttons() {
				if id, ok := strings.CutPrefix(b.CustomID, "ack:"); ok {
					gid = id
					return true
				}
			}
		}
		return false
	})
	content := func(a gateAnswer) string {
		var d struct{ Content string }
		_ = json.Unmarshal(a.Data, &d)
		return d.Content
	}
	_, a := gw.send(t, "gateway", gw.discord.ButtonClick(gw.dmStranger, gw.msgs[gw.dmStranger], gw.stranger, "ack:"+gid))
	if c := content(a); !strings.Contains(c, "not a member of Klaxon") || !strings.Contains(c, "<@&"+gw.staff+">") {
		t.Errorf("stranger's DM ack: %s", c)
	}
	for _, transport := range []string{"http", "gateway"} {
		_, a = gw.send(t, transport, gw.discord.ButtonClick(gw.dmMember, gw.msgs[gw.dmMember], gw.responder, "ack:"+gid))
		want := "You acknowledged"
		if transport == "gateway" {
			want = "already acknowledged by <@" + gw.responder + ">"
		}
		if c := content(a); !strings.Contains(c, want) {
			t.Errorf("%s: member's DM ack answered %q, want %q", transport, c, want)
		}
	}
}
