package bot

import (
	"context"
	"fmt"
	"time"
)

// IngestResult says what a notification did.
type IngestResult struct {
	GroupID  int64
	Changed  bool // false: a duplicate delivery, nothing changed
	NewGroup bool // it started a new group episode
}

// Ingester stores Alertmanager's notifications as alert groups: the
// webhook's way into the core, each call in a transaction of its own.
type Ingester struct {
	Store  TxStore[Tx]
	Policy *Policy
}

// Ingest stores n and queues the Discord work it causes (see Ingest).
func (in *Ingester) Ingest(ctx context.Context, n Notification, now time.Time) (IngestResult, error) {
	return Ingest(ctx, in.Store, in.Policy, n, now)
}

// Ingest stores a notification and queues the Discord work it causes, in one
// transaction of s, which may be the core's store or a feature's (a manual
// page is ingested by the paging feature). Once it returns nil, the
// notification is durable.
func Ingest[T Tx](ctx context.Context, s TxStore[T], pol *Policy, n Notification, now time.Time) (IngestResult, error) {
	if n.GroupKey == "" {
		return IngestResult{}, Errorf(EInvalid, "groupKey is empty")
	}
	var res IngestResult
	err := s.Update(ctx, func(tx T) (err error) {
		res, err = IngestTx(ctx, tx, pol, n, now)
		return err
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %s: %w", n.GroupKey, err)
	}
	return res, nil
}

// IngestTx is Ingest inside the caller's transaction, for features that
// raise alert groups of their own (heartbeats, the Watchdog) in the same
// transaction as the state change that causes them.
func IngestTx(ctx context.Context, tx Tx, pol *Policy, n Notification, now time.Time) (IngestResult, error) {
	pol = pol.Snapshot() // one version of the policy for the whole ingest, even during a reload
	if n.GroupKey == "" {
		return IngestResult{}, Errorf(EInvalid, "groupKey is empty")
	}
	var res IngestResult
	g, err := tx.LatestGroup(n.GroupKey)
	switch {
	case ErrorCode(err) == ENotFound:
		g = &Group{}
	case err != nil:
		return res, err
	case NewEpisode(g, n):
		g = &Group{}
	}
	res.NewGroup = g.ID == 0
	if !Merge(g, n, pol.Classifier, now) {
		res.GroupID = g.ID
		return res, nil
	}
	res.Changed = true
	if err := tx.SaveGroup(g); err != nil {
		return res, err
	}
	res.GroupID = g.ID
	if err := showGroup(tx, pol, g, now); err != nil {
		return res, err
	}
	for _, h := range pol.OnGroupChange {
		if err := h(ctx, tx, g, res.NewGroup, now); err != nil {
			return res, err
		}
	}
	return res, nil
}

// showGroup makes sure the group is shown in its priority's channel and
// queues an update of every post that shows it.
func showGroup(tx Tx, pol *Policy, g *Group, now time.Time) error {
	posts, err := tx.PostsOfGroup(g.ID)
	if err != nil {
		return err
	}
	route := pol.Route(g.Priority)
	shown := false
	for _, p := range posts {
		// A digest line is enough only for groups a digest may hold: a
		// group that rose to P0/P1 gets its own card, with its pings.
		if p.ChannelID == route.ChannelID && (p.Kind == Card || g.Priority >= pol.Storm.MinPriority) {
			shown = true
		}
	}
	if !shown && route.ChannelID != "" {
		p, err := place(tx, pol, g, route, now)
		if err != nil {
			return err
		}
		posts = append(posts, *p)
	}
	for _, p := range posts {
		if err := tx.MarkDirty(p.ID, min(p.Priority, g.Priority), now); err != nil {
			return err
		}
		if p.Kind == Page {
			d, err := tx.Post(p.DigestID)
			if err != nil {
				return err
			}
			if err := tx.MarkDirty(d.ID, d.Priority, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// place gives a group its own card in the route's channel, or a line in the
// channel's open storm digest.
func place(tx Tx, pol *Policy, g *Group, route Route, now time.Time) (*Post, error) {
	if pol.Storm.Threshold > 0 && g.Priority >= pol.Storm.MinPriority {
		d, err := tx.OpenDigest(route.ChannelID)
		if err == nil && now.Sub(d.UpdatedAt) < pol.Storm.Window {
			return addToDigest(tx, pol, d, now, g.ID)
		}
		if err != nil && ErrorCode(err) != ENotFound {
			return nil, err
		}
	}
	p := &Post{Kind: Card, ChannelID: route.ChannelID, Priority: g.Priority, CreatedAt: now, UpdatedAt: now}
	if g.Status == Firing {
		p.Mentions = route.Mentions
	}
	if err := tx.CreatePost(p, g.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// addToDigest adds groups to digest d (listing them on d itself while it has
// room, then on pages) and returns the post that shows the last of them.
func addToDigest(tx Tx, pol *Policy, d *Post, now time.Time, groupIDs ...int64) (*Post, error) {
	listed, err := tx.CountGroups(d.ID)
	if err != nil {
		return nil, err
	}
	at := d
	var page *Post
	for _, id := range groupIDs {
		if listed < pol.Storm.Listed {
			if err := tx.AddToPost(d.ID, id); err != nil {
				return nil, err
			}
			listed++
			at = d
			continue
		}
		if page == nil {
			page, err = tx.LastPage(d.ID)
			if err != nil && ErrorCode(err) != ENotFound {
				return nil, err
			}
		}
		if page != nil {
			n, err := tx.CountGroups(page.ID)
			if err != nil {
				return nil, err
			}
			if n >= pol.Storm.PageSize {
				page = nil
			}
		}
		if page == nil {
			seq := 1
			if last, err := tx.LastPage(d.ID); err == nil {
				seq = last.Seq + 1
			}
			page = &Post{Kind: Page, ChannelID: d.ChannelID, DigestID: d.ID, Seq: seq, Priority: d.Priority, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreatePost(page); err != nil {
				return nil, err
			}
		}
		if err := tx.AddToPost(page.ID, id); err != nil {
			return nil, err
		}
		if err := tx.MarkDirty(page.ID, page.Priority, now); err != nil {
			return nil, err
		}
		at = page
	}
	d.UpdatedAt = now
	if err := tx.UpdatePost(d); err != nil {
		return nil, err
	}
	if err := tx.MarkDirty(d.ID, d.Priority, now); err != nil {
		return nil, err
	}
	return at, nil
}

// foldStorm turns the channel's waiting cards into digest lines when there
// are more than the channel's rate limit can deliver promptly.
func foldStorm(tx Tx, pol *Policy, channelID string, now time.Time) (int, error) {
	cards, err := tx.PendingCards(channelID, pol.Storm.MinPriority)
	if err != nil || len(cards) <= pol.Storm.Threshold {
		return 0, err
	}
	d, err := tx.OpenDigest(channelID)
	if err != nil && ErrorCode(err) != ENotFound {
		return 0, err
	}
	if err != nil || now.Sub(d.UpdatedAt) >= pol.Storm.Window {
		prio := P3
		for _, c := range cards {
			prio = min(prio, c.Priority)
		}
		d = &Post{Kind: Digest, ChannelID: channelID, Priority: prio, Mentions: pol.Route(prio).Mentions, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreatePost(d); err != nil {
			return 0, err
		}
	}
	var ids []int64
	for _, c := range cards {
		gs, err := tx.GroupIDs(c.ID)
		if err != nil {
			return 0, err
		}
		if err := tx.DeletePost(c.ID); err != nil {
			return 0, err
		}
		ids = append(ids, gs...)
	}
	if _, err := addToDigest(tx, pol, d, now, ids...); err != nil {
		return 0, err
	}
	return len(ids), nil
}
