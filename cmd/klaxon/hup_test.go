package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// SIGHUP reloads the runbooks directory (that a broken file keeps the old set
// is runbooks.Library's own test).
func TestSIGHUPReloadsRunbooks(t *testing.T) {
	dir := t.TempDir()
	w := newWorld(t, "runbooks:\n  dir: "+dir+"\n", map[string]string{"KLAXON_DISCORD_GATEWAY": "off"})
	stop := w.main.reloadOnHUP()
	defer stop()
	lib := w.main.Runbooks.Library
	if _, ok := lib.Current().Get("queue-stuck"); ok {
		t.Fatal("runbook present before it was written")
	}
	rb := "---\nid: queue-stuck\ntitle: Queue stuck\npriority: P2\nscenario: jobs pile up\nfirst_response: restart the worker\n---\n## Steps\n1. Restart the worker\n"
	if err := os.WriteFile(filepath.Join(dir, "queue-stuck.md"), []byte(rb), 0o600); err != nil {
		t.Fatal(err)
	}
	hup := func() {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	hup()
	// The reload happens on the signal goroutine; poll its observable result.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := lib.Current().Get("queue-stuck"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload the runbooks directory")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
