package discord

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

const create1 = "/api/v9/channels/1/messages"

func TestPacerDefaultMessageLimit(t *testing.T) {
	p := NewPacer(PacerOptions{})
	now := t0
	for i := range 5 {
		if w := p.Reserve("POST", create1, now.Add(time.Duration(i)*100*time.Millisecond)); w != 0 {
			t.Fatalf("message %d: wait %s", i+1, w)
		}
	}
	// The sixth in the same 5 s window waits for the window to end.
	w := p.Reserve("POST", create1, now.Add(time.Second))
	if w != 4*time.Second {
		t.Fatalf("sixth message: wait %s, want 4s", w)
	}
	// Another channel has its own bucket; edits have their own default.
	if w := p.Reserve("POST", "https://discord.com/api/v9/channels/2/messages", now.Add(time.Second)); w != 0 {
		t.Fatalf("other channel: wait %s", w)
	}
	if w := p.Reserve("PATCH", "channels/1/messages/99", now.Add(time.Second)); w != 0 {
		t.Fatalf("edit: wait %s", w)
	}
	if w := p.Reserve("POST", create1, now.Add(5*time.Second)); w != 0 {
		t.Fatalf("after the window: wait %s", w)
	}
}

func TestPacerHeadersUpdate(t *testing.T) {
	p := NewPacer(PacerOptions{})
	now := t0
	if w := p.Reserve("POST", create1, now); w != 0 {
		t.Fatal(w)
	}
	// Discord says the bucket is empty for 2.5 s.
	p.Observe(Response{Method: "POST", Path: create1, Reserved: true, Status: 200, Header: hdr(
		"X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "2.5", "X-RateLimit-Bucket", "abc")}, now)
	if w := p.Reserve("POST", create1, now.Add(time.Second)); w != 1500*time.Millisecond+resetSlack {
		t.Fatalf("wait %s, want 1.5s+slack", w)
	}
	if w := p.Reserve("POST", create1, now.Add(2500*time.Millisecond+resetSlack)); w != 0 {
		t.Fatalf("after reset: wait %s", w)
	}
	// The refilled window holds Limit requests (one taken just now).
	for i := range 4 {
		if w := p.Reserve("POST", create1, now.Add(2600*time.Millisecond)); w != 0 {
			t.Fatalf("refill %d: wait %s", i, w)
		}
	}
	if w := p.Reserve("POST", create1, now.Add(2600*time.Millisecond)); w == 0 {
		t.Fatal("sixth request in the refilled window allowed")
	}
}

func TestPacerRemainingCountsInflight(t *testing.T) {
	p := NewPacer(PacerOptions{})
	now := t0
	p.Reserve("POST", create1, now)
	p.Reserve("POST", create1, now) // two in flight
	// The first answer does not know about the second request yet.
	p.Observe(Response{Method: "POST", Path: create1, Reserved: true, Status: 200, Header: hdr(
		"X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "2", "X-RateLimit-Reset-After", "5")}, now)
	if w := p.Reserve("POST", create1, now); w != 0 {
		t.Fatalf("one slot should be left: wait %s", w)
	}
	if w := p.Reserve("POST", create1, now); w == 0 {
		t.Fatal("in-flight request not counted: pacer would cause a 429")
	}
}

func TestPacer429(t *testing.T) {
	p := NewPacer(PacerOptions{})
	now := t0
	p.Reserve("POST", create1, now)
	p.Observe(Response{Method: "POST", Path: create1, Reserved: true, Status: 429,
		Header: hdr("X-RateLimit-Scope", "user"), Body: []byte(`{"message":"You are being rate limited.","retry_after":3.25,"global":false}`)}, now)
	w, global := p.Take("POST", create1, now.Add(250*time.Millisecond))
	if w != 3*time.Second+resetSlack || global {
		t.Fatalf("wait %s global %v, want 3s+slack, false", w, global)
	}
	// Other channels are unaffected.
	if w := p.Reserve("POST", "channels/2/messages", now); w != 0 {
		t.Fatalf("other channel waits %s", w)
	}
	// Retry-After header when the body has none.
	p.Reserve("PATCH", "channels/3/messages/4", now)
	p.Observe(Response{Method: "PATCH", Path: "channels/3/messages/4", Reserved: true, Status: 429, Header: hdr("Retry-After", "2")}, now)
	if w := p.Reserve("PATCH", "channels/3/messages/5", now); w != 2*time.Second+resetSlack {
		t.Fatalf("Retry-After: wait %s", w)
	}
}

func TestPacerGlobal429(t *testing.T) {
	p := NewPacer(PacerOptions{})
	now := t0
	p.Reserve("POST", create1, now)
	p.Observe(Response{Method: "POST", Path: create1, Reserved: true, Status: 429,
		Header: hdr("X-RateLimit-Global", "true", "X-RateLimit-Scope", "global"), Body: []byte(`{"retry_after":1.5,"global":true}`)}, now)
	w, global := p.Take("POST", "channels/77/messages", now.Add(500*time.Millisecond))
	if w != time.Second+resetSlack || !global {
		t.Fatalf("wait %s global %v", w, global)
	}
	if gw := p.GlobalWait(now); gw == 0 {
		t.Fatal("no global wait")
	}
	// Interaction responses are exempt from the global limit.
	if w := p.Reserve("POST", "interactions/123/tok/callback", now); w != 0 {
		t.Fatalf("interaction callback waits %s", w)
	}
	if w := p.Reserve("POST", "channels/77/messages", now.Add(1500*time.Millisecond+resetSlack)); w != 0 {
		t.Fatalf("after the pause: wait %s", w)
	}
}

func TestPacerGlobalRate(t *testing.T) {
	p := NewPacer(PacerOptions{GlobalRate: 3})
	now := t0
	for i := range 3 {
		if w := p.Reserve("POST", fmt.Sprintf("channels/%d/messages", i), now.Add(time.Duration(i)*100*time.Millisecond)); w != 0 {
			t.Fatalf("request %d waits %s", i, w)
		}
	}
	w, global := p.Take("POST", "channels/9/messages", now.Add(300*time.Millisecond))
	if w != 700*time.Millisecond || !global {
		t.Fatalf("fourth request: wait %s global %v, want 700ms true", w, global)
	}
	// A request held back takes nothing from its bucket: the channel still
	// has its five.
	now = now.Add(time.Second)
	for i := range 3 {
		if w := p.Reserve("POST", "channels/9/messages", now.Add(time.Duration(i)*time.Second)); w != 0 {
			t.Fatalf("channel 9 request %d waits %s", i, w)
		}
	}
}

func TestPacerUnknownRouteOneInFlight(t *testing.T) {
	p := NewPacer(PacerOptions{})
	now := t0
	path := "/api/v9/channels/1/messages/2/threads"
	if w := p.Reserve("POST", path, now); w != 0 {
		t.Fatal(w)
	}
	if w := p.Reserve("POST", path, now); w != unknownWait {
		t.Fatalf("second in flight: wait %s", w)
	}
	// The thread route of another message of the same channel is the same bucket.
	if w := p.Reserve("POST", "channels/1/messages/3/threads", now); w != unknownWait {
		t.Fatalf("same route other message: wait %s", w)
	}
	p.Observe(Response{Method: "POST", Path: path, Reserved: true, Status: 201, Header: hdr(
		"X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "9", "X-RateLimit-Reset-After", "300")}, now)
	for i := range 9 {
		if w := p.Reserve("POST", path, now); w != 0 {
			t.Fatalf("learned bucket, request %d waits %s", i, w)
		}
	}
	if w := p.Reserve("POST", path, now); w == 0 {
		t.Fatal("learned limit not applied")
	}

	// A reservation whose request never went out is cancelled.
	p.Reserve("GET", "channels/5", now)
	p.Cancel("GET", "channels/5", now)
	if w := p.Reserve("GET", "channels/5", now); w != 0 {
		t.Fatalf("after cancel: wait %s", w)
	}
	// A lost answer is forgotten after a while.
	if w := p.Reserve("GET", "channels/5", now.Add(inflightTimeout+time.Second)); w != 0 {
		t.Fatalf("after the in-flight timeout: wait %s", w)
	}
}

func TestPacerSharedBucketHash(t *testing.T) {
	p := NewPacer(PacerOptions{})
	now := t0
	// Two routes report the same bucket hash: they share its state per channel.
	for _, path := range []string{"channels/1/pins/5", "channels/1/messages/5/crosspost"} {
		p.Reserve("PUT", path, now)
		p.Observe(Response{Method: "PUT", Path: path, Reserved: true, Status: 204, Header: hdr(
			"X-RateLimit-Limit", "2", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset-After", "10", "X-RateLimit-Bucket", "shared")}, now)
	}
	p.Reserve("PUT", "channels/1/pins/6", now) // takes the last slot
	if w := p.Reserve("PUT", "channels/1/messages/6/crosspost", now); w == 0 {
		t.Fatal("routes with the same bucket hash do not share state")
	}
	// Another channel (major parameter) is another bucket.
	if w := p.Reserve("PUT", "channels/2/pins/6", now); w != 0 {
		t.Fatalf("other channel waits %s", w)
	}
}

func TestPacerObservesUnreservedRequests(t *testing.T) {
	p := NewPacer(PacerOptions{GlobalRate: 2})
	now := t0
	// Two requests made directly on the session count against the global rate.
	for range 2 {
		p.Observe(Response{Method: "GET", Path: "users/@me", Status: 200}, now)
	}
	if _, global := p.Take("GET", "channels/1", now); !global {
		t.Fatal("unreserved requests not counted against the global rate")
	}
}

func TestBucketRoute(t *testing.T) {
	for _, c := range []struct{ method, path, route, major string }{
		{"POST", "https://discord.com/api/v9/channels/123/messages", "POST channels/:major/messages", "channels:123"},
		{"PATCH", "/api/v10/channels/123/messages/456", "PATCH channels/:major/messages/:id", "channels:123"},
		{"PUT", "channels/1/messages/2/reactions/%F0%9F%91%8D/@me", "PUT channels/:major/messages/:id/reactions/:emoji/@me", "channels:1"},
		{"POST", "interactions/9/tok/callback", "POST interactions/:major/:token/callback", "interactions:9/tok"},
		{"GET", "users/@me", "GET users/@me", ""},
		{"GET", "guilds/5/members/6?limit=1", "GET guilds/:major/members/:id", "guilds:5"},
	} {
		r, m, _ := bucketRoute(c.method, c.path)
		if r != c.route || m != c.major {
			t.Errorf("bucketRoute(%s %s) = %q %q, want %q %q", c.method, c.path, r, m, c.route, c.major)
		}
	}
}

func TestPacerConcurrent(t *testing.T) {
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := NewPacer(PacerOptions{Now: clock, GlobalRate: 1000})
	var wg sync.WaitGroup
	var granted sync.Map
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				ch := fmt.Sprintf("channels/%d/messages", i%4)
				if p.Reserve("POST", ch, p.Now()) == 0 {
					v, _ := granted.LoadOrStore(ch, new(int64))
					mu.Lock()
					*v.(*int64)++
					mu.Unlock()
					p.Observe(Response{Method: "POST", Path: ch, Reserved: true, Status: 200}, p.Now())
				}
			}
		}()
	}
	wg.Wait()
	// Time never moved: no channel may have got more than its five.
	granted.Range(func(k, v any) bool {
		if n := *v.(*int64); n > 5 {
			t.Errorf("%s granted %d requests in one window", k, n)
		}
		return true
	})
}

// TestPacerPriorTraffic: a pacer started right after an earlier process
// sent holds message routes until that process's window has surely ended,
// and holds nothing else (interaction answers must go out at once).
func TestPacerPriorTraffic(t *testing.T) {
	p := NewPacer(PacerOptions{})
	last := t0
	p.PriorTraffic(last)
	now := last.Add(time.Second)
	if w := p.Reserve("POST", create1, now); w != 4*time.Second+resetSlack {
		t.Fatalf("create 1 s after the predecessor's last send: wait %s, want 4s+slack", w)
	}
	if w := p.Reserve("PATCH", "channels/2/messages/99", now); w != 4*time.Second+resetSlack {
		t.Fatalf("edit: wait %s, want 4s+slack", w)
	}
	if w := p.Reserve("POST", "interactions/5/tok/callback", now); w != 0 {
		t.Fatalf("interaction answer held %s", w)
	}
	if w := p.Reserve("POST", create1, last.Add(5*time.Second+resetSlack)); w != 0 {
		t.Fatalf("after the window: wait %s", w)
	}
	// Long after: nothing held; and a zero time (never sent) holds nothing.
	q := NewPacer(PacerOptions{})
	q.PriorTraffic(last)
	if w := q.Reserve("POST", create1, last.Add(time.Minute)); w != 0 {
		t.Fatalf("a minute later: wait %s", w)
	}
	r := NewPacer(PacerOptions{})
	r.PriorTraffic(time.Time{})
	if w := r.Reserve("POST", create1, t0); w != 0 {
		t.Fatalf("never sent: wait %s", w)
	}
}
