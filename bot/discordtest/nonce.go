package discordtest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Message nonces, as documented for POST /channels/{channel.id}/messages:
// "nonce" (an integer, or a string of at most 25 characters, which the
// OpenAPI description enforces) is echoed in the create response and in
// MESSAGE_CREATE; Discord does not store it, so fetched messages never
// carry it. With "enforce_nonce": true, a create that repeats a nonce the
// same author used in the same channel within Options.NonceWindow creates
// nothing and answers 200 with the message created the first time (as it
// is now, edits included), or 404 Unknown Message (10008) if that message
// was deleted since — Discord does not re-create it.

// DefaultNonceWindow is the default Options.NonceWindow. Discord documents
// "the past few minutes".
const DefaultNonceWindow = 5 * time.Minute

// nonceKey identifies the messages an enforced nonce dedupes against.
type nonceKey struct {
	channel, author, nonce string
}

// parseNonce reads a request's "nonce": its canonical form (a string's
// value, an integer's decimal digits) and whether there is one. Absent,
// null and "" count as none.
func parseNonce(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, str != ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return "", false // the schema check has rejected it already
	}
	if i, err := n.Int64(); err == nil {
		return strconv.FormatInt(i, 10), true
	}
	return n.String(), true
}

// firstWithNonceLocked returns the oldest message created under k within
// the nonce window (deleted ones too), forgetting older ones.
func (s *Server) firstWithNonceLocked(k nonceKey, now time.Time) *Message {
	ids := s.st.nonces[k]
	for len(ids) > 0 {
		m := s.st.messages[ids[0]]
		if m != nil && now.Sub(m.CreatedAt) < s.opts.NonceWindow {
			s.st.nonces[k] = ids
			return m
		}
		ids = ids[1:]
	}
	delete(s.st.nonces, k)
	return nil
}

// setNonceLocked records the nonce a new message was created with.
func (s *Server) setNonceLocked(m *Message, nonce string, raw json.RawMessage) {
	m.Nonce = nonce
	m.nonceJSON = slices.Clone(bytes.TrimSpace(raw))
	k := nonceKey{channel: m.ChannelID, author: m.Author.ID, nonce: nonce}
	s.st.nonces[k] = append(s.st.nonces[k], m.ID)
}

// createdJSON is a message as the create response and MESSAGE_CREATE show
// it: with its nonce.
func (s *Server) createdJSON(m *Message) map[string]any {
	out := s.messageJSON(m)
	if m.nonceJSON != nil {
		out["nonce"] = m.nonceJSON
	}
	return out
}

// MessageCount is the number of messages currently in a channel (deleted
// ones are not counted). A create deduplicated by its nonce adds none.
func (s *Server) MessageCount(channelID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range s.st.channelMsgs[channelID] {
		if m := s.st.messages[id]; m != nil && !m.Deleted {
			n++
		}
	}
	return n
}

// MessagesCreated is the number of messages ever created in a channel,
// deleted ones included. A create deduplicated by its nonce adds none.
func (s *Server) MessagesCreated(channelID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.channelMsgs[channelID])
}

// MessagesWithNonce returns the channel's current (not deleted) messages
// created with the given nonce (an integer nonce as its decimal digits),
// in creation order, whatever their age.
func (s *Server) MessagesWithNonce(channelID, nonce string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.st.channelMsgs[channelID] {
		if m := s.st.messages[id]; m != nil && !m.Deleted && m.Nonce != "" && m.Nonce == nonce {
			out = append(out, m.clone())
		}
	}
	return out
}
