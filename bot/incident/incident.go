package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/text"
)

// Declaration is what /incident declare, the card button, a triage button
// or an alert asks for.
type Declaration struct {
	Title     string
	Priority  bot.Priority // ignored (the alert's is used) when < 0 and GroupID is set
	Impact    string
	Services  []string
	GroupID   int64  // the alert group it starts from; 0: none
	Commander string // user id to make commander at once; "" for nobody
	Source    string // "command", "button", "alert", "report"
}

// Limits on what people type.
const (
	maxIncidentTitle = 150
	maxIncidentText  = 1800
)

func incText(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", bot.Errorf(bot.EInvalid, "the %s is empty: write a few words", what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", bot.Errorf(bot.EInvalid, "the %s has %d characters; keep it under %d", what, n, max)
	}
	return s, nil
}

// Declare opens an incident.
func (s *Service) Declare(ctx context.Context, d Declaration, a bot.Actor, now time.Time) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		inc, err = s.declare(tx, d, a, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.trigger()
	s.log().Info("incident declared", "incident", inc.Ref(), "priority", inc.Priority.String(), "user", a.UserID, "source", d.Source)
	return inc, nil
}

func (s *Service) declare(tx Tx, d Declaration, a bot.Actor, now time.Time) (*bot.Incident, error) {
	inc := &bot.Incident{Priority: d.Priority, Impact: strings.TrimSpace(d.Impact), Status: bot.Detected, Roles: map[string]string{},
		CreatedBy: a, StartedAt: now, DetectedAt: now, Version: 1}
	for _, sv := range d.Services {
		if sv = strings.TrimSpace(sv); sv != "" && !slices.Contains(inc.Services, sv) {
			inc.Services = append(inc.Services, sv)
		}
	}
	st := &State{Source: d.Source}
	var g *bot.Group
	if d.GroupID != 0 {
		var err error
		if g, err = tx.Group(d.GroupID); err != nil {
			if bot.ErrorCode(err) == bot.ENotFound {
				return nil, bot.Errorf(bot.ENotFound, "there is no alert #%d: see /alerts for the open ones", d.GroupID)
			}
			return nil, err
		}
		if other, err := tx.IncidentOfGroup(g.ID); err == nil {
			return nil, bot.Errorf(bot.EConflict, "alert #%d is already part of %s%s", g.ID, other.Ref(), threadMention(other))
		} else if bot.ErrorCode(err) != bot.ENotFound {
			return nil, err
		}
		inc.GroupIDs = []int64{g.ID}
		inc.StartedAt = minTimeInc(g.StartedAt(), now)
		if !d.Priority.Valid() {
			inc.Priority = g.Priority
		}
		if d.Title == "" {
			d.Title = g.Title()
			if sum := g.Summary(); sum != "" {
				d.Title += " — " + sum
			}
			d.Title = text.Truncate(d.Title, maxIncidentTitle)
		}
		if sv := g.Label("service"); sv != "" && !slices.Contains(inc.Services, sv) {
			inc.Services = append(inc.Services, sv)
		}
		if g.Ack != nil {
			inc.AckedAt = g.Ack.At
		}
		posts, err := tx.PostsOfGroup(g.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range posts {
			if p.Kind == bot.Card {
				st.PostID, inc.ChannelID = p.ID, p.ChannelID
			}
		}
	}
	if !inc.Priority.Valid() {
		return nil, bot.Errorf(bot.EInvalid, "choose a priority: P0 (critical outage), P1 (major issue), P2 (minor issue) or P3 (warning)")
	}
	title, err := incText("title", d.Title, maxIncidentTitle)
	if err != nil {
		return nil, err
	}
	inc.Title = title
	if inc.ChannelID == "" {
		inc.ChannelID = s.policy().ChannelID
	}
	if inc.ChannelID == "" {
		inc.ChannelID = s.route(inc.Priority).ChannelID
	}
	if err := tx.SaveIncident(inc); err != nil {
		return nil, err
	}
	st.IncidentID = inc.ID
	if err := tx.SaveIncidentState(st); err != nil {
		return nil, err
	}
	how := fmt.Sprintf("Declared %s by %s: %s", inc.Priority, bot.ActorRef(a), inc.Title)
	if d.Source == "alert" {
		how = fmt.Sprintf("Opened automatically by alert #%d (%s): %s", g.ID, g.Priority, inc.Title)
	}
	if err := s.event(tx, inc, now, "declared", a, how, ""); err != nil {
		return nil, err
	}
	if g != nil {
		if err := s.event(tx, inc, g.CreatedAt, "alert fired", bot.Actor{Via: "alertmanager"}, groupLine(g), groupRef(g.ID)); err != nil {
			return nil, err
		}
	}
	if a.UserID != "" {
		if err := tx.AddThreadMember(inc.ID, a.UserID); err != nil {
			return nil, err
		}
	}
	if d.Commander != "" {
		if err := s.assign(tx, inc, CommanderRole, d.Commander, a, now); err != nil {
			return nil, err
		}
		if err := tx.SaveIncident(inc); err != nil {
			return nil, err
		}
	}
	if err := s.announce(tx, inc, now, fmt.Sprintf("🚨 **%s declared** · %s %s · %s", inc.Ref(), inc.Priority, inc.Priority.Meaning(), inc.Title), inc.Impact); err != nil {
		return nil, err
	}
	return inc, s.measure(tx, inc)
}

// change loads an incident, applies fn and saves it with its state, its
// measures and a new version (so the pinned summary is refreshed).
func (s *Service) change(ctx context.Context, id int64, fn func(tx Tx, inc *bot.Incident, st *State) error) (*bot.Incident, error) {
	var out *bot.Incident
	err := s.Store.Update(ctx, func(tx Tx) error {
		inc, err := tx.Incident(id)
		if err != nil {
			return err
		}
		st, err := tx.IncidentState(id)
		if err != nil {
			return err
		}
		if err := fn(tx, inc, st); err != nil {
			return err
		}
		inc.Version++
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		if err := tx.SaveIncidentState(st); err != nil {
			return err
		}
		out = inc
		return s.measure(tx, inc)
	})
	if err != nil {
		return nil, err
	}
	s.trigger()
	return out, nil
}

// Assign gives a person a role. They get the role's instructions by DM and
// are added to the thread; a commander acknowledges the incident.
func (s *Service) Assign(ctx context.Context, id int64, role, userID string, a bot.Actor, now time.Time) (*bot.Incident, error) {
	inc, err := s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		if inc.Status == bot.Closed {
			return bot.Errorf(bot.EConflict, "%s is closed", inc.Ref())
		}
		return s.assign(tx, inc, role, userID, a, now)
	})
	if err == nil {
		s.log().Info("incident role assigned", "incident", inc.Ref(), "role", role, "user", userID)
	}
	return inc, err
}

