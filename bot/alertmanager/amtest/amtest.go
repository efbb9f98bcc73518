// Package amtest starts a real Alertmanager (Debian's prometheus-alertmanager)
// on a loopback port for end-to-end tests.
package amtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Instance is a running Alertmanager.
type Instance struct {
	URL  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// Binary finds the Alertmanager binary: $KLAXON_ALERTMANAGER, then
// prometheus-alertmanager (Debian) or alertmanager on PATH.
func Binary() (string, error) {
	if p := os.Getenv("KLAXON_ALERTMANAGER"); p != "" {
		return p, nil
	}
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Alertmanager binary: install it with `apt-get install -y prometheus-alertmanager` (Debian/Ubuntu) or set KLAXON_ALERTMANAGER=/path/to/alertmanager")
}

// Require returns the binary or stops the test: in CI (CI set) a missing
// Alertmanager fails the test, elsewhere it is skipped with how to install it.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("end-to-end test needs a real Alertmanager: %v", err)
		}
		t.Skipf("end-to-end test needs a real Alertmanager: %v", err)
	}
	return bin
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs Alertmanager with the given configuration (YAML) until the test ends.
func Start(t testing.TB, config string) *Instance {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	in := &Instance{URL: "http://127.0.0.1:" + strconv.Itoa(port), logs: &bytes.Buffer{}}
	in.cmd = exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--cluster.listen-address=", "--log.level=debug")
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	if err := in.cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	t.Cleanup(func() {
		in.cmd.Process.Kill()
		in.cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", in.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(in.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready after 20s: %v\n%s", err, in.logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, not waiting for behaviour under test
	}
}

// Alert is an alert to push through Alertmanager's API v2.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitempty"`
	EndsAt       time.Time         `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Push posts alerts to POST /api/v2/alerts.
func (in *Instance) Push(ctx context.Context, alerts ...Alert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("push alerts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("push alerts: %s", resp.Status)
	}
	return nil
}

// Logs returns what Alertmanager logged so far.
func (in *Instance) Logs() string { return in.logs.String() }
