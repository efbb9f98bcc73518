package discordtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

// createdMessage is the part of a create answer the nonce tests look at
// (discordgo.Message has no nonce field).
type createdMessage struct {
	ID          string          `json:"id"`
	Content     string          `json:"content"`
	Nonce       json.RawMessage `json:"nonce"`
	Attachments []struct {
		ID string `json:"id"`
	} `json:"attachments"`
}

// sendRaw creates a message with discordgo's generic request methods, as
// a client must to send a nonce (discordgo.MessageSend has no field for
// it): JSON, or multipart with payload_json when there are files.
func sendRaw(dg *discordgo.Session, channelID string, body map[string]any, files []*discordgo.File) (createdMessage, []byte, error) {
	ep := discordgo.EndpointChannelMessages(channelID)
	var raw []byte
	var err error
	if len(files) == 0 {
		raw, err = dg.RequestWithBucketID("POST", ep, body, ep)
	} else {
		ct, b, merr := discordgo.MultipartBodyWithJSON(body, files)
		if merr != nil {
			return createdMessage{}, nil, merr
		}
		raw, err = dg.RequestRaw("POST", ep, ct, b, ep, 0)
	}
	var m createdMessage
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	return m, raw, err
}

// nonceSend is one create in TestMessageNonce.
type nonceSend struct {
	otherChannel bool          // post in a second channel
	nonce        any           // nil: no nonce
	enforce      bool          // enforce_nonce: true
	content      string        // message content
	file         bool          // multipart, with one file
	advance      time.Duration // advance the clock first
	deleteFirst  bool          // delete the first message first
}

func (n nonceSend) body() map[string]any {
	b := map[string]any{"content": n.content}
	if n.nonce != nil {
		b["nonce"] = n.nonce
	}
	if n.enforce {
		b["enforce_nonce"] = true
	}
	return b
}

func (n nonceSend) files() []*discordgo.File {
	if !n.file {
		return nil
	}
	return []*discordgo.File{{Name: "graph.png", ContentType: "image/png", Reader: bytes.NewReader(pngBytes)}}
}

