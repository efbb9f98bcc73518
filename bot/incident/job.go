package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
)

var (
	_ bot.Job    = (*Service)(nil)
	_ bot.Sender = (*Service)(nil)
)

// Name implements Job.
func (s *Service) Name() string { return "incidents" }

// Run implements Job: it copies alert actions into timelines, creates
// threads and pinned summaries, delivers thread messages, adds members,
// sends reminders and archives threads. Every step is driven by what the
// database says, so a restart or a Discord outage only delays it.
func (s *Service) Run(ctx context.Context, now time.Time) error {
	if err := s.syncActions(ctx, now); err != nil {
		return fmt.Errorf("sync alert actions: %w", err)
	}
	if err := s.remind(ctx, now); err != nil {
		return fmt.Errorf("reminders: %w", err)
	}
	if s.Threads == nil {
		return nil
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		incs, err := tx.IncidentsToSync(200)
		if err != nil {
			return err
		}
		for _, inc := range incs {
			need, err := s.needsSync(tx, inc, now)
			if err != nil {
				return fmt.Errorf("%s: %w", inc.Ref(), err)
			}
			if need {
				if err := tx.EnsureItem(bot.ItemIncident, inc.ID, inc.Priority, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// needsSync reports whether the incident has Discord work for the queue:
// a thread to create, a summary to post or refresh, members to add, a
// thread to archive. It mirrors syncThread's conditions.
func (s *Service) needsSync(tx Tx, inc *bot.Incident, now time.Time) (bool, error) {
	st, err := tx.IncidentState(inc.ID)
	if err != nil {
		return false, err
	}
	if inc.ThreadID == "" {
		if inc.Status == bot.Closed {
			return false, nil
		}
		if st.PostID != 0 && now.Sub(inc.DetectedAt) < 2*time.Minute {
			card, err := tx.Post(st.PostID)
			if err == nil && card.MessageID == "" {
				return false, nil // the card is on its way; its thread comes after it
			}
		}
		return true, nil
	}
	if inc.SummaryID == "" || (st.SummaryVersion < inc.Version && !st.Archived) {
		return true, nil
	}
	members, err := tx.PendingThreadMembers(inc.ID)
	if err != nil || len(members) > 0 {
		return len(members) > 0, err
	}
	if IsOpen(inc.Status) || st.Archived {
		return false, nil
	}
	end := inc.ResolvedAt
	if end.IsZero() {
		end = inc.ClosedAt
	}
	if s.policy().ArchiveAfter > 0 && !end.IsZero() {
		return !now.Before(end.Add(s.policy().ArchiveAfter)), nil
	}
	return inc.Status == bot.Closed, nil
}

// Send implements Sender for ItemIncident: it brings the incident's thread
// up to date.
func (s *Service) Send(ctx context.Context, it bot.Item, now time.Time) (func(bot.Tx) error, bool, error) {
	var inc *bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.Incident(it.Target); return err })
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return nil, false, s.syncThread(ctx, inc, now)
}

// Dead implements Sender: the refusal is shown with the incident.
func (s *Service) Dead(ctx context.Context, btx bot.Tx, it bot.Item, se *bot.SendError, now time.Time) error {
	tx := s.Store.Join(btx)
	st, err := tx.IncidentState(it.Target)
	if err != nil {
		return err
	}
	st.ThreadError = se.Error()
	return tx.SaveIncidentState(st)
}

// ReportSent is the SentHook of triage messages: it records the message's
// id on the report.
func (s *Service) ReportSent(ctx context.Context, btx bot.Tx, m bot.Outgoing, messageID string, sendErr error, now time.Time) error {
	tx := s.Store.Join(btx)
	var rid int64
	if sendErr != nil {
		return nil
	}
	if _, err := fmt.Sscanf(m.Ref, "report:%d", &rid); err != nil {
		return nil
	}
	r, err := tx.Report(rid)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	r.MessageID = messageID
	return tx.SaveReport(r)
}

// syncActions copies the action log of linked alert groups (acknowledged,
// escalated, paged, silenced, resolved by hand) into the timeline, and
// counts a linked alert's acknowledgement as the incident's.
func (s *Service) syncActions(ctx context.Context, now time.Time) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		open, err := tx.Incidents(true, 200)
		if err != nil {
			return err
		}
		for _, inc := range open {
			changed := false
			for _, gid := range inc.GroupIDs {
				acts, err := tx.Actions(gid)
				if err != nil {
					return err
				}
				seen, err := tx.GroupActionsSeen(inc.ID, gid)
				if err != nil {
					return err
				}
				if seen >= len(acts) {
					continue
				}
				for _, a := range acts[seen:] {
					kind := a.Kind
					switch a.Kind {
					case "escalated", "escalate requested":
						kind = "escalation"
					case "paged", "called", "dm failed", "call failed", "page failed", "page skipped":
						kind = "page"
					case "resolved":
						kind = "alert resolved by hand"
					}
					text := fmt.Sprintf("alert #%d: %s", gid, a.Kind)
					if a.Detail != "" {
						text += " (" + a.Detail + ")"
					}
					if err := s.event(tx, inc, a.Action.At, kind, a.Action.Actor, text, groupRef(gid)); err != nil {
						return err
					}
					if a.Kind == "acknowledged" {
						if u := a.Action.UserID; u != "" {
							if err := tx.AddThreadMember(inc.ID, u); err != nil {
								return err
							}
						}
						if inc.AckedAt.IsZero() || a.Action.At.Before(inc.AckedAt) {
							inc.AckedAt = a.Action.At
						}
						if inc.Status == bot.Detected {
							inc.Status = bot.Investigating
							if err := s.event(tx, inc, a.Action.At, "status changed", a.Action.Actor, "detected → investigating: the alert was acknowledged", "status:investigating"); err != nil {
								return err
							}
						}
					}
					changed = true
				}
				if err := tx.SetGroupActionsSeen(inc.ID, gid, len(acts)); err != nil {
					return err
				}
			}
			if changed {
				inc.Version++
				if err := tx.SaveIncident(inc); err != nil {
					return err
				}
				if err := s.measure(tx, inc); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// remind queues status-update reminders, commander reminders and
// mitigated nudges into the threads.
func (s *Service) remind(ctx context.Context, now time.Time) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		open, err := tx.Incidents(true, 200)
		if err != nil {
			return err
		}
		for _, inc := range open {
			st, err := tx.IncidentState(inc.ID)
			if err != nil {
				return err
			}
			changed := false
			ref := inc.Ref()
			id := inc.ID
			commander := inc.Roles[CommanderRole]
			// No commander on an urgent incident.
			if commander == "" && s.policy().CommanderAfter > 0 && s.policy().CommanderFor[inc.Priority] &&
				!now.Before(inc.DetectedAt.Add(s.policy().CommanderAfter)) &&
				(st.CommanderRemindedAt.IsZero() || !now.Before(st.CommanderRemindedAt.Add(s.policy().CommanderAfter))) {
				who := s.route(inc.Priority).Mentions
				m := bot.Message{Content: fmt.Sprintf("%s⚠️ **%s** (%s %s) has had no commander for %s. Who takes it?",
					mentionText(who), ref, inc.Priority, inc.Priority.Meaning(), FormatSpan(now.Sub(inc.DetectedAt))), Mentions: who}
				if err := s.post(tx, inc, "commander reminder", m, []bot.Button{{Label: "I'll be commander", CustomID: customid.Make(customid.IncidentCommander, id), Emoji: "🫡", Style: "primary"}}, now); err != nil {
					return err
				}
				st.CommanderRemindedAt, changed = now, true
			}
			// Status updates.
			if every := s.policy().UpdateEvery[inc.Priority]; every > 0 && (inc.Status == bot.Detected || inc.Status == bot.Investigating) {
				base := inc.DetectedAt
				for _, t := range []time.Time{inc.LastUpdateAt, st.UpdateRemindedAt} {
					if t.After(base) {
						base = t
					}
				}
				due := base.Add(every)
				if st.SnoozedUntil.After(due) {
					due = st.SnoozedUntil
				}
				if !now.Before(due) {
					who := bot.Mentions{}
					if commander != "" {
						who.Users = []string{commander}
					}
					if c := inc.Roles["communications"]; c != "" && c != commander {
						who.Users = append(who.Users, c)
					}
					since := "since it was declared"
					if !inc.LastUpdateAt.IsZero() {
						since = fmt.Sprintf("for %s", FormatSpan(now.Sub(inc.LastUpdateAt)))
					}
					m := bot.Message{Content: fmt.Sprintf("%s⏰ No status update on **%s** %s. Post one with `/incident update` (or the button): what is affected, what we are doing, when the next update comes.",
						mentionText(who), ref, since), Mentions: who}
					if err := s.post(tx, inc, "update reminder", m, []bot.Button{
						{Label: "Post update", CustomID: customid.Make(customid.IncidentUpdate, id), Emoji: "📣", Style: "primary"},
						{Label: "Snooze 30m", CustomID: customid.Make(customid.IncidentSnooze, id, "30m"), Style: "secondary"},
						{Label: "Snooze 2h", CustomID: customid.Make(customid.IncidentSnooze, id, "2h"), Style: "secondary"},
					}, now); err != nil {
						return err
					}
					st.UpdateRemindedAt, changed = now, true
				}
			}
			// Left in mitigated.
			if inc.Status == bot.Mitigated && s.policy().MitigatedNudge > 0 {
				base := inc.MitigatedAt
				if st.NudgedAt.After(base) {
					base = st.NudgedAt
				}
				if !now.Before(base.Add(s.policy().MitigatedNudge)) {
					who := bot.Mentions{}
					if commander != "" {
						who.Users = []string{commander}
					}
					m := bot.Message{Content: fmt.Sprintf("%s🟡 **%s** has been mitigated since %s. If it is fixed, resolve it; if not, move it back to investigating.",
						mentionText(who), ref, bot.TimeRef(inc.MitigatedAt, bot.TimeRelative)), Mentions: who}
					if err := s.post(tx, inc, "mitigated nudge", m, []bot.Button{
						{Label: "Resolve", CustomID: customid.Make(customid.IncidentResolve, id), Emoji: "✅", Style: "success"},
						{Label: "Back to investigating", CustomID: customid.Make(customid.IncidentInvestigate, id), Emoji: "🔍", Style: "secondary"},
					}, now); err != nil {
						return err
					}
					st.NudgedAt, changed = now, true
				}
			}
			if changed {
				if err := tx.SaveIncidentState(st); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func mentionText(m bot.Mentions) string { return bot.MentionPrefix(m) }

// syncThread creates the thread, pins and refreshes the summary, adds
// members and archives, as far as the incident needs. A Discord failure is
// returned as it is: the outbound queue decides what follows.
func (s *Service) syncThread(ctx context.Context, inc *bot.Incident, now time.Time) error {
	var st *State
	var card *bot.Post
	var groups []*bot.Group
	var members []string
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if st, err = tx.IncidentState(inc.ID); err != nil {
			return err
		}
		if st.PostID != 0 {
			if card, err = tx.Post(st.PostID); bot.ErrorCode(err) == bot.ENotFound {
				card, err = nil, nil
			}
			if err != nil {
				return err
			}
		}
		for _, id := range inc.GroupIDs {
			g, err := tx.Group(id)
			if err != nil {
				return err
			}
			groups = append(groups, g)
		}
		members, err = tx.PendingThreadMembers(inc.ID)
		return err
	})
	if err != nil {
		return err
	}
	log := s.log().With("incident", inc.Ref(), "priority", inc.Priority.String())
	failed := func(what string, err error) error { return fmt.Errorf("%s: %w", what, err) }

	if inc.ThreadID == "" {
		if inc.Status == bot.Closed {
			return nil
		}
		var threadID, channelID, announceID string
		switch {
		case card != nil && card.MessageID == "" && now.Sub(inc.DetectedAt) < 2*time.Minute:
			return nil // the card is on its way; its thread comes next cycle
		case card != nil && card.MessageID != "":
			channelID = card.ChannelID
			threadID, err = s.Threads.StartThread(ctx, card.ChannelID, card.MessageID, ThreadName(inc))
		default:
			channelID = s.policy().ChannelID
			if channelID == "" {
				channelID = s.route(inc.Priority).ChannelID
			}
			if channelID == "" {
				log.Warn("incident has no channel for its thread: set incidents.channel")
				return nil
			}
			m := bot.Message{Content: fmt.Sprintf("🚨 **%s** · %s %s · %s", inc.Ref(), inc.Priority, inc.Priority.Meaning(), inc.Title)}
			if st.Source != "alert" {
				m.Mentions = s.route(inc.Priority).Mentions
				if !m.Mentions.Empty() && inc.Priority <= bot.P1 {
					m.Content = mentionText(m.Mentions) + m.Content
				} else {
					m.Mentions = bot.Mentions{}
				}
			}
			m.Nonce = fmt.Sprintf("kxi%da", inc.ID) // the announcement is posted once: a repeat returns it
			threadID, announceID, err = s.Threads.CreateThread(ctx, channelID, ThreadName(inc), m)
		}
		if err != nil {
			return failed("create thread", err)
		}
		err = s.Store.Update(ctx, func(tx Tx) error {
			cur, err := tx.Incident(inc.ID)
			if err != nil {
				return err
			}
			cur.ThreadID, cur.ChannelID = threadID, channelID
			if err := tx.SaveIncident(cur); err != nil {
				return err
			}
			cst, err := tx.IncidentState(inc.ID)
			if err != nil {
				return err
			}
			cst.AnnounceID, cst.ThreadError = announceID, ""
			*inc = *cur
			return tx.SaveIncidentState(cst)
		})
		if err != nil {
			return err
		}
		st.AnnounceID, st.ThreadError = announceID, ""
		log.Info("incident thread created", "thread", threadID)
	}

	if inc.SummaryID == "" || st.SummaryVersion < inc.Version {
		m := s.IncidentSummary(inc, groups, now)
		summaryID := inc.SummaryID
		if summaryID == "" {
			m.Nonce = fmt.Sprintf("kxi%ds", inc.ID) // the summary is posted once: a repeat returns it
			if summaryID, err = s.Threads.Send(ctx, inc.ThreadID, m, nil); err != nil {
				return failed("post summary", err)
			}
			// Save the id before pinning: a failed pin must not post a second summary.
			if err := s.saveSummary(ctx, inc, summaryID, 0); err != nil {
				return err
			}
			if err := s.Threads.Pin(ctx, inc.ThreadID, summaryID); err != nil {
				// Cosmetic: the summary is there, unpinned. Not worth holding the thread's work for.
				log.Warn("cannot pin the incident summary", "err", err)
			}
		} else if st.Archived {
			// An archived thread's messages cannot be edited; it stays as it was.
		} else if err := s.Threads.Edit(ctx, inc.ThreadID, summaryID, m, nil); err != nil {
			return failed("edit summary", err)
		}
		if err := s.saveSummary(ctx, inc, summaryID, inc.Version); err != nil {
			return err
		}
	}

	for _, u := range members {
		result := "added"
		if err := s.Threads.AddMember(ctx, inc.ThreadID, u); err != nil {
			se := bot.AsSendError(err)
			if se.Paced || se.Temporary {
				return failed("add member", err)
			}
			result = "failed: " + se.Error()
			log.Warn("cannot add a member to the incident thread", "user", u, "err", err)
		}
		if err := s.Store.Update(ctx, func(tx Tx) error { return tx.ThreadMemberAdded(inc.ID, u, result) }); err != nil {
			return err
		}
	}

	end := inc.ResolvedAt
	if end.IsZero() {
		end = inc.ClosedAt
	}
	if !IsOpen(inc.Status) && !st.Archived && s.policy().ArchiveAfter > 0 && !end.IsZero() && !now.Before(end.Add(s.policy().ArchiveAfter)) {
		if pending, err := s.pendingPosts(ctx, inc.ID); err != nil || pending {
			return err // the closing summary goes out first
		}
		if err := s.Threads.Archive(ctx, inc.ThreadID); err != nil {
			return failed("archive thread", err)
		}
		err := s.Store.Update(ctx, func(tx Tx) error {
			cst, err := tx.IncidentState(inc.ID)
			if err != nil {
				return err
			}
			cst.Archived = true
			return tx.SaveIncidentState(cst)
		})
		if err != nil {
			return err
		}
		log.Info("incident thread archived", "thread", inc.ThreadID)
	} else if inc.Status == bot.Closed && !st.Archived && (s.policy().ArchiveAfter == 0 || end.IsZero()) {
		// Nothing will archive it: stop syncing it.
		return s.Store.Update(ctx, func(tx Tx) error {
			cst, err := tx.IncidentState(inc.ID)
			if err != nil {
				return err
			}
			cst.Archived = true
			return tx.SaveIncidentState(cst)
		})
	}
	return nil
}

func (s *Service) saveSummary(ctx context.Context, inc *bot.Incident, summaryID string, version int64) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Incident(inc.ID)
		if err != nil {
			return err
		}
		if cur.SummaryID != summaryID {
			cur.SummaryID = summaryID
			inc.SummaryID = summaryID
			if err := tx.SaveIncident(cur); err != nil {
				return err
			}
		}
		if version == 0 {
			return nil
		}
		st, err := tx.IncidentState(inc.ID)
		if err != nil {
			return err
		}
		st.SummaryVersion = version
		return tx.SaveIncidentState(st)
	})
}

func (s *Service) pendingPosts(ctx context.Context, incidentID int64) (pending bool, err error) {
	err = s.Store.View(ctx, func(tx Tx) error { pending, err = tx.PendingMessages(incidentID); return err })
	return pending, err
}
