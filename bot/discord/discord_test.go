package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

// fakeAPI stands in for Discord's REST API: each test answers requests
// with Discord-shaped bodies through answer.
type fakeAPI struct {
	mu     sync.Mutex
	calls  []string // "METHOD /path"
	bodies []string
	answer func(w http.ResponseWriter, r *http.Request, n int) // n: calls so far, from 1
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+strings.TrimPrefix(r.URL.Path, "/api/v10"))
	f.bodies = append(f.bodies, string(body))
	n := len(f.calls)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	f.answer(w, r, n)
}

func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeAPI) body(i int) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m map[string]any
	_ = json.Unmarshal([]byte(f.bodies[i]), &m)
	return m
}

func newTestClient(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int), now func() time.Time) (*Client, *fakeAPI) {
	t.Helper()
	f := &fakeAPI{answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, err := NewSession("secret", srv.URL+"/api/v10")
	if err != nil {
		t.Fatal(err)
	}
	return New(s, Options{Now: now, Logger: slog.New(slog.DiscardHandler)}), f
}

// newMemClient is newTestClient with the fake answering in memory (no
// socket), so that it runs inside a synctest bubble; the clock is the
// bubble's.
func newMemClient(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) (*Client, *fakeAPI) {
	t.Helper()
	f := &fakeAPI{answer: answer}
	s, err := NewSession("secret", "http://discord.test/api/v10")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTransport("http://discord.test/api/v10", handlerTransport{f})
	if err != nil {
		t.Fatal(err)
	}
	s.Client.Transport = tr
	return New(s, Options{Logger: slog.New(slog.DiscardHandler)}), f
}

// handlerTransport answers requests with a handler, in memory.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// okMessages answers message creation and edits like Discord.
func okMessages(w http.ResponseWriter, r *http.Request, n int) {
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/threads"):
		writeJSON(w, 201, `{"id":"3000","type":11,"name":"t"}`)
	case r.Method == http.MethodPost:
		writeJSON(w, 200, fmt.Sprintf(`{"id":"%d","channel_id":"111"}`, 900+n))
	case r.Method == http.MethodPatch:
		parts := strings.Split(r.URL.Path, "/")
		writeJSON(w, 200, fmt.Sprintf(`{"id":"%s","channel_id":"111"}`, parts[len(parts)-1]))
	case r.Method == http.MethodGet:
		writeJSON(w, 200, `{"id":"111","type":0,"name":"alerts"}`)
	default:
		writeJSON(w, 404, `{"message":"404: Not Found","code":0}`)
	}
}

func cardView() bot.View {
	return bot.View{Post: cardPost(), Groups: []*bot.Group{firingGroup()}, Now: t0}
}

func TestPublishCreateThenEdit(t *testing.T) {
	c, f := newTestClient(t, okMessages, nil)
	v := cardView()
	id, err := c.Publish(context.Background(), v)
	if err != nil || id != "901" {
		t.Fatalf("create: %q %v", id, err)
	}
	am := f.body(0)["allowed_mentions"].(map[string]any)
	if fmt.Sprint(am["parse"], am["roles"], am["users"]) != "[] [555] [777]" {
		t.Errorf("create allowed_mentions = %v", am)
	}

	v.Post.MessageID = id
	got, err := c.Publish(context.Background(), v)
	if err != nil || got != id {
		t.Fatalf("edit: %q %v", got, err)
	}
	if f.calls[1] != "PATCH /channels/111/messages/901" {
		t.Errorf("edit went to %s", f.calls[1])
	}
	am = f.body(1)["allowed_mentions"].(map[string]any)
	if am["roles"] != nil || am["users"] != nil || fmt.Sprint(am["parse"]) != "[]" {
		t.Errorf("edit allowed_mentions = %v", am)
	}

	// A digest and its thread.
	dv := bot.View{Post: bot.Post{ID: 2, Kind: bot.Digest, ChannelID: "111"}, Groups: digestGroups(),
		Stats: bot.DigestStats{Groups: 4, Firing: [4]int{0, 0, 2, 1}, Resolved: 1}, Now: t0}
	mid, err := c.Publish(context.Background(), dv)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Штор🌩", 40)
	tid, err := c.StartThread(context.Background(), "111", mid, long)
	if err != nil || tid != "3000" {
		t.Fatalf("thread: %q %v", tid, err)
	}
	tb := f.body(3)
	if name := tb["name"].(string); runeLen(name) != MaxThreadName || tb["auto_archive_duration"] != float64(1440) {
		t.Errorf("thread body = %v", tb)
	}
	if f.calls[3] != "POST /channels/111/messages/"+mid+"/threads" {
		t.Errorf("thread went to %s", f.calls[3])
	}
}

