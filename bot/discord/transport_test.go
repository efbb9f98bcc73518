package discord

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marola-rp/klaxon/bot/metrics"
)

// recorder is an httptest server standing in for Discord that records what
// it was asked.
type recorder struct {
	mu   sync.Mutex
	uris []string
	auth []string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.uris = append(rc.uris, r.Method+" "+r.URL.RequestURI())
	rc.auth = append(rc.auth, r.Header.Get("Authorization"))
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages") && r.Method == http.MethodGet:
		io.WriteString(w, `[]`)
	case r.Method == http.MethodPut:
		w.WriteHeader(http.StatusNoContent)
	default:
		io.WriteString(w, `{"id":"1","channel_id":"2"}`)
	}
}

func (rc *recorder) last() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.uris[len(rc.uris)-1]
}

func TestTransportRewritesOntoBase(t *testing.T) {
	for _, prefix := range []string{"/api/v10", "/some/proxy/api/v10/"} {
		rc := &recorder{}
		srv := httptest.NewServer(rc)
		s, err := NewSession("Bot secret", srv.URL+prefix)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimRight(prefix, "/")
		if _, err := s.ChannelMessageSend("123", "hi"); err != nil {
			t.Fatal(err)
		}
		if got := rc.last(); got != "POST "+want+"/channels/123/messages" {
			t.Errorf("create: %s", got)
		}
		if _, err := s.ChannelMessages("123", 5, "", "", ""); err != nil {
			t.Fatal(err)
		}
		if got := rc.last(); got != "GET "+want+"/channels/123/messages?limit=5" {
			t.Errorf("list with query: %s", got)
		}
		if err := s.MessageReactionAdd("123", "456", "👍"); err != nil {
			t.Fatal(err)
		}
		if got := rc.last(); got != "PUT "+want+"/channels/123/messages/456/reactions/%F0%9F%91%8D/@me" {
			t.Errorf("escaped path: %s", got)
		}
		if _, err := s.User("@me"); err != nil {
			t.Fatal(err)
		}
		if got := rc.last(); got != "GET "+want+"/users/@me" {
			t.Errorf("user: %s", got)
		}
		if rc.auth[0] != "Bot secret" {
			t.Errorf("authorization %q", rc.auth[0])
		}
		srv.Close()
	}
}

type stubRT struct{ urls []string }

func (s *stubRT) RoundTrip(r *http.Request) (*http.Response, error) {
	s.urls = append(s.urls, r.URL.String()+" host="+r.Host)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func TestTransportURLs(t *testing.T) {
	stub := &stubRT{}
	rt, err := NewTransport("http://127.0.0.1:1234/api/v10", stub)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{"https://discord.com/api/v9/channels/1/messages?x=1", "http://127.0.0.1:1234/api/v10/channels/1/messages?x=1 host=127.0.0.1:1234"},
		{"https://discord.com/api/v10/gateway", "http://127.0.0.1:1234/api/v10/gateway host=127.0.0.1:1234"},
		{"https://discord.com/api/oauth2/applications/@me", "http://127.0.0.1:1234/api/v10/oauth2/applications/@me host=127.0.0.1:1234"},
		{"https://cdn.discordapp.com/avatars/1/a.png", "https://cdn.discordapp.com/avatars/1/a.png host=cdn.discordapp.com"},
		{"http://127.0.0.1:1234/api/v10/users/@me", "http://127.0.0.1:1234/api/v10/users/@me host=127.0.0.1:1234"},
	} {
		req, _ := http.NewRequest("GET", c.in, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := stub.urls[len(stub.urls)-1]; got != c.want {
			t.Errorf("%s -> %s, want %s", c.in, got, c.want)
		}
		if req.URL.String() != c.in {
			t.Errorf("caller's request modified: %s", req.URL)
		}
	}

	for _, bad := range []string{"ftp://x/api", "127.0.0.1:1234", "/api/v10", "http://h/api?x=1", "http://[::1"} {
		if _, err := NewTransport(bad, nil); err == nil {
			t.Errorf("NewTransport(%q) accepted", bad)
		}
	}
	if tr, err := NewTransport("", nil); err != nil || tr.(*Transport).base.String() != DefaultAPIBase {
		t.Errorf("default base: %v %v", tr, err)
	}
}

func TestTransportMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v10/channels/5/messages":
			w.Header().Set("X-RateLimit-Scope", "shared")
			w.WriteHeader(429)
			io.WriteString(w, `{"message":"rate limited","retry_after":0.5,"global":false}`)
		case "/api/v10/users/@me":
			w.WriteHeader(401)
			io.WriteString(w, `{"message":"401: Unauthorized","code":0}`)
		default:
			io.WriteString(w, `{"id":"1"}`)
		}
	}))
	defer srv.Close()
	rt, _ := NewTransport(srv.URL+"/api/v10", nil)
	p := NewPacer(PacerOptions{})
	rt.(*Transport).SetPacer(p)
	mx := metrics.New(nil)
	rt.(*Transport).SetMetrics(mx)
	client := &http.Client{Transport: rt}

	created := testutil.ToFloat64(mx.DiscordRequests.WithLabelValues("messages.create", "429"))
	limited := testutil.ToFloat64(mx.DiscordRateLimited.WithLabelValues("messages.create", "shared"))
	mx.DiscordLastAuth.Set(0)

	resp, err := client.Post("https://discord.com/api/v9/channels/5/messages", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "retry_after") {
		t.Errorf("429 body not passed on: %q", body)
	}
	if d := testutil.ToFloat64(mx.DiscordRequests.WithLabelValues("messages.create", "429")) - created; d != 1 {
		t.Errorf("requests counter moved by %v", d)
	}
	if d := testutil.ToFloat64(mx.DiscordRateLimited.WithLabelValues("messages.create", "shared")) - limited; d != 1 {
		t.Errorf("rate-limited counter moved by %v", d)
	}
	if testutil.ToFloat64(mx.DiscordLastAuth) == 0 {
		t.Error("last auth not set by a non-401 answer")
	}
	// The pacer learned the 429.
	if w := p.Reserve("POST", "channels/5/messages", p.Now()); w == 0 {
		t.Error("pacer did not learn the 429")
	}

	mx.DiscordLastAuth.Set(0)
	resp, err = client.Get("https://discord.com/api/v9/users/@me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if testutil.ToFloat64(mx.DiscordLastAuth) != 0 {
		t.Error("a 401 set last auth")
	}
}

func TestRouteClass(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"POST", "channels/1/messages", "messages.create"},
		{"PATCH", "/api/v9/channels/1/messages/2", "messages.edit"},
		{"DELETE", "channels/1/messages/2", "messages.delete"},
		{"POST", "https://discord.com/api/v9/channels/1/messages/2/threads", "threads.create"},
		{"POST", "channels/1/threads", "threads.create"},
		{"PUT", "channels/1/messages/2/reactions/x/@me", "reactions"},
		{"GET", "channels/1", "channels"},
		{"POST", "interactions/1/tok/callback", "interactions.callback"},
		{"PATCH", "webhooks/1/tok/messages/@original", "webhooks"},
		{"GET", "users/@me", "users"},
		{"PUT", "applications/1/commands", "commands"},
		{"PUT", "applications/1/guilds/2/commands", "commands"},
		{"GET", "gateway/bot", "gateway"},
		{"GET", "sticker-packs", "other"},
		{"GET", "", "other"},
	} {
		if got := RouteClass(c.method, c.path); got != c.want {
			t.Errorf("RouteClass(%s %s) = %s, want %s", c.method, c.path, got, c.want)
		}
	}
}
