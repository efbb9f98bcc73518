package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/paging"
)

// ViaTerminal is the Via of actions taken from the terminal (`klaxon ack`),
// in the action log, on the card and on an incident's timeline.
const ViaTerminal = "terminal"

// Terminal is what the terminal commands do (`klaxon alerts`, `ack`,
// `resolve`, `oncall`) when Discord is down: behind the same gate as
// Discord's interactions, with the same access configuration, and through
// the same services, so the action log, escalations and card edits are
// those of a button press. The admin API serves it on the running server;
// `klaxon ack` with the server stopped calls it on the database directly.
//
// A terminal user says who they are (a Discord user id); their roles come
// from Users (admin.users in the configuration: Klaxon cannot ask Discord
// when Discord is down) or, for a user not listed there, from Discord
// through the gate's Lookup when it answers.
type Terminal struct {
	Alerts    AlertService
	Overrides OverrideService
	Schedules *paging.LiveSchedules // the schedules in force; a reload replaces them
	Directory bot.Directory         // names for on-call rows; may be nil
	Gate      *Gate
	Users     map[string][]string // admin.users: user id → role ids
	Clock     bot.Clock
	Log       *slog.Logger
}

// AlertRow is one open alert group as `klaxon alerts` lists it.
type AlertRow struct {
	ID         int64      `json:"id"`
	Priority   string     `json:"priority"`
	State      string     `json:"state"` // firing, acknowledged
	Title      string     `json:"title"`
	Since      time.Time  `json:"since"`
	AgeSeconds int64      `json:"age_seconds"`
	AckedBy    string     `json:"acked_by,omitempty"` // Discord user id
	AckedVia   string     `json:"acked_via,omitempty"`
	AckedAt    *time.Time `json:"acked_at,omitempty"`
}

// ActResult is the answer to an acknowledgement or a resolve.
type ActResult struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Action string `json:"action"` // acknowledged, resolved
	State  string `json:"state"`
	By     string `json:"by"`
	Via    string `json:"via"`
}

