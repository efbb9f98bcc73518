package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
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
	w.await("/readyz after start", func() bool {
		r, err := http.Get(w.url("/readyz"))
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
	// First Discord hangs (every channel request waits 5 s): webhooks are
	// still stored and answered at once, and /readyz stays 200.
	w.discord.InjectFault(discordtest.Fault{PathContains: "/channels/", Latency: 5 * time.Second})
	var slowest time.Duration
	for i := range 10 {
		start := time.Now()
		resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody(fmt.Sprintf("Hang%d", i), "warning", time.Now()))
		resp.Body.Close()
		slowest = max(slowest, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook %d while Discord hangs: %d, want 200", i, resp.StatusCode)
		}
		r, err := http.Get(w.url("/readyz"))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("/readyz while Discord hangs: %d, want 200", r.StatusCode)
		}
	}
	t.Logf("slowest webhook answer while Discord hangs: %s", slowest)
	if slowest > time.Second {
		t.Errorf("a webhook took %s while Discord hung, want under 1 s (storing must not wait for Discord)", slowest)
	}
	w.discord.ClearFaults()
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

// readyz returns /readyz's status and decoded body.
func readyz(t *testing.T, w *world) (int, map[string]any) {
	t.Helper()
	r, err := http.Get(w.url("/readyz"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	return r.StatusCode, body
}

// TestReadyWithDiscordUnreachableFromStart: Klaxon started while Discord
// cannot be dialled at all is ready (it stores webhooks), and /readyz's
// body says what it knows of Discord.
func TestReadyWithDiscordUnreachableFromStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there: every dial is refused
	w := newWorld(t, "", map[string]string{"KLAXON_DISCORD_API_URL": dead})
	resp := postJSON(t, w.url("/webhook/alertmanager"), webhookToken, webhookBody("Unreachable", "critical", time.Now()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook with Discord unreachable: %d, want 200", resp.StatusCode)
	}
	if err := w.main.Engine.CycleAndWait(context.Background()); err != nil {
		t.Fatalf("engine cycle with Discord unreachable: %v", err)
	}
	status, body := readyz(t, w)
	if status != http.StatusOK || body["status"] != "ready" {
		t.Errorf("/readyz with Discord unreachable: %d %v, want 200 ready", status, body)
	}
	degraded, _ := body["degraded"].(map[string]any)
	if _, ok := degraded["discord"]; !ok {
		t.Errorf("/readyz degraded = %v, want discord listed", body["degraded"])
	}
	d, _ := body["discord"].(map[string]any)
	if d["gateway"] != "disconnected" || d["last_success"] != nil {
		t.Errorf("/readyz discord = %v, want gateway disconnected and no last_success", d)
	}
}

// TestNotReadyWhenDatabaseNotWritable: /readyz is 503 naming the database
// when it cannot be written.
func TestNotReadyWhenDatabaseNotWritable(t *testing.T) {
	w := newWorld(t, "", nil)
	if err := w.main.Engine.CycleAndWait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, body := readyz(t, w); s != http.StatusOK || body["discord"] == nil {
		t.Errorf("/readyz %d %v: want Discord's state under discord", s, body)
	}
	if err := w.main.DB.Close(); err != nil {
		t.Fatal(err)
	}
	status, body := readyz(t, w)
	failed, _ := body["failed"].(map[string]any)
	if status != http.StatusServiceUnavailable || body["status"] != "not ready" || failed["database"] == nil {
		t.Errorf("/readyz with the database closed: %d %v, want 503 not ready naming the database", status, body)
	}
}
