package discordtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// SignInteraction returns the headers Discord sends with an HTTP
// interaction: X-Signature-Ed25519 is the hex Ed25519 signature of
// timestamp+body, X-Signature-Timestamp the Unix time in seconds.
func SignInteraction(priv ed25519.PrivateKey, ts time.Time, body []byte) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	msg := append([]byte(stamp), body...)
	h := http.Header{}
	h.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(priv, msg)))
	h.Set("X-Signature-Timestamp", stamp)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	return h
}

// InteractionRequest prepares i like Interact (id, token, recording, 3 s
// deadline) but returns a signed HTTP request for the bot's interactions
// endpoint instead of dispatching it on the gateway.
func (s *Server) InteractionRequest(ctx context.Context, endpoint string, priv ed25519.PrivateKey, i discordgo.Interaction) (*http.Request, string, error) {
	rec, body, err := s.prepare(i)
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header = SignInteraction(priv, time.Now(), body)
	return req, rec.ID, nil
}

// PostInteraction sends i to the bot's HTTP interactions endpoint, signed
// with priv, and records the bot's answer (the response body is the
// interaction callback) as a Response of kind "http". It returns the
// interaction id and the bot's HTTP response (body already read into the
// returned bytes).
func (s *Server) PostInteraction(ctx context.Context, endpoint string, priv ed25519.PrivateKey, i discordgo.Interaction) (id string, resp *http.Response, body []byte, err error) {
	req, id, err := s.InteractionRequest(ctx, endpoint, priv, i)
	if err != nil {
		return "", nil, nil, err
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return id, nil, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return id, resp, nil, err
	}
	if i.Type == discordgo.InteractionPing {
		return id, resp, body, nil
	}
	if resp.StatusCode/100 != 2 {
		s.violate(&Violation{Kind: "interaction", Detail: fmt.Sprintf("bot answered HTTP interaction %s with status %d", id, resp.StatusCode)})
		return id, resp, body, nil
	}
	if rt, _ := s.spec.match("/interactions/1/t/callback"); rt != nil {
		if sch, err := s.spec.schemaFor(rt.ops["POST"], "application/json"); err == nil && sch != nil {
			if fes := validateJSON(sch, body); len(fes) > 0 {
				s.violate(&Violation{Kind: "body", Detail: fmt.Sprintf("HTTP interaction %s answer: %v", id, fes)})
			}
		}
	}
	var cb callbackBody
	if err := json.Unmarshal(body, &cb); err != nil {
		s.violate(&Violation{Kind: "interaction", Detail: fmt.Sprintf("bot answered HTTP interaction %s with a non-JSON body: %v", id, err)})
		return id, resp, body, nil
	}
	s.mu.Lock()
	token := s.st.interactions[id].Token
	s.mu.Unlock()
	if _, _, e := s.acknowledge(id, token, "http", cb, nil, nil); e != nil {
		s.logf("HTTP interaction %s answer rejected: %v", id, e)
	}
	s.notify()
	return id, resp, body, nil
}
