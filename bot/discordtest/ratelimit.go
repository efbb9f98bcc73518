package discordtest

import (
	"math"
	"strconv"
	"time"
)

// rlBucket is a fixed-window counter: the window starts with the first
// request after the previous window ended.
type rlBucket struct {
	count int
	reset time.Time
}

type rateLimiter struct {
	buckets map[string]*rlBucket
	global  rlBucket
}

func (r *rateLimiter) init() { r.buckets = map[string]*rlBucket{} }

// take counts one request against b and reports whether it is allowed.
func (b *rlBucket) take(now time.Time, limit int, window time.Duration, enforce bool) (ok bool, remaining int) {
	if !now.Before(b.reset) {
		b.count, b.reset = 0, now.Add(window)
	}
	if b.count >= limit && enforce {
		return false, 0
	}
	b.count++
	if !enforce {
		// limits off: never make clients throttle themselves
		return true, max(limit-b.count, 1)
	}
	return true, max(limit-b.count, 0)
}

// bucketClass decides which bucket a request counts against: a stable class
// name (hashed into X-RateLimit-Bucket), the per-resource key, the limit and
// the window.
func (s *Server) bucketClass(c *call) (class, key string, limit int, window time.Duration) {
	n, w := s.opts.ChannelMessageLimit, s.opts.ChannelMessageWindow
	switch c.method + " " + c.route {
	case "POST /channels/{channel_id}/messages":
		return "message-create", "create:" + c.params["channel_id"], n, w
	case "PATCH /channels/{channel_id}/messages/{message_id}":
		return "message-edit", "edit:" + c.params["channel_id"], n, w
	case "POST /webhooks/{webhook_id}/{webhook_token}":
		s.mu.Lock()
		wh := s.st.webhooks[c.params["webhook_id"]]
		s.mu.Unlock()
		if wh != nil && wh.Token == c.params["webhook_token"] {
			target := wh.ChannelID
			if t := c.query.Get("thread_id"); t != "" {
				target = t
			}
			c.chanID = target
			return "message-create", "create:" + target, n, w
		}
	}
	major := c.params["channel_id"] + c.params["guild_id"] + c.params["webhook_id"] + c.params["interaction_id"]
	return c.method + " " + c.route, c.method + " " + c.route + ":" + major, s.opts.RouteLimit, time.Second
}

// takeRateLimit applies the global and per-route limits, sets the
// X-RateLimit-* headers and returns a 429 error when a limit is exceeded.
func (s *Server) takeRateLimit(c *call) *apiError {
	enforce := !s.opts.NoRateLimits
	class, key, limit, window := s.bucketClass(c)
	hash := bucketHash(class)

	s.mu.Lock()
	if !tokenRoute(c.route) {
		ok, _ := s.rl.global.take(c.now, s.opts.GlobalLimit, time.Second, enforce)
		if !ok {
			after := s.rl.global.reset.Sub(c.now)
			s.mu.Unlock()
			c.header.Set("X-RateLimit-Global", "true")
			c.header.Set("X-RateLimit-Scope", "global")
			c.header.Set("X-RateLimit-Reset-After", fmtSeconds(after))
			return s.tooMany(c, after, true)
		}
	}
	b := s.rl.buckets[key]
	if b == nil {
		b = &rlBucket{}
		s.rl.buckets[key] = b
	}
	ok, remaining := b.take(c.now, limit, window, enforce)
	reset := b.reset
	s.mu.Unlock()

	after := reset.Sub(c.now)
	c.header.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	c.header.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	c.header.Set("X-RateLimit-Reset", fmtEpoch(reset))
	c.header.Set("X-RateLimit-Reset-After", fmtSeconds(after))
	c.header.Set("X-RateLimit-Bucket", hash)
	if !ok {
		c.header.Set("X-RateLimit-Scope", "user")
		return s.tooMany(c, after, false)
	}
	return nil
}

func (s *Server) tooMany(c *call, after time.Duration, global bool) *apiError {
	c.header.Set("Retry-After", strconv.Itoa(int(math.Ceil(after.Seconds()))))
	s.violate(&Violation{Kind: "ratelimit", Method: c.method, Path: c.path, Route: c.route,
		Detail: "429 Too Many Requests (retry after " + fmtSeconds(after) + "s, global=" + strconv.FormatBool(global) + ")"})
	return &apiError{status: 429, msg: "You are being rate limited.", retryAfter: after.Seconds(), global: global, rateLimited: true}
}

func fmtSeconds(d time.Duration) string {
	return strconv.FormatFloat(math.Max(d.Seconds(), 0), 'f', 3, 64)
}

func fmtEpoch(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}
