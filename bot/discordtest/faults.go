package discordtest

import (
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests misbehave. Empty match fields match
// everything. Faults are checked in injection order; the first match with
// remaining uses applies.
type Fault struct {
	Method       string // e.g. "POST"; "" = any
	PathContains string // substring of the path (without /api/vN); "" = any
	Route        string // exact OpenAPI template; "" = any

	Latency time.Duration // delay before answering (or before the other effects)
	Drop    bool          // close the connection without handling or answering
	// DropAfterHandle handles the request completely (the message is
	// created, the edit applied, the thread started, gateway events
	// dispatched) and then closes the connection without sending the
	// response: the client sees a transport error although Discord acted,
	// like a connection reset after Discord created the message. Status,
	// Code, Message and RetryAfter are ignored; Drop wins over it. The
	// request is recorded with the status the client never received and
	// Faulted set. Go's http.Transport may resend an idempotent request
	// (GET, HEAD) that fails this way on a reused connection; it never
	// resends a POST or PATCH.
	DropAfterHandle bool
	Status          int    // answer with this status instead of handling
	Code            int    // Discord error code in the JSON body (with Status)
	Message         string // error message (default: status text)
	// RetryAfter is used in the body/headers when Status is 429.
	RetryAfter time.Duration

	Times int // number of requests affected; 0 = until ClearFaults
}

type faultState struct {
	Fault
	used int
}

// InjectFault adds a fault.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	s.st.faults = append(s.st.faults, &faultState{Fault: f})
	s.mu.Unlock()
}

// ClearFaults removes all faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.st.faults = nil
	s.mu.Unlock()
}

func (s *Server) takeFault(c *call) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.st.faults {
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, c.method) {
			continue
		}
		if f.PathContains != "" && !strings.Contains(c.path, f.PathContains) {
			continue
		}
		if f.Route != "" && f.Route != c.route {
			continue
		}
		f.used++
		cp := f.Fault
		return &cp
	}
	return nil
}

// applyFault applies a matching fault. done reports that the request has
// been answered (or dropped) and must not be handled further; otherwise f
// is the fault still to apply after handling (nil if none).
func (s *Server) applyFault(w http.ResponseWriter, c *call) (f *Fault, status int, done bool) {
	f = s.takeFault(c)
	if f == nil {
		return nil, 0, false
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
			return f, 0, true
		case <-s.closing:
			t.Stop()
			return f, 0, true
		}
	}
	if f.Drop {
		s.record(c, 0, true)
		hangUp(w)
		return f, 0, true
	}
	if f.DropAfterHandle || f.Status == 0 {
		return f, 0, false
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	e := &apiError{status: f.Status, code: f.Code, msg: msg}
	if f.Status == http.StatusTooManyRequests {
		after := f.RetryAfter
		if after == 0 {
			after = time.Second
		}
		e = &apiError{status: 429, msg: "You are being rate limited.", rateLimited: true, retryAfter: after.Seconds()}
		c.header.Set("Retry-After", fmtSeconds(after))
		c.header.Set("X-RateLimit-Scope", "shared")
	}
	return f, s.writeError(w, c, e), true
}

// hangUp closes the request's connection without writing a response.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // fallback: net/http aborts the response
}
