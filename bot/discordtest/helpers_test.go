package discordtest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

type env struct {
	srv     *Server
	dg      *discordgo.Session
	guild   string
	channel string
	forum   string
	user    string
	role    string
}

// newEnv starts a fake with one guild, a text channel, a forum, a user
// with a role, and a discordgo session. Unexpected violations fail the
// test unless opts.OnViolation is set.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	if opts.OnViolation == nil {
		opts.OnViolation = func(err error) { t.Errorf("unexpected violation: %v", err) }
	}
	s := New(opts)
	t.Cleanup(s.Close)
	e := &env{srv: s}
	e.guild = s.AddGuild("ops")
	e.channel = s.AddChannel(e.guild, "incidents", discordgo.ChannelTypeGuildText)
	e.forum = s.AddChannel(e.guild, "postmortems", discordgo.ChannelTypeGuildForum)
	e.user = s.AddUser("alice")
	e.role = s.AddRole(e.guild, "oncall")
	s.AddMember(e.guild, e.user, e.role)
	dg, err := s.NewSession("Bot test-token")
	if err != nil {
		t.Fatal(err)
	}
	e.dg = dg
	return e
}

func restErr(t *testing.T, err error) *discordgo.RESTError {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("want *discordgo.RESTError, got %T %v", err, err)
	}
	return re
}

// raw sends a request through the fake's transport as if to discord.com.
func raw(t *testing.T, s *Server, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "https://discord.com/api/v10"+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot test-token")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 32)...)

func wait(t *testing.T, s *Server, what string, cond func() bool) {
	t.Helper()
	if !s.Await(10*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// checkResponse validates a response body against the schema the OpenAPI
// description gives for the route's 200 answer.
func checkResponse(t *testing.T, s *Server, method, route string, body []byte) {
	t.Helper()
	frag := pointer("paths", route, strings.ToLower(method), "responses", "200", "content", "application/json", "schema")
	sch, err := s.spec.compile(frag)
	if err != nil {
		t.Fatalf("compile response schema of %s %s: %v", method, route, err)
	}
	for _, fe := range validateJSON(sch, body) {
		t.Errorf("%s %s answer does not match Discord's description: %s", method, route, fe)
	}
}

// apiErrorBody is Discord's JSON error body.
type apiErrorBody struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors"`
}

// collect records violations instead of failing the test.
type collect struct {
	mu   sync.Mutex
	errs []error
}

func (c *collect) add(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

func (c *collect) list() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.errs)
}