func (s *Service) assign(tx Tx, inc *bot.Incident, role, userID string, a bot.Actor, now time.Time) error {
	r, ok := s.policy().Role(role)
	if !ok {
		return bot.Errorf(bot.EInvalid, "there is no role %q: choose one of %s", role, strings.Join(s.policy().RoleNames(), ", "))
	}
	if userID == "" {
		return bot.Errorf(bot.EInvalid, "choose the person to make %s", r.Name)
	}
	prev := inc.Roles[r.Name]
	if prev == userID {
		return bot.Errorf(bot.EConflict, "%s is already the %s of %s", bot.UserRef(userID), r.Name, inc.Ref())
	}
	if inc.Roles == nil {
		inc.Roles = map[string]string{}
	}
	inc.Roles[r.Name] = userID
	text := fmt.Sprintf("%s is %s", bot.UserRef(userID), r.Name)
	if prev != "" {
		text += " (was " + bot.UserRef(prev) + ")"
	}
	if err := s.event(tx, inc, now, "role assigned", a, text, "role:"+r.Name); err != nil {
		return err
	}
	if err := tx.AddThreadMember(inc.ID, userID); err != nil {
		return err
	}
	if err := s.post(tx, inc, "role", bot.Message{Content: fmt.Sprintf("👤 %s is now **%s** of %s (assigned by %s).", bot.UserRef(userID), r.Name, inc.Ref(), bot.ActorRef(a)),
		Mentions: bot.Mentions{Users: []string{userID}}}, nil, now); err != nil {
		return err
	}
	dm := bot.Message{Title: fmt.Sprintf("You are the %s of %s", r.Name, inc.Ref()), Tone: incTone(inc),
		Description: r.Instructions,
		Fields: []bot.Field{{Name: "Incident", Value: fmt.Sprintf("%s · %s %s", inc.Title, inc.Priority, inc.Priority.Meaning())},
			{Name: "Status", Value: string(inc.Status), Inline: true}},
		Footer: "Klaxon · assigned by " + bot.ActorRef(a)}
	if inc.ThreadID != "" {
		dm.Fields = append(dm.Fields, bot.Field{Name: "Thread", Value: bot.ChannelRef(inc.ThreadID), Inline: true})
	}
	if dm.Description == "" {
		dm.Description = "Join the incident's thread and follow the response procedure."
	}
	if err := tx.Enqueue(&bot.Outgoing{UserID: userID, Priority: inc.Priority, Kind: "incident-role", Ref: fmt.Sprintf("incident:%d:role:%s", inc.ID, r.Name),
		Message: dm, DueAt: now, CreatedAt: now}); err != nil {
		return err
	}
	if r.Name == CommanderRole {
		if inc.AckedAt.IsZero() {
			inc.AckedAt = now
		}
		if inc.Status == bot.Detected {
			return s.setStatus(tx, inc, nil, bot.Investigating, "a commander took it", a, now)
		}
	}
	return nil
}

