package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot/discordtest"
)

// Klaxon starts when the Discord gateway is down, stores and posts alerts
// over REST, and connects the gateway once it is back.
func TestStartsWhileGatewayDown(t *testing.T) {
	w := newWorldWith(t, worldOptions{Setup: func(w *world) {
		w.discord.InjectFault(discordtest.Fault{Method: http.MethodGet, PathContains: "/gateway", Status: http.StatusBadGateway, Times: 1})
	}})
	resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody("GatewayDownAlert", "critical", time.Now().Add(-time.Minute)))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %s", resp.Status)
	}
	w.await("the card, over REST", func() bool { return len(w.discord.Messages(w.channels[0])) > 0 })
	if !w.discord.AwaitConnected(1, 30*time.Second) {
		t.Fatal("the gateway never connected after Discord came back")
	}
	refused := false
	for _, r := range w.discord.Requests() {
		refused = refused || (r.Faulted && r.Status == http.StatusBadGateway)
	}
	if !refused {
		t.Error("the first gateway request was not refused: the test did not test the outage")
	}
}
