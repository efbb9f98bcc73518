package paging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// HandoffJob announces on-call handoffs. Each engine cycle it works out who
// holds each schedule's pager; when that differs from the last holder it
// announced, it queues an announcement and records the new holder in one
// transaction, so that every handoff is announced exactly once, also across
// restarts. After downtime it announces only the current holder. Schedules
// without an AnnounceChannel are skipped; each run reads the schedules in
// force (a reload replaces them).
type HandoffJob struct {
	Store     bot.TxStore[Tx]
	Schedules *LiveSchedules
	Log       *slog.Logger
}

var _ bot.Job = (*HandoffJob)(nil)

// Name implements Job.
func (j *HandoffJob) Name() string { return "handoff" }

const (
	// handoffLookback is how far back the job reads overrides, to tell who
	// held the pager before the current holder.
	handoffLookback = 60 * 24 * time.Hour
	// handoffHorizon is how far ahead the job looks to say until when the
	// new holder holds the pager.
	handoffHorizon = 60 * 24 * time.Hour
)

// handoffPlan is what the job would do for one schedule.
type handoffPlan struct {
	record   Handoff       // the new last handoff
	announce *bot.Outgoing // nil: record silently (same holder, new piece)
}

// Run implements Job.
func (j *HandoffJob) Run(ctx context.Context, now time.Time) error {
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var due []*Schedule
	schedules := j.Schedules.List()
	if err := j.Store.View(ctx, func(tx Tx) error {
		for _, s := range schedules {
			if s.AnnounceChannel == "" {
				continue
			}
			p, err := planHandoff(tx, s, now)
			if err != nil {
				return fmt.Errorf("schedule %s: %w", s.Name, err)
			}
			if p != nil {
				due = append(due, s)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	var errs []error
	for _, s := range due {
		var plan *handoffPlan
		err := j.Store.Update(ctx, func(tx Tx) error {
			// Plan again: another instance may have announced meanwhile.
			p, err := planHandoff(tx, s, now)
			if err != nil || p == nil {
				return err
			}
			if p.announce != nil {
				if err := tx.Enqueue(p.announce); err != nil {
					return err
				}
			}
			plan = p
			return tx.SetLastHandoff(p.record)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", s.Name, err))
			continue
		}
		if plan != nil && plan.announce != nil {
			log.Info("on-call handoff announced", "schedule", s.Name, "user", plan.record.UserID,
				"start", plan.record.Start, "end", plan.record.End, "message", plan.announce.ID)
		}
	}
	return errors.Join(errs...)
}

// planHandoff returns what to do for s at now, or nil if the current holder
// was already announced.
func planHandoff(tx Tx, s *Schedule, now time.Time) (*handoffPlan, error) {
	last, err := tx.LastHandoff(s.Name)
	if err != nil {
		return nil, err
	}
	ovs, err := tx.Overrides(s.Name, now.Add(-handoffLookback), now.Add(handoffHorizon+24*time.Hour))
	if err != nil {
		return nil, err
	}
	g := s.grid()
	cur := onCall(s, g, ovs, now)
	known := !last.Start.IsZero()
	if known && last.UserID == cur.UserID && last.Start.Equal(cur.Start) {
		return nil, nil
	}
	until := holdUntil(s, g, ovs, cur, now.Add(handoffHorizon))
	p := &handoffPlan{record: Handoff{Schedule: s.Name, UserID: cur.UserID, Start: cur.Start, End: until, AnnouncedAt: now}}
	// Did the last announced period run up to the current one? Not after
	// downtime, nor when the announced end has passed for another reason.
	contiguous := known && (last.End.IsZero() || !last.End.Before(cur.Start))
	if contiguous && last.UserID == cur.UserID {
		return p, nil // same holder, e.g. their override ran into their own shift
	}
	// The previous holder: the one last announced if their period ran up
	// to the new one; otherwise whoever held the pager just before.
	prev := last.UserID
	if !contiguous {
		prev = onCall(s, g, ovs, cur.Start.Add(-time.Nanosecond)).UserID
	}
	if !known && prev == cur.UserID {
		prev = ""
	}
	p.announce = &bot.Outgoing{
		ChannelID: s.AnnounceChannel,
		Priority:  bot.P2,
		Message:   HandoffMessage(s, cur.UserID, prev, until),
		Kind:      "handoff",
		Ref:       fmt.Sprintf("handoff:%s:%d", s.Name, cur.Start.Unix()),
		DueAt:     now,
		CreatedAt: now,
	}
	return p, nil
}

func HandoffMessage(s *Schedule, user, prev string, until time.Time) bot.Message {
	end := "until further notice"
	if !until.IsZero() {
		end = "until " + bot.TimeRef(until, bot.TimeFull)
	}
	var m bot.Message
	if user == "" {
		m.Content = fmt.Sprintf("⚠️ On-call gap — nobody holds the pager for *%s* %s", s.Name, end)
	} else {
		m.Content = fmt.Sprintf("📟 On-call handoff — %s now holds the pager for *%s* %s", bot.UserRef(user), s.Name, end)
		m.Mentions = bot.Mentions{Users: []string{user}}
	}
	if prev != "" && prev != user {
		m.Content += "; previous: " + bot.UserRef(prev)
	}
	return m
}