func TestPublishPacesWithoutSending(t *testing.T) {
	// A server with Discord's 5 per 5 s per channel, in headers, answering
	// in memory inside a synctest bubble: time moves only when something
	// sleeps, so any wait of the pacer or of discordgo shows as elapsed time.
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		used := map[string]int{}
		answer := func(w http.ResponseWriter, r *http.Request, n int) {
			mu.Lock()
			used[r.URL.Path]++
			left := 5 - used[r.URL.Path]
			mu.Unlock()
			if left < 0 {
				w.Header().Set("X-RateLimit-Scope", "user")
				writeJSON(w, 429, `{"message":"You are being rate limited.","retry_after":0.3,"global":false}`)
				return
			}
			w.Header().Set("X-RateLimit-Limit", "5")
			w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(left))
			w.Header().Set("X-RateLimit-Reset-After", "0.300")
			w.Header().Set("X-RateLimit-Bucket", "msgcreate")
			okMessages(w, r, n)
		}
		c, f := newMemClient(t, answer)
		v := cardView()
		for i := range 5 {
			if _, err := c.Publish(context.Background(), v); err != nil {
				t.Fatalf("message %d: %v", i+1, err)
			}
		}
		start := time.Now()
		_, err := c.Publish(context.Background(), v)
		se := bot.AsSendError(err)
		if !se.Paced || se.Global || se.RetryAfter <= 0 || se.RetryAfter > 400*time.Millisecond {
			t.Fatalf("sixth message: %+v", se)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("a paced publish blocked for %s", d)
		}
		if f.count() != 5 {
			t.Fatalf("server saw %d requests, want 5 (paced one must not be sent)", f.count())
		}
		// Another channel is free.
		v2 := v
		v2.Post.ChannelID = "222"
		if _, err := c.Publish(context.Background(), v2); err != nil {
			t.Fatal(err)
		}

		// After the wait (fake time in the bubble), the bucket has reset on
		// both sides: no 429, and discordgo's own limiter does not sleep.
		time.Sleep(se.RetryAfter)
		mu.Lock()
		used = map[string]int{}
		mu.Unlock()
		start = time.Now()
		if _, err := c.Publish(context.Background(), v); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("publish after the wait took %s: something slept", d)
		}
	})
}

func TestErrorMapping(t *testing.T) {
	for _, c := range []struct {
		name      string
		edit      bool
		status    int
		body      string
		temporary bool
		code      int
		text      string // in the error message
	}{
		{"missing access", false, 403, `{"message":"Missing Access","code":50001}`, false, 50001, "Klaxon lacks access to channel 111"},
		{"missing permissions", false, 403, `{"message":"Missing Permissions","code":50013}`, false, 50013, "Embed Links"},
		{"unknown channel", false, 404, `{"message":"Unknown Channel","code":10003}`, false, 10003, "check the channel id"},
		{"unknown message", true, 404, `{"message":"Unknown Message","code":10008}`, false, 10008, "no longer exists"},
		{"DMs closed", false, 403, `{"message":"Cannot send messages to this user","code":50007}`, false, 50007, "direct messages"},
		{"invalid body", false, 400, `{"message":"Invalid Form Body","code":50035,"errors":{}}`, false, 50035, "invalid"},
		{"bad token", false, 401, `{"message":"401: Unauthorized","code":0}`, false, 0, "KLAXON_DISCORD_TOKEN"},
		{"server error", false, 500, `{"message":"Internal Server Error","code":0}`, true, 0, ""},
		{"bad gateway", false, 502, `<html>bad gateway</html>`, true, 0, ""},
		{"unavailable", true, 503, `upstream connect error`, true, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, f := newTestClient(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, c.status, c.body)
			}, nil)
			v := cardView()
			if c.edit {
				v.Post.MessageID = "901"
			}
			_, err := cl.Publish(context.Background(), v)
			var se *bot.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *bot.SendError", err, err)
			}
			if se.Status != c.status || se.Temporary != c.temporary || se.Code != c.code || se.Paced {
				t.Errorf("got status %d temporary %v code %d paced %v, want %d %v %d", se.Status, se.Temporary, se.Code, se.Paced, c.status, c.temporary, c.code)
			}
			// The core reads these fields, never the codes.
			gone := c.code == CodeUnknownChannel || c.code == CodeUnknownMessage
			if se.Gone != gone || se.MessageGone != (c.code == CodeUnknownMessage) || se.DMsClosed != (c.code == CodeCannotDM) {
				t.Errorf("got gone %v message gone %v DMs closed %v for code %d", se.Gone, se.MessageGone, se.DMsClosed, c.code)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q lacks %q", err, c.text)
			}
			if IsUnknownMessage(err) != (c.code == CodeUnknownMessage) {
				t.Errorf("IsUnknownMessage = %v", IsUnknownMessage(err))
			}
			if IsMissingAccess(err) != (c.status == 403 || c.code == CodeUnknownChannel) {
				t.Errorf("IsMissingAccess = %v", IsMissingAccess(err))
			}
			if f.count() != 1 {
				t.Errorf("%d requests: discordgo retried", f.count())
			}
			if !c.temporary {
				var rest *discordgo.RESTError
				if !errors.As(err, &rest) {
					t.Error("permanent error does not unwrap to *discordgo.RESTError")
				}
			}
		})
	}
}

