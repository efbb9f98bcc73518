package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/bot/text"
)

// TriageChannel is where /report items go: the triage channel, else the
// incidents channel, else the P2 alert channel.
func (s *Service) TriageChannel() string {
	for _, c := range []string{s.policy().TriageChannelID, s.policy().ChannelID, s.route(bot.P2).ChannelID} {
		if c != "" {
			return c
		}
	}
	return ""
}

// Report records a problem reported by a member and queues a triage item
// with buttons to declare an incident, link it to one, or dismiss it.
func (s *Service) Report(ctx context.Context, text, fromChannel string, a bot.Actor, now time.Time) (*UserReport, error) {
	t, err := incText("report", text, 1000)
	if err != nil {
		return nil, err
	}
	ch := s.TriageChannel()
	if ch == "" {
		return nil, bot.Errorf(bot.EConflict, "reports are not set up: an admin must set incidents.triage_channel in Klaxon's configuration")
	}
	r := &UserReport{Text: t, Reporter: a, ChannelID: fromChannel, Status: ReportOpen, TriageChannelID: ch, CreatedAt: now}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if err := tx.SaveReport(r); err != nil {
			return err
		}
		return tx.Enqueue(&bot.Outgoing{ChannelID: ch, Priority: bot.P2, Kind: "triage", Ref: fmt.Sprintf("report:%d", r.ID),
			Message: TriageMessage(r, nil), Buttons: TriageButtons(r.ID), DueAt: now, CreatedAt: now})
	})
	if err != nil {
		return nil, err
	}
	s.trigger()
	s.log().Info("user report", "report", r.ID, "user", a.UserID)
	return r, nil
}

// TriageButtons are the triage buttons of an open report.
func TriageButtons(id int64) []bot.Button {
	return []bot.Button{
		{Label: "Declare incident", CustomID: customid.Make(customid.ReportDeclare, id), Emoji: "🚨", Style: "danger"},
		{Label: "Link to incident", CustomID: customid.Make(customid.ReportLinkMenu, id), Emoji: "🔗", Style: "primary"},
		{Label: "Dismiss", CustomID: customid.Make(customid.ReportDismiss, id), Style: "secondary"},
	}
}

// TriageMessage is the triage message of a report, showing its outcome once handled.
func TriageMessage(r *UserReport, inc *bot.Incident) bot.Message {
	m := bot.Message{Title: fmt.Sprintf("📢 Report #%d", r.ID), Description: r.Text, Tone: bot.ToneTriage,
		Fields: []bot.Field{{Name: "Reported by", Value: bot.ActorRef(r.Reporter), Inline: true},
			{Name: "When", Value: bot.TimeRef(r.CreatedAt, bot.TimeFull), Inline: true}},
		Footer: "Triage: declare an incident, link it to one that is open, or dismiss it"}
	if r.ChannelID != "" {
		m.Fields = append(m.Fields, bot.Field{Name: "From", Value: bot.ChannelRef(r.ChannelID), Inline: true})
	}
	switch r.Status {
	case ReportDeclared, ReportLinked:
		m.Tone = bot.ToneResolved
		what := "declared as"
		if r.Status == ReportLinked {
			what = "linked to"
		}
		ref := fmt.Sprintf("INC-%d", r.IncidentID)
		if inc != nil {
			ref = inc.Ref() + threadMention(inc)
		}
		m.Footer = ""
		m.Fields = append(m.Fields, bot.Field{Name: "Outcome", Value: fmt.Sprintf("%s %s by %s", what, ref, bot.ActorRef(r.HandledBy))})
	case ReportDismissed:
		m.Tone = bot.ToneMuted
		m.Footer = ""
		m.Fields = append(m.Fields, bot.Field{Name: "Outcome", Value: "dismissed by " + bot.ActorRef(r.HandledBy)})
	}
	return m
}

