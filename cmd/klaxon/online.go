package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/store"
)

// checkOnline asks Discord about every guild, channel, role and user the
// configuration names, prints a table of them (kind, id, name, result) to
// table, and lists the deliveries Discord refused and the pages skipped
// or failed in the last 7 days (from KLAXON_DB, when it exists): the
// diagnostics for a 403 that is not retried forever, and for a page that
// never reached anyone.
func checkOnline(ctx context.Context, cfg *Config, table io.Writer) Problems {
	var ps Problems
	add := func(line int, warning bool, format string, args ...any) {
		ps = append(ps, Problem{File: cfg.file, Line: line, Warning: warning, Message: fmt.Sprintf(format, args...)})
	}
	if cfg.Env.DiscordToken == "" {
		add(0, false, "--online needs KLAXON_DISCORD_TOKEN")
		return ps
	}
	s, err := discord.NewSession(cfg.Env.DiscordToken, cfg.Env.DiscordAPIURL)
	if err != nil {
		add(0, false, "discord: %v", err)
		return ps
	}
	rows, more := checkRefs(ctx, s, cfg)
	ps = append(ps, more...)
	if len(rows) > 0 {
		printTable(table, rows)
		fmt.Fprintln(table)
	}
	if _, err := os.Stat(cfg.Env.DB); err != nil {
		return ps
	}
	db, err := store.Open(ctx, cfg.Env.DB)
	if err != nil {
		add(0, true, "cannot read %s for refused deliveries: %v", cfg.Env.DB, err)
		return ps
	}
	defer db.Close()
	var dead []bot.Item
	_ = db.View(ctx, func(tx bot.Tx) (err error) { dead, err = tx.DeadItems(20); return err })
	for _, it := range dead {
		add(0, true, "dead letter since %s: Discord refused %s: %s (fix it, then reload with SIGHUP or run `klaxon requeue`)",
			it.DeadAt.UTC().Format(time.RFC3339), it.Describe(), it.LastError)
	}
	for _, p := range unsentPages(ctx, db, time.Now()) {
		who := "user " + p.UserID
		if p.UserID == "" || p.RoleID != "" {
			who = "the channel"
		}
		what := "failed"
		if p.Status == paging.PageSkipped {
			what = "was skipped"
		}
		add(0, true, "%s page %d to %s for alert group %d (%s) %s: %s", p.Via, p.ID, who, p.GroupID,
			p.CreatedAt.UTC().Format("2006-01-02 15:04 MST"), what, strings.TrimPrefix(p.Detail, "not sent: "))
	}
	return ps
}

// unsentPages are the pages skipped or failed in the 7 days before now,
// newest first, at most 20.
func unsentPages(ctx context.Context, db *store.DB, now time.Time) []paging.PageRecord {
	var out []paging.PageRecord
	_ = db.Paging().View(ctx, func(tx paging.Tx) (err error) { out, err = tx.UnsentPages(now.Add(-7*24*time.Hour), 20); return err })
	return out
}
