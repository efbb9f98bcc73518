package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot/discordtest"
)

// TestKill9NothingLostOrDoubled runs the real klaxon binary and kills it
// with SIGKILL at the moment that matters most — right after Discord
// created a card, before or after the answer reached Klaxon — several
// times during a storm, restarting it on the same database each time.
// Every group Alertmanager was told was stored (2xx) is on Discord, none has
// two cards, every P0 pinged once, and every resolved group shows resolved.
func TestKill9NothingLostOrDoubled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the klaxon binary")
	}
	bin := filepath.Join(t.TempDir(), "klaxon")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// A 429 is a violation too: a restarted process starts its pacer from
	// when its predecessor last sent, so it must not draw one.
	fake := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Errorf("discord violation: %v", err) }})
	t.Cleanup(fake.Close)
	guild := fake.AddGuild("Marola RP")
	var channels [4]string
	for i := range channels {
		channels[i] = fake.AddChannel(guild, fmt.Sprintf("alerts-p%d", i), discordgo.ChannelTypeGuildText)
	}
	role := fake.AddRole(guild, "on-call")

	// A proxy in front of the fake Discord kills Klaxon right around a
	// card's creation: Discord has the message, Klaxon may or may not.
	target, _ := url.Parse(strings.TrimSuffix(fake.APIBase(), "/api/v10"))
	var proc atomic.Pointer[os.Process]
	var armed atomic.Int32 // kills left to aim
	var killed atomic.Int32
	type senderKey struct{}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		// Remember which process sent it: a request of a process killed
		// meanwhile must not kill its successor.
		r.Out = r.Out.WithContext(context.WithValue(r.Out.Context(), senderKey{}, proc.Load()))
	}}
	rp.ModifyResponse = func(r *http.Response) error {
		sender, _ := r.Request.Context().Value(senderKey{}).(*os.Process)
		if r.Request.Method == http.MethodPost && strings.HasSuffix(r.Request.URL.Path, "/messages") && r.StatusCode == 200 &&
			sender != nil && sender == proc.Load() {
			if n := armed.Add(-1); n >= 0 {
				if p := sender; p != nil {
					if n%2 == 0 {
						_ = p.Signal(syscall.SIGKILL) // before the answer reaches Klaxon
					} else {
						defer func() { go func() { time.Sleep(2 * time.Millisecond); _ = p.Signal(syscall.SIGKILL) }() }() // just after
					}
					killed.Add(1)
				}
			}
		}
		return nil
	}
	proxy := &http.Server{Handler: rp}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go proxy.Serve(pln)
	t.Cleanup(func() { proxy.Close() })

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "klaxon.yaml")
	cfg := fmt.Sprintf(`
discord:
  guild_id: %q
priorities:
  P0: {channel: %q, mention_roles: [%q], ack_within: 15m, reach: [discord]}
  P1: {channel: %q, ack_within: 30m}
  P2: {channel: %q, ack_within: 2h}
  P3: {channel: %q, ack_within: 24h}
storm:
  threshold: 1000
engine:
  interval: 200ms
`, guild, channels[0], role, channels[1], channels[2], channels[3])
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	var addr string
	client := &http.Client{Timeout: 5 * time.Second}
	serving := regexp.MustCompile(`msg="klaxon serving".* addr=(\S+)`)
	var start func()
	start = func() {
		t.Helper()
		logMu.Lock()
		from := logs.Len()
		logMu.Unlock()
		cmd := exec.Command(bin, "serve", "--config", cfgPath)
		cmd.Env = append(os.Environ(), "KLAXON_DISCORD_TOKEN=kill.test.token", "KLAXON_WEBHOOK_TOKEN="+webhookToken,
			"KLAXON_DB="+filepath.Join(dir, "klaxon.db"), "KLAXON_HTTP_ADDR=127.0.0.1:0",
			"KLAXON_DISCORD_API_URL=http://"+pln.Addr().String()+"/api/v10", "KLAXON_DISCORD_GATEWAY=off", "KLAXON_LOG_FORMAT=text")
		w := &lockedWriter{mu: &logMu, w: &logs}
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		proc.Store(cmd.Process)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			logMu.Lock()
			m := serving.FindStringSubmatch(logs.String()[from:])
			logMu.Unlock()
			if m != nil {
				addr = m[1]
				if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
					resp.Body.Close()
					return
				}
			}
			select {
			case err := <-exited:
				if ee, ok := err.(*exec.ExitError); ok && ee.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
					start() // an aimed kill while it was starting (its queue runs at once): start again
					return
				}
				logMu.Lock()
				defer logMu.Unlock()
				t.Fatalf("klaxon exited at start: %v\n%s", err, logs.String()[from:])
			default:
			}
			if time.Now().After(deadline) {
				logMu.Lock()
				defer logMu.Unlock()
				t.Fatalf("klaxon did not start within 30 s:\n%s", logs.String()[from:])
			}
			time.Sleep(20 * time.Millisecond) // polling a starting process, not waiting for behaviour
		}
	}
	// send delivers one notification; it reports whether Klaxon confirmed it (2xx).
	send := func(body map[string]any) bool {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook/alertmanager", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+webhookToken)
		resp, err := client.Do(req)
		if err != nil {
			return false // killed meanwhile: Alertmanager would retry
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode/100 == 2
	}
	stop := func() {
		if p := proc.Load(); p != nil {
			_ = p.Signal(syscall.SIGKILL)
			for i := 0; i < 200 && p.Signal(syscall.Signal(0)) == nil; i++ {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	t.Cleanup(stop)

	type group struct {
		name     string
		severity string
		start    time.Time
		resolved bool
	}
	var groups []*group
	confirmed := map[string]bool{}
	sevs := []string{"critical", "error", "warning", "info"}
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	const rounds = 4
	for round := range rounds {
		armed.Store(2)
		start()
		for i := range 8 {
			g := &group{name: fmt.Sprintf("Kill%d%02d", round, i), severity: sevs[i%4], start: t0}
			groups = append(groups, g)
		}
		// Alertmanager retries until it gets a 2xx: so do we, across the kills.
		for _, g := range groups {
			body := webhookBody(g.name, g.severity, g.start)
			if round > 0 && strings.HasSuffix(g.name, "1") && !g.resolved {
				g.resolved = true
			}
			if g.resolved {
				a := body["alerts"].([]map[string]any)[0]
				a["status"], a["endsAt"] = "resolved", time.Now().Format(time.RFC3339Nano)
				body["status"] = "resolved"
			}
			for !send(body) {
				stop()
				start()
			}
			confirmed[g.name] = true
		}
		// Let the queue work until the aimed kills happened (or it settled).
		deadline := time.Now().Add(15 * time.Second)
		for armed.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		stop()
	}
	armed.Store(0)
	start()
	// The last run settles: every card, every resolution.
	check := func() []string {
		var problems []string
		for _, g := range groups {
			ch := channels[map[string]int{"critical": 0, "error": 1, "warning": 2, "info": 3}[g.severity]]
			var cards []discordtest.Message
			for _, m := range fake.Messages(ch) {
				if len(m.Embeds) > 0 && strings.Contains(m.Embeds[0].Title, g.name) {
					cards = append(cards, m)
				}
			}
			switch {
			case len(cards) == 0:
				problems = append(problems, g.name+": no card")
			case len(cards) > 1:
				problems = append(problems, fmt.Sprintf("%s: %d cards", g.name, len(cards)))
			case g.resolved && !strings.Contains(cards[0].Embeds[0].Title+fieldsText(cards[0].Embeds[0]), "Resolved"):
				problems = append(problems, g.name+": not shown resolved")
			}
			// One card means one ping at most (edits never ping); the
			// create that made it must have allowed the on-call role.
			if g.severity == "critical" && len(cards) == 1 {
				pinged := false
				for _, r := range fake.Requests() {
					if r.Method == http.MethodPost && r.ChannelID == ch && r.Status == 200 && bytes.Contains(r.Body, []byte(g.name)) &&
						bytes.Contains(r.Body, []byte(`"roles":["`+role+`"]`)) {
						pinged = true
					}
				}
				if !pinged {
					problems = append(problems, g.name+": the P0 card did not ping the on-call role")
				}
			}
		}
		return problems
	}
	var problems []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		if problems = check(); len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Settled: nothing may be added later either (a late duplicate).
	if len(problems) == 0 {
		time.Sleep(time.Second)
		problems = check()
	}
	if killed.Load() < rounds {
		t.Errorf("only %d aimed kills happened, want at least %d", killed.Load(), rounds)
	}
	if len(problems) > 0 {
		logMu.Lock()
		t.Errorf("after %d kills -9: %d problem(s):\n%s\nklaxon log (tail):\n%s", killed.Load(), len(problems), strings.Join(problems, "\n"), tail(logs.String(), 4000))
		logMu.Unlock()
	}
	t.Logf("%d groups, %d confirmed, %d aimed kills; every group has one card; no 429", len(groups), len(confirmed), killed.Load())
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
