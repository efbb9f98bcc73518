package paging

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// Silences is the silence service: a silence made from an alert group
// matches the group's full label set (SilenceMatchers), replaces the
// group's earlier silence, and is recorded on the group.
type Silences struct {
	Silencer bot.Silencer // nil: silencing is not configured
	Paging   *Service     // records the silence on the group
	// Classifier is the alert policy's: Cover reports the most urgent
	// priority a silence's matchers can cover (Classifier.Cover). The zero
	// value counts every silence as P0.
	Classifier bot.Classifier
	Log        *slog.Logger
}

// errSilencingNotConfigured is returned when there is no Silencer.
func errSilencingNotConfigured() error {
	return bot.Errorf(bot.EConflict, "silencing is not configured: set alertmanager.url in Klaxon's configuration")
}

// Configured reports whether silences can be made.
func (s *Silences) Configured() bool { return s != nil && s.Silencer != nil }

// Cover returns the matchers a silence of g would have and the most urgent
// priority they can cover: g's own, or higher when they do not pin the
// priority or severity. Whoever silences needs that priority's permission.
func (s *Silences) Cover(g *bot.Group) (map[string]string, bot.Priority) {
	m := bot.SilenceMatchers(g)
	return m, min(g.Priority, s.Classifier.Cover(m))
}

// Silence silences firing group g with matchers (from Cover) from now for
// d, ends g's earlier silence, records the new one on g and returns its id.
func (s *Silences) Silence(ctx context.Context, g *bot.Group, matchers map[string]string, d time.Duration, comment string, actor bot.Actor, now time.Time) (string, error) {
	if !s.Configured() {
		return "", errSilencingNotConfigured()
	}
	if g.Status != bot.Firing {
		return "", bot.Errorf(bot.EConflict, "%s is already resolved; nothing to silence", g.Title())
	}
	if comment == "" {
		comment = fmt.Sprintf("Silenced from Discord by %s for %s", actor.Name, d)
	}
	createdBy := fmt.Sprintf("%s (Discord %s) via Klaxon", actor.Name, actor.UserID)
	id, err := s.Silencer.CreateSilence(ctx, matchers, now, now.Add(d), createdBy, comment)
	if err != nil {
		return "", err
	}
	if g.Silence != nil {
		// Replace, not stack: the old silence ends now.
		if err := s.Silencer.ExpireSilence(ctx, g.Silence.ID); err != nil {
			s.log().Warn("expire replaced silence", "silence", g.Silence.ID, "err", err)
		}
	}
	if _, err := s.Paging.SetSilence(ctx, g.ID, &bot.Silence{ID: id, Until: now.Add(d), CreatedBy: actor}, actor, now); err != nil {
		return "", err
	}
	return id, nil
}

// Unsilence expires g's silence and records that g is no longer silenced.
func (s *Silences) Unsilence(ctx context.Context, g *bot.Group, actor bot.Actor, now time.Time) error {
	if g.Silence == nil {
		return bot.Errorf(bot.EConflict, "%s is not silenced", g.Title())
	}
	if !s.Configured() {
		return errSilencingNotConfigured()
	}
	if err := s.Silencer.ExpireSilence(ctx, g.Silence.ID); err != nil {
		return err
	}
	_, err := s.Paging.SetSilence(ctx, g.ID, nil, actor, now)
	return err
}

func (s *Silences) log() *slog.Logger { return bot.OrDiscard(s.Log) }
