package main

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// serve without a configuration stops at once and says how to get one.
func TestServeRefusesToStartWithoutConfig(t *testing.T) {
	var out, errb bytes.Buffer
	env := map[string]string{"KLAXON_DISCORD_TOKEN": "t", "KLAXON_WEBHOOK_TOKEN": "w", "KLAXON_DB": filepath.Join(t.TempDir(), "k.db")}
	code := run(stopped(), []string{"serve"}, func(k string) string { return env[k] }, &out, &errb)
	if code != 2 || errb.String() != noConfig+"\n" {
		t.Fatalf("exit %d, stderr:\n%s\nwant 2 and:\n%s", code, errb.String(), noConfig)
	}
}

// serve refuses the example's placeholder ids, naming where they are and
// pointing to klaxon init; check-config only warns (the example must pass).
func TestServeRefusesPlaceholderIDs(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "k.yaml")
	writeFile(t, cfg, "discord:\n  guild_id: \"123456789012345678\"\npriorities:\n  P0:\n    channel: \"100000000000000010\"\n    mention_roles: [\"100000000000000100\"]\n")
	env := map[string]string{"KLAXON_DISCORD_TOKEN": "t", "KLAXON_WEBHOOK_TOKEN": "w", "KLAXON_DB": filepath.Join(dir, "k.db"), "KLAXON_HTTP_ADDR": "127.0.0.1:0"}
	getenv := func(k string) string { return env[k] }
	want := cfg + ":5: error: 2 placeholder Discord id(s) from the example configuration: priorities.P0.channel 100000000000000010 (line 5), " +
		"priorities.P0.mention_roles[0] 100000000000000100 (line 6); `klaxon init --guild <your server id>` writes a configuration with your server's channels and roles\n"
	var out, errb bytes.Buffer
	if code := run(stopped(), []string{"serve", "--config", cfg}, getenv, &out, &errb); code != 1 || errb.String() != want {
		t.Fatalf("serve: exit %d, stderr:\n%s\nwant 1 and:\n%s", code, errb.String(), want)
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"check-config", "--config", cfg}, getenv, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), cfg+":5: warning: 2 placeholder Discord id(s)") {
		t.Fatalf("check-config: exit %d, output:\n%s%s", code, out.String(), errb.String())
	}
}

func TestPlaceholderIDsInTheExample(t *testing.T) {
	c, ps := LoadConfig("../../deploy/klaxon.example.yaml", func(string) string { return "" })
	if c == nil {
		t.Fatal(ps)
	}
	refs := placeholderIDs(&c.root)
	got := map[string]bool{}
	for _, r := range refs {
		got[r.Path] = true
	}
	for _, p := range []string{"discord.guild_id", "priorities.P0.channel", "schedules[0].participants[1]", "users.100000000000001001", "access.staff_roles[0]", "backups.ops_channel"} {
		if !got[p] {
			t.Errorf("placeholder at %s not found; found %v", p, refs)
		}
	}
	for _, r := range refs {
		if strings.HasPrefix(r.Path, "users.") && strings.Contains(r.Path, "phone") {
			t.Errorf("a phone number taken for an id: %v", r)
		}
	}
}

// Every command answers --help with its own flags on stdout and exit 0;
// -v and --version print the version.
func TestHelpAndVersion(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		stdout   []string
		notInOut []string
	}{
		{args: []string{"--version"}, stdout: []string{"klaxon " + version + " ("}},
		{args: []string{"-v"}, stdout: []string{"klaxon " + version + " ("}},
		{args: []string{"version"}, stdout: []string{"klaxon " + version + " ("}},
		{args: []string{"version", "--help"}, stdout: []string{"Usage: klaxon version"}, notInOut: []string{"-online", "-config"}},
		{args: []string{"serve", "--help"}, stdout: []string{"Usage: klaxon serve", "-config"}, notInOut: []string{"-online"}},
		{args: []string{"requeue", "-h"}, stdout: []string{"Usage: klaxon requeue"}, notInOut: []string{"-online", "-config"}},
		{args: []string{"healthcheck", "--help"}, stdout: []string{"Usage: klaxon healthcheck"}, notInOut: []string{"-online"}},
		{args: []string{"check-config", "--help"}, stdout: []string{"Usage: klaxon check-config", "-online", "-config"}},
		{args: []string{"--help"}, stdout: []string{"--db FILE", "--verbose", "KLAXON_TWILIO_AUTH_TOKEN", "KLAXON_SMTP_PASSWORD", "KLAXON_LLM_API_KEY", "_FILE", "klaxon init"}},
		{args: []string{"version", "--bogus"}, code: 2},
		{args: []string{"serve", "extra"}, code: 2},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, func(string) string { return "" }, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.notInOut {
				if strings.Contains(out.String(), w) {
					t.Errorf("stdout has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestBuildVersion(t *testing.T) {
	vcs := func(kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		name, stamped string
		bi            *debug.BuildInfo
		want, details string
	}{
		{"stamped wins", "v1.2.3", vcs("vcs.revision", rev), "v1.2.3", "commit " + rev + "; "},
		{"go install @version", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0", ""},
		{"clean commit", "dev", vcs("vcs.revision", rev, "vcs.time", "2026-12-05T10:00:00Z", "vcs.modified", "false"), "0123456789ab",
			"commit " + rev + " of 2026-12-05T10:00:00Z; "},
		{"modified tree", "dev", vcs("vcs.revision", rev, "vcs.modified", "true"), "0123456789ab-dirty", "commit " + rev + ", with uncommitted changes; "},
		{"nothing known", "dev", vcs(), "dev", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildVersion(tc.stamped, tc.bi); got != tc.want {
				t.Errorf("buildVersion = %q, want %q", got, tc.want)
			}
			if got := buildDetails(tc.bi); got != tc.details {
				t.Errorf("buildDetails = %q, want %q", got, tc.details)
			}
		})
	}
}

// stopped is a context already cancelled: a serve that wrongly starts
// stops at once instead of running until the test times out.
func stopped() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