// RoleDMSent is the SentHook for role instructions: when a person's DMs are
// closed, the instructions go to the incident's thread instead.
func (s *Service) RoleDMSent(ctx context.Context, btx bot.Tx, m bot.Outgoing, messageID string, sendErr error, now time.Time) error {
	tx := s.Store.Join(btx)
	if sendErr == nil || !bot.AsSendError(sendErr).DMsClosed {
		return nil
	}
	var id int64
	var role string
	if _, err := fmt.Sscanf(m.Ref, "incident:%d:role:%s", &id, &role); err != nil {
		return nil
	}
	inc, err := tx.Incident(id)
	if err != nil {
		return nil
	}
	msg := m.Message
	msg.Content = fmt.Sprintf("%s your DMs are closed, so here are your instructions as %s:", bot.UserRef(m.UserID), role)
	msg.Mentions = bot.Mentions{Users: []string{m.UserID}}
	return s.post(tx, inc, "role", msg, nil, now)
}

// SetStatus moves an incident through its lifecycle; note is optional.
func (s *Service) SetStatus(ctx context.Context, id int64, to bot.IncidentStatus, note string, a bot.Actor, now time.Time) (*bot.Incident, error) {
	inc, err := s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		return s.setStatus(tx, inc, st, to, strings.TrimSpace(note), a, now)
	})
	if err == nil {
		s.log().Info("incident status changed", "incident", inc.Ref(), "status", string(to), "user", a.UserID)
	}
	return inc, err
}

