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
	"github.com/marola-rp/klaxon/bot/paging"
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

// check-config --online lists the pages skipped or failed in the last 7
// days with their reason, newest first, at most 20; it does not fail for
// them (they are history, not configuration).
func TestCheckConfigOnlineListsUnsentPages(t *testing.T) {
	fake := discordtest.New(discordtest.Options{})
	defer fake.Close()
	guild := fake.AddGuild("g")
	ch := fake.AddChannel(guild, "alerts", discordgo.ChannelTypeGuildText)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "k.db")
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = db.Paging().Update(context.Background(), func(tx paging.Tx) error {
		g := &bot.Group{Key: "k", Receiver: "klaxon", Status: bot.Firing, Priority: bot.P0, CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		add := func(p paging.PageRecord) error { p.GroupID = g.ID; return tx.AddPage(&p) }
		for i := range 25 { // older than the two below, and more than fit
			if err := add(paging.PageRecord{Via: bot.ViaEmail, UserID: "503", Status: paging.PageSkipped, Detail: fmt.Sprintf("not sent: filler %d", i),
				CreatedAt: now.Add(-3*time.Hour - time.Duration(i)*time.Minute)}); err != nil {
				return err
			}
		}
		for _, p := range []paging.PageRecord{
			{Via: bot.ViaPhone, UserID: "501", Status: paging.PageSkipped, Detail: "not sent: no phone provider is configured (add a phone: section)", CreatedAt: now.Add(-time.Hour)},
			{Via: bot.ViaDM, UserID: "502", Status: paging.PageFailed, Detail: "HTTP 403 (code 50007): Cannot send messages to this user", CreatedAt: now.Add(-2 * time.Hour)},
			{Via: bot.ViaPhone, UserID: "501", Status: paging.PageSkipped, Detail: "not sent: last week", CreatedAt: now.Add(-8 * 24 * time.Hour)},
			{Via: bot.ViaPhone, UserID: "501", Status: paging.PageSent, Detail: "call placed", CreatedAt: now},
		} {
			if err := add(p); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "k.yaml")
	writeFile(t, cfg, fmt.Sprintf("priorities:\n  P0:\n    channel: %q\n", ch))
	env := map[string]string{"KLAXON_DISCORD_TOKEN": "t", "KLAXON_DISCORD_API_URL": fake.APIBase(), "KLAXON_DB": dbPath}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--online", "--config", cfg}, func(k string) string { return env[k] }, &out, &errb); code != 0 {
		t.Fatalf("exit %d, want 0 (unsent pages are warnings):\n%s%s", code, out.String(), errb.String())
	}
	text := out.String()
	phone := strings.Index(text, "warning: phone page 26 to user 501 for alert group 1 (")
	dm := strings.Index(text, "warning: dm page 27 to user 502 for alert group 1 (")
	if phone < 0 || dm < 0 || phone > dm {
		t.Errorf("want the phone page, then the older DM page:\n%s", text)
	}
	for _, want := range []string{") was skipped: no phone provider is configured (add a phone: section)\n", ") failed: HTTP 403 (code 50007): Cannot send messages to this user\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, " page "); n != 20 {
		t.Errorf("%d pages listed, want 20 (the bound):\n%s", n, text)
	}
	for _, not := range []string{"last week", "call placed", "filler 18"} {
		if strings.Contains(text, not) {
			t.Errorf("output lists %q:\n%s", not, text)
		}
	}
}