func TestMessageNonce(t *testing.T) {
	tests := []struct {
		name          string
		window        time.Duration // Options.NonceWindow; 0: default
		first, second nonceSend
		wantSame      bool // the second create answers with the first message
		wantStatus    int  // the second create's status if it fails
		wantCode      int
		wantCreated   int // messages created in all
	}{
		{
			name:     "enforced string nonce: the retry gets the first message, first content kept",
			first:    nonceSend{nonce: "alert-7f3a", enforce: true, content: "firing"},
			second:   nonceSend{nonce: "alert-7f3a", enforce: true, content: "firing (retry, other text)"},
			wantSame: true, wantCreated: 1,
		},
		{
			name:     "enforced integer nonce",
			first:    nonceSend{nonce: int64(1234567890123456789), enforce: true, content: "firing"},
			second:   nonceSend{nonce: int64(1234567890123456789), enforce: true, content: "firing"},
			wantSame: true, wantCreated: 1,
		},
		{
			name:     "enforce_nonce on the retry only still finds the first",
			first:    nonceSend{nonce: "n-1", content: "firing"},
			second:   nonceSend{nonce: "n-1", enforce: true, content: "firing"},
			wantSame: true, wantCreated: 1,
		},
		{
			name:        "without enforce_nonce the nonce is only echoed",
			first:       nonceSend{nonce: "n-1", content: "firing"},
			second:      nonceSend{nonce: "n-1", content: "firing"},
			wantCreated: 2,
		},
		{
			name:        "enforce_nonce without a nonce does nothing",
			first:       nonceSend{enforce: true, content: "firing"},
			second:      nonceSend{enforce: true, content: "firing"},
			wantCreated: 2,
		},
		{
			name:        "different nonces",
			first:       nonceSend{nonce: "n-1", enforce: true, content: "firing"},
			second:      nonceSend{nonce: "n-2", enforce: true, content: "firing"},
			wantCreated: 2,
		},
		{
			name:        "same nonce in another channel",
			first:       nonceSend{nonce: "n-1", enforce: true, content: "firing"},
			second:      nonceSend{otherChannel: true, nonce: "n-1", enforce: true, content: "firing"},
			wantCreated: 2,
		},
		{
			name:     "retry just inside the window",
			first:    nonceSend{nonce: "n-1", enforce: true, content: "firing"},
			second:   nonceSend{nonce: "n-1", enforce: true, content: "firing", advance: DefaultNonceWindow - time.Second},
			wantSame: true, wantCreated: 1,
		},
		{
			name:        "retry once the window has passed creates a new message",
			first:       nonceSend{nonce: "n-1", enforce: true, content: "firing"},
			second:      nonceSend{nonce: "n-1", enforce: true, content: "firing", advance: DefaultNonceWindow},
			wantCreated: 2,
		},
		{
			name:        "Options.NonceWindow shortens the window",
			window:      time.Minute,
			first:       nonceSend{nonce: "n-1", enforce: true, content: "firing"},
			second:      nonceSend{nonce: "n-1", enforce: true, content: "firing", advance: time.Minute},
			wantCreated: 2,
		},
		{
			name:       "first message deleted: 404 Unknown Message, nothing re-created",
			first:      nonceSend{nonce: "n-1", enforce: true, content: "firing"},
			second:     nonceSend{nonce: "n-1", enforce: true, content: "firing", deleteFirst: true},
			wantStatus: 404, wantCode: discordgo.ErrCodeUnknownMessage, wantCreated: 1,
		},
		{
			name:     "multipart payload_json with a file",
			first:    nonceSend{nonce: "graph-1", enforce: true, content: "latency", file: true},
			second:   nonceSend{nonce: "graph-1", enforce: true, content: "latency", file: true},
			wantSame: true, wantCreated: 1,
		},
		{
			name:        "multipart without enforce_nonce",
			first:       nonceSend{nonce: "graph-1", content: "latency", file: true},
			second:      nonceSend{nonce: "graph-1", content: "latency", file: true},
			wantCreated: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := bot.NewFakeClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
			e := newEnv(t, Options{Now: clock.Now, NonceWindow: tc.window})
			other := e.srv.AddChannel(e.guild, "incidents-eu", discordgo.ChannelTypeGuildText)
			chanOf := func(n nonceSend) string {
				if n.otherChannel {
					return other
				}
				return e.channel
			}

			first, raw, err := sendRaw(e.dg, chanOf(tc.first), tc.first.body(), tc.first.files())
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, e.srv, "POST", "/channels/{channel_id}/messages", raw)
			checkNonceEcho(t, first.Nonce, tc.first.nonce)

			clock.Advance(tc.second.advance)
			if tc.second.deleteFirst {
				if err := e.dg.ChannelMessageDelete(chanOf(tc.first), first.ID); err != nil {
					t.Fatal(err)
				}
			}
			second, _, err := sendRaw(e.dg, chanOf(tc.second), tc.second.body(), tc.second.files())
			switch {
			case tc.wantStatus != 0:
				re := restErr(t, err)
				if got, want := re.Response.StatusCode, tc.wantStatus; got != want {
					t.Errorf("second create: status %d, want %d (%s)", got, want, re.ResponseBody)
				}
				if got, want := re.Message.Code, tc.wantCode; got != want {
					t.Errorf("second create: code %d, want %d", got, want)
				}
			case err != nil:
				t.Fatal(err)
			case tc.wantSame:
				if second.ID != first.ID || second.Content != first.Content {
					t.Errorf("second create answered %s %q, want the first message %s %q", second.ID, second.Content, first.ID, first.Content)
				}
				checkNonceEcho(t, second.Nonce, tc.second.nonce)
				if len(first.Attachments) > 0 && (len(second.Attachments) != 1 || second.Attachments[0].ID != first.Attachments[0].ID) {
					t.Errorf("second create attachments %+v, want the first's %+v", second.Attachments, first.Attachments)
				}
			default:
				if second.ID == first.ID {
					t.Errorf("second create answered the first message %s, want a new one", first.ID)
				}
				checkNonceEcho(t, second.Nonce, tc.second.nonce)
			}

			created := e.srv.MessagesCreated(e.channel) + e.srv.MessagesCreated(other)
			if created != tc.wantCreated {
				t.Errorf("MessagesCreated = %d, want %d", created, tc.wantCreated)
			}
			current := e.srv.MessageCount(e.channel) + e.srv.MessageCount(other)
			wantCurrent := tc.wantCreated
			if tc.second.deleteFirst {
				wantCurrent--
			}
			if current != wantCurrent {
				t.Errorf("MessageCount = %d, want %d", current, wantCurrent)
			}
			if got := len(e.srv.GatewayEvents("MESSAGE_CREATE")); got != tc.wantCreated {
				t.Errorf("MESSAGE_CREATE dispatched %d times, want %d", got, tc.wantCreated)
			}
			if tc.wantSame {
				m, _ := e.srv.Message(first.ID)
				if m.Content != tc.first.content || e.srv.Edits(first.ID) != 0 {
					t.Errorf("stored message %q (%d edits), want %q unedited", m.Content, e.srv.Edits(first.ID), tc.first.content)
				}
			}
		})
	}
}

