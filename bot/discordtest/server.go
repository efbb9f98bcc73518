// Package discordtest is an in-process fake of the Discord REST API and
// gateway, in the spirit of net/http/httptest. The real discordgo client is
// pointed at it (see Server.NewSession / Server.Transport); every request is
// checked against Discord's OpenAPI description and the documented limits,
// rate limits are enforced with an injectable clock, and the resulting state
// (messages, threads, interaction responses, …) can be inspected by tests.
package discordtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Addr, when set, is the loopback address to listen on (e.g.
	// "127.0.0.1:8089"); default is a random port on 127.0.0.1.
	Addr string
	// Now is the clock used for rate limits, snowflakes and timestamps.
	// Default time.Now. Interaction deadlines always use real time.
	Now func() time.Time
	// NoRateLimits disables rate-limit enforcement (headers are still sent).
	NoRateLimits bool
	// ChannelMessageLimit / ChannelMessageWindow bound message creates (and,
	// in a separate bucket, message edits) per channel. Default 5 per 5s.
	ChannelMessageLimit  int
	ChannelMessageWindow time.Duration
	// NonceWindow is how long a nonce sent with enforce_nonce dedupes
	// message creates (Discord: "the past few minutes"). Default
	// DefaultNonceWindow.
	NonceWindow time.Duration
	// GlobalLimit is the number of bot requests allowed per second. Default 50.
	GlobalLimit int
	// RouteLimit is the per-route, per-major-parameter limit applied to all
	// other routes, per second. Default 50.
	RouteLimit int
	// InteractionDeadline is how long the bot has to answer an interaction.
	// Default 3s (real time).
	InteractionDeadline time.Duration
	// Token, when set, is the only bot token accepted (with or without the
	// "Bot " prefix). Any token is accepted otherwise.
	Token string
	// OnViolation is called for every spec, limit or protocol violation
	// (pass t.Error). Violations are also kept, see Server.Violations.
	OnViolation func(error)
	// Logf, when set, receives debug logging.
	Logf func(format string, args ...any)
	// BotUserID, BotUsername and ApplicationID default to generated values
	// ("discordtest-bot"; ApplicationID == BotUserID as on Discord).
	BotUserID     string
	BotUsername   string
	ApplicationID string
	// HeartbeatInterval sent in the gateway Hello. Default 41.25s.
	HeartbeatInterval time.Duration
}

// Server is a fake Discord. Create it with New or NewOnAddr and Close it.
type Server struct {
	opts Options
	spec *spec
	hs   *httptest.Server
	tr   *http.Transport

	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup // gateway connections, timers

	notifyMu sync.Mutex
	notifyCh chan struct{} // closed and replaced on every state change

	mu sync.Mutex // guards everything below and in state
	st state
	rl rateLimiter
	gw gateway
}

// New starts a fake Discord on 127.0.0.1 (or opts.Addr). It panics if the
// listener cannot be created; use NewOnAddr to get the error instead.
func New(opts Options) *Server {
	s, err := NewOnAddr(opts.Addr, opts)
	if err != nil {
		panic(err)
	}
	return s
}

