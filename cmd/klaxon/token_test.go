package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marola-rp/klaxon/bot/discordtest"
)

// A wrong token stops the start with what to do, instead of a bot that
// stores alerts it can never post.
func TestWrongTokenStopsStart(t *testing.T) {
	fake := discordtest.New(discordtest.Options{Token: "the-right-token"})
	defer fake.Close()
	env := map[string]string{
		"KLAXON_DISCORD_TOKEN": "a-wrong-token", "KLAXON_WEBHOOK_TOKEN": "w", "KLAXON_HTTP_ADDR": "127.0.0.1:0",
		"KLAXON_DB": filepath.Join(t.TempDir(), "k.db"), "KLAXON_DISCORD_API_URL": fake.APIBase(), "KLAXON_DISCORD_GATEWAY": "off",
	}
	c, ps := LoadConfig("", func(k string) string { return env[k] })
	if len(ps.Errors()) > 0 {
		t.Fatal(ps)
	}
	m := &Main{Config: c, Stderr: &strings.Builder{}}
	err := m.Run(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "refused KLAXON_DISCORD_TOKEN (401)") || !strings.Contains(err.Error(), "Reset Token") {
		t.Fatalf("Run with a wrong token: %v", err)
	}
}
