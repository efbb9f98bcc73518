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
	reloaded := make(chan struct{}, 1)
	w.main.reloaded = func() { reloaded <- struct{}{} }
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
	// The reload happens on the signal goroutine, which says when it is done.
	select {
	case <-reloaded:
	case <-time.After(10 * time.Second): // a bound on a failure, not a wait for behaviour
		t.Fatal("SIGHUP did not reach the reload")
	}
	if _, ok := lib.Current().Get("queue-stuck"); !ok {
		t.Fatal("SIGHUP did not reload the runbooks directory")
	}
}
