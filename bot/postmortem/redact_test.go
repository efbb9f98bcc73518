package postmortem_test

import (
	"strings"
	"testing"

	"github.com/marola-rp/klaxon/bot/postmortem"
)

// secretShapes are the values an incident record may carry that must never
// reach an LLM, each inside the kind of text it turns up in (the llm
// package's wire test has its own table, sent through a real draft).
var secretShapes = []struct {
	Name, Text, Secret string
}{
	{"bearer token", "curl -H 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4' https://api.example.net", "9f8e7d6c5b4a39281706f5e4"},
	{"basic auth header", "Authorization: Basic a2xheG9uOmh1bnRlcjI=", "a2xheG9uOmh1bnRlcjI="},
	{"password=", "login failed with password=Tr0ub4dor&3 for admin", "Tr0ub4dor"},
	{"quoted JSON password", `config {"db_password": "correct-horse-battery"} rejected`, "correct-horse-battery"},
	{"YAML-style secret", "client_secret: wJalrXUtnFEMIK7MDENG", "wJalrXUtnFEMIK7MDENG"},
	{"postgres URL password", "dial postgres://klaxon:s3cr3tPassw0rd@db.internal:5432/klaxon failed", "s3cr3tPassw0rd"},
	{"MySQL DSN password", "DSN game:g4meP4ss@tcp(10.0.0.5:3306)/players refused", "g4meP4ss"},
	{"URL query token and signature", "GET https://cdn.example.net/file?token=abc123def456&expires=1700000000&signature=Zm9vYmFyYmF6", "abc123def456"},
	{"URL query signature", "GET https://cdn.example.net/file?token=abc123def456&expires=1700000000&signature=Zm9vYmFyYmF6", "Zm9vYmFyYmF6"},
	{"URL query key", "https://maps.example.com/api?key=k3y-0f-the-map&q=berlin", "k3y-0f-the-map"},
	{"OpenAI key", "LLM failed with key sk-proj-4fGh7JkL9mNpQrStUvWx2yZ0", "sk-proj-4fGh7JkL9mNpQrStUvWx2yZ0"},
	{"GitHub token", "push rejected for ghp_1A2b3C4d5E6f7G8h9I0jK1lM2nO3pQ4rS5tU", "ghp_1A2b3C4d5E6f7G8h9I0jK1lM2nO3pQ4rS5tU"},
	{"Slack bot token", "slack says invalid_auth for xoxb-2048-4096-AbCdEfGhIjKlMnOp", "xoxb-2048-4096-AbCdEfGhIjKlMnOp"},
	{"AWS access key id", "s3 denied AKIAIOSFODNN7EXAMPLE on bucket backups", "AKIAIOSFODNN7EXAMPLE"},
	{"hex secret after key", "rotated the signing key 3f9a8c7b6d5e4f30a1b2c3d4e5f60718 yesterday", "3f9a8c7b6d5e4f30a1b2c3d4e5f60718"},
	{"base64 secret after token", "the token is dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEy for now", "dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEy"},
	{"JWT", "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U expired", "eyJhbGciOiJIUzI1NiJ9"},
	{"Discord bot token", "Bot MTA0NTY3ODkwMTIzNDU2Nzg5MA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB leaked", "MTA0NTY3ODkwMTIzNDU2Nzg5MA"},
	{"Discord webhook", "fallback https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIjKl_MnOpQrStUv is down", "AbCdEf-GhIjKl_MnOpQrStUv"},
	{"private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA"},
	{"e-mail address", "mailed vip.player+eu@example.org about the outage", "vip.player+eu@example.org"},
}

// Ordinary incident text that must reach the LLM as it is.
var ordinaryText = []string{
	"EU game server down: 0 of 64 players could join; latency 230 ms, packet loss 4 %",
	"restarted game-eu-1 at 20:03 UTC; players back at 20:41",
	"password: expired for the web panel, reset by the team",
	"token: revoked",
	"active sessions: 312, passed: 120, tokens: 5, author: the DB team",
	"see https://wiki.example.org/runbooks/service-down?section=restart#step-3",
	"alert GameServerDown fired on service=game, instance 10.0.0.7:30120",
	"@everyone the database failover finished",
	"key metrics: p99 latency 180 ms, error rate 0.4 %",
	"deployed commit 3f9a8c7 to production",
	"the Discord bot reconnected after 30 s; token refresh worked",
}

func TestScrubSecrets(t *testing.T) {
	for _, tc := range secretShapes {
		t.Run(tc.Name, func(t *testing.T) {
			got := postmortem.ScrubSecrets(tc.Text)
			if strings.Contains(got, tc.Secret) {
				t.Errorf("ScrubSecrets(%q) = %q: the secret %q survived", tc.Text, got, tc.Secret)
			}
			if !strings.Contains(got, postmortem.Redacted) {
				t.Errorf("ScrubSecrets(%q) = %q: no %s marker", tc.Text, got, postmortem.Redacted)
			}
			if again := postmortem.ScrubSecrets(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
	for _, s := range ordinaryText {
		if got := postmortem.ScrubSecrets(s); got != s {
			t.Errorf("ordinary text changed:\n  in:  %q\n  out: %q", s, got)
		}
	}
}

// TestScrubSecretsKeepsContext: only the secret goes; what names it stays,
// so the narrative can still say a password was in a DSN.
func TestScrubSecretsKeepsContext(t *testing.T) {
	for in, want := range map[string]string{
		"dial postgres://klaxon:s3cr3t@db.internal:5432/klaxon": "dial postgres://klaxon:[redacted]@db.internal:5432/klaxon",
		"GET /file?token=abc123&expires=17&sig=Zm9v":            "GET /file?token=[redacted]&expires=17&sig=[redacted]",
		"Authorization: Bearer abcdef123456":                    "Authorization: Bearer [redacted]",
		"Authorization: Bearer onlyletterstoken":                "Authorization: Bearer [redacted]",
		"db_password=hunter2 user=klaxon":                       "db_password=[redacted] user=klaxon",
		"mailed vip@example.org":                                "mailed [redacted]",
		"key sk-abcdefghijklmnop1234 leaked":                    "key [redacted] leaked",
	} {
		if got := postmortem.ScrubSecrets(in); got != want {
			t.Errorf("ScrubSecrets(%q)\n got  %q\n want %q", in, got, want)
		}
	}
}