// ShiftRow is one shift of a schedule.
type ShiftRow struct {
	UserID string    `json:"user_id,omitempty"` // "" when nobody is on call
	Name   string    `json:"name,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// OnCallRow is who is on call for a schedule now and next.
type OnCallRow struct {
	Schedule string    `json:"schedule"`
	Now      *ShiftRow `json:"now,omitempty"`
	Next     *ShiftRow `json:"next,omitempty"`
}

// maxTerminalAlerts bounds `klaxon alerts`.
const maxTerminalAlerts = 200

// roles decides whether user may perform act, as the gate decides for an
// interaction, and returns the roles they act with.
func (t *Terminal) roles(ctx context.Context, user string, act Action) ([]string, error) {
	if user == "" {
		return nil, bot.Errorf(bot.EInvalid, "say who you are: --as <your Discord user id> or KLAXON_ADMIN_USER")
	}
	o := Origin{UserID: user}
	roles, listed := t.Users[user]
	switch {
	case listed && t.Gate != nil && t.Gate.Access != nil:
		o.GuildID, o.Roles = t.Gate.Access.GuildID, roles
	case t.Gate != nil && t.Gate.Lookup != nil:
		o.LookUp = true // asked of Discord, as for a DM
	default:
		return nil, bot.Errorf(bot.EForbidden, "user %s is not listed under admin.users in klaxon.yaml, and without the server Klaxon cannot ask Discord for their roles: add `%s: [<role id>, …]` under admin.users", user, user)
	}
	got, err := t.Gate.Check(ctx, o, act, true)
	if err != nil {
		if bot.ErrorCode(err) == bot.EUnavailable {
			return nil, bot.WrapError(bot.EUnavailable, err, "%s; to act while Discord is down, list user %s with their roles under admin.users in klaxon.yaml",
				plainRefs(bot.ErrorMessage(err)), user)
		}
		return nil, t.refused(user, act, err)
	}
	return got, nil
}

func (t *Terminal) refused(user string, act Action, err error) error {
	msg := plainRefs(bot.ErrorMessage(err))
	t.log().Info("refused", "action", string(act), "user", user, "via", ViaTerminal, "why", msg)
	return bot.WrapError(bot.ErrorCode(err), err, "%s", msg)
}

// List returns the open alert groups, most urgent first.
func (t *Terminal) List(ctx context.Context, user string) ([]AlertRow, error) {
	if _, err := t.roles(ctx, user, ActAlertView); err != nil {
		return nil, err
	}
	gs, err := t.Alerts.OpenGroups(ctx, maxTerminalAlerts)
	if err != nil {
		return nil, fmt.Errorf("list open alert groups: %w", err)
	}
	now := t.Clock.Now()
	rows := make([]AlertRow, 0, len(gs))
	for _, g := range gs {
		r := AlertRow{ID: g.ID, Priority: g.Priority.String(), State: "firing", Title: g.Title(), Since: g.StartedAt()}
		r.AgeSeconds = int64(now.Sub(r.Since) / time.Second)
		if g.Ack != nil {
			at := g.Ack.At
			r.State, r.AckedBy, r.AckedVia, r.AckedAt = "acknowledged", g.Ack.UserID, g.Ack.Via, &at
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Acknowledge acknowledges alert group id as user, via the terminal.
func (t *Terminal) Acknowledge(ctx context.Context, user string, id int64) (*ActResult, error) {
	return t.act(ctx, user, id, ActAlertAck, "acknowledged", t.Alerts.Acknowledge)
}

// Resolve resolves alert group id by hand as user, via the terminal.
func (t *Terminal) Resolve(ctx context.Context, user string, id int64) (*ActResult, error) {
	return t.act(ctx, user, id, ActAlertResolve, "resolved", t.Alerts.Resolve)
}

func (t *Terminal) act(ctx context.Context, user string, id int64, act Action, done string,
	fn func(context.Context, int64, bot.Actor, time.Time) (*bot.Group, error)) (*ActResult, error) {
	roles, err := t.roles(ctx, user, act)
	if err != nil {
		return nil, err
	}
	g, err := t.Alerts.Group(ctx, id)
	if bot.ErrorCode(err) == bot.ENotFound {
		return nil, bot.Errorf(bot.ENotFound, "there is no alert #%d: `klaxon alerts` lists the open ones", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read alert group %d: %w", id, err)
	}
	if err := t.Gate.CheckPriority(act, g.Priority, roles); err != nil {
		return nil, t.refused(user, act, err)
	}
	actor := bot.Actor{UserID: user, Via: ViaTerminal}
	g, err = fn(ctx, id, actor, t.Clock.Now())
	if err != nil {
		if bot.ErrorCode(err) != "" && bot.ErrorCode(err) != bot.EInternal {
			return nil, bot.WrapError(bot.ErrorCode(err), err, "%s", plainRefs(bot.ErrorMessage(err)))
		}
		return nil, fmt.Errorf("%s alert group %d: %w", act, id, err)
	}
	t.log().Info("terminal action", "action", string(act), "group", id, "user", user, "via", ViaTerminal)
	state := "firing"
	switch {
	case g.Status == bot.Resolved:
		state = "resolved"
	case g.Ack != nil:
		state = "acknowledged"
	}
	return &ActResult{ID: g.ID, Title: g.Title(), Action: done, State: state, By: user, Via: ViaTerminal}, nil
}

// OnCall says who is on call now and next, for one schedule ("" for every one).
func (t *Terminal) OnCall(ctx context.Context, user, schedule string) ([]OnCallRow, error) {
	if _, err := t.roles(ctx, user, ActOnCallView); err != nil {
		return nil, err
	}
	schedules := t.Schedules.List()
	list := schedules
	if schedule != "" {
		list = nil
		for _, s := range schedules {
			if strings.EqualFold(s.Name, schedule) {
				list = []*paging.Schedule{s}
			}
		}
		if list == nil {
			names := make([]string, len(schedules))
			for i, s := range schedules {
				names[i] = s.Name
			}
			return nil, bot.Errorf(bot.ENotFound, "there is no schedule %q; the schedules are: %s", schedule, strings.Join(names, ", "))
		}
	}
	if len(list) == 0 {
		return nil, bot.Errorf(bot.ENotFound, "no on-call schedules are configured: add them under schedules in klaxon.yaml")
	}
	now := t.Clock.Now()
	rows := make([]OnCallRow, 0, len(list))
	for _, s := range list {
		ovs, err := t.Overrides.Overrides(ctx, s.Name, now)
		if err != nil {
			return nil, fmt.Errorf("read overrides of schedule %s: %w", s.Name, err)
		}
		row := OnCallRow{Schedule: s.Name}
		for i, sh := range paging.Upcoming(s, ovs, now, 2) {
			r := &ShiftRow{UserID: sh.UserID, Start: sh.Start, End: sh.End}
			if c, ok := t.Directory.Lookup(sh.UserID); ok {
				r.Name = c.Name
			}
			if i == 0 && sh.Contains(now) {
				row.Now = r
			} else if row.Next == nil {
				row.Next = r
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (t *Terminal) log() *slog.Logger { return bot.OrDiscard(t.Log) }

var codeRE = regexp.MustCompile("`([^`]*)`")

// plainRefs turns references in a message into text a terminal shows:
// the core's tokens and Discord markup written by handlers or older
// versions ("<@&123>" → "role 123", "<@456>" → "user 456"), without
// code or bold marks.
func plainRefs(s string) string {
	s = bot.PlainRefs(discord.LegacyRefs(s))
	s = codeRE.ReplaceAllString(s, "$1")
	return strings.ReplaceAll(s, "**", "")
}