func (s *Service) openReport(tx Tx, id int64) (*UserReport, error) {
	r, err := tx.Report(id)
	if err != nil {
		return nil, err
	}
	if r.Status != ReportOpen {
		what := string(r.Status)
		if r.IncidentID != 0 {
			what += fmt.Sprintf(" (INC-%d)", r.IncidentID)
		}
		return nil, bot.Errorf(bot.EConflict, "report #%d was already handled: %s by %s", r.ID, what, bot.ActorRef(r.HandledBy))
	}
	return r, nil
}

// DeclareFromReport declares an incident for a report (priority P2 unless
// given; it can be reclassified in the thread).
func (s *Service) DeclareFromReport(ctx context.Context, reportID int64, p bot.Priority, a bot.Actor, now time.Time) (*UserReport, *bot.Incident, error) {
	var r *UserReport
	var inc *bot.Incident
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		if r, err = s.openReport(tx, reportID); err != nil {
			return err
		}
		title := strings.SplitN(r.Text, "\n", 2)[0]
		if inc, err = s.declare(tx, Declaration{Title: text.Truncate(title, maxIncidentTitle), Priority: p, Impact: r.Text, Source: "report"}, a, now); err != nil {
			return err
		}
		r.Status, r.IncidentID, r.HandledBy, r.HandledAt = ReportDeclared, inc.ID, a, now
		if err := tx.SaveReport(r); err != nil {
			return err
		}
		if r.Reporter.UserID != "" {
			if err := tx.AddThreadMember(inc.ID, r.Reporter.UserID); err != nil {
				return err
			}
		}
		return s.event(tx, inc, r.CreatedAt, "user report", r.Reporter, r.Text, fmt.Sprintf("report:%d", r.ID))
	})
	if err != nil {
		return nil, nil, err
	}
	s.trigger()
	return r, inc, nil
}

// LinkReport adds a report to an incident's timeline and thread.
func (s *Service) LinkReport(ctx context.Context, reportID, incidentID int64, a bot.Actor, now time.Time) (*UserReport, *bot.Incident, error) {
	var r *UserReport
	inc, err := s.change(ctx, incidentID, func(tx Tx, inc *bot.Incident, st *State) (err error) {
		if r, err = s.openReport(tx, reportID); err != nil {
			return err
		}
		if inc.Status == bot.Closed {
			return bot.Errorf(bot.EConflict, "%s is closed: declare a new incident instead", inc.Ref())
		}
		r.Status, r.IncidentID, r.HandledBy, r.HandledAt = ReportLinked, inc.ID, a, now
		if err := tx.SaveReport(r); err != nil {
			return err
		}
		if err := s.event(tx, inc, r.CreatedAt, "user report", r.Reporter, r.Text, fmt.Sprintf("report:%d", r.ID)); err != nil {
			return err
		}
		return s.post(tx, inc, "report", bot.Message{Content: fmt.Sprintf("📢 Report #%d from %s, linked by %s:\n> %s", r.ID, bot.ActorRef(r.Reporter), bot.ActorRef(a),
			strings.ReplaceAll(text.Truncate(r.Text, 1500), "\n", "\n> "))}, nil, now)
	})
	return r, inc, err
}

// DismissReport closes a report without an incident.
func (s *Service) DismissReport(ctx context.Context, reportID int64, a bot.Actor, now time.Time) (*UserReport, error) {
	var r *UserReport
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		if r, err = s.openReport(tx, reportID); err != nil {
			return err
		}
		r.Status, r.HandledBy, r.HandledAt = ReportDismissed, a, now
		return tx.SaveReport(r)
	})
	return r, err
}

// UserReport is a problem a member reported with /report: a triage item.
type UserReport struct {
	ID              int64
	Text            string
	Reporter        bot.Actor
	ChannelID       string // where it was reported from
	Status          string // "open", "declared", "linked", "dismissed"
	IncidentID      int64
	HandledBy       bot.Actor
	TriageChannelID string // where the triage message is
	MessageID       string // the triage message, once posted
	CreatedAt       time.Time
	HandledAt       time.Time
}

// User report statuses.
const (
	ReportOpen      = "open"
	ReportDeclared  = "declared"
	ReportLinked    = "linked"
	ReportDismissed = "dismissed"
)