// NewOnAddr starts a fake Discord listening on addr ("" = random loopback
// port). Useful for standalone processes that need a fixed port.
func NewOnAddr(addr string, opts Options) (*Server, error) {
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("discordtest: listen %s: %w", addr, err)
	}
	opts.Addr = ln.Addr().String()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ChannelMessageLimit <= 0 {
		opts.ChannelMessageLimit = 5
	}
	if opts.ChannelMessageWindow <= 0 {
		opts.ChannelMessageWindow = 5 * time.Second
	}
	if opts.NonceWindow <= 0 {
		opts.NonceWindow = DefaultNonceWindow
	}
	if opts.GlobalLimit <= 0 {
		opts.GlobalLimit = 50
	}
	if opts.RouteLimit <= 0 {
		opts.RouteLimit = 50
	}
	if opts.InteractionDeadline <= 0 {
		opts.InteractionDeadline = 3 * time.Second
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "discordtest-bot"
	}
	s := &Server{
		opts:     opts,
		spec:     sp,
		closing:  make(chan struct{}),
		notifyCh: make(chan struct{}),
	}
	s.st.init()
	s.rl.init()
	s.gw.init()
	if opts.BotUserID == "" {
		s.opts.BotUserID = s.st.nextID(opts.Now())
	}
	if s.opts.ApplicationID == "" {
		s.opts.ApplicationID = s.opts.BotUserID
	}
	s.st.users[s.opts.BotUserID] = &User{ID: s.opts.BotUserID, Username: s.opts.BotUsername, Bot: true}

	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.hs.Listener.Close()
	s.hs.Listener = ln
	s.hs.Start()
	s.tr = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	return s, nil
}

// Close stops the server, closes gateway connections and stops timers.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.closeGateway()
		s.mu.Lock()
		for _, in := range s.st.interactions {
			if in.timer != nil && in.timer.Stop() {
				s.wg.Done()
			}
		}
		s.mu.Unlock()
		s.hs.CloseClientConnections()
		s.hs.Close()
		s.tr.CloseIdleConnections()
		s.wg.Wait()
		s.notify()
	})
}

// URL is the base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.hs.URL }

// APIBase is URL()+"/api/v10".
func (s *Server) APIBase() string { return s.hs.URL + "/api/v10" }

// GatewayURL is the websocket URL handed out by GET /gateway.
func (s *Server) GatewayURL() string { return "ws://" + s.hs.Listener.Addr().String() }

// BotUserID is the bot user's id; ApplicationID the application's id.
func (s *Server) BotUserID() string     { return s.opts.BotUserID }
func (s *Server) ApplicationID() string { return s.opts.ApplicationID }

// Now returns the server clock's current time.
func (s *Server) Now() time.Time { return s.opts.Now() }

// discordHosts are rewritten to the fake by Transport.
var discordHosts = map[string]bool{
	"discord.com": true, "www.discord.com": true, "canary.discord.com": true,
	"ptb.discord.com": true, "discordapp.com": true, "cdn.discordapp.com": true,
	"media.discordapp.net": true,
}

type rewriteTransport struct {
	s *Server
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	host := strings.ToLower(r.URL.Hostname())
	if discordHosts[host] {
		r2 := r.Clone(r.Context())
		r2.URL.Scheme = "http"
		r2.URL.Host = t.s.hs.Listener.Addr().String()
		r2.Host = ""
		return t.s.tr.RoundTrip(r2)
	}
	return t.s.tr.RoundTrip(r)
}

// Transport returns a RoundTripper that sends requests for discord.com (and
// the other Discord hosts) to this server, keeping the path. Requests for
// other hosts are sent unchanged.
func (s *Server) Transport() http.RoundTripper { return rewriteTransport{s} }

// Client returns an *http.Client using Transport.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 20 * time.Second}
}

// NewSession returns a discordgo session whose HTTP client talks to this
// server. A missing "Bot " prefix is added to token. All other discordgo
// defaults are kept; set your own options on the result.
func (s *Server) NewSession(token string) (*discordgo.Session, error) {
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	dg, err := discordgo.New(token)
	if err != nil {
		return nil, err
	}
	dg.Client = &http.Client{Transport: s.Transport(), Timeout: 20 * time.Second}
	return dg, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf("discordtest: "+format, args...)
	}
}

// notify wakes every Await/WaitFor.
func (s *Server) notify() {
	s.notifyMu.Lock()
	close(s.notifyCh)
	s.notifyCh = make(chan struct{})
	s.notifyMu.Unlock()
}

func (s *Server) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notifyCh
}

func bucketHash(class string) string {
	sum := sha256.Sum256([]byte("discordtest/" + class))
	return hex.EncodeToString(sum[:16])
}
