package paging

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/text"
)

// PageSent is the SentHook for page messages: it records the outcome, and
// when a user's DMs are closed (SendError.DMsClosed) falls back to a mention in
// the alert channel and says so on the card.
func (p *Service) PageSent(ctx context.Context, btx bot.Tx, m bot.Outgoing, messageID string, sendErr error, now time.Time) error {
	tx := p.Store.Join(btx)
	gid, pid, ok := ParsePageRef(m.Ref)
	if !ok {
		return nil
	}
	pg, err := tx.PageRecord(pid)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	channel := "discord"
	if m.UserID != "" {
		channel = "dm"
	}
	if sendErr == nil {
		pg.Status, pg.SentAt = PageSent, now
		p.Metrics.Page(channel, "sent", 1)
		p.Log.Info("page sent", "group", gid, "page", pid, "step", pg.Step, "via", channel, "user", m.UserID, "role", pg.RoleID,
			"channel", m.ChannelID, "message", messageID)
		return tx.UpdatePage(pg)
	}
	p.Metrics.Page(channel, "failed", 1)
	pg.Status, pg.Detail = PageFailed, "not sent: "+sendErr.Error()
	if err := tx.UpdatePage(pg); err != nil {
		return err
	}
	g, err := tx.Group(gid)
	if err != nil {
		return err
	}
	if !bot.AsSendError(sendErr).DMsClosed || m.UserID == "" {
		// Nothing to fall back to: say so on the card, in the log and the action log.
		who := "the channel page"
		if m.UserID != "" {
			who = "the DM to " + bot.UserRef(m.UserID)
		}
		p.Log.Warn("page not sent: Discord refused it", "group", gid, "page", pid, "priority", g.Priority.String(), "via", channel, "err", sendErr)
		g.Notes = appendNote(g.Notes, fmt.Sprintf("⚠️ %s was not sent: Discord refused it (%s)", who, text.Truncate(bot.AsSendError(sendErr).Error(), 200)))
		g.Version++
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		if err := tx.RecordAction(gid, "page failed", bot.Action{Actor: bot.Actor{Via: "engine"}, At: now}, sendErr.Error()); err != nil {
			return err
		}
		return markGroupDirty(tx, g, now)
	}
	if g.Ack != nil || g.Status != bot.Firing {
		return nil
	}
	route := p.Policy.Route(g.Priority)
	fb := &PageRecord{GroupID: gid, Step: pg.Step, Via: bot.ViaMention, UserID: m.UserID, Status: PageQueued, Detail: "fallback: DMs closed", CreatedAt: now}
	if err := tx.AddPage(fb); err != nil {
		return err
	}
	msg := m.Message
	msg.Content = bot.UserRef(m.UserID) + " (your DMs are closed, so Klaxon pages you here) " + msg.Content
	msg.Mentions = bot.Mentions{Users: []string{m.UserID}}
	if err := tx.Enqueue(&bot.Outgoing{ChannelID: route.ChannelID, Priority: g.Priority, Kind: "page", Ref: pageRef(gid, fb.ID),
		Message: msg, DueAt: now, CreatedAt: now}); err != nil {
		return err
	}
	g.Notes = appendNote(g.Notes, bot.UserRef(m.UserID)+" does not accept DMs: paged in the channel instead")
	g.Version++
	if err := tx.SaveGroup(g); err != nil {
		return err
	}
	if err := tx.RecordAction(gid, "dm failed", bot.Action{Actor: bot.Actor{Via: "engine"}, At: now}, "DMs closed; fell back to a channel mention"); err != nil {
		return err
	}
	return markGroupDirty(tx, g, now)
}

func appendNote(notes []string, n string) []string {
	for _, x := range notes {
		if x == n {
			return notes
		}
	}
	return append(notes, n)
}

