package paging_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

func pages(t *testing.T, db *store.DB, gid int64) map[bot.Via]int {
	t.Helper()
	out := map[bot.Via]int{}
	err := db.Paging().View(context.Background(), func(tx paging.Tx) error {
		for _, via := range []bot.Via{bot.ViaPhone, bot.ViaEmail, bot.ViaDM, bot.ViaMention} {
			ps, err := tx.QueuedPages(via, 100)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if p.GroupID == gid {
					out[via]++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func queuedMessages(t *testing.T, db *store.DB) []bot.Outgoing {
	t.Helper()
	var ms []bot.Outgoing
	if err := db.View(context.Background(), func(tx bot.Tx) (err error) {
		ms, err = bottest.DueMessages(tx, bottest.T0.Add(24*time.Hour), 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestEscalationStepsAckAndRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db := bottest.OpenDB(t, path)
	pg, pol := bottest.NewPaging(t, db)

	res, err := bot.Ingest(ctx, db, pol, bottest.P0("k1"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Run(ctx, bottest.T0); err != nil {
		t.Fatal(err)
	}
	if got := pages(t, db, res.GroupID); got[bot.ViaPhone] != 1 || got[bot.ViaDM] != 1 || got[bot.ViaMention] != 1 {
		t.Fatalf("step 1 pages = %v, want one phone, one dm, one mention", got)
	}
	ms := queuedMessages(t, db)
	if len(ms) != 2 {
		t.Fatalf("queued messages = %d, want 2 (channel mention + DM)", len(ms))
	}
	var mention bot.Outgoing
	for _, m := range ms {
		if m.ChannelID != "" {
			mention = m
		}
	}
	if got := mention.Message.Mentions; len(got.Roles) != 1 || got.Roles[0] != "900" || len(got.Users) != 1 || got.Users[0] != "501" {
		t.Errorf("channel page mentions = %+v, want role 900 and user 501 only", got)
	}

	// Running again at the same time does nothing: the next step is 5 minutes away.
	if err := pg.Run(ctx, bottest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(queuedMessages(t, db)); n != 2 {
		t.Fatalf("queued messages after an early run = %d, want still 2", n)
	}

	// Restart: a new Paging on a reopened database runs the due step exactly once.
	db.Close()
	db = bottest.OpenDB(t, path)
	defer db.Close()
	pg, _ = bottest.NewPaging(t, db)
	for i := 0; i < 3; i++ {
		if err := pg.Run(ctx, bottest.T0.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	ms = queuedMessages(t, db)
	dms := 0
	for _, m := range ms {
		if m.UserID == "502" {
			dms++
		}
	}
	if dms != 1 {
		t.Fatalf("step 2 DMs to the secondary = %d, want exactly 1 after restart and repeated runs", dms)
	}

	// Acknowledge: every pending page is cancelled in the same transaction.
	g, err := pg.Acknowledge(ctx, res.GroupID, bot.Actor{UserID: "501", Name: "ana", Via: "button"}, bottest.T0.Add(6*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if g.Ack == nil || g.Ack.UserID != "501" {
		t.Fatalf("ack = %+v", g.Ack)
	}
	if n := len(queuedMessages(t, db)); n != 0 {
		t.Errorf("queued page messages after ack = %d, want 0", n)
	}
	if got := pages(t, db, res.GroupID); len(got) != 0 {
		t.Errorf("queued pages after ack = %v, want none", got)
	}
	// Nothing more is paged, even at the deadline.
	if err := pg.Run(ctx, bottest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(queuedMessages(t, db)); n != 0 {
		t.Errorf("paged after ack: %d messages", n)
	}
	if _, err := pg.Acknowledge(ctx, res.GroupID, bot.Actor{UserID: "502"}, bottest.T0.Add(time.Hour)); bot.ErrorCode(err) != bot.EConflict {
		t.Errorf("second ack: got %v, want a conflict naming who acknowledged", err)
	}
}

func TestEscalationOverdueRunsNextStep(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	pg.Policies[bot.P0].Steps[1].Delay = time.Hour // the deadline (15m) comes first
	res, err := bot.Ingest(ctx, db, pol, bottest.P0("k2"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	pg.Run(ctx, bottest.T0)
	pg.Run(ctx, bottest.T0.Add(15*time.Minute))
	var g *bot.Group
	db.View(ctx, func(tx bot.Tx) (err error) { g, err = tx.Group(res.GroupID); return err })
	if !g.Overdue || g.Escalated != 2 {
		t.Errorf("after the deadline: overdue %v escalated %d, want overdue and 2 steps run", g.Overdue, g.Escalated)
	}
}

func TestResolveByAlertmanagerStopsPaging(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	n := bottest.P0("k3")
	res, _ := bot.Ingest(ctx, db, pol, n, bottest.T0)
	pg.Run(ctx, bottest.T0)
	n.Alerts[0].Status, n.Alerts[0].EndsAt = bot.Resolved, bottest.T0.Add(2*time.Minute)
	if _, err := bot.Ingest(ctx, db, pol, n, bottest.T0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := pages(t, db, res.GroupID); len(got) != 0 {
		t.Errorf("queued pages after resolve = %v", got)
	}
	pg.Run(ctx, bottest.T0.Add(time.Hour))
	if n := len(queuedMessages(t, db)); n != 0 {
		t.Errorf("paged after resolve: %d messages", n)
	}
}

// A page in the alert channel waits for the group's card and replies to it.
func TestPagePreparedAsReplyToCard(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	res, err := bot.Ingest(ctx, db, pol, bottest.P0("k4"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Run(ctx, bottest.T0); err != nil {
		t.Fatal(err)
	}
	var channelPage bot.Outgoing
	for _, m := range queuedMessages(t, db) {
		if m.ChannelID != "" {
			channelPage = m
		}
	}
	prepare := func(m bot.Outgoing) (bot.Outgoing, bool) {
		var ready bool
		if err := db.View(ctx, func(tx bot.Tx) (err error) { ready, err = pg.PreparePage(ctx, tx, &m); return err }); err != nil {
			t.Fatal(err)
		}
		return m, ready
	}
	if _, ready := prepare(channelPage); ready {
		t.Fatal("page ready before its card exists on Discord")
	}
	// The card is created on Discord.
	err = db.Update(ctx, func(tx bot.Tx) error {
		posts, err := tx.PostsOfGroup(res.GroupID)
		if err != nil {
			return err
		}
		posts[0].MessageID = "777"
		return tx.UpdatePost(&posts[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	m, ready := prepare(channelPage)
	if !ready || m.Message.ReplyTo != "777" {
		t.Errorf("after the card: ready %v reply to %q, want ready and a reply to 777", ready, m.Message.ReplyTo)
	}
	// A card that never appears is not waited for forever.
	late := channelPage
	late.DueAt = late.CreatedAt.Add(2 * time.Minute)
	db.Update(ctx, func(tx bot.Tx) error {
		posts, _ := tx.PostsOfGroup(res.GroupID)
		posts[0].MessageID = ""
		return tx.UpdatePost(&posts[0])
	})
	if _, ready := prepare(late); !ready {
		t.Error("page still held back after a minute without its card")
	}
}

// TestEscalationRepeats: a policy's steps run again `repeat` times,
// `repeat_after` apart, while nobody acknowledges — and then stop.
func TestEscalationRepeats(t *testing.T) {
	ctx := context.Background()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	pg, pol := bottest.NewPaging(t, db)
	pg.Policies[bot.P0] = paging.EscalationPolicy{Repeat: 2, RepeatAfter: 3 * time.Minute,
		Steps: []paging.EscalationStep{{Targets: []paging.Target{{User: "502", Via: []bot.Via{bot.ViaDM}}}}}}
	res, err := bot.Ingest(ctx, db, pol, bottest.P0("repeat"), bottest.T0)
	if err != nil {
		t.Fatal(err)
	}
	at := map[time.Duration]int{}
	for m := time.Duration(0); m <= 30*time.Minute; m += time.Minute {
		if err := pg.Run(ctx, bottest.T0.Add(m)); err != nil {
			t.Fatal(err)
		}
		at[m] = pages(t, db, res.GroupID)[bot.ViaDM]
	}
	if at[0] != 1 || at[2*time.Minute] != 1 || at[3*time.Minute] != 2 || at[6*time.Minute] != 3 || at[30*time.Minute] != 3 {
		t.Errorf("DM pages at 0/2/3/6/30 min = %d/%d/%d/%d/%d, want 1/1/2/3/3 (repeat 2, 3 min apart, then stop)",
			at[0], at[2*time.Minute], at[3*time.Minute], at[6*time.Minute], at[30*time.Minute])
	}
}
