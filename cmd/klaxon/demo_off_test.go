//go:build !demo

package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Without the demo build tag, `klaxon demo` says how to run it and exits 2.
func TestDemoNotInProductionBuild(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"demo", "--no-color"}, func(string) string { return "" }, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "go run -tags demo ./cmd/klaxon demo") {
		t.Fatalf("demo without the tag: exit %d, stderr %q", code, errb.String())
	}
}

// TestDemoBinary builds klaxon with the demo tag and runs `klaxon demo`, so
// that the README's test command (no tags) still runs the demo end to end;
// `go test -tags demo` runs demo_test.go's finer checks in process.
func TestDemoBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the klaxon binary with -tags demo")
	}
	bin := filepath.Join(t.TempDir(), "klaxon-demo")
	if out, err := exec.Command("go", "build", "-tags", "demo", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags demo: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "demo", "--no-color")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("klaxon demo: %v\nstderr:\n%s\nstdout:\n%s", err, errb.String(), out.String())
	}
	for _, w := range []string{"#alerts-p0 posts msg #1", "[P0 red] 🔴 P0 · GameServerDown", "[resolved green] ✅ P0 · GameServerDown",
		"📞 phone call to", "Every request passed the fake Discord's checks"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("transcript lacks %q:\n%s", w, out.String())
		}
	}
}
