package discord_test

import (
	"bytes"
	"context"
	"image/png"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/chart"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/store"
)

// TestSLAReportReachesDiscordWithItsChart: the monthly SLA report, built
// from a real record, goes through the Messenger to the fake Discord (which
// validates the multipart request) with a valid PNG chart attached.
func TestSLAReportReachesDiscordWithItsChart(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	g := &bot.Group{Key: "k1", Receiver: "k", Status: bot.Resolved, Priority: bot.P0, CommonLabels: map[string]string{"alertname": "WebDown", "service": "web"},
		CreatedAt: start, UpdatedAt: start, ResolvedAt: start.Add(2 * time.Hour),
		Alerts: []bot.Alert{{Fingerprint: "f", Status: bot.Resolved, StartsAt: start, EndsAt: start.Add(2 * time.Hour)}}}
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.SaveGroup(g) }); err != nil {
		t.Fatal(err)
	}
	r := &calendar.Reports{Store: db.Calendar(), SLOs: &calendar.SLOs{Store: db.Calendar(), Policy: calendar.DefaultSLOPolicy()}, Charter: chart.Charter{}}
	m, err := r.SLAReport(ctx, start, time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}

	srv := discordtest.New(discordtest.Options{OnViolation: func(err error) { t.Errorf("violation: %v", err) }})
	defer srv.Close()
	guild := srv.AddGuild("ops")
	ch := srv.AddChannel(guild, "sre-reports", discordgo.ChannelTypeGuildText)
	s, err := srv.NewSession("Bot t")
	if err != nil {
		t.Fatal(err)
	}
	ms := &discord.Messenger{C: discord.New(s, discord.Options{Logger: slog.New(slog.DiscardHandler)})}
	id, err := ms.Send(ctx, ch, m)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := srv.Message(id)
	if !ok || len(got.Embeds) != 1 || !strings.HasPrefix(got.Embeds[0].Title, "SLA report — March 2026") {
		t.Fatalf("message %+v", got)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].Filename != "error-budget-2026-03.png" {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	img, err := png.Decode(bytes.NewReader(got.Attachments[0].Data))
	if err != nil {
		t.Fatalf("the attached chart is not a PNG: %v", err)
	}
	if img.Bounds().Dx() < 300 || img.Bounds().Dy() < 200 {
		t.Errorf("chart size %v", img.Bounds())
	}
}
