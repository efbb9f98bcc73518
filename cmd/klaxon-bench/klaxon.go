package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// moduleRoot finds the klaxon module's directory from the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the Go toolchain on PATH?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the klaxon module: run from the repository (go run ./cmd/klaxon-bench storm) or pass --klaxon-bin")
	}
	return filepath.Dir(gomod), nil
}

// buildKlaxon runs `go build -o dir/klaxon ./cmd/klaxon` in the module and
// returns the binary and the checkout's revision.
func buildKlaxon(ctx context.Context, dir string) (bin, revision string, err error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(dir, "klaxon")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/klaxon")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build ./cmd/klaxon in %s: %w\n%s", root, err, out)
	}
	return bin, gitRevision(ctx, root), nil
}

// gitRevision is the checkout's short commit, "+dirty" when tracked files
// that can end up in the klaxon binary have changes (the bench itself and
// the test helper amtest do not count).
func gitRevision(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no",
		"--", ".", ":!cmd/klaxon-bench", ":!bot/alertmanager/amtest").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += "+dirty"
	}
	return rev
}

// klaxonProc is `klaxon serve` running as a child process.
type klaxonProc struct {
	cmd    *exec.Cmd
	Addr   string // host:port of its HTTP server
	exited chan struct{}
	log    string // path of its log file
}

// startKlaxon starts `bin serve --config cfg` with env added to a clean copy
// of the environment, waits until it listens (its "klaxon serving" log line
// names the address) and answers /readyz.
func startKlaxon(ctx context.Context, bin, cfg, logPath string, env map[string]string) (*klaxonProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p := &klaxonProc{exited: make(chan struct{}), log: logPath}
	p.cmd = exec.Command(bin, "serve", "--config", cfg)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KLAXON_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout = logf
	p.cmd.Stderr = io.MultiWriter(logf, pw)
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	addrCh := make(chan string, 1)
	go func() { // find the address, then keep draining the pipe
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			if found {
				continue
			}
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "klaxon serving" && line.Addr != "" {
				addrCh <- line.Addr
				found = true
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		_ = p.cmd.Wait()
		pw.Close()
		logf.Close()
		close(p.exited)
	}()

	fail := func(err error) (*klaxonProc, error) {
		p.Stop()
		return nil, fmt.Errorf("%w\nlast lines of %s:\n%s", err, logPath, tail(logPath, 15))
	}
	select {
	case p.Addr = <-addrCh:
	case <-p.exited:
		return fail(fmt.Errorf("klaxon exited before serving (%v)", p.cmd.ProcessState))
	case <-time.After(30 * time.Second):
		return fail(errors.New("klaxon did not log \"klaxon serving\" within 30s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.Addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("klaxon /readyz not ready within 30s (last: %v)", err))
		}
		select {
		case <-p.exited:
			return fail(fmt.Errorf("klaxon exited (%v)", p.cmd.ProcessState))
		case <-time.After(100 * time.Millisecond): // polling a starting process
		}
	}
}

// Pid is the process id.
func (p *klaxonProc) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits up to 15s, then kills.
func (p *klaxonProc) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Running reports whether the process is still alive.
func (p *klaxonProc) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// procStats reads a process's peak resident set (VmHWM, MiB) and CPU time
// (utime+stime, seconds) from /proc.
func procStats(pid int) (peakRSSMiB, cpuSeconds float64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	kb, err := parseVmHWM(string(status))
	if err != nil {
		return 0, 0, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	ticks, err := parseCPUTicks(string(stat))
	if err != nil {
		return 0, 0, err
	}
	return float64(kb) / 1024, float64(ticks) / userHZ, nil
}

// userHZ is the unit of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const userHZ = 100

// parseVmHWM returns the VmHWM line of /proc/<pid>/status, in kB.
func parseVmHWM(status string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// parseCPUTicks returns utime+stime from /proc/<pid>/stat (fields 14 and 15,
// counted after the parenthesised command name, which may hold spaces).
func parseCPUTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return ut + st, nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// sysBusyTicks is the CPU time the whole machine spent busy (the "cpu" line
// of /proc/stat: everything but idle and iowait), in USER_HZ ticks.
func sysBusyTicks() (int64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseSysBusy(string(b))
}

func parseSysBusy(stat string) (int64, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, errors.New("no cpu line in /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest times are already in user
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		busy += n
	}
	return busy, nil
}

// cpuSeconds is a process's utime+stime in seconds (0 if it is gone).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	t, err := parseCPUTicks(string(b))
	if err != nil {
		return 0
	}
	return float64(t) / userHZ
}

// cpuWatch measures how much CPU the machine spent outside the benchmark's
// own processes during the run: on a shared machine, other work skews the
// figures, and the result says so.
type cpuWatch struct {
	pids  []int
	busy0 int64
	own0  float64
	t0    time.Time
}

func startCPUWatch(pids ...int) *cpuWatch {
	w := &cpuWatch{pids: pids, t0: time.Now()}
	w.busy0, _ = sysBusyTicks()
	w.own0 = w.own()
	return w
}

func (w *cpuWatch) own() float64 {
	var s float64
	for _, p := range w.pids {
		s += cpuSeconds(p)
	}
	return s
}

// Stop returns the wall time, the CPU-seconds the machine could give, and
// the CPU-seconds spent by other processes.
func (w *cpuWatch) Stop(cpus int) (wall, available, others float64) {
	busy, err := sysBusyTicks()
	wall = time.Since(w.t0).Seconds()
	if err != nil || w.busy0 == 0 {
		return wall, 0, 0
	}
	machine := float64(busy-w.busy0) / userHZ
	return wall, wall * float64(cpus), max(machine-(w.own()-w.own0), 0)
}
