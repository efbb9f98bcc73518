package discordtest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
)

func TestRateLimitChannelMessages(t *testing.T) {
	clock := bot.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var violations []error
	e := newEnv(t, Options{Now: clock.Now, OnViolation: func(err error) { violations = append(violations, err) }})
	post := func() (int, []byte, map[string]string) {
		resp, b := raw(t, e.srv, "POST", "/channels/"+e.channel+"/messages", `{"content":"hi"}`)
		h := map[string]string{}
		for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket", "X-RateLimit-Scope", "Retry-After"} {
			h[k] = resp.Header.Get(k)
		}
		// discordgo's limiter must be able to parse the headers
		rl := discordgo.NewRatelimiter()
		if err := rl.LockBucket("x").Release(resp.Header); err != nil {
			t.Errorf("discordgo cannot parse rate-limit headers %v: %v", h, err)
		}
		return resp.StatusCode, b, h
	}
	var bucket string
	for i := 1; i <= 5; i++ {
		st, b, h := post()
		if st != 200 {
			t.Fatalf("request %d: %d %s", i, st, b)
		}
		if h["X-RateLimit-Limit"] != "5" || h["X-RateLimit-Remaining"] != strconv.Itoa(5-i) || h["X-RateLimit-Reset-After"] != "5.000" {
			t.Errorf("request %d headers %v", i, h)
		}
		if bucket == "" {
			bucket = h["X-RateLimit-Bucket"]
		} else if h["X-RateLimit-Bucket"] != bucket {
			t.Errorf("bucket hash changed: %q vs %q", h["X-RateLimit-Bucket"], bucket)
		}
	}
	st, b, h := post()
	if st != 429 {
		t.Fatalf("6th request: %d %s", st, b)
	}
	var tmr discordgo.TooManyRequests
	if err := json.Unmarshal(b, &tmr); err != nil || tmr.RetryAfter != 5*time.Second || !strings.Contains(string(b), `"global":false`) {
		t.Errorf("429 body %s → %+v %v", b, tmr, err)
	}
	if h["Retry-After"] != "5" || h["X-RateLimit-Scope"] != "user" || h["X-RateLimit-Remaining"] != "0" {
		t.Errorf("429 headers %v", h)
	}
	if len(violations) != 1 || !strings.Contains(violations[0].Error(), "ratelimit") {
		t.Errorf("violations = %v", violations)
	}
	var n429 int
	for _, r := range e.srv.Requests() {
		if r.Status == 429 {
			n429++
			if r.Route != "/channels/{channel_id}/messages" || r.ChannelID != e.channel {
				t.Errorf("429 request recorded as %+v", r)
			}
		}
	}
	if n429 != 1 {
		t.Errorf("recorded 429s = %d", n429)
	}
	// edits have their own bucket
	msgs := e.srv.Messages(e.channel)
	resp, body := raw(t, e.srv, "PATCH", "/channels/"+e.channel+"/messages/"+msgs[0].ID, `{"content":"edited"}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Bucket") == bucket {
		t.Errorf("edit: %d %s bucket %s", resp.StatusCode, body, resp.Header.Get("X-RateLimit-Bucket"))
	}
	// another channel is not limited
	other := e.srv.AddChannel(e.guild, "other", discordgo.ChannelTypeGuildText)
	if resp, body := raw(t, e.srv, "POST", "/channels/"+other+"/messages", `{"content":"hi"}`); resp.StatusCode != 200 {
		t.Errorf("other channel: %d %s", resp.StatusCode, body)
	}
	clock.Advance(5 * time.Second)
	if st, b, _ := post(); st != 200 {
		t.Errorf("after window: %d %s", st, b)
	}
}

func TestRateLimitGlobal(t *testing.T) {
	clock := bot.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var violations []error
	e := newEnv(t, Options{Now: clock.Now, GlobalLimit: 3, OnViolation: func(err error) { violations = append(violations, err) }})
	for i := 0; i < 3; i++ {
		if resp, b := raw(t, e.srv, "GET", "/channels/"+e.channel, ""); resp.StatusCode != 200 {
			t.Fatalf("%d: %d %s", i, resp.StatusCode, b)
		}
	}
	resp, b := raw(t, e.srv, "GET", "/channels/"+e.channel, "")
	if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Global") != "true" || resp.Header.Get("X-RateLimit-Scope") != "global" || !strings.Contains(string(b), `"global":true`) {
		t.Errorf("global 429: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	clock.Advance(time.Second)
	if resp, b := raw(t, e.srv, "GET", "/channels/"+e.channel, ""); resp.StatusCode != 200 {
		t.Errorf("after 1s: %d %s", resp.StatusCode, b)
	}
	if len(violations) != 1 {
		t.Errorf("violations = %v", violations)
	}
}

// A real discordgo session obeys the headers: with a short window it waits
// instead of hitting 429.
func TestRateLimitDiscordgoWaits(t *testing.T) {
	e := newEnv(t, Options{ChannelMessageWindow: 300 * time.Millisecond})
	e.dg.ShouldRetryOnRateLimit = false
	start := time.Now()
	for i := 0; i < 7; i++ {
		if _, err := e.dg.ChannelMessageSend(e.channel, "msg "+strconv.Itoa(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if time.Since(start) < 250*time.Millisecond {
		t.Errorf("discordgo did not wait for the bucket reset (%v)", time.Since(start))
	}
	for _, r := range e.srv.Requests() {
		if r.Status == 429 {
			t.Errorf("unexpected 429: %+v", r)
		}
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, Options{})
	e.dg.MaxRestRetries = 0
	tests := []struct {
		name   string
		fault  Fault
		status int // 0: transport error expected
	}{
		{"500 once", Fault{Method: "POST", PathContains: "/messages", Status: 500, Times: 1}, 500},
		{"503 with code", Fault{Route: "/channels/{channel_id}/messages", Status: 503, Code: 0, Message: "upstream", Times: 1}, 503},
		{"403 missing access", Fault{Method: "POST", Status: 403, Code: 50001, Message: "Missing Access", Times: 1}, 403},
		{"drop connection", Fault{Method: "POST", PathContains: "/messages", Drop: true, Times: 1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.InjectFault(tc.fault)
			defer e.srv.ClearFaults()
			_, err := e.dg.ChannelMessageSend(e.channel, "x")
			if err == nil {
				t.Fatal("fault not applied")
			}
			if tc.status != 0 {
				if re := restErr(t, err); re.Response.StatusCode != tc.status || (tc.fault.Code != 0 && re.Message.Code != tc.fault.Code) {
					t.Errorf("got %d %s", re.Response.StatusCode, re.ResponseBody)
				}
			}
			// Times: 1 → the next request goes through
			if _, err := e.dg.ChannelMessageSend(e.channel, "y"); err != nil {
				t.Errorf("after fault: %v", err)
			}
		})
	}
	e.srv.InjectFault(Fault{Method: "GET", Latency: 150 * time.Millisecond})
	start := time.Now()
	if _, err := e.dg.Channel(e.channel); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 150*time.Millisecond {
		t.Errorf("latency not applied: %v", time.Since(start))
	}
	e.srv.ClearFaults()
}