func (s *Service) setStatus(tx Tx, inc *bot.Incident, st *State, to bot.IncidentStatus, note string, a bot.Actor, now time.Time) error {
	from := inc.Status
	if err := CheckTransition(inc.Ref(), from, to); err != nil {
		return err
	}
	if utf8.RuneCountInString(note) > maxIncidentText {
		return bot.Errorf(bot.EInvalid, "the note is too long; keep it under %d characters", maxIncidentText)
	}
	inc.Status = to
	ack := func() {
		if inc.AckedAt.IsZero() {
			inc.AckedAt = now
		}
	}
	switch to {
	case bot.Investigating:
		ack()
		if from == bot.IncResolved {
			inc.ResolvedAt = time.Time{}
			if st != nil {
				st.Archived = false
			}
		}
	case bot.Mitigated:
		ack()
		if inc.MitigatedAt.IsZero() {
			inc.MitigatedAt = now
		}
		if st != nil {
			st.NudgedAt = now
		}
	case bot.IncResolved:
		ack()
		if inc.MitigatedAt.IsZero() {
			inc.MitigatedAt = now
		}
		inc.ResolvedAt = now
	case bot.Closed:
		inc.ClosedAt = now
		if inc.ResolvedAt.IsZero() {
			inc.ResolvedAt = now
		}
	}
	text := fmt.Sprintf("%s → %s", from, to)
	if note != "" {
		text += ": " + note
	}
	if err := s.event(tx, inc, now, "status changed", a, text, "status:"+string(to)); err != nil {
		return err
	}
	if to == bot.IncResolved {
		if err := s.event(tx, inc, now, "resolved", a, "Resolved after "+FormatSpan(now.Sub(inc.DetectedAt)), ""); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("%s **%s** is now **%s** (by %s)", emoji(to), inc.Ref(), to, bot.ActorRef(a))
	if from == bot.IncResolved && to == bot.Investigating {
		line = fmt.Sprintf("🔁 **%s** is reopened: back to **investigating** (by %s)", inc.Ref(), bot.ActorRef(a))
	}
	if note != "" {
		line += "\n> " + strings.ReplaceAll(note, "\n", "\n> ")
	}
	if to == bot.IncResolved {
		if err := s.post(tx, inc, "closing", s.closingSummary(tx, inc, now, note), nil, now); err != nil {
			return err
		}
	} else if err := s.post(tx, inc, "status", bot.Message{Content: line}, nil, now); err != nil {
		return err
	}
	switch to {
	case bot.Mitigated, bot.IncResolved:
		return s.announce(tx, inc, now, fmt.Sprintf("%s **%s %s** · %s", emoji(to), inc.Ref(), to, inc.Title), note)
	case bot.Investigating:
		if from == bot.IncResolved || from == bot.Mitigated {
			return s.announce(tx, inc, now, fmt.Sprintf("🔁 **%s is being investigated again** · %s", inc.Ref(), inc.Title), note)
		}
	}
	return nil
}

// SetPriority reclassifies an incident: its priority and, when given, its impact.
func (s *Service) SetPriority(ctx context.Context, id int64, p bot.Priority, impact string, a bot.Actor, now time.Time) (*bot.Incident, error) {
	return s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		if !p.Valid() {
			return bot.Errorf(bot.EInvalid, "choose a priority: P0, P1, P2 or P3")
		}
		impact = strings.TrimSpace(impact)
		if p == inc.Priority && (impact == "" || impact == inc.Impact) {
			return bot.Errorf(bot.EConflict, "%s is already %s", inc.Ref(), p)
		}
		if utf8.RuneCountInString(impact) > maxIncidentText {
			return bot.Errorf(bot.EInvalid, "the impact is too long; keep it under %d characters", maxIncidentText)
		}
		var parts []string
		if p != inc.Priority {
			parts = append(parts, fmt.Sprintf("priority %s → %s", inc.Priority, p))
			if err := s.event(tx, inc, now, "priority changed", a, fmt.Sprintf("%s → %s", inc.Priority, p), ""); err != nil {
				return err
			}
			inc.Priority = p
		}
		if impact != "" && impact != inc.Impact {
			parts = append(parts, "impact: "+impact)
			if err := s.event(tx, inc, now, "classified", a, "Impact: "+impact, ""); err != nil {
				return err
			}
			inc.Impact = impact
		}
		return s.post(tx, inc, "priority", bot.Message{Content: fmt.Sprintf("🏷️ **%s** reclassified by %s: %s", inc.Ref(), bot.ActorRef(a), strings.Join(parts, "; "))}, nil, now)
	})
}

