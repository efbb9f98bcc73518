package handlers_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/store"
)

// replayEnv is the HTTP interactions endpoint on a real SQLite database,
// with a fake clock and a command that counts how often it ran.
type replayEnv struct {
	discord *discordtest.Server
	pub     ed25519.PublicKey
	priv    ed25519.PrivateKey
	clock   *bot.FakeClock
	path    string
	db      *store.DB
	srv     *httptest.Server
	ran     atomic.Int32
	channel string
	user    string
	guild   string
	staff   string
}

func newReplayEnv(t *testing.T) *replayEnv {
	t.Helper()
	e := &replayEnv{discord: discordtest.New(discordtest.Options{}), clock: bot.NewFakeClock(time.Now().UTC().Truncate(time.Second)),
		path: filepath.Join(t.TempDir(), "k.db")}
	t.Cleanup(e.discord.Close)
	e.pub, e.priv, _ = ed25519.GenerateKey(nil)
	g := e.discord.AddGuild("marola")
	e.channel = e.discord.AddChannel(g, "alerts", discordgo.ChannelTypeGuildText)
	e.user = e.discord.AddUser("anna")
	e.guild, e.staff = g, e.discord.AddRole(g, "staff")
	e.discord.AddMember(g, e.user, e.staff)
	e.start(t)
	t.Cleanup(e.stop)
	return e
}

// start opens the database and serves a new handler on it (a restart).
func (e *replayEnv) start(t *testing.T) {
	t.Helper()
	db, err := store.Open(context.Background(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	x := &handlers.Interactions{PublicKey: e.pub, Now: e.clock.Now, Seen: db, Deadline: time.Minute,
		Gate: &handlers.Gate{Access: &handlers.Access{GuildID: e.guild, Staff: []string{e.staff}}}}
	x.Command("alerts", handlers.ActAlertView, true, func(context.Context, *handlers.Request) (*handlers.Reply, error) {
		e.ran.Add(1)
		return &handlers.Reply{Content: "ok", Ephemeral: true}, nil
	})
	e.srv = httptest.NewServer(x)
}

func (e *replayEnv) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.db.Close()
		e.srv = nil
	}
}

// signed is a captured interaction: its body and the headers Discord signed it with (at the fake clock's now).
type signed struct {
	body   []byte
	header http.Header
}

func (e *replayEnv) capture(t *testing.T) signed {
	t.Helper()
	req, _, err := e.discord.InteractionRequest(context.Background(), "http://unused", e.priv, e.discord.SlashCommand(e.channel, e.user, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	return signed{body: body, header: discordtest.SignInteraction(e.priv, e.clock.Now(), body)}
}

func (e *replayEnv) send(t *testing.T, s signed) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(s.body))
	req.Header = s.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestInteractionReplayRefused: the same signed interaction sent twice is
// handled once; the second delivery is 409, also after a restart on the
// same database and until the timestamp itself is too old; old ids are pruned.
func TestInteractionReplayRefused(t *testing.T) {
	e := newReplayEnv(t)
	first := e.capture(t)
	if status, body := e.send(t, first); status != http.StatusOK {
		t.Fatalf("first delivery: %d %s", status, body)
	}
	if status, body := e.send(t, first); status != http.StatusConflict || !bytes.Contains([]byte(body), []byte("already handled")) {
		t.Fatalf("second delivery: %d %s, want 409 already handled", status, body)
	}
	// Four minutes later (still inside the ±5 minute timestamp window), after a restart.
	e.clock.Advance(4 * time.Minute)
	e.stop()
	e.start(t)
	if status, body := e.send(t, first); status != http.StatusConflict {
		t.Fatalf("replay after a restart: %d %s, want 409", status, body)
	}
	if n := e.ran.Load(); n != 1 {
		t.Fatalf("command ran %d times, want 1", n)
	}
	// Another interaction goes through.
	second := e.capture(t)
	if status, body := e.send(t, second); status != http.StatusOK {
		t.Fatalf("new interaction: %d %s", status, body)
	}
	// 16 minutes on: the first id is pruned, and its timestamp is refused on its own.
	e.clock.Advance(12 * time.Minute)
	if status, _ := e.send(t, first); status != http.StatusUnauthorized {
		t.Errorf("replay with an old timestamp: %d, want 401", status)
	}
	third := e.capture(t)
	if status, body := e.send(t, third); status != http.StatusOK {
		t.Fatalf("third interaction: %d %s", status, body)
	}
	if n, err := e.db.SeenInteractions(context.Background()); err != nil || n != 2 {
		t.Errorf("remembered ids = %d (%v), want 2 (the second and third): older than %s are pruned", n, err, handlers.DefaultReplayKeep)
	}
	if n := e.ran.Load(); n != 3 {
		t.Errorf("command ran %d times, want 3", n)
	}
}

// TestInteractionReplayConcurrent: the same interaction delivered eight times
// at once runs once.
func TestInteractionReplayConcurrent(t *testing.T) {
	e := newReplayEnv(t)
	s := e.capture(t)
	var wg sync.WaitGroup
	var ok, conflict atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := e.send(t, s)
			switch status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusConflict:
				conflict.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 7 || e.ran.Load() != 1 {
		t.Errorf("%d handled, %d refused, ran %d; want 1, 7, 1", ok.Load(), conflict.Load(), e.ran.Load())
	}
}
