package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/store"
)

// TestShutdownUnderLoad closes Klaxon (what SIGTERM does) while webhooks keep
// coming: Close returns in bounded time, every webhook answered 200 is in the
// database, no request got a 5xx other than 503, and after a restart on the
// same database every stored group reaches Discord.
func TestShutdownUnderLoad(t *testing.T) {
	w := newWorld(t, "storm:\n  page_size: 40\n", map[string]string{"KLAXON_DISCORD_GATEWAY": "off"})
	const workers, perWorker = 4, 100 // bounded: at most 400 webhooks
	url := w.url("/webhook/alertmanager")
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now().Add(-time.Minute)

	type answer struct {
		name   string
		status int
		err    error
	}
	var (
		mu       sync.Mutex
		answers  []answer
		accepted atomic.Int64
		wg       sync.WaitGroup
	)
	loaded := make(chan struct{}) // closed once enough webhooks were accepted
	var loadedOnce sync.Once
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perWorker {
				name := fmt.Sprintf("Load%d%03d", i, j)
				body, _ := json.Marshal(webhookBody(name, "info", start))
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+webhookToken)
				resp, err := client.Do(req)
				a := answer{name: name, err: err}
				if err == nil {
					a.status = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				if err != nil {
					return // the listener is closed: Alertmanager would retry later
				}
				if a.status == http.StatusOK && accepted.Add(1) == 40 {
					loadedOnce.Do(func() { close(loaded) })
				}
			}
		}()
	}
	select {
	case <-loaded:
	case <-time.After(60 * time.Second):
		t.Fatal("the load never got 40 webhooks accepted")
	}

	began := time.Now()
	closeErr := w.main.Close()
	took := time.Since(began)
	if closeErr != nil {
		t.Errorf("close: %v", closeErr)
	}
	if took > 15*time.Second {
		t.Errorf("Close took %s, want at most 15s", took)
	}
	wg.Wait()

	var ok []string
	refused := 0
	for _, a := range answers {
		switch {
		case a.err != nil:
			refused++ // connection refused or closed after the listener stopped: retried by Alertmanager
		case a.status == http.StatusOK:
			ok = append(ok, a.name)
		case a.status == http.StatusServiceUnavailable:
		default:
			t.Errorf("webhook %s answered %d during shutdown; only 200, 503 or a refused connection are fine", a.name, a.status)
		}
	}
	t.Logf("%d webhooks answered 200, %d refused after the listener closed, Close took %s", len(ok), refused, took.Round(time.Millisecond))
	if len(ok) < 40 {
		t.Fatalf("only %d webhooks accepted", len(ok))
	}

	// Everything acknowledged with a 200 is in the database.
	ctx := context.Background()
	db, err := store.Open(ctx, w.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	err = db.View(ctx, func(tx bot.Tx) error {
		for _, name := range ok {
			g, err := tx.LatestGroup(`{}:{alertname="` + name + `"}`)
			if err != nil && bot.ErrorCode(err) != bot.ENotFound {
				return err
			}
			if g == nil || err != nil {
				missing = append(missing, name)
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("%d webhooks answered 200 but are not in the database: %v", len(missing), missing)
	}

	// Restart on the same database: the stored work is delivered.
	re := regexp.MustCompile(`Load\d{4}`)
	onDiscord := func() map[string]bool {
		seen := map[string]bool{}
		chans := []string{w.channels[3]}
		for _, th := range w.discord.Threads(w.channels[3]) {
			chans = append(chans, th.ID)
		}
		for _, ch := range chans {
			for _, m := range w.discord.Messages(ch) {
				for _, name := range re.FindAllString(cardText(m), -1) {
					seen[name] = true
				}
			}
		}
		return seen
	}
	t.Logf("%d of them were on Discord before the restart", len(onDiscord()))
	w.start()
	if !w.discord.Await(2*time.Minute, func() bool {
		seen := onDiscord()
		for _, name := range ok {
			if !seen[name] {
				return false
			}
		}
		return true
	}) {
		seen := onDiscord()
		var lost []string
		for _, name := range ok {
			if !seen[name] {
				lost = append(lost, name)
			}
		}
		t.Fatalf("%d of %d stored groups never reached Discord after the restart: %v", len(lost), len(ok), lost)
	}
}

// Without a Discord token `klaxon serve` stops at once, saying exactly what
// to set and where to get it; the same for the webhook token.
func TestServeExplainsMissingSecrets(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "no discord token", env: map[string]string{"KLAXON_WEBHOOK_TOKEN": "x"},
			want: []string{"KLAXON_DISCORD_TOKEN is not set", "Discord Developer Portal", "https://discord.com/developers/applications",
				"Bot → Reset Token", "export KLAXON_DISCORD_TOKEN=<token>"}},
		{name: "blank discord token", env: map[string]string{"KLAXON_DISCORD_TOKEN": "  ", "KLAXON_WEBHOOK_TOKEN": "x"},
			want: []string{"KLAXON_DISCORD_TOKEN is not set", "export KLAXON_DISCORD_TOKEN=<token>"}},
		{name: "nothing set", env: map[string]string{},
			want: []string{"KLAXON_DISCORD_TOKEN is not set", "https://discord.com/developers/applications"}},
		{name: "no webhook token", env: map[string]string{"KLAXON_DISCORD_TOKEN": "x"},
			want: []string{"KLAXON_WEBHOOK_TOKEN is not set", "openssl rand -hex 32", "http_config.authorization.credentials"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"KLAXON_DB": filepath.Join(dir, "klaxon.db"), "KLAXON_HTTP_ADDR": "127.0.0.1:0"}
			for k, v := range tc.env {
				env[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			cfg := filepath.Join(dir, "klaxon.yaml") // serve refuses to start without one
			writeFile(t, cfg, "priorities:\n  P0:\n    channel: \"123456789012345678\"\n")
			code := run(ctx, []string{"serve", "--config", cfg}, func(k string) string { return env[k] }, &out, &errb)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstderr: %s", code, errb.String())
			}
			msg := errb.String()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "panic") {
				t.Errorf("message: %s", msg)
			}
		})
	}
}