// PostUpdate posts a status update to the thread and the status channel.
func (s *Service) PostUpdate(ctx context.Context, id int64, text string, a bot.Actor, now time.Time) (*bot.Incident, error) {
	return s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		t, err := incText("update", text, maxIncidentText)
		if err != nil {
			return err
		}
		if inc.Status == bot.Closed {
			return bot.Errorf(bot.EConflict, "%s is closed; updates are over", inc.Ref())
		}
		inc.LastUpdateAt = now
		if err := s.event(tx, inc, now, "status update", a, t, ""); err != nil {
			return err
		}
		m := bot.Message{Title: fmt.Sprintf("📣 Update · %s · %s", inc.Ref(), inc.Title), Description: t, Tone: incTone(inc),
			Fields: []bot.Field{{Name: "Status", Value: emoji(inc.Status) + " " + string(inc.Status), Inline: true},
				{Name: "Priority", Value: inc.Priority.String() + " " + inc.Priority.Meaning(), Inline: true}},
			Footer: "posted by " + bot.ActorRef(a)}
		if err := s.post(tx, inc, "update", m, nil, now); err != nil {
			return err
		}
		if s.policy().StatusChannelID != "" {
			return tx.Enqueue(&bot.Outgoing{ChannelID: s.policy().StatusChannelID, Priority: inc.Priority, Kind: "incident-status",
				Ref: fmt.Sprintf("incident:%d", inc.ID), Message: m, DueAt: now, CreatedAt: now})
		}
		return nil
	})
}

// AddNote adds a note to the timeline.
func (s *Service) AddNote(ctx context.Context, id int64, text string, a bot.Actor, now time.Time) (*bot.Incident, error) {
	return s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		t, err := incText("note", text, maxIncidentText)
		if err != nil {
			return err
		}
		return s.event(tx, inc, now, "note", a, t, "")
	})
}

// Record adds an event to the timeline for another feature (runbook steps,
// post-mortems): kind, text and an optional ref.
func (s *Service) Record(ctx context.Context, id int64, kind, text, ref string, a bot.Actor, now time.Time) error {
	_, err := s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		return s.event(tx, inc, now, kind, a, text, ref)
	})
	return err
}

// Link links an alert group to an incident.
func (s *Service) Link(ctx context.Context, id, groupID int64, a bot.Actor, now time.Time) (*bot.Incident, error) {
	return s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		g, err := tx.Group(groupID)
		if bot.ErrorCode(err) == bot.ENotFound {
			return bot.Errorf(bot.ENotFound, "there is no alert #%d: see /alerts for the open ones", groupID)
		}
		if err != nil {
			return err
		}
		if other, err := tx.IncidentOfGroup(g.ID); err == nil {
			if other.ID == inc.ID {
				return bot.Errorf(bot.EConflict, "alert #%d is already linked to %s", g.ID, inc.Ref())
			}
			return bot.Errorf(bot.EConflict, "alert #%d is already part of %s%s", g.ID, other.Ref(), threadMention(other))
		} else if bot.ErrorCode(err) != bot.ENotFound {
			return err
		}
		inc.GroupIDs = append(inc.GroupIDs, g.ID)
		inc.StartedAt = minTimeInc(inc.StartedAt, g.StartedAt())
		if sv := g.Label("service"); sv != "" && !slices.Contains(inc.Services, sv) {
			inc.Services = append(inc.Services, sv)
		}
		if err := s.event(tx, inc, now, "alert linked", a, groupLine(g), groupRef(g.ID)); err != nil {
			return err
		}
		return s.post(tx, inc, "link", bot.Message{Content: fmt.Sprintf("🔗 Alert #%d **%s** (%s, %s) linked to %s by %s.", g.ID, g.Title(), g.Priority, g.Status, inc.Ref(), bot.ActorRef(a))}, nil, now)
	})
}

