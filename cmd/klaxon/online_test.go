package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/store"
)

// check-config --online names a channel Klaxon cannot use and lists the
// deliveries Discord refused.
func TestCheckConfigOnline(t *testing.T) {
	fake := discordtest.New(discordtest.Options{})
	defer fake.Close()
	guild := fake.AddGuild("g")
	ok := fake.AddChannel(guild, "alerts", discordgo.ChannelTypeGuildText)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "k.db")
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	db.Update(context.Background(), func(tx bot.Tx) error {
		p := &bot.Post{Kind: bot.Card, ChannelID: ok, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreatePost(p); err != nil {
			return err
		}
		if err := tx.MarkDirty(p.ID, bot.P0, now); err != nil {
			return err
		}
		items, err := tx.DueItems(now, 1)
		if err != nil {
			return err
		}
		return tx.DeadItem(items[0].ID, "create card: HTTP 403 (code 50001): Klaxon lacks access to channel", now)
	})
	db.Close()
	cfg := filepath.Join(dir, "k.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("priorities:\n  P0:\n    channel: %q\n  P1:\n    channel: \"999999999999\"\n", ok)), 0o600)
	env := map[string]string{"KLAXON_DISCORD_TOKEN": "t", "KLAXON_DISCORD_API_URL": fake.APIBase(), "KLAXON_DB": dbPath}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--online", "--config", cfg}, func(k string) string { return env[k] }, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{cfg + ":5: error: priorities.P1.channel 999999999999", "dead letter since", "Discord refused P0 card/digest post 1", "50001", "klaxon requeue"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "priorities.P0.channel") {
		t.Errorf("the reachable channel was reported:\n%s", out.String())
	}
}
