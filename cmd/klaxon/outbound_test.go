package main

import (
	"testing"

	"github.com/marola-rp/klaxon/bot"
)

// TestEveryChannelIsWired: a notification channel added to bot.Channels
// that needs a provider must have its configuration check, its message and
// its sender here, or pages by it would be accepted by the configuration
// and never go out. Discord channels (no provider) go through the engine's
// Messenger, which serve.go always wires.
func TestEveryChannelIsWired(t *testing.T) {
	seen := map[bot.Via]bool{}
	for _, ch := range bot.Channels {
		if seen[ch.Via] {
			t.Errorf("via %q is listed twice in bot.Channels", ch.Via)
		}
		seen[ch.Via] = true
		if ch.Name == "" {
			t.Errorf("via %q has no Name", ch.Via)
		}
		if ch.Provider == "" {
			if ch.Address != nil {
				t.Errorf("via %q needs an address but no provider: nothing would send it", ch.Via)
			}
			continue
		}
		p, ok := providers[ch.Provider]
		switch {
		case !ok:
			t.Errorf("via %q needs provider %q, which cmd/klaxon does not wire (add it to providers)", ch.Via, ch.Provider)
		case p.configured == nil || p.wire == nil || p.missing == "":
			t.Errorf("provider %q is wired incompletely: %+v", ch.Provider, p)
		}
		if ch.NoProvider == "" || ch.NoProviderFix == "" {
			t.Errorf("via %q does not say what is missing without its provider", ch.Via)
		}
	}
	for name := range providers {
		found := false
		for _, ch := range bot.Channels {
			found = found || ch.Provider == name
		}
		if !found {
			t.Errorf("provider %q is wired but no channel in bot.Channels uses it", name)
		}
	}
	for _, v := range []bot.Via{bot.ViaMention, bot.ViaDM, bot.ViaPhone, bot.ViaEmail} {
		if !seen[v] {
			t.Errorf("via %q is missing from bot.Channels", v)
		}
	}
}