// PinnedMessage is a Discord message added to a timeline (📌 or the
// "Add to timeline" message command).
type PinnedMessage struct {
	Link     string // https://discord.com/channels/guild/channel/message
	AuthorID string
	Author   string
	Content  string
	At       time.Time
}

// AddMessage adds a message to the timeline, once.
func (s *Service) AddMessage(ctx context.Context, id int64, m PinnedMessage, a bot.Actor, now time.Time) (*bot.Incident, error) {
	return s.change(ctx, id, func(tx Tx, inc *bot.Incident, st *State) error {
		if _, err := tx.LastTimelineEvent(inc.ID, m.Link, "pinned message"); err == nil {
			return bot.Errorf(bot.EConflict, "that message is already in %s's timeline", inc.Ref())
		} else if bot.ErrorCode(err) != bot.ENotFound {
			return err
		}
		body := strings.TrimSpace(m.Content)
		if body == "" {
			body = "(a message without text: see the link)"
		}
		author := m.Author
		if m.AuthorID != "" {
			author = bot.UserRef(m.AuthorID)
		}
		return s.event(tx, inc, now, "pinned message", a, text.Truncate(author+": "+body, 900), m.Link)
	})
}

// Bounds of a reminder snooze, checked here and by the handlers' parser.
const (
	MinSnooze = time.Minute
	MaxSnooze = 24 * time.Hour
)

// Snooze holds back the status-update reminder of an incident until now+d.
func (s *Service) Snooze(ctx context.Context, id int64, d time.Duration, a bot.Actor, now time.Time) (*bot.Incident, error) {
	if d < MinSnooze || d > MaxSnooze {
		return nil, bot.Errorf(bot.EInvalid, "snooze for 1 minute to 24 hours")
	}
	var out *bot.Incident
	err := s.Store.Update(ctx, func(tx Tx) error {
		inc, err := tx.Incident(id)
		if err != nil {
			return err
		}
		if !IsOpen(inc.Status) {
			return bot.Errorf(bot.EConflict, "%s is %s: there are no reminders to snooze", inc.Ref(), inc.Status)
		}
		st, err := tx.IncidentState(id)
		if err != nil {
			return err
		}
		st.SnoozedUntil = now.Add(d)
		out = inc
		if err := tx.SaveIncidentState(st); err != nil {
			return err
		}
		return s.event(tx, inc, now, "reminder snoozed", a, "Update reminders snoozed for "+FormatSpan(d), "")
	})
	return out, err
}

// Get returns an incident.
func (s *Service) Get(ctx context.Context, id int64) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.Store.View(ctx, func(tx Tx) (err error) { inc, err = tx.Incident(id); return err })
	return inc, err
}

// Timeline returns an incident and its timeline.
func (s *Service) Timeline(ctx context.Context, id int64) (*bot.Incident, []bot.TimelineEvent, error) {
	var inc *bot.Incident
	var tl []bot.TimelineEvent
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		tl, err = tx.Timeline(id)
		return err
	})
	return inc, tl, err
}

