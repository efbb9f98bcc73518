package discord

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Pacing constants.
const (
	// DefaultGlobalRate is how many requests per second the pacer allows over
	// all routes: Discord allows 50, we keep a margin.
	DefaultGlobalRate = 45
	// unknownWait is the wait reported for a route whose limits are not
	// known yet while its first request is in flight.
	unknownWait = 250 * time.Millisecond
	// inflightTimeout forgets a reservation whose response never came.
	inflightTimeout = 30 * time.Second
	// resetSlack is added to reset times learned from headers, so that
	// discordgo's own rate limiter (which computes the same reset a moment
	// later) has always reset when the pacer lets a request through.
	resetSlack = 25 * time.Millisecond
	// maxBuckets triggers a sweep of idle buckets.
	maxBuckets = 1024
)

// PacerOptions configures a Pacer.
type PacerOptions struct {
	Now        func() time.Time // default time.Now
	GlobalRate int              // requests in any one second; default DefaultGlobalRate
}

// Pacer keeps Klaxon within Discord's rate limits without ever sleeping: a
// sender asks Reserve before each request and, when told to wait, puts the
// work back instead of sending. Responses (seen by Transport) teach it the
// real limits. Buckets are keyed like Discord's: by route and major
// parameter (channel, guild, webhook, interaction), shared between routes
// that report the same X-RateLimit-Bucket hash. A Pacer is safe for
// concurrent use.
type Pacer struct {
	now  func() time.Time
	rate int

	mu          sync.Mutex
	hashes      map[string]string  // route -> bucket hash learned from headers
	buckets     map[string]*bucket // hash-or-route "|" major -> state
	globalUntil time.Time          // a global 429 pauses everything until then
	priorUntil  time.Time          // windows of an earlier process may still be open until then
	lastLimited time.Time          // the last request granted on a route with default limits
	sent        []time.Time        // ring of the last `rate` send times
	head        int                // oldest entry of sent once it is full
}

type bucket struct {
	limit        int           // requests per window; 0: unknown
	remaining    int           // requests left in the current window
	resetAt      time.Time     // when the window ends
	period       time.Duration // longest window seen, used to guess the next
	blockedUntil time.Time     // a 429 forbids requests until then
	inflight     int           // reserved requests not answered yet
	inflightAt   time.Time     // when the last one was reserved
	used         time.Time
}

// NewPacer returns a Pacer.
func NewPacer(opt PacerOptions) *Pacer {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.GlobalRate <= 0 {
		opt.GlobalRate = DefaultGlobalRate
	}
	return &Pacer{
		now: opt.Now, rate: opt.GlobalRate,
		hashes: map[string]string{}, buckets: map[string]*bucket{},
	}
}

// PriorTraffic tells a new pacer when an earlier process last sent to
// Discord. Discord's per-channel windows outlive a restart: until the
// longest default window after last has passed, a route with default limits
// is treated as used up, so that a restart right after a burst draws no 429.
// Routes without default limits (interaction responses among them) are not
// held.
func (p *Pacer) PriorTraffic(last time.Time) {
	if last.IsZero() {
		return
	}
	_, period, _ := defaultLimit("POST channels/:major/messages")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.priorUntil = later(p.priorUntil, last.Add(period+resetSlack))
}

// LastLimited is when the pacer last let a request through on a route with
// default limits (message creates and edits): what a successor process
// passes to PriorTraffic. Zero when there was none.
func (p *Pacer) LastLimited() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastLimited
}

// Now reads the pacer's clock.
func (p *Pacer) Now() time.Time { return p.now() }

// Reserve asks to send method to path (a REST path such as
// "channels/1/messages", "/api/v9/channels/1/messages" or a full URL) at
// now. It returns 0 and takes a slot when the route's bucket and the global
// limit both have room, and otherwise how long until one frees, taking
// nothing.
func (p *Pacer) Reserve(method, path string, now time.Time) (wait time.Duration) {
	wait, _ = p.Take(method, path, now)
	return wait
}

