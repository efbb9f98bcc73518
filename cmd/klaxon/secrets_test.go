package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // not narrowed by the umask
			t.Fatal(err)
		}
		return p
	}
	tok := file("token", "s3cret\n", 0o600)
	crlf := file("crlf", "s3cret\r\n", 0o600)
	twoLines := file("two", "s3cret\n\n", 0o600)
	spaces := file("spaces", " pass word \n", 0o600)
	empty := file("empty", "\n", 0o600)
	wide := file("wide", "s3cret", 0o644)
	group := file("group", "s3cret", 0o440)
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name      string
		env       map[string]string
		want      string
		wantErr   string
		wantWarn  string
		wantNoVal bool
	}{
		{name: "variable", env: map[string]string{"X": "direct"}, want: "direct"},
		{name: "neither", env: map[string]string{}, want: ""},
		{name: "file, newline trimmed", env: map[string]string{"X_FILE": tok}, want: "s3cret"},
		{name: "file, CRLF trimmed", env: map[string]string{"X_FILE": crlf}, want: "s3cret"},
		{name: "only one newline trimmed", env: map[string]string{"X_FILE": twoLines}, want: "s3cret\n"},
		{name: "other whitespace kept", env: map[string]string{"X_FILE": spaces}, want: " pass word "},
		{name: "both set", env: map[string]string{"X": "a", "X_FILE": tok}, wantErr: "X and X_FILE are both set: keep one"},
		{name: "unreadable", env: map[string]string{"X_FILE": missing}, wantErr: "X_FILE: cannot read the secret: open " + missing + ": no such file or directory"},
		{name: "empty", env: map[string]string{"X_FILE": empty}, wantErr: "X_FILE: " + empty + " is empty"},
		{name: "mode wider than 0600", env: map[string]string{"X_FILE": wide}, want: "s3cret",
			wantWarn: "X_FILE: " + wide + " has mode 0644: every user of this machine can read it; chmod 600 it (Kubernetes: defaultMode: 0440 on the secret volume)"},
		{name: "group read (Kubernetes fsGroup) is fine", env: map[string]string{"X_FILE": group}, want: "s3cret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, warn, err := readSecret(func(k string) string { return tc.env[k] }, "X")
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr || warn != tc.wantWarn || (tc.wantErr == "" && v != tc.want) {
				t.Errorf("readSecret = %q, warning %q, error %q; want %q, %q, %q", v, warn, gotErr, tc.want, tc.wantWarn, tc.wantErr)
			}
		})
	}
}

// Every secret variable has its _FILE variant, and the values reach the
// configuration; check-config names a broken one without its value.
func TestSecretFilesReachTheConfig(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{}
	for _, name := range secretVars {
		p := filepath.Join(dir, name)
		writeFile(t, p, "from-file-"+name+"\n")
		env[name+"_FILE"] = p
	}
	c, ps := LoadConfig("", func(k string) string { return env[k] })
	if c == nil {
		t.Fatalf("LoadConfig: %v", ps)
	}
	for _, p := range ps {
		if strings.Contains(p.Message, "_FILE") {
			t.Errorf("problem with a secret file: %v", p)
		}
	}
	got := map[string]string{
		"KLAXON_DISCORD_TOKEN": c.Env.DiscordToken, "KLAXON_WEBHOOK_TOKEN": c.Env.WebhookToken,
		"KLAXON_TWILIO_AUTH_TOKEN": c.Env.TwilioAuthToken, "KLAXON_SMTP_PASSWORD": c.Env.SMTPPassword, "KLAXON_LLM_API_KEY": c.LLM.APIKey,
		"KLAXON_HEARTBEAT_TOKEN": c.Env.HeartbeatToken,
	}
	if len(got) != len(secretVars) {
		t.Fatalf("the test checks %d secrets, secretVars has %d", len(got), len(secretVars))
	}
	for name, v := range got {
		if v != "from-file-"+name {
			t.Errorf("%s = %q, want the file's content", name, v)
		}
	}

	env["KLAXON_WEBHOOK_TOKEN"] = "also-set-directly"
	cfg := filepath.Join(dir, "k.yaml")
	writeFile(t, cfg, "log:\n  level: info\n")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--config", cfg}, func(k string) string { return env[k] }, &out, &errb)
	want := cfg + ": error: KLAXON_WEBHOOK_TOKEN and KLAXON_WEBHOOK_TOKEN_FILE are both set: keep one\n"
	if code != 1 || !strings.HasPrefix(out.String(), want) || strings.Contains(out.String(), "also-set-directly") {
		t.Errorf("check-config: exit %d, output:\n%s\nwant 1 and first:\n%s", code, out.String(), want)
	}
}