// OnGroupChange is the GroupHook: it records alert fired/resolved on the
// timeline of the group's incident, and opens an incident for a firing
// group of an auto-open priority that has none.
func (s *Service) OnGroupChange(ctx context.Context, btx bot.Tx, g *bot.Group, isNew bool, now time.Time) error {
	tx := s.Store.Join(btx)
	inc, err := tx.IncidentOfGroup(g.ID)
	switch {
	case err == nil:
		want := "alert fired"
		if g.Status == bot.Resolved {
			want = "alert resolved"
		}
		last, err := tx.LastTimelineEvent(inc.ID, groupRef(g.ID), "alert fired", "alert resolved", "alert linked")
		if err != nil && bot.ErrorCode(err) != bot.ENotFound {
			return err
		}
		if last != nil && (last.Kind == want || (last.Kind == "alert linked" && want == "alert fired")) {
			return nil
		}
		at := now
		if g.Status == bot.Resolved && !g.ResolvedAt.IsZero() {
			at = g.ResolvedAt
		}
		if err := s.event(tx, inc, at, want, bot.Actor{Via: "alertmanager"}, groupLine(g), groupRef(g.ID)); err != nil {
			return err
		}
		inc.Version++
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		if g.Status == bot.Resolved && IsOpen(inc.Status) {
			all := true
			for _, id := range inc.GroupIDs {
				if og, err := tx.Group(id); err == nil && og.Status == bot.Firing {
					all = false
				}
			}
			if all {
				return s.post(tx, inc, "alerts resolved", bot.Message{Content: fmt.Sprintf("🟢 Every alert linked to **%s** has resolved. If the problem is over, resolve the incident.", inc.Ref())},
					[]bot.Button{{Label: "Resolve incident", CustomID: customid.Make(customid.IncidentResolve, inc.ID), Emoji: "✅", Style: "success"}}, now)
			}
		}
		return nil
	case bot.ErrorCode(err) != bot.ENotFound:
		return err
	}
	if g.Status != bot.Firing {
		return nil
	}
	// A new episode of an alert already part of an open incident (a flapping
	// alert) joins that incident instead of opening another. Two indexed
	// look-ups, not a scan: this runs for every new group, storms included.
	if isNew {
		if prev, err := tx.PreviousEpisode(g.Key, g.ID); err == nil {
			if o, err := tx.IncidentOfGroup(prev.ID); err == nil && IsOpen(o.Status) {
				o.GroupIDs = append(o.GroupIDs, g.ID)
				o.Version++
				if err := s.event(tx, o, now, "alert fired", bot.Actor{Via: "alertmanager"}, "fired again: "+groupLine(g), groupRef(g.ID)); err != nil {
					return err
				}
				return tx.SaveIncident(o)
			} else if err != nil && bot.ErrorCode(err) != bot.ENotFound {
				return err
			}
		} else if bot.ErrorCode(err) != bot.ENotFound {
			return err
		}
	}
	if !g.Priority.Valid() || !s.policy().AutoOpen[g.Priority] {
		return nil
	}
	_, err = s.declare(tx, Declaration{GroupID: g.ID, Priority: -1, Source: "alert"}, bot.Actor{Name: "Klaxon", Via: "alert"}, now)
	if err == nil {
		s.log().Info("incident opened by alert", "group", g.ID, "priority", g.Priority.String())
	}
	return err
}

// event appends to the timeline.
func (s *Service) event(tx Tx, inc *bot.Incident, at time.Time, kind string, a bot.Actor, text, ref string) error {
	return tx.AddTimelineEvent(&bot.TimelineEvent{IncidentID: inc.ID, At: at, Kind: kind, Actor: a, Text: text, Ref: ref})
}

// post queues a message for the incident's thread (sent once it exists).
func (s *Service) post(tx Tx, inc *bot.Incident, kind string, m bot.Message, buttons []bot.Button, now time.Time) error {
	return tx.Enqueue(&bot.Outgoing{IncidentID: inc.ID, Priority: inc.Priority, Kind: kind, Message: m, Buttons: buttons, DueAt: now, CreatedAt: now})
}