// PreparePage holds back a page cancelled meanwhile (acknowledged, resolved,
// silenced), makes a page in an alert channel a reply to the group's card
// there, and holds it back until that card exists, so the card comes first.
// A card that has not appeared after a minute is not waited for.
func (p *Service) PreparePage(ctx context.Context, btx bot.Tx, m *bot.Outgoing) (bool, error) {
	tx := p.Store.Join(btx)
	gid, pid, ok := ParsePageRef(m.Ref)
	if !ok {
		return true, nil
	}
	// The engine reads a batch of messages at once: an acknowledgement
	// while it works through them cancels pages it still holds. Such a
	// page's queued message is gone already; holding it back drops it.
	pg, err := tx.PageRecord(pid)
	if err != nil && bot.ErrorCode(err) != bot.ENotFound {
		return false, err
	}
	if pg != nil && pg.Status == PageCancelled {
		return false, nil
	}
	if m.ChannelID == "" {
		return true, nil
	}
	posts, err := tx.PostsOfGroup(gid)
	if err != nil {
		return false, err
	}
	for _, post := range posts {
		if post.ChannelID != m.ChannelID || post.Kind != bot.Card {
			continue
		}
		if post.MessageID == "" {
			return m.DueAt.Sub(m.CreatedAt) > time.Minute, nil
		}
		m.Message.ReplyTo = post.MessageID
	}
	return true, nil
}

// PhoneJob places queued page calls, at most Throttle calls per person per
// ThrottleWindow. A call is marked before it is placed, so a crash can lose
// a call but never rings someone twice for the same page.
type PhoneJob struct {
	Paging         *Service
	Phone          bot.Phone
	Throttle       int           // default 3
	ThrottleWindow time.Duration // default 15m
}

// Name implements Job.
func (j *PhoneJob) Name() string { return "phone" }