// Take is Reserve that also says whether the global limit is what holds the
// request back (then every route must wait, not just this one).
func (p *Pacer) Take(method, path string, now time.Time) (wait time.Duration, global bool) {
	route, major, exempt := bucketRoute(method, path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buckets) > maxBuckets {
		p.sweep(now)
	}
	var gw time.Duration
	if !exempt {
		gw = p.globalWait(now)
	}
	b := p.lookup(route, major, now)
	bw := b.wait(now)
	if gw > 0 || bw > 0 {
		return max(gw, bw), gw > 0
	}
	if b.limit > 0 {
		b.remaining--
	}
	if _, _, ok := defaultLimit(route); ok {
		p.lastLimited = later(p.lastLimited, now)
	}
	b.inflight++
	b.inflightAt, b.used = now, now
	if !exempt {
		p.record(now)
	}
	return 0, false
}

// Cancel gives back the in-flight mark of a reservation whose request never
// reached the wire. The slot itself stays used: that is only conservative.
func (p *Pacer) Cancel(method, path string, now time.Time) {
	route, major, _ := bucketRoute(method, path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.lookup(route, major, now); b.inflight > 0 {
		b.inflight--
	}
}

// GlobalWait returns how long a global pause or the global rate holds every
// request back at now.
func (p *Pacer) GlobalWait(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.globalWait(now)
}

// GlobalPause returns how long a global 429 still pauses every request.
func (p *Pacer) GlobalPause(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.globalUntil.Sub(now), 0)
}

// Response is what the pacer learns from one REST answer.
type Response struct {
	Method, Path string
	Reserved     bool        // the request took a slot with Reserve
	Status       int         // 0: transport error, no answer
	Header       http.Header // the X-RateLimit-* headers are read
	Body         []byte      // a 429's body, for retry_after and global
}