func TestRateLimitedMapping(t *testing.T) {
	cl, f := newTestClient(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if strings.Contains(r.URL.Path, "/channels/111/") {
			w.Header().Set("X-RateLimit-Scope", "shared")
			writeJSON(w, 429, `{"message":"You are being rate limited.","retry_after":2.5,"global":false}`)
			return
		}
		okMessages(w, r, n)
	}, nil)
	_, err := cl.Publish(context.Background(), cardView())
	se := bot.AsSendError(err)
	if !se.Temporary || se.Status != 429 || se.RetryAfter != 2500*time.Millisecond || se.Global || se.Paced {
		t.Fatalf("429: %+v", se)
	}
	// The pacer holds the channel back now, without asking Discord.
	_, err = cl.Publish(context.Background(), cardView())
	if se := bot.AsSendError(err); !se.Paced || se.Global || se.RetryAfter < 2*time.Second {
		t.Fatalf("after the 429: %+v", se)
	}
	if f.count() != 1 {
		t.Fatalf("%d requests", f.count())
	}
	v := cardView()
	v.Post.ChannelID = "222"
	if _, err := cl.Publish(context.Background(), v); err != nil {
		t.Fatalf("other channel: %v", err)
	}
}

func TestGlobalRateLimitMapping(t *testing.T) {
	cl, f := newTestClient(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("X-RateLimit-Global", "true")
			w.Header().Set("X-RateLimit-Scope", "global")
			w.Header().Set("Retry-After", "2")
			writeJSON(w, 429, `{"message":"You are being rate limited.","retry_after":1.5,"global":true}`)
			return
		}
		okMessages(w, r, n)
	}, nil)
	_, err := cl.Publish(context.Background(), cardView())
	if se := bot.AsSendError(err); !se.Temporary || se.Status != 429 || !se.Global || se.RetryAfter < 1400*time.Millisecond {
		t.Fatalf("global 429: %+v", se)
	}
	v := cardView()
	v.Post.ChannelID = "222"
	_, err = cl.Publish(context.Background(), v)
	if se := bot.AsSendError(err); !se.Paced || !se.Global {
		t.Fatalf("other channel during a global pause: %+v", se)
	}
	if f.count() != 1 {
		t.Fatalf("%d requests", f.count())
	}
}