// announce queues a line in the status channel, when there is one.
func (s *Service) announce(tx Tx, inc *bot.Incident, now time.Time, line, detail string) error {
	if s.policy().StatusChannelID == "" {
		return nil
	}
	m := bot.Message{Content: line}
	if detail != "" {
		m.Content += "\n> " + strings.ReplaceAll(text.Truncate(detail, 1500), "\n", "\n> ")
	}
	return tx.Enqueue(&bot.Outgoing{ChannelID: s.policy().StatusChannelID, Priority: inc.Priority, Kind: "incident-status",
		Ref: fmt.Sprintf("incident:%d", inc.ID), Message: m, DueAt: now, CreatedAt: now})
}

// measure stores the incident's response times.
func (s *Service) measure(tx Tx, inc *bot.Incident) error {
	m := Measure{IncidentID: inc.ID, Priority: inc.Priority, DetectedAt: inc.DetectedAt}
	since := func(t time.Time) time.Duration { return max(t.Sub(inc.DetectedAt), 0) }
	if !inc.AckedAt.IsZero() {
		m.Acked, m.TimeToAck = true, since(inc.AckedAt)
	}
	if !inc.MitigatedAt.IsZero() {
		m.Mitigated, m.TimeToMitigate = true, since(inc.MitigatedAt)
	}
	if !inc.ResolvedAt.IsZero() {
		m.Resolved, m.TimeToResolve = true, since(inc.ResolvedAt)
		m.ImpactDuration = max(inc.ResolvedAt.Sub(inc.StartedAt), 0)
	}
	return tx.SaveIncidentMeasure(m)
}

// Means are the mean response times of a priority's incidents.
type Means struct {
	Priority                     bot.Priority
	Incidents                    int
	Acked, Mitigated, Resolved   int
	MTTA, MTTM, MTTR, MeanImpact time.Duration
}

// MeanTimes averages measures by priority (MTTA, MTTM, MTTR).
func MeanTimes(ms []Measure) [4]Means {
	var out [4]Means
	var sums [4][4]time.Duration
	for i := range out {
		out[i].Priority = bot.Priority(i)
	}
	for _, m := range ms {
		if !m.Priority.Valid() {
			continue
		}
		o := &out[m.Priority]
		o.Incidents++
		if m.Acked {
			o.Acked++
			sums[m.Priority][0] += m.TimeToAck
		}
		if m.Mitigated {
			o.Mitigated++
			sums[m.Priority][1] += m.TimeToMitigate
		}
		if m.Resolved {
			o.Resolved++
			sums[m.Priority][2] += m.TimeToResolve
			sums[m.Priority][3] += m.ImpactDuration
		}
	}
	div := func(d time.Duration, n int) time.Duration {
		if n == 0 {
			return 0
		}
		return d / time.Duration(n)
	}
	for i := range out {
		o := &out[i]
		o.MTTA, o.MTTM = div(sums[i][0], o.Acked), div(sums[i][1], o.Mitigated)
		o.MTTR, o.MeanImpact = div(sums[i][2], o.Resolved), div(sums[i][3], o.Resolved)
	}
	return out
}

// Measures returns mean response times by priority for incidents detected in [from, to).
func (s *Service) Measures(ctx context.Context, from, to time.Time) ([4]Means, error) {
	var ms []Measure
	err := s.Store.View(ctx, func(tx Tx) (err error) { ms, err = tx.IncidentMeasures(from, to); return err })
	return MeanTimes(ms), err
}

func threadMention(inc *bot.Incident) string {
	if inc.ThreadID == "" {
		return ""
	}
	return " (" + bot.ChannelRef(inc.ThreadID) + ")"
}

func groupLine(g *bot.Group) string {
	s := fmt.Sprintf("alert #%d %s (%s)", g.ID, g.Title(), g.Priority)
	if sum := g.Summary(); sum != "" {
		s += ": " + sum
	}
	return text.Truncate(s, 300)
}

func minTimeInc(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// FormatSpan writes a duration the way people say it: "45s", "12m", "1h 05m", "2d 3h" (text.Span).
func FormatSpan(d time.Duration) string { return text.Span(d) }