// checkNonceEcho checks a create answer's nonce against the one sent.
func checkNonceEcho(t *testing.T, got json.RawMessage, sent any) {
	t.Helper()
	if sent == nil {
		if got != nil {
			t.Errorf("answer has nonce %s, none was sent", got)
		}
		return
	}
	want, _ := json.Marshal(sent)
	if !bytes.Equal(got, want) {
		t.Errorf("answer nonce = %s, want %s", got, want)
	}
}

func TestMessageNonceHelpers(t *testing.T) {
	e := newEnv(t, Options{})
	for _, n := range []any{"a", "a", int64(7), nil} {
		body := map[string]any{"content": "x"}
		if n != nil {
			body["nonce"] = n
		}
		if _, _, err := sendRaw(e.dg, e.channel, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		nonce string
		want  int
	}{
		{"a", 2},
		{"7", 1},
		{"b", 0},
		{"", 0},
	}
	for _, tc := range tests {
		if got := len(e.srv.MessagesWithNonce(e.channel, tc.nonce)); got != tc.want {
			t.Errorf("MessagesWithNonce(%q) = %d messages, want %d", tc.nonce, got, tc.want)
		}
	}
	if got, want := e.srv.MessageCount(e.channel), 4; got != want {
		t.Errorf("MessageCount = %d, want %d", got, want)
	}
}

func TestMessageNonceLimits(t *testing.T) {
	tests := []struct {
		name   string
		nonce  any
		file   bool
		wantOK bool
	}{
		{"string of 25 characters", strings.Repeat("n", 25), false, true},
		{"string of 26 characters", strings.Repeat("n", 26), false, false},
		{"string of 26 characters in payload_json", strings.Repeat("n", 26), true, false},
		{"largest int64", json.RawMessage("9223372036854775807"), false, true},
		{"integer beyond int64", json.RawMessage("9223372036854775808"), false, false},
		{"object", map[string]any{"id": 1}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got collect
			e := newEnv(t, Options{OnViolation: got.add})
			s := nonceSend{nonce: tc.nonce, enforce: true, content: "x", file: tc.file}
			_, _, err := sendRaw(e.dg, e.channel, s.body(), s.files())
			if tc.wantOK {
				if err != nil || len(got.list()) != 0 {
					t.Fatalf("create: %v, violations %v", err, got.list())
				}
				return
			}
			re := restErr(t, err)
			var body apiErrorBody
			_ = json.Unmarshal(re.ResponseBody, &body)
			if re.Response.StatusCode != 400 || body.Code != 50035 || body.Errors["nonce"] == nil {
				t.Errorf("got %d %s, want 400 with code 50035 about nonce", re.Response.StatusCode, re.ResponseBody)
			}
			if v := got.list(); len(v) != 1 || !strings.Contains(v[0].Error(), "body violation") || !strings.Contains(v[0].Error(), "nonce") {
				t.Errorf("violations = %v, want one body violation about nonce", v)
			}
			if n := e.srv.MessagesCreated(e.channel); n != 0 {
				t.Errorf("%d messages created, want 0", n)
			}
		})
	}
}

