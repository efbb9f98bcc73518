package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// The shipped example configuration must pass check-config as it is.
func TestExampleConfigIsValid(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--config", "../../deploy/klaxon.example.yaml"},
		func(string) string { return "" }, &out, &errb)
	if code != 0 {
		t.Fatalf("check-config exit %d:\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "OK") {
		t.Errorf("output: %s", out.String())
	}
}

func TestCheckConfigReportsFileAndLine(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/bad.yaml"
	writeFile(t, path, "priorities:\n  P0:\n    channel: \"abc\"\n  bogus: 1\nlog:\n  level: loud\n")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--config", path}, func(string) string { return "" }, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out.String())
	}
	for _, want := range []string{
		path + ":4: error: priorities.bogus: unknown key (priorities takes P0, P1, P2, P3, default, severity)",
		path + ":3: error: priorities.P0.channel \"abc\" is not a Discord id",
		path + ":6: error: log.level \"loud\" is not one of",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