// Run implements Job.
func (j *PhoneJob) Run(ctx context.Context, now time.Time) error {
	p := j.Paging
	limit, window := j.Throttle, j.ThrottleWindow
	if limit <= 0 {
		limit = 3
	}
	if window <= 0 {
		window = 15 * time.Minute
	}
	var queued []PageRecord
	if err := p.Store.View(ctx, func(tx Tx) (err error) { queued, err = tx.QueuedPages(bot.ViaPhone, 20); return err }); err != nil {
		return err
	}
	for _, pg := range queued {
		var call *bot.PhoneCall
		err := p.Store.Update(ctx, func(tx Tx) error {
			cur, err := tx.PageRecord(pg.ID)
			if err != nil || cur.Status != PageQueued {
				return err // cancelled meanwhile (acknowledged)
			}
			if why, fix := p.noContact(cur.UserID, bot.ViaPhone); why != "" {
				return p.recordNotSent(tx, cur, PageSkipped, why, fix, now) // the directory changed since it was queued
			}
			c := p.people().Directory[cur.UserID]
			n, err := tx.PagesSince(cur.UserID, bot.ViaPhone, now.Add(-window))
			if err != nil {
				return err
			}
			if n >= limit {
				return p.recordNotSent(tx, cur, PageSkipped, fmt.Sprintf("throttled: {user} had %d calls in the last %s", n, window),
					"phone: max_calls per window sets this limit", now)
			}
			g, err := tx.Group(cur.GroupID)
			if err != nil {
				return err
			}
			cur.Status, cur.SentAt, cur.Detail = PageSent, now, "calling"
			call = &bot.PhoneCall{To: c.Phone, PageID: cur.ID, Message: spoken(g)}
			return tx.UpdatePage(cur)
		})
		if err != nil {
			return err
		}
		if call == nil {
			continue
		}
		sid, cerr := j.Phone.Call(ctx, *call)
		err = p.Store.Update(ctx, func(tx Tx) error {
			cur, err := tx.PageRecord(pg.ID)
			if err != nil {
				return err
			}
			if cerr != nil {
				return p.recordNotSent(tx, cur, PageFailed, "the call could not be placed: "+cerr.Error(),
					"check the number, the phone: settings, KLAXON_TWILIO_AUTH_TOKEN and the provider account", now)
			}
			cur.CallSID, cur.Detail = sid, "call placed"
			p.Metrics.Page("phone", "sent", 1)
			if err := tx.RecordAction(cur.GroupID, "called", bot.Action{Actor: bot.Actor{UserID: cur.UserID, Via: "phone"}, At: now}, ""); err != nil {
				return err
			}
			return tx.UpdatePage(cur)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// spoken is the text a page call reads out.
func spoken(g *bot.Group) string {
	s := fmt.Sprintf("Klaxon page. Priority %d, %s. %s.", int(g.Priority), g.Priority.Meaning(), g.Title())
	if sum := g.Summary(); sum != "" {
		s += " " + sum
	}
	return s
}

// MailJob sends queued e-mail pages, one digest per recipient per cycle,
// so a storm is one mail, not hundreds.
type MailJob struct {
	Paging *Service
	Mailer bot.Mailer
	// Window is how long e-mail pages gather before the digest goes out:
	// a storm in that window is one mail. Default 1 minute.
	Window time.Duration
}

// Name implements Job.
func (j *MailJob) Name() string { return "email" }

// Run implements Job.
func (j *MailJob) Run(ctx context.Context, now time.Time) error {
	p := j.Paging
	type item struct {
		page  PageRecord
		group *bot.Group
	}
	byTo := map[string][]item{}
	var unreachable []PageRecord
	if err := p.Store.View(ctx, func(tx Tx) error {
		queued, err := tx.QueuedPages(bot.ViaEmail, 1000)
		if err != nil {
			return err
		}
		window := j.Window
		if window <= 0 {
			window = time.Minute
		}
		if len(queued) == 0 || now.Sub(queued[0].CreatedAt) < window {
			return nil // the oldest is still gathering company
		}
		for _, pg := range queued {
			g, err := tx.Group(pg.GroupID)
			if err != nil {
				return err
			}
			to := p.people().Directory[pg.UserID].Email
			if to == "" { // the directory changed since it was queued
				unreachable = append(unreachable, pg)
				continue
			}
			byTo[to] = append(byTo[to], item{pg, g})
		}
		return nil
	}); err != nil {
		return err
	}
	if len(unreachable) > 0 {
		if err := p.Store.Update(ctx, func(tx Tx) error {
			for _, pg := range unreachable {
				why, fix := p.noContact(pg.UserID, bot.ViaEmail)
				if err := p.recordNotSent(tx, &pg, PageSkipped, why, fix, now); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	tos := make([]string, 0, len(byTo))
	for to := range byTo {
		tos = append(tos, to)
	}
	sort.Strings(tos)
	for _, to := range tos {
		items := byTo[to]
		sort.Slice(items, func(a, b int) bool {
			if items[a].group.Priority != items[b].group.Priority {
				return items[a].group.Priority < items[b].group.Priority
			}
			return items[a].group.ID < items[b].group.ID
		})
		var b strings.Builder
		fmt.Fprintf(&b, "Klaxon has %d alert(s) for you:\n\n", len(items))
		for _, it := range items {
			g := it.group
			fmt.Fprintf(&b, "- [%s] %s (%s) since %s\n", g.Priority, g.Title(), g.Status, g.StartedAt().UTC().Format("2006-01-02 15:04 MST"))
			if s := g.Summary(); s != "" {
				fmt.Fprintf(&b, "  %s\n", s)
			}
		}
		b.WriteString("\nAcknowledge on Discord with the card's button or /ack.\n")
		subject := fmt.Sprintf("Klaxon: %d alert(s), most urgent %s", len(items), items[0].group.Priority)
		serr := j.Mailer.Send(ctx, bot.Mail{To: []string{to}, Subject: subject, Text: b.String()})
		se := (*bot.SendError)(nil)
		if serr != nil {
			se = bot.AsSendError(serr)
			if se.Temporary {
				p.Log.Warn("e-mail digest failed; will retry", "err", serr)
				continue // stays queued
			}
		}
		if err := p.Store.Update(ctx, func(tx Tx) error {
			for _, it := range items {
				pg := it.page
				if serr != nil {
					if err := p.recordNotSent(tx, &pg, PageFailed, "the e-mail could not be sent: "+serr.Error(),
						"check the address, the email: settings and KLAXON_SMTP_PASSWORD", now); err != nil {
						return err
					}
					continue
				}
				pg.Status, pg.SentAt = PageSent, now
				if err := tx.UpdatePage(&pg); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if serr == nil {
			p.Metrics.Page("email", "sent", len(items))
		}
	}
	return nil
}
