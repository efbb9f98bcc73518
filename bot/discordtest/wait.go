package discordtest

import (
	"context"
	"time"
)

// Await waits until cond returns true or timeout elapses, re-evaluating cond
// whenever the fake's state changes (a request was handled, a gateway
// session connected or dropped, an interaction deadline passed). cond must
// not block; it may call the Server's query methods. It reports whether cond
// became true.
func (s *Server) Await(timeout time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.WaitFor(ctx, cond) == nil
}

// WaitFor is Await with a context; it returns ctx.Err() if cond did not
// become true.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		ch := s.changed() // take the channel before evaluating cond: no lost wake-ups
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if cond() {
				return nil
			}
			return ctx.Err()
		case <-s.closing:
			if cond() {
				return nil
			}
			return context.Canceled
		}
	}
}

// AwaitMessages waits until channelID holds at least n messages.
func (s *Server) AwaitMessages(channelID string, n int, timeout time.Duration) ([]Message, bool) {
	var out []Message
	ok := s.Await(timeout, func() bool {
		out = s.Messages(channelID)
		return len(out) >= n
	})
	return out, ok
}

// AwaitConnected waits until at least n gateway sessions are connected.
func (s *Server) AwaitConnected(n int, timeout time.Duration) bool {
	return s.Await(timeout, func() bool { return s.Connected() >= n })
}
