package bot_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/discordtest"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/bot/metrics"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

// pipeline is the real engine, store and Discord adapter against the fake Discord.
type pipeline struct {
	db      *store.DB
	srv     *discordtest.Server
	clock   *bot.FakeClock
	client  *discord.Client
	engine  *bot.Engine
	paging  *paging.Service
	policy  *bot.Policy
	channel string
	user    string
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	clock := bot.NewFakeClock(bottest.T0)
	srv := discordtest.New(discordtest.Options{Now: clock.Now, OnViolation: func(err error) { t.Errorf("discord violation: %v", err) }})
	t.Cleanup(srv.Close)
	guild := srv.AddGuild("marola")
	ch := srv.AddChannel(guild, "alerts", discordgo.ChannelTypeGuildText)
	user := srv.AddUser("oncall")
	srv.AddMember(guild, user)
	s, err := srv.NewSession("Bot t")
	if err != nil {
		t.Fatal(err)
	}
	client := discord.New(s, discord.Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	t.Cleanup(func() { db.Close() })
	pol := &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range pol.Routes {
		pol.Routes[i] = bot.Route{ChannelID: ch, AckWithin: bot.Priority(i).DefaultAckDeadline()}
	}
	mx := metrics.New(nil)
	pg := &paging.Service{Store: db.Paging(), Policy: pol, Log: slog.New(slog.DiscardHandler),
		OnCall: bottest.FixedOnCall{"primary": user}, Directory: map[string]bot.Contact{user: {UserID: user}}, Metrics: mx}
	pg.Policies[bot.P0] = paging.EscalationPolicy{Steps: []paging.EscalationStep{
		{Targets: []paging.Target{{Schedule: "primary", Via: []bot.Via{bot.ViaDM, bot.ViaMention}}}},
	}}
	pol.OnGroupChange = []bot.GroupHook{pg.OnGroupChange}
	e := &bot.Engine{Store: db, Discord: client, Messenger: &discord.Messenger{C: client}, Policy: pol, Clock: clock,
		Metrics: mx,
		Log:     slog.New(slog.DiscardHandler), Jobs: []bot.Job{pg},
		Hooks: map[string]bot.SentHook{"page": pg.PageSent}, Prepare: map[string]bot.PrepareHook{"page": pg.PreparePage}}
	return &pipeline{db: db, srv: srv, clock: clock, client: client, engine: e, paging: pg, policy: pol, channel: ch, user: user}
}

func (p *pipeline) cycle(t *testing.T) {
	t.Helper()
	if err := p.engine.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (p *pipeline) card(t *testing.T, groupID int64) bot.Post {
	t.Helper()
	var post bot.Post
	err := p.db.View(context.Background(), func(tx bot.Tx) error {
		ps, err := tx.PostsOfGroup(groupID)
		if err != nil || len(ps) == 0 {
			t.Fatalf("posts of group %d: %v %v", groupID, ps, err)
		}
		post = ps[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return post
}

// A card someone deleted in Discord (10008 Unknown Message on edit) is
// posted again at once, not retried as a refused edit every 15 minutes.
func TestDeletedCardIsRecreated(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t)
	n := bottest.P0("deleted")
	n.CommonLabels = map[string]string{"alertname": "Down", "priority": "P2"}
	n.Alerts[0].Labels = map[string]string{"alertname": "Down", "priority": "P2"}
	res, err := bot.Ingest(ctx, p.db, p.policy, n, p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.cycle(t)
	first := p.card(t, res.GroupID).MessageID
	if first == "" {
		t.Fatal("card not created")
	}
	// Someone deletes the card: Discord answers edits of it with 10008.
	p.srv.InjectFault(discordtest.Fault{Method: "PATCH", PathContains: "/messages/" + first, Status: 404, Code: 10008, Message: "Unknown Message"})

	p.clock.Advance(time.Minute)
	n.Alerts[0].Status, n.Alerts[0].EndsAt = bot.Resolved, p.clock.Now()
	if _, err := bot.Ingest(ctx, p.db, p.policy, n, p.clock.Now()); err != nil {
		t.Fatal(err)
	}
	p.cycle(t) // the edit fails with 10008
	p.clock.Advance(time.Second)
	p.cycle(t)

	post := p.card(t, res.GroupID)
	if post.MessageID == "" || post.MessageID == first {
		t.Fatalf("card message id = %q, want a new message (old %s)", post.MessageID, first)
	}
	msgs := p.srv.Messages(p.channel)
	if len(msgs) != 2 || msgs[1].ID != post.MessageID {
		t.Fatalf("channel has %d messages, want the old and a re-created card %s", len(msgs), post.MessageID)
	}
	if post.LastError != "" {
		t.Errorf("last error = %q, want none after re-creating the card", post.LastError)
	}
}

// ackingMessenger acknowledges the group right after the first message it
// delivers: a person pressing Acknowledge while the engine works through
// its batch of queued pages.
type ackingMessenger struct {
	bot.Messenger
	ack  func()
	done bool
}

func (m *ackingMessenger) after() {
	if !m.done {
		m.done = true
		m.ack()
	}
}

func (m *ackingMessenger) Send(ctx context.Context, ch string, msg bot.Message) (string, error) {
	id, err := m.Messenger.Send(ctx, ch, msg)
	m.after()
	return id, err
}

func (m *ackingMessenger) DM(ctx context.Context, user string, msg bot.Message) (string, error) {
	id, err := m.Messenger.DM(ctx, user, msg)
	m.after()
	return id, err
}

// Pages read in one batch are not sent once the group is acknowledged
// while the batch is being delivered.
func TestNoPageAfterAckWithinABatch(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t)
	res, err := bot.Ingest(ctx, p.db, p.policy, bottest.P0("acked"), p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.engine.Messenger = &ackingMessenger{Messenger: p.engine.Messenger, ack: func() {
		if _, err := p.paging.Acknowledge(ctx, res.GroupID, bot.Actor{UserID: p.user, Via: "button"}, p.clock.Now()); err != nil {
			t.Error(err)
		}
	}}
	p.cycle(t) // escalation queues a DM and a channel mention; the card goes out, then the DM, then the ack
	p.clock.Advance(time.Second)
	p.cycle(t)

	for _, m := range p.srv.Messages(p.channel) {
		if m.ID != p.card(t, res.GroupID).MessageID {
			t.Errorf("channel page %q sent after the group was acknowledged", m.Content)
		}
	}
}
