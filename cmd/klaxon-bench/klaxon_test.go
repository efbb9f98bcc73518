package main

import (
	"os"
	"testing"
)

func TestParseProc(t *testing.T) {
	status := "Name:\tklaxon\nVmPeak:\t  812345 kB\nVmHWM:\t   45678 kB\nVmRSS:\t   40000 kB\n"
	if kb, err := parseVmHWM(status); err != nil || kb != 45678 {
		t.Errorf("VmHWM = %d, %v", kb, err)
	}
	if _, err := parseVmHWM("Name:\tx\n"); err == nil {
		t.Error("missing VmHWM accepted")
	}
	// The command name may contain spaces and parentheses.
	stat := "1234 (klax on) (x)) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 12 0 100 0 0"
	if ticks, err := parseCPUTicks(stat); err != nil || ticks != 325 {
		t.Errorf("ticks = %d, %v; want 250+75", ticks, err)
	}
	if _, err := parseCPUTicks("1 (x) S 1"); err == nil {
		t.Error("short stat accepted")
	}
	// And it works on ourselves.
	rss, cpu, err := procStats(os.Getpid())
	if err != nil || rss <= 0 || cpu < 0 {
		t.Errorf("procStats(self) = %v MiB, %v s, %v", rss, cpu, err)
	}
}

func TestLogProblems(t *testing.T) {
	path := t.TempDir() + "/k.log"
	os.WriteFile(path, []byte(`{"level":"INFO","msg":"klaxon serving"}
{"level":"WARN","msg":"alert storm: cards folded into a digest","groups":46}
not json
{"level":"ERROR","msg":"discord request failed"}
{"level":"WARN","msg":"alert storm: cards folded into a digest","groups":48}
`), 0o644)
	got := logProblems(path)
	if len(got) != 2 || got[0] != "WARN alert storm: cards folded into a digest ×2" || got[1] != "ERROR discord request failed ×1" {
		t.Errorf("logProblems = %q", got)
	}
}

func TestParseSysBusy(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 3 2 1 7 0\ncpu0 1 2 3 4 5 6 7 8\n"
	// user+nice+system+irq+softirq+steal = 100+5+50+3+2+1; idle, iowait and guest left out.
	if got, err := parseSysBusy(stat); err != nil || got != 161 {
		t.Errorf("busy = %d, %v; want 161", got, err)
	}
	if _, err := parseSysBusy("intr 1 2 3\n"); err == nil {
		t.Error("no cpu line accepted")
	}
	if _, err := sysBusyTicks(); err != nil {
		t.Errorf("reading /proc/stat: %v", err)
	}
}