// Observe updates the pacer from a response received at now.
func (p *Pacer) Observe(r Response, now time.Time) {
	route, major, exempt := bucketRoute(r.Method, r.Path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !r.Reserved && !exempt && r.Status != 0 {
		p.record(now) // sent behind our back (e.g. directly through the session)
	}
	b := p.lookup(route, major, now)
	if r.Reserved && b.inflight > 0 {
		b.inflight--
	}
	if r.Status == 0 {
		return
	}
	h := r.Header
	if h == nil {
		h = http.Header{}
	}
	if hash := h.Get("X-RateLimit-Bucket"); hash != "" && p.hashes[route] != hash {
		p.hashes[route] = hash
		b = p.lookup(route, major, now) // moves b under the hash, or merges
	}

	remaining, okRem := atoi(h.Get("X-RateLimit-Remaining"))
	resetAfter, okReset := seconds(h.Get("X-RateLimit-Reset-After"))
	if okRem && okReset {
		if limit, ok := atoi(h.Get("X-RateLimit-Limit")); ok && limit > 0 {
			b.limit = limit
		} else if b.limit < remaining+1 {
			b.limit = remaining + 1
		}
		// Our other requests still in flight may not be counted yet.
		b.remaining = max(remaining-b.inflight, 0)
		b.resetAt = now.Add(resetAfter + resetSlack)
		b.period = max(b.period, resetAfter)
	}

	if r.Status == http.StatusTooManyRequests {
		var body struct {
			RetryAfter *float64 `json:"retry_after"`
			Global     bool     `json:"global"`
		}
		_ = json.Unmarshal(r.Body, &body)
		var wait time.Duration
		switch {
		case body.RetryAfter != nil:
			wait = time.Duration(*body.RetryAfter * float64(time.Second))
		default:
			var ok bool
			if wait, ok = seconds(h.Get("Retry-After")); !ok {
				if wait, ok = seconds(h.Get("X-RateLimit-Reset-After")); !ok {
					wait = time.Second
				}
			}
		}
		until := now.Add(wait + resetSlack)
		if body.Global || strings.EqualFold(h.Get("X-RateLimit-Global"), "true") ||
			strings.EqualFold(h.Get("X-RateLimit-Scope"), "global") {
			if until.After(p.globalUntil) {
				p.globalUntil = until
			}
			return
		}
		b.remaining = 0
		if until.After(b.blockedUntil) {
			b.blockedUntil = until
		}
	}
}

// lookup returns the bucket of route and major, creating it with Discord's
// default limits when new.
func (p *Pacer) lookup(route, major string, now time.Time) *bucket {
	rkey := "route:" + route + "|" + major
	key := rkey
	if hash, ok := p.hashes[route]; ok {
		key = hash + "|" + major
		if old, ok := p.buckets[rkey]; ok {
			// Learned the hash: the route's state moves under it, merging
			// with a route that shares it.
			delete(p.buckets, rkey)
			if cur, ok := p.buckets[key]; ok {
				cur.inflight += old.inflight
				cur.remaining = min(cur.remaining, old.remaining)
				cur.blockedUntil = later(cur.blockedUntil, old.blockedUntil)
				return cur
			}
			p.buckets[key] = old
			return old
		}
	}
	if b, ok := p.buckets[key]; ok {
		return b
	}
	b := &bucket{used: now}
	if limit, period, ok := defaultLimit(route); ok {
		b.limit, b.remaining, b.period = limit, limit, period
		b.resetAt = now.Add(period)
		if now.Before(p.priorUntil) {
			// An earlier process (before a crash or restart) may have
			// used this window up: wait for it to end.
			b.remaining, b.resetAt = 0, p.priorUntil
		}
	}
	p.buckets[key] = b
	return b
}

// wait is how long until b has room at now; it refills a finished window.
func (b *bucket) wait(now time.Time) time.Duration {
	if b.inflight > 0 && now.Sub(b.inflightAt) > inflightTimeout {
		b.inflight = 0
	}
	if now.Before(b.blockedUntil) {
		return b.blockedUntil.Sub(now)
	}
	if b.limit == 0 {
		// Unknown limits: one request at a time until headers tell.
		if b.inflight > 0 {
			return unknownWait
		}
		return 0
	}
	if !now.Before(b.resetAt) {
		// A new window; its real end comes with the next response's headers.
		b.remaining = b.limit
		b.resetAt = now.Add(b.period)
	}
	if b.remaining > 0 {
		return 0
	}
	return max(b.resetAt.Sub(now), time.Millisecond)
}

func (p *Pacer) globalWait(now time.Time) time.Duration {
	if now.Before(p.globalUntil) {
		return p.globalUntil.Sub(now)
	}
	if len(p.sent) < p.rate {
		return 0
	}
	if d := p.sent[p.head].Add(time.Second).Sub(now); d > 0 {
		return d
	}
	return 0
}

func (p *Pacer) record(now time.Time) {
	if len(p.sent) < p.rate {
		p.sent = append(p.sent, now)
		return
	}
	p.sent[p.head] = now
	p.head = (p.head + 1) % p.rate
}

// sweep forgets buckets idle for a while.
func (p *Pacer) sweep(now time.Time) {
	for k, b := range p.buckets {
		if b.inflight == 0 && now.Sub(b.used) > 10*time.Minute && now.After(b.resetAt) && now.After(b.blockedUntil) {
			delete(p.buckets, k)
		}
	}
}

// defaultLimit is Discord's documented limit for routes we pace before the
// first response: 5 messages per 5 s per channel, created or edited.
func defaultLimit(route string) (int, time.Duration, bool) {
	switch route {
	case "POST channels/:major/messages", "PATCH channels/:major/messages/:id":
		return 5, 5 * time.Second, true
	}
	return 0, 0, false
}

// bucketRoute returns the route template of a request (method and path with
// ids replaced), its major parameter, and whether Discord exempts it from
// the global limit (interaction responses and follow-ups).
func bucketRoute(method, path string) (route, major string, exempt bool) {
	seg := splitPath(path)
	tmpl := make([]string, len(seg))
	for i, s := range seg {
		switch {
		case i == 1 && (seg[0] == "channels" || seg[0] == "guilds"):
			major, tmpl[i] = seg[0]+":"+s, ":major"
		case i == 1 && (seg[0] == "webhooks" || seg[0] == "interactions"):
			major, tmpl[i] = seg[0]+":"+s, ":major"
			if len(seg) > 2 {
				major += "/" + seg[2]
				exempt = true
			}
		case i == 2 && (seg[0] == "webhooks" || seg[0] == "interactions"):
			tmpl[i] = ":token"
		case i > 0 && seg[i-1] == "reactions":
			tmpl[i] = ":emoji"
		case isSnowflake(s):
			tmpl[i] = ":id"
		default:
			tmpl[i] = s
		}
	}
	return strings.ToUpper(method) + " " + strings.Join(tmpl, "/"), major, exempt
}

func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

// seconds parses a (fractional) number of seconds.
func seconds(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
