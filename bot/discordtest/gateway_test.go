package discordtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// openBot opens the gateway and installs an interaction handler.
func openBot(t *testing.T, e *env, onInteraction func(*discordgo.Session, *discordgo.InteractionCreate)) (ready chan *discordgo.Ready, guilds chan *discordgo.GuildCreate) {
	t.Helper()
	ready = make(chan *discordgo.Ready, 4)
	guilds = make(chan *discordgo.GuildCreate, 4)
	e.dg.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { ready <- r })
	e.dg.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { guilds <- g })
	if onInteraction != nil {
		e.dg.AddHandler(onInteraction)
	}
	if err := e.dg.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.dg.Close() })
	return ready, guilds
}

func TestGatewayReadyAndGuildCreate(t *testing.T) {
	e := newEnv(t, Options{})
	ready, guilds := openBot(t, e, nil)
	select {
	case r := <-ready:
		if r.User.ID != e.srv.BotUserID() || r.SessionID == "" || len(r.Guilds) != 1 || r.Application.ID != e.srv.ApplicationID() {
			t.Errorf("ready = %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no READY")
	}
	select {
	case g := <-guilds:
		if g.ID != e.guild || len(g.Channels) != 2 || len(g.Members) != 2 || len(g.Roles) != 2 {
			t.Errorf("guild create = %+v", g.Guild)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no GUILD_CREATE")
	}
	if e.srv.Connected() != 1 {
		t.Errorf("connected = %d", e.srv.Connected())
	}
}

func TestGatewayResume(t *testing.T) {
	e := newEnv(t, Options{})
	created := make(chan string, 8) // CHANNEL_CREATE names, as the bot sees them
	resumed := make(chan struct{}, 1)
	e.dg.AddHandler(func(_ *discordgo.Session, ev *discordgo.Resumed) { resumed <- struct{}{} })
	e.dg.AddHandler(func(_ *discordgo.Session, ev *discordgo.ChannelCreate) { created <- ev.Name })
	openBot(t, e, nil)
	e.srv.DropGateway()
	// dispatched while the bot is disconnected: replayed on resume
	e.srv.Dispatch("CHANNEL_CREATE", map[string]any{"id": "42", "type": 0, "guild_id": e.guild, "name": "while-down"})
	select {
	case <-resumed:
	case <-time.After(15 * time.Second):
		t.Fatal("no RESUMED after DropGateway")
	}
	wait(t, e.srv, "reconnect", func() bool { return e.srv.Connected() == 1 })
	e.srv.Dispatch("CHANNEL_CREATE", map[string]any{"id": "43", "type": 0, "guild_id": e.guild, "name": "after"})
	var got []string
	bound := time.NewTimer(5 * time.Second) // a bound on a failure, not a wait for behaviour
	defer bound.Stop()
	for len(got) < 2 {
		select {
		case name := <-created:
			got = append(got, name)
		case <-bound.C:
			t.Fatalf("events = %v, want while-down and after", got)
		}
	}
	if strings.Join(got, ",") != "while-down,after" {
		t.Errorf("events = %v", got)
	}
}

func TestInteractionsOverGateway(t *testing.T) {
	e := newEnv(t, Options{})
	alert, err := e.dg.ChannelMessageSendComplex(e.channel, &discordgo.MessageSend{
		Content: "firing",
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Ack", CustomID: "ack"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bot := func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		var err error
		switch ic.Type {
		case discordgo.InteractionApplicationCommand:
			d := ic.ApplicationCommandData()
			switch d.Name {
			case "status":
				err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
					Type: discordgo.InteractionResponseChannelMessageWithSource,
					Data: &discordgo.InteractionResponseData{Content: "all good: " + d.Options[0].StringValue(), Flags: discordgo.MessageFlagsEphemeral},
				})
			case "slow":
				if err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err == nil {
					content := "done by " + ic.Member.User.Username
					_, err = s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{Content: &content})
				}
				if err == nil {
					_, err = s.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Content: "follow-up"})
				}
			}
		case discordgo.InteractionMessageComponent:
			err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseUpdateMessage,
				Data: &discordgo.InteractionResponseData{Content: "acked by " + ic.Member.User.ID, Components: []discordgo.MessageComponent{}},
			})
		case discordgo.InteractionApplicationCommandAutocomplete:
			err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionApplicationCommandAutocompleteResult,
				Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "api", Value: "api"}}},
			})
		case discordgo.InteractionModalSubmit:
			d := ic.ModalSubmitData()
			v := d.Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.TextInput).Value
			err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "note: " + v},
			})
		}
		if err != nil {
			t.Errorf("bot: %v", err)
		}
	}
	openBot(t, e, bot)
	if _, err := e.dg.ApplicationCommandBulkOverwrite(e.srv.ApplicationID(), e.guild, []*discordgo.ApplicationCommand{
		{Name: "status", Description: "status", Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "service", Description: "svc", Required: true, Autocomplete: true}}},
		{Name: "slow", Description: "deferred"},
	}); err != nil {
		t.Fatal(err)
	}
	if cmds := e.srv.Commands(e.guild); len(cmds) != 2 || cmds[0].Name != "status" || cmds[0].ID == "" {
		t.Fatalf("commands = %+v", cmds)
	}

	tests := []struct {
		name  string
		i     discordgo.Interaction
		n     int
		check func(t *testing.T, rs []Response)
	}{
		{"slash command", e.srv.SlashCommand(e.channel, e.user, "status", Option("service", "api")), 1, func(t *testing.T, rs []Response) {
			if rs[0].Type != 4 || rs[0].Content != "all good: api" || !rs[0].Ephemeral() {
				t.Errorf("response = %+v", rs[0])
			}
		}},
		{"deferred + edit + follow-up", e.srv.SlashCommand(e.channel, e.user, "slow"), 3, func(t *testing.T, rs []Response) {
			if rs[0].Type != 5 || rs[1].Kind != "edit-original" || rs[1].Content != "done by alice" || rs[2].Kind != "followup" {
				t.Errorf("responses = %+v", rs)
			}
			if m, _ := e.srv.Message(rs[0].MessageID); m.Content != "done by alice" || m.InteractionID == "" {
				t.Errorf("original message = %+v", m)
			}
		}},
		{"button click", e.srv.ButtonClick(e.channel, alert.ID, e.user, "ack"), 1, func(t *testing.T, rs []Response) {
			m, _ := e.srv.Message(alert.ID)
			if rs[0].Type != 7 || m.Content != "acked by "+e.user || len(m.Buttons()) != 0 || e.srv.Edits(alert.ID) != 1 {
				t.Errorf("response %+v, message %+v", rs[0], m)
			}
		}},
		{"autocomplete", e.srv.Autocomplete(e.channel, e.user, "status", Focused(Option("service", "a"))), 1, func(t *testing.T, rs []Response) {
			if ch := rs[0].Choices(); rs[0].Type != 8 || len(ch) != 1 || ch[0].Name != "api" {
				t.Errorf("autocomplete = %+v", rs[0])
			}
		}},
		{"modal submit", e.srv.ModalSubmit(e.channel, e.user, "note", []string{"text"}, map[string]string{"text": "db failover"}), 1, func(t *testing.T, rs []Response) {
			if rs[0].Content != "note: db failover" {
				t.Errorf("modal response = %+v", rs[0])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, token := e.srv.Interact(tc.i)
			if id == "" || token == "" {
				t.Fatal("no id/token")
			}
			rs, ok := e.srv.AwaitResponses(id, tc.n, 5*time.Second)
			if !ok {
				t.Fatalf("responses = %+v", rs)
			}
			st, _ := e.srv.Interaction(id)
			if !st.Acked || st.Late || st.AckedAfter > 3*time.Second {
				t.Errorf("state = %+v", st)
			}
			tc.check(t, rs)
		})
	}
}

