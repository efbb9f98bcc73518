package postmortem

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/text"
)

// ForumPublisher creates and updates posts in a Discord forum channel.
// Like Discord, it never blocks on a rate limit: it returns a *SendError
// with Paced set.
type ForumPublisher interface {
	// CreateForumPost creates a post (a thread with a starter message) in
	// the forum channel and returns the thread's id, which is also the
	// starter message's id. Forum posts take no nonce: an implementation
	// looks for an active post of that name first and returns it, so that
	// a create whose answer was lost is not made twice.
	CreateForumPost(ctx context.Context, forumID, name string, m bot.Message) (threadID string, err error)
	// EditForumPost replaces the starter message of a forum post.
	EditForumPost(ctx context.Context, threadID string, m bot.Message) error
}

// PublishJob keeps published post-mortems' forum posts in step with their
// documents: it queues an ItemForum for each post-mortem whose post is out
// of date, and as the queue's Sender for ItemForum creates the post or
// edits it. State lives in the postmortems table.
type PublishJob struct {
	Postmortems *Service
	Forum       ForumPublisher
	Log         *slog.Logger
}

var (
	_ bot.Job    = (*PublishJob)(nil)
	_ bot.Sender = (*PublishJob)(nil)
)

// Name implements Job.
func (j *PublishJob) Name() string { return "postmortem-publish" }

// Run implements Job.
func (j *PublishJob) Run(ctx context.Context, now time.Time) error {
	return j.Postmortems.Store.Update(ctx, func(tx Tx) error {
		due, err := tx.DuePublications(now, 20)
		if err != nil {
			return err
		}
		for _, pm := range due {
			if err := tx.EnsureItem(bot.ItemForum, pm.ID, bot.P2, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func (j *PublishJob) log() *slog.Logger { return bot.OrDiscard(j.Log) }

// Send implements Sender for ItemForum.
func (j *PublishJob) Send(ctx context.Context, it bot.Item, now time.Time) (func(bot.Tx) error, bool, error) {
	p := j.Postmortems
	var rec *Record
	err := p.Store.View(ctx, func(tx Tx) error {
		pm, err := tx.Postmortem(it.Target)
		if err != nil {
			return err
		}
		if rec, err = p.Record(tx, pm.IncidentID); err != nil {
			return err
		}
		rec.Postmortem = pm
		return nil
	})
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	pm := rec.Postmortem
	if !pm.PublishDirty || pm.ForumChannelID == "" {
		return nil, false, nil
	}
	md := Render(rec)
	hash := documentHash(md)
	threadID := pm.ForumThreadID
	log := j.log().With("postmortem", pm.ID, "incident", pm.IncidentID, "forum", pm.ForumChannelID)
	if threadID == "" || hash != pm.PublishedHash {
		msg := ForumMessage(rec, md)
		var sendErr error
		if threadID == "" {
			threadID, sendErr = j.Forum.CreateForumPost(ctx, pm.ForumChannelID, ForumPostName(rec.Incident), msg)
		} else {
			sendErr = j.Forum.EditForumPost(ctx, threadID, msg)
			if se := bot.AsSendError(sendErr); sendErr != nil && (se.Gone || se.MessageGone) {
				// The post was deleted: create a new one next.
				log.Warn("the post-mortem's forum post was deleted; publishing it again", "thread", threadID)
				return func(btx bot.Tx) error {
					tx := p.Store.Join(btx)
					cur, err := tx.Postmortem(pm.ID)
					if err != nil {
						return err
					}
					cur.ForumThreadID, cur.PublishedHash = "", ""
					return tx.SavePostmortem(cur)
				}, true, nil
			}
		}
		if sendErr != nil {
			return nil, false, sendErr
		}
	}
	return func(btx bot.Tx) error {
		tx := p.Store.Join(btx)
		cur, err := tx.Postmortem(pm.ID)
		if err != nil {
			return err
		}
		created := cur.ForumThreadID == "" && threadID != ""
		cur.ForumThreadID, cur.PublishedHash = threadID, hash
		cur.PublishAttempts, cur.PublishError = 0, ""
		// Changed while we were sending? Then stay dirty for the next round.
		r2, err := p.Record(tx, cur.IncidentID)
		if err != nil {
			return err
		}
		r2.Postmortem = cur
		if documentHash(Render(r2)) == hash {
			cur.PublishDirty, cur.PublishNextAt = false, time.Time{}
		}
		if created {
			log.Info("post-mortem published to the forum", "thread", threadID)
		}
		return tx.SavePostmortem(cur)
	}, false, nil
}

// Dead implements Sender: the refusal is shown with the post-mortem.
func (j *PublishJob) Dead(ctx context.Context, btx bot.Tx, it bot.Item, se *bot.SendError, now time.Time) error {
	tx := j.Postmortems.Store.Join(btx)
	cur, err := tx.Postmortem(it.Target)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	cur.PublishAttempts++
	cur.PublishError = se.Error()
	return tx.SavePostmortem(cur)
}

// ForumPostName is the forum post's title.
func ForumPostName(inc *bot.Incident) string {
	return text.Truncate(text.OneLine(fmt.Sprintf("%s · %s · %s", inc.Ref(), inc.Priority, inc.Title), 100), 100)
}

// forumPreview is how much of the document the forum post shows; the
// whole document is attached.
const forumPreview = 3800

// ForumMessage is the forum post of a post-mortem: a header, the start of
// the document, and the whole document as a Markdown attachment.
func ForumMessage(rec *Record, md string) bot.Message {
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
	return bot.Message{
		Content: fmt.Sprintf("📝 Post-mortem of **%s** (%s) · revision %d · %d open action item%s · incident thread %s",
			inc.Ref(), inc.Priority, pm.Revision, open, pluralS(open), bot.ChannelRef(inc.ThreadID)),
		Title:       text.Truncate(fmt.Sprintf("%s — %s", inc.Ref(), text.OneLine(inc.Title, 200)), 256),
		Description: body,
		Tone:        bot.ToneDocument,
		Footer:      fmt.Sprintf("Updated %s · Klaxon", pm.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")),
		Files:       []bot.File{{Name: FileName(inc), ContentType: "text/markdown; charset=utf-8", Data: []byte(md)}},
	}
}

// FileName is the export's file name, e.g. "INC-42-postmortem.md".
func FileName(inc *bot.Incident) string { return inc.Ref() + "-postmortem.md" }

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
