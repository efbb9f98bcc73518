package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A plain-http LLM endpoint on another machine is refused by check-config
// and by serve, with the file and line, unless llm.allow_insecure is set;
// https and http to this machine are fine.
func TestLLMEndpointNeedsTLSUnlessLocal(t *testing.T) {
	example, err := os.ReadFile("../../deploy/klaxon.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(example), "\n")
	for _, tc := range []struct {
		url    string
		allow  bool
		wantOK bool
	}{
		{"https://api.openai.com/v1", false, true},
		{"http://localhost:11434/v1", false, true},
		{"http://127.0.0.1:8000/v1", false, true},
		{"http://[::1]:8000/v1", false, true},
		{"http://ollama:11434/v1", false, false},
		{"http://10.0.0.8:8000/v1", false, false},
		{"http://llm.example.org/v1", false, false},
		{"http://ollama:11434/v1", true, true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			doc := string(example) + "\nllm:\n  base_url: " + tc.url + "\n  model: llama3.1\n"
			if tc.allow {
				doc += "  allow_insecure: true\n"
			}
			path := filepath.Join(t.TempDir(), "klaxon.yaml")
			writeFile(t, path, doc)
			env := func(k string) string {
				return map[string]string{"KLAXON_DISCORD_TOKEN": "x", "KLAXON_WEBHOOK_TOKEN": "y", "KLAXON_DB": filepath.Join(t.TempDir(), "k.db")}[k]
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"check-config", "--config", path}, env, &out, &errb)
			if tc.wantOK {
				if code != 0 {
					t.Fatalf("check-config exit %d:\n%s%s", code, out.String(), errb.String())
				}
				return
			}
			// base_url is the line after "llm:", two after the example's last line.
			want := path + ":" + strconv.Itoa(lines+3) + ": error: base_url " + tc.url + " is plain http to"
			if code != 1 || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "llm.allow_insecure: true") {
				t.Fatalf("check-config exit %d, want 1 with %q:\n%s%s", code, want, out.String(), errb.String())
			}
			errb.Reset()
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // serve must refuse before it starts anything
			if code := run(ctx, []string{"serve", "--config", path}, env, &out, &errb); code != 1 || !strings.Contains(errb.String(), "is plain http to") {
				t.Fatalf("serve exit %d, want 1 refusing the endpoint:\n%s", code, errb.String())
			}
		})
	}
}