func TestInteractionDeadline(t *testing.T) {
	var mu sync.Mutex
	var violations []error
	e := newEnv(t, Options{InteractionDeadline: 100 * time.Millisecond, OnViolation: func(err error) {
		mu.Lock()
		violations = append(violations, err)
		mu.Unlock()
	}})
	id, _ := e.srv.Interact(e.srv.SlashCommand(e.channel, e.user, "status"))
	wait(t, e.srv, "deadline violation", func() bool { st, _ := e.srv.Interaction(id); return st.Late })
	mu.Lock()
	defer mu.Unlock()
	if len(violations) != 1 || !strings.Contains(violations[0].Error(), "not acknowledged") {
		t.Errorf("violations = %v", violations)
	}
}

func TestHTTPInteraction(t *testing.T) {
	e := newEnv(t, Options{})
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !discordgo.VerifyInteraction(r, pub) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var i discordgo.Interaction
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &i); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "pong " + i.ApplicationCommandData().Name},
		})
	}))
	defer bot.Close()
	id, resp, _, err := e.srv.PostInteraction(context.Background(), bot.URL, priv, e.srv.SlashCommand(e.channel, e.user, "ping"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %v %v", resp, err)
	}
	rs := e.srv.InteractionResponses(id)
	if len(rs) != 1 || rs[0].Kind != "http" || rs[0].Content != "pong ping" {
		t.Errorf("responses = %+v", rs)
	}
	// a tampered body fails verification
	h := SignInteraction(priv, time.Now(), []byte(`{"type":1}`))
	req, _ := http.NewRequest("POST", bot.URL, bytes.NewReader([]byte(`{"type":2}`)))
	req.Header = h
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 401 {
		t.Errorf("tampered body accepted: %d", r2.StatusCode)
	}
}
