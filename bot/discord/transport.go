package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/metrics"
)

// DefaultAPIBase is Discord's REST base URL, used when none is configured.
const DefaultAPIBase = "https://discord.com/api/v10"

// Transport is the http.RoundTripper Klaxon puts under discordgo. It
// rewrites the URLs discordgo builds (https://discord.com/api/v9/...) onto
// the configured REST base URL, and observes every response: metrics, and
// the rate-limit headers the Pacer learns from.
type Transport struct {
	base  *url.URL // nil: no rewriting
	next  http.RoundTripper
	pacer atomic.Pointer[Pacer]

	metrics atomic.Pointer[metrics.Metrics] // nil: counts nothing

	lastOK, last401 atomic.Int64 // Unix nanoseconds of the last accepted / refused token
}

// NewTransport returns a Transport sending requests to base (e.g.
// "http://127.0.0.1:1234/api/v10"; "" means DefaultAPIBase) through next
// (nil means http.DefaultTransport). The dynamic type of the result is
// *Transport.
func NewTransport(base string, next http.RoundTripper) (http.RoundTripper, error) {
	if base == "" {
		base = DefaultAPIBase
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("discord API URL %q: %w", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("discord API URL %q must be an absolute http(s) URL such as %s", base, DefaultAPIBase)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("discord API URL %q must not have a query or fragment", base)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &Transport{base: u, next: next}, nil
}

// Auth returns when Discord last accepted the token (any answer but 401)
// and when it last refused it; zero times for never.
func (t *Transport) Auth() (ok, refused time.Time) {
	unix := func(n int64) time.Time {
		if n == 0 {
			return time.Time{}
		}
		return time.Unix(0, n)
	}
	return unix(t.lastOK.Load()), unix(t.last401.Load())
}

// SetMetrics makes the transport count requests in m (nil: nowhere).
func (t *Transport) SetMetrics(m *metrics.Metrics) { t.metrics.Store(m) }

// SetPacer makes the transport report responses to p (nil: to nobody).
func (t *Transport) SetPacer(p *Pacer) { t.pacer.Store(p) }

// Pacer returns the pacer the transport reports to, or nil.
func (t *Transport) Pacer() *Pacer { return t.pacer.Load() }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	rel, ok := t.apiPath(req.URL)
	if !ok {
		return t.next.RoundTrip(req) // not a REST call (CDN, ...): leave it alone
	}
	out := req
	if t.base != nil && isDiscordHost(req.URL.Host) {
		out = req.Clone(req.Context())
		u := *t.base
		esc := strings.TrimRight(t.base.EscapedPath(), "/") + "/" + rel
		u.RawPath = esc
		if p, err := url.PathUnescape(esc); err == nil {
			u.Path = p
		} else {
			u.Path, u.RawPath = esc, ""
		}
		u.RawQuery = req.URL.RawQuery
		out.URL = &u
		out.Host = u.Host
	}

	route := RouteClass(req.Method, rel)
	res := reservationFrom(req.Context())
	if res != nil {
		res.sent.Store(true)
	}
	p := t.pacer.Load()
	m := t.metrics.Load()

	resp, err := t.next.RoundTrip(out)
	if err != nil {
		m.DiscordRequest(route, "error")
		if p != nil {
			p.Observe(Response{Method: req.Method, Path: rel, Reserved: res != nil}, p.Now())
		}
		return nil, err
	}
	m.DiscordRequest(route, strconv.Itoa(resp.StatusCode))
	if resp.StatusCode != http.StatusUnauthorized {
		m.DiscordAuthOK()
		t.lastOK.Store(time.Now().UnixNano())
	} else {
		t.last401.Store(time.Now().UnixNano())
	}
	var body []byte
	if resp.StatusCode == http.StatusTooManyRequests {
		m.DiscordRateLimit(route, rateLimitScope(resp.Header))
		// 429 bodies are small; read one so the pacer can use retry_after,
		// and hand discordgo an identical copy.
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	if p != nil {
		p.Observe(Response{
			Method: req.Method, Path: rel, Reserved: res != nil,
			Status: resp.StatusCode, Header: resp.Header, Body: body,
		}, p.Now())
	}
	return resp, nil
}

// apiPath returns the part of a REST URL after the API root and version,
// escaped, e.g. "channels/1/messages", and whether u is a REST URL at all.
func (t *Transport) apiPath(u *url.URL) (string, bool) {
	p := u.EscapedPath()
	switch {
	case isDiscordHost(u.Host) && strings.HasPrefix(p, "/api/"):
		return stripVersion(strings.TrimPrefix(p, "/api/")), true
	case t.base != nil && u.Host == t.base.Host:
		prefix := strings.TrimRight(t.base.EscapedPath(), "/") + "/"
		if strings.HasPrefix(p, prefix) {
			return stripVersion(strings.TrimPrefix(p, prefix)), true
		}
	}
	return "", false
}

func isDiscordHost(h string) bool {
	h = strings.ToLower(h)
	return h == "discord.com" || h == "discordapp.com" || h == "www.discord.com"
}

// stripVersion removes a leading "v9/"-style version segment.
func stripVersion(p string) string {
	if len(p) > 1 && p[0] == 'v' {
		i := 1
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		if i > 1 && (i == len(p) || p[i] == '/') {
			return strings.TrimPrefix(p[i:], "/")
		}
	}
	return p
}

func rateLimitScope(h http.Header) string {
	switch s := strings.ToLower(h.Get("X-RateLimit-Scope")); s {
	case "user", "global", "shared":
		return s
	case "":
		if strings.EqualFold(h.Get("X-RateLimit-Global"), "true") {
			return "global"
		}
		return "user"
	default:
		return "other"
	}
}

// RouteClass names the kind of REST call for metrics: a fixed, low-cardinality
// name such as "messages.create", never an id. path is relative to the API
// root ("channels/1/messages"); a full URL or "/api/v9/..." path also works.
func RouteClass(method, path string) string {
	seg := splitPath(path)
	if len(seg) == 0 {
		return "other"
	}
	switch seg[0] {
	case "channels":
		switch {
		case len(seg) == 2:
			return "channels"
		case len(seg) == 3 && seg[2] == "messages":
			if method == http.MethodPost {
				return "messages.create"
			}
			return "messages.list"
		case len(seg) == 4 && seg[2] == "messages":
			switch method {
			case http.MethodPatch:
				return "messages.edit"
			case http.MethodDelete:
				return "messages.delete"
			default:
				return "messages.get"
			}
		case len(seg) >= 5 && seg[2] == "messages" && seg[4] == "threads":
			return "threads.create"
		case len(seg) >= 5 && seg[2] == "messages" && seg[4] == "reactions":
			return "reactions"
		case len(seg) == 3 && seg[2] == "threads" && method == http.MethodPost:
			return "threads.create"
		case len(seg) >= 3 && seg[2] == "thread-members":
			return "threads.members"
		}
		return "channels"
	case "interactions":
		return "interactions.callback"
	case "webhooks":
		return "webhooks"
	case "users":
		return "users"
	case "guilds":
		return "guilds"
	case "applications":
		for _, s := range seg {
			if s == "commands" {
				return "commands"
			}
		}
		return "applications"
	case "gateway":
		return "gateway"
	}
	return "other"
}

// splitPath returns the segments of a REST path relative to the API root.
func splitPath(path string) []string {
	if i := strings.Index(path, "://"); i >= 0 {
		if u, err := url.Parse(path); err == nil {
			path = u.EscapedPath()
		}
	}
	path, _, _ = strings.Cut(path, "?")
	path = strings.Trim(path, "/")
	if rest, ok := strings.CutPrefix(path, "api/"); ok {
		path = stripVersion(rest)
	} else if path == "api" {
		path = ""
	}
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// reservation marks a request the Client reserved a pacer slot for; the
// transport flags it as sent when it reaches the wire.
type reservation struct {
	sent atomic.Bool
}

type reservationKey struct{}

func withReservation(ctx context.Context, r *reservation) context.Context {
	return context.WithValue(ctx, reservationKey{}, r)
}

func reservationFrom(ctx context.Context) *reservation {
	r, _ := ctx.Value(reservationKey{}).(*reservation)
	return r
}

// Dialled rewrites the URL in a transport error (*url.Error, as
// http.Client returns it) from the one discordgo built
// (https://discord.com/api/v9/...) to the one s's Transport dialled, so
// that an error names the address that failed. Other errors are returned
// as they are.
func Dialled(s *discordgo.Session, err error) error {
	var ue *url.Error
	if err == nil || s == nil || s.Client == nil || !errors.As(err, &ue) {
		return err
	}
	t, ok := s.Client.Transport.(*Transport)
	if !ok {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return err
	}
	d := t.dialled(u)
	if d == ue.URL {
		return err
	}
	if ue == err {
		return &url.Error{Op: ue.Op, URL: d, Err: ue.Err}
	}
	return &rewritten{text: strings.ReplaceAll(err.Error(), ue.URL, d), err: err}
}

// rewritten is an error whose text names the dialled URL; it unwraps to
// the original.
type rewritten struct {
	text string
	err  error
}

func (r *rewritten) Error() string { return r.text }
func (r *rewritten) Unwrap() error { return r.err }

// dialled returns the URL RoundTrip sends u to, as a string.
func (t *Transport) dialled(u *url.URL) string {
	rel, ok := t.apiPath(u)
	if !ok || t.base == nil || !isDiscordHost(u.Host) {
		return u.String()
	}
	d := *t.base
	esc := strings.TrimRight(t.base.EscapedPath(), "/") + "/" + rel
	d.RawPath = esc
	if p, err := url.PathUnescape(esc); err == nil {
		d.Path = p
	} else {
		d.Path, d.RawPath = esc, ""
	}
	d.RawQuery = u.RawQuery
	return d.String()
}
