package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot/discordtest"
)

// TestDiscordOutageKeepsKlaxonReady: while Discord answers 502, webhooks
// are accepted and /readyz stays 200 (ready means "can accept and store
// webhooks"), naming the outage under "degraded"; when Discord is back the
// card goes out.
func TestDiscordOutageKeepsKlaxonReady(t *testing.T) {
	w := newWorld(t, "", nil)
	w.discord.InjectFault(discordtest.Fault{Status: 502, Message: "Bad Gateway"})
	resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody("OutageP0", "critical", time.Now()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook during the outage: %d, want 200", resp.StatusCode)
	}
	var status int
	var body map[string]any
	w.await("/readyz to report the outage", func() bool {
		r, err := http.Get(w.url("/readyz"))
		if err != nil {
			return false
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		status, body = r.StatusCode, nil
		_ = json.Unmarshal(b, &body)
		return strings.Contains(string(b), "Discord has been failing")
	})
	if status != http.StatusOK || body["status"] != "ready" {
		t.Errorf("/readyz during a Discord outage: %d %v, want 200 ready with the outage under degraded", status, body)
	}
	w.discord.ClearFaults()
	w.await("the card after the outage", func() bool {
		for _, m := range w.discord.Messages(w.channels[0]) {
			if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, "OutageP0") {
				return true
			}
		}
		return false
	})
}