func TestTransportFailuresAreTemporary(t *testing.T) {
	release := make(chan struct{})
	cl, f := newTestClient(t, func(w http.ResponseWriter, r *http.Request, n int) {
		<-release
		okMessages(w, r, n)
	}, nil)
	defer close(release)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := cl.Publish(ctx, cardView())
	if se := bot.AsSendError(err); !se.Temporary || se.Paced || se.Status != 0 {
		t.Fatalf("timeout: %+v", se)
	}

	// A cancelled context sends nothing.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	before := f.count()
	v := cardView()
	v.Post.ChannelID = "333"
	if _, err := cl.Publish(cctx, v); !bot.AsSendError(err).Temporary {
		t.Fatalf("cancelled: %v", err)
	}
	if f.count() != before {
		t.Error("a cancelled publish was sent")
	}

	// Nobody listening.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	s, _ := NewSession("x", srv.URL+"/api/v10")
	dead := New(s, Options{})
	if _, err := dead.Publish(context.Background(), cardView()); !bot.AsSendError(err).Temporary {
		t.Fatalf("connection refused: %v", err)
	}
	// ...and the failed request does not hold its bucket.
	if _, err := dead.StartThread(context.Background(), "111", "5", "x"); bot.AsSendError(err).Paced {
		t.Fatal("thread route paced after a transport error")
	}
	if _, err := dead.StartThread(context.Background(), "111", "5", "x"); bot.AsSendError(err).Paced {
		t.Fatal("unknown route stuck in flight after a transport error")
	}
}

func TestStartThreadAlreadyExists(t *testing.T) {
	cl, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 400, `{"message":"A thread has already been created for this message","code":160004}`)
	}, nil)
	id, err := cl.StartThread(context.Background(), "111", "901", "storm")
	if err != nil || id != "901" {
		t.Fatalf("got %q %v, want the message id", id, err)
	}
}

func TestCheckAccess(t *testing.T) {
	cl, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/v10/channels/111":
			writeJSON(w, 200, `{"id":"111","type":0,"name":"alerts"}`)
		case "/api/v10/channels/222":
			writeJSON(w, 200, `{"id":"222","type":4,"name":"Ops"}`)
		default:
			writeJSON(w, 403, `{"message":"Missing Access","code":50001}`)
		}
	}, nil)
	ctx := context.Background()
	if err := cl.CheckAccess(ctx, "111"); err != nil {
		t.Errorf("text channel: %v", err)
	}
	if err := cl.CheckAccess(ctx, "222"); err == nil || !strings.Contains(err.Error(), "not a text channel") {
		t.Errorf("category: %v", err)
	}
	if err := cl.CheckAccess(ctx, "333"); err == nil || !strings.Contains(err.Error(), "lacks access to channel 333") {
		t.Errorf("no access: %v", err)
	}
	if err := cl.CheckAccess(ctx, "<#111>"); err == nil || !strings.Contains(err.Error(), "digits only") {
		t.Errorf("bad id: %v", err)
	}
}

func TestNewConfiguresForeignSession(t *testing.T) {
	s, _ := discordgo.New("Bot x")
	stub := &stubRT{}
	s.Client = &http.Client{Transport: stub}
	c := New(s, Options{})
	if s.ShouldRetryOnRateLimit || s.MaxRestRetries != 0 {
		t.Error("discordgo retrying left on")
	}
	tr, ok := s.Client.Transport.(*Transport)
	if !ok || tr.Pacer() != c.Pacer() {
		t.Fatal("pacer-observing transport not installed")
	}
	// Without a base URL it only observes: the URL is unchanged.
	if _, err := s.User("@me"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stub.urls[0], "https://discord.com/api/v9/users/@me") {
		t.Errorf("foreign transport got %s", stub.urls[0])
	}

	if _, err := NewSession(" ", ""); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := NewSession("x", "discord.com/api"); err == nil {
		t.Error("relative API URL accepted")
	}
	s2, err := NewSession("Bot abc", "")
	if err != nil || s2.Token != "Bot abc" || s2.Identify.Intents != Intents || s2.Client.Timeout != 20*time.Second {
		t.Errorf("NewSession: %v token %q intents %d", err, s2.Token, s2.Identify.Intents)
	}
}

func TestPublishRejectsBadViews(t *testing.T) {
	cl, f := newTestClient(t, okMessages, nil)
	v := cardView()
	v.Groups = nil
	if _, err := cl.Publish(context.Background(), v); err == nil || bot.AsSendError(err).Temporary {
		t.Errorf("card without group: %v", err)
	}
	v = cardView()
	v.Post.ChannelID = ""
	if _, err := cl.Publish(context.Background(), v); err == nil || bot.AsSendError(err).Temporary {
		t.Errorf("no channel: %v", err)
	}
	if f.count() != 0 {
		t.Error("bad views were sent")
	}
}