// TestMessageCreateGateway checks with discordgo's own gateway client that
// a create dispatches MESSAGE_CREATE (with the nonce) and a deduplicated
// retry dispatches nothing. Events on one connection arrive in order, so
// once a later message's event is in, an event for the retry would have
// been seen (handlers run in order with SyncEvents).
func TestMessageCreateGateway(t *testing.T) {
	e := newEnv(t, Options{})
	e.dg.SyncEvents = true
	var mu sync.Mutex
	var seen []string
	arrived := make(chan string, 8)
	e.dg.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		mu.Lock()
		seen = append(seen, m.ID)
		mu.Unlock()
		arrived <- m.ID
	})
	openBot(t, e, nil)
	wait(t, e.srv, "gateway session", func() bool { return e.srv.Connected() == 1 })

	body := map[string]any{"content": "firing", "nonce": "alert-1", "enforce_nonce": true}
	first, _, err := sendRaw(e.dg, e.channel, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	retry, _, err := sendRaw(e.dg, e.channel, body, nil)
	if err != nil || retry.ID != first.ID {
		t.Fatalf("retry = %+v, %v; want message %s", retry, err, first.ID)
	}
	later, err := e.dg.ChannelMessageSend(e.channel, "resolved")
	if err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		select {
		case id := <-arrived:
			done = id == later.ID
		case <-time.After(10 * time.Second):
			t.Fatal("MESSAGE_CREATE of the later message never arrived")
		}
	}
	mu.Lock()
	got := strings.Join(seen, ",")
	mu.Unlock()
	if want := first.ID + "," + later.ID; got != want {
		t.Errorf("MESSAGE_CREATE received for %s, want %s", got, want)
	}
	evs := e.srv.GatewayEvents("MESSAGE_CREATE")
	if len(evs) != 2 {
		t.Fatalf("GatewayEvents = %d MESSAGE_CREATE, want 2", len(evs))
	}
	var d struct {
		ID    string `json:"id"`
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal(evs[0].Data, &d); err != nil || d.ID != first.ID || d.Nonce != "alert-1" {
		t.Errorf("first MESSAGE_CREATE = %s, want id %s with nonce alert-1", evs[0].Data, first.ID)
	}
	e.srv.ResetRecords()
	if n := len(e.srv.GatewayEvents("")); n != 0 {
		t.Errorf("after ResetRecords %d gateway events, want 0", n)
	}
}

// TestMessageCreateNeedsIntent checks that a session identified without
// GUILD_MESSAGES gets no MESSAGE_CREATE for guild messages.
func TestMessageCreateNeedsIntent(t *testing.T) {
	e := newEnv(t, Options{})
	e.dg.SyncEvents = true // the marker's handler runs after any earlier event's
	e.dg.Identify.Intents = discordgo.IntentsGuilds
	var mu sync.Mutex
	var messages int
	e.dg.AddHandler(func(_ *discordgo.Session, _ *discordgo.MessageCreate) {
		mu.Lock()
		messages++
		mu.Unlock()
	})
	marker := make(chan struct{}, 1)
	e.dg.AddHandler(func(_ *discordgo.Session, c *discordgo.ChannelCreate) {
		if c.Name == "marker" {
			marker <- struct{}{}
		}
	})
	openBot(t, e, nil)
	wait(t, e.srv, "gateway session", func() bool { return e.srv.Connected() == 1 })
	if _, err := e.dg.ChannelMessageSend(e.channel, "firing"); err != nil {
		t.Fatal(err)
	}
	e.srv.Dispatch("CHANNEL_CREATE", map[string]any{"id": "99", "type": 0, "guild_id": e.guild, "name": "marker"})
	select {
	case <-marker:
	case <-time.After(10 * time.Second):
		t.Fatal("marker event never arrived")
	}
	mu.Lock()
	defer mu.Unlock()
	if messages != 0 {
		t.Errorf("%d MESSAGE_CREATE received without the GUILD_MESSAGES intent, want 0", messages)
	}
}
