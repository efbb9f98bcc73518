// Package amtest starts a real Alertmanager (Debian's prometheus-alertmanager)
// on a loopback port, for end-to-end tests (Start) and for tools such as the
// storm benchmark (Run).
package amtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Instance is a running Alertmanager.
type Instance struct {
	URL  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	logs *lockedBuffer
	dir  string // removed by Close when Run created it

	closeOnce sync.Once
	closeErr  error
	exited    chan struct{}
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
	return "", ErrNoBinary
}

// ErrNoBinary says that no Alertmanager binary was found, and how to get one.
var ErrNoBinary = errors.New("no Alertmanager binary: install it with `apt-get install -y prometheus-alertmanager` (Debian/Ubuntu) or set KLAXON_ALERTMANAGER=/path/to/alertmanager")

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
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Options tunes Run. The zero value runs $KLAXON_ALERTMANAGER or the binary
// on PATH with debug logging kept in memory, in a fresh temporary directory.
type Options struct {
	// Binary is the Alertmanager executable; default Binary().
	Binary string
	// Dir holds the configuration file and the data directory; default a new
	// temporary directory, removed by Close.
	Dir string
	// LogLevel is Alertmanager's --log.level; default "debug".
	LogLevel string
	// Logs, when set, receives Alertmanager's output instead of the in-memory
	// buffer behind Logs() (useful when a long run logs a lot).
	Logs io.Writer
	// ReadyTimeout bounds the wait for /-/ready; default 20s.
	ReadyTimeout time.Duration
}

// Run starts Alertmanager with the given configuration (YAML) and returns
// once it answers /-/ready. Close stops it. Cancelling ctx kills it too.
func Run(ctx context.Context, config string, opts Options) (*Instance, error) {
	bin := opts.Binary
	if bin == "" {
		b, err := Binary()
		if err != nil {
			return nil, err
		}
		bin = b
	}
	in := &Instance{logs: &lockedBuffer{}, exited: make(chan struct{})}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "amtest-")
		if err != nil {
			return nil, err
		}
		dir, in.dir = d, d
	}
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		in.removeDir()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		in.removeDir()
		return nil, err
	}
	level := opts.LogLevel
	if level == "" {
		level = "debug"
	}
	in.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	in.cmd = exec.CommandContext(ctx, bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--cluster.listen-address=", "--log.level="+level)
	var out io.Writer = in.logs
	if opts.Logs != nil {
		out = opts.Logs
	}
	in.cmd.Stdout, in.cmd.Stderr = out, out
	if err := in.cmd.Start(); err != nil {
		in.removeDir()
		return nil, fmt.Errorf("start alertmanager %s: %w", bin, err)
	}
	go func() {
		_ = in.cmd.Wait()
		close(in.exited)
	}()
	timeout := opts.ReadyTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(in.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in, nil
			}
		}
		select {
		case <-in.exited:
			in.Close()
			return nil, fmt.Errorf("alertmanager exited before it was ready (%v)\n%s", in.cmd.ProcessState, in.Logs())
		default:
		}
		if time.Now().After(deadline) {
			in.Close()
			return nil, fmt.Errorf("alertmanager not ready after %s: %v\n%s", timeout, err, in.Logs())
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, not waiting for behaviour under test
	}
}

// Start runs Alertmanager with the given configuration (YAML) until the test ends.
func Start(t testing.TB, config string) *Instance {
	t.Helper()
	bin := Require(t)
	in, err := Run(context.Background(), config, Options{Binary: bin, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", in.Logs())
		}
	})
	return in
}

// Close stops Alertmanager (SIGTERM, then SIGKILL after 5s) and removes the
// directory Run created. It is safe to call more than once.
func (in *Instance) Close() error {
	in.closeOnce.Do(func() {
		if in.cmd != nil && in.cmd.Process != nil {
			_ = in.cmd.Process.Signal(os.Interrupt)
			select {
			case <-in.exited:
			case <-time.After(5 * time.Second):
				_ = in.cmd.Process.Kill()
				<-in.exited
			}
		}
		in.removeDir()
	})
	return in.closeErr
}

func (in *Instance) removeDir() {
	if in.dir != "" {
		in.closeErr = os.RemoveAll(in.dir)
	}
}

// Pid is the Alertmanager process id.
func (in *Instance) Pid() int { return in.cmd.Process.Pid }

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
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("push alerts: %s %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Logs returns what Alertmanager logged so far (empty when Options.Logs
// took the output).
func (in *Instance) Logs() string { return in.logs.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
