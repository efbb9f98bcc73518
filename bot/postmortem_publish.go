package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// ForumPublisher creates and updates posts in a Discord forum channel.
// Like Discord, it never blocks on a rate limit: it returns a *SendError
// with Paced set.
type ForumPublisher interface {
	// CreateForumPost creates a post (a thread with a starter message) in
	// the forum channel and returns the thread's id, which is also the
	// starter message's id.
	CreateForumPost(ctx context.Context, forumID, name string, m Message) (threadID string, err error)
	// EditForumPost replaces the starter message of a forum post.
	EditForumPost(ctx context.Context, threadID string, m Message) error
}

// PublishJob keeps published post-mortems' forum posts in step with their
// documents: it creates the post, edits it after every change, and retries
// until Discord confirms. State lives in the postmortems table.
type PublishJob struct {
	Postmortems *Postmortems
	Forum       ForumPublisher
	StepTimeout time.Duration // per Discord request; default 15s
	Log         *slog.Logger
}

var _ Job = (*PublishJob)(nil)

// Name implements Job.
func (j *PublishJob) Name() string { return "postmortem-publish" }

// Run implements Job.
func (j *PublishJob) Run(ctx context.Context, now time.Time) error {
	p := j.Postmortems
	var due []*Postmortem
	if err := p.Store.View(ctx, func(tx Tx) (err error) {
		due, err = tx.DuePublications(now, 20)
		return err
	}); err != nil {
		return err
	}
	var errs []error
	for _, pm := range due {
		if err := j.publish(ctx, pm.ID, now); err != nil {
			errs = append(errs, fmt.Errorf("post-mortem %d: %w", pm.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (j *PublishJob) log() *slog.Logger {
	if j.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Log
}

func (j *PublishJob) publish(ctx context.Context, id int64, now time.Time) error {
	p := j.Postmortems
	var rec *PostmortemRecord
	if err := p.Store.View(ctx, func(tx Tx) error {
		pm, err := tx.Postmortem(id)
		if err != nil {
			return err
		}
		if rec, err = p.Record(tx, pm.IncidentID); err != nil {
			return err
		}
		rec.Postmortem = pm
		return nil
	}); err != nil {
		return err
	}
	pm := rec.Postmortem
	md := RenderPostmortem(rec)
	hash := documentHash(md)
	threadID := pm.ForumThreadID
	var sendErr error
	if threadID == "" || hash != pm.PublishedHash {
		timeout := j.StepTimeout
		if timeout <= 0 {
			timeout = 15 * time.Second
		}
		sctx, cancel := context.WithTimeout(ctx, timeout)
		msg := ForumMessage(rec, md)
		if threadID == "" {
			threadID, sendErr = j.Forum.CreateForumPost(sctx, pm.ForumChannelID, ForumPostName(rec.Incident), msg)
		} else {
			sendErr = j.Forum.EditForumPost(sctx, threadID, msg)
		}
		cancel()
	}
	log := j.log().With("postmortem", pm.ID, "incident", pm.IncidentID, "forum", pm.ForumChannelID)
	return p.Store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Postmortem(id)
		if err != nil {
			return err
		}
		if sendErr == nil {
			created := cur.ForumThreadID == "" && threadID != ""
			cur.ForumThreadID, cur.PublishedHash = threadID, hash
			cur.PublishAttempts, cur.PublishError = 0, ""
			// Changed while we were sending? Then stay dirty for the next cycle.
			r2, err := p.Record(tx, cur.IncidentID)
			if err != nil {
				return err
			}
			r2.Postmortem = cur
			if documentHash(RenderPostmortem(r2)) == hash {
				cur.PublishDirty, cur.PublishNextAt = false, time.Time{}
			}
			if created {
				log.Info("post-mortem published to the forum", "thread", threadID)
			}
			return tx.SavePostmortem(cur)
		}
		se := AsSendError(sendErr)
		switch {
		case se.Paced:
			cur.PublishNextAt = now.Add(max(se.RetryAfter, 100*time.Millisecond))
		case se.Temporary:
			cur.PublishNextAt = now.Add(max(Backoff(cur.PublishAttempts), se.RetryAfter))
			cur.PublishAttempts++
			log.Warn("forum publication failed; will retry", "attempt", cur.PublishAttempts, "err", sendErr)
		default:
			if cur.ForumThreadID != "" && (se.Code == 10008 || se.Code == 10003) {
				// The post was deleted: create a new one.
				cur.ForumThreadID, cur.PublishedHash = "", ""
				cur.PublishNextAt = now
			} else {
				cur.PublishNextAt = now.Add(15 * time.Minute)
			}
			cur.PublishAttempts++
			cur.PublishError = se.Error()
			log.Error("discord refused the forum post; check the forum channel and the bot's permissions there", "err", sendErr)
		}
		return tx.SavePostmortem(cur)
	})
}

// ForumPostName is the forum post's title.
func ForumPostName(inc *Incident) string {
	return truncateRunes(oneLineText(fmt.Sprintf("%s · %s · %s", inc.Ref(), inc.Priority, inc.Title), 100), 100)
}

// forumPreview is how much of the document the forum post shows; the
// whole document is attached.
const forumPreview = 3800

// ForumMessage is the forum post of a post-mortem: a header, the start of
// the document, and the whole document as a Markdown attachment.
func ForumMessage(rec *PostmortemRecord, md string) Message {
	inc, pm := rec.Incident, rec.Postmortem
	body := md
	// The title is the post's name; the preview starts after it.
	if i := strings.Index(body, "\n"); strings.HasPrefix(body, "# ") && i > 0 {
		body = strings.TrimLeft(body[i:], "\n")
	}
	if utf8.RuneCountInString(body) > forumPreview {
		cut := []rune(body)[:forumPreview]
		s := string(cut)
		if i := strings.LastIndex(s, "\n"); i > forumPreview/2 {
			s = s[:i]
		}
		body = s + "\n\n*… the full document is attached.*"
	}
	open := 0
	for _, a := range rec.Actions {
		if a.Status == ActionOpen {
			open++
		}
	}
	return Message{
		Content: fmt.Sprintf("📝 Post-mortem of **%s** (%s) · revision %d · %d open action item%s · incident thread <#%s>",
			inc.Ref(), inc.Priority, pm.Revision, open, pluralS(open), inc.ThreadID),
		Title:       truncateRunes(fmt.Sprintf("%s — %s", inc.Ref(), oneLineText(inc.Title, 200)), 256),
		Description: body,
		Color:       0x5865F2,
		Footer:      fmt.Sprintf("Updated %s · Klaxon", pm.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")),
		Files:       []File{{Name: PostmortemFileName(inc), ContentType: "text/markdown; charset=utf-8", Data: []byte(md)}},
	}
}

// PostmortemFileName is the export's file name, e.g. "INC-42-postmortem.md".
func PostmortemFileName(inc *Incident) string { return inc.Ref() + "-postmortem.md" }

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
