package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/heartbeat"
)

// HeartbeatMonitorService lists, pauses and resumes heartbeat monitors
// (implemented by *heartbeat.Service).
type HeartbeatMonitorService interface {
	List(ctx context.Context, now time.Time) ([]heartbeat.Entry, error)
	SetPaused(ctx context.Context, name string, pause bool, by bot.Actor, now time.Time) (*heartbeat.Entry, error)
	Names() []string
}

// HeartbeatCommands answers /heartbeat list, pause and resume.
type HeartbeatCommands struct {
	Service HeartbeatMonitorService // nil: heartbeats are not configured
	Clock   bot.Clock
}

// heartbeatFeature declares /heartbeat (list, pause, resume): the heartbeat
// monitors of scheduled jobs.
func heartbeatFeature() Feature {
	monitor := func(desc string) []*discordgo.ApplicationCommandOption {
		return []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "name",
			Description: desc, Required: true, Autocomplete: true, MaxLength: 63}}
	}
	return Feature{Name: "heartbeat", Commands: []*discordgo.ApplicationCommand{{
		Name:        "heartbeat",
		Description: "Heartbeat monitors of scheduled jobs (backups, restore tests): state, pause, resume",
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "list", Description: "Every monitor: state, last ping, next expected, last run"},
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "pause", Description: "Pause a monitor (maintenance): resolves its alerts, raises none",
				Options: monitor("The monitor to pause")},
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "resume", Description: "Resume a paused monitor: it has one full schedule step to report in",
				Options: monitor("The monitor to resume")},
		},
	}}}
}

// Register adds /heartbeat to x.
func (h *HeartbeatCommands) Register(x *Interactions) {
	x.Declare(heartbeatFeature())
	x.Command("heartbeat list", ActHeartbeatView, true, h.list)
	// Pause and resume are posted in the channel: a state change people should see.
	x.Command("heartbeat pause", ActHeartbeatManage, false, func(ctx context.Context, r *Request) (*Reply, error) { return h.pause(ctx, r, true) })
	x.Command("heartbeat resume", ActHeartbeatManage, false, func(ctx context.Context, r *Request) (*Reply, error) { return h.pause(ctx, r, false) })
	for _, p := range []string{"heartbeat pause", "heartbeat resume"} {
		x.Autocomplete(p, ActHeartbeatView, h.names)
	}
}

func (h *HeartbeatCommands) now() time.Time {
	if h.Clock != nil {
		return h.Clock.Now()
	}
	return time.Now()
}

var errNoHeartbeats = bot.Errorf(bot.EUnavailable, "heartbeat monitors are not configured on this Klaxon (heartbeats: in the configuration)")

var stateIcon = map[heartbeat.Status]string{heartbeat.New: "🆕", heartbeat.Up: "✅", heartbeat.Late: "⏰", heartbeat.Failed: "❌", "paused": "⏸️"}

func (h *HeartbeatCommands) list(ctx context.Context, _ *Request) (*Reply, error) {
	if h.Service == nil {
		return nil, errNoHeartbeats
	}
	entries, err := h.Service.List(ctx, h.now())
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return &Reply{Content: "No heartbeat monitors are configured.", Ephemeral: true}, nil
	}
	var b strings.Builder
	for _, e := range entries {
		st := e.State
		shown := st.Shown()
		parts := []string{fmt.Sprintf("%s **%s** %s", stateIcon[shown], e.Monitor.Name, shown)}
		if st.LastPing.IsZero() {
			parts = append(parts, "no ping yet")
		} else {
			parts = append(parts, fmt.Sprintf("last ping <t:%d:R>", st.LastPing.Unix()))
		}
		if !e.Next.IsZero() {
			parts = append(parts, fmt.Sprintf("next expected <t:%d:f> (+%s grace)", e.Next.Unix(), e.Monitor.Grace))
		}
		if !st.RunningSince.IsZero() {
			parts = append(parts, fmt.Sprintf("running since <t:%d:R>", st.RunningSince.Unix()))
		}
		if st.LastDuration > 0 {
			parts = append(parts, "last run "+st.LastDuration.Round(time.Second).String())
		}
		if st.Status == heartbeat.Failed {
			parts = append(parts, fmt.Sprintf("exit code %d", st.ExitCode))
		}
		if st.Paused && st.PausedBy != "" {
			parts = append(parts, "paused by "+st.PausedBy)
		}
		line := strings.Join(parts, " · ") + fmt.Sprintf("\n  `%s` · %s\n", e.Monitor.Schedule(), e.Monitor.Priority)
		if b.Len()+len(line) > 1900 {
			b.WriteString("…")
			break
		}
		b.WriteString(line)
	}
	return &Reply{Content: b.String(), Ephemeral: true}, nil
}

func (h *HeartbeatCommands) pause(ctx context.Context, r *Request, pause bool) (*Reply, error) {
	if h.Service == nil {
		return nil, errNoHeartbeats
	}
	a := r.Actor()
	e, err := h.Service.SetPaused(ctx, strings.TrimSpace(r.String("name")), pause, a, h.now())
	if err != nil {
		return nil, err
	}
	if pause {
		return &Reply{Content: fmt.Sprintf("⏸️ Heartbeat **%s** paused by %s: no alerts until `/heartbeat resume name:%s`.",
			e.Monitor.Name, bot.UserRef(a.UserID), e.Monitor.Name)}, nil
	}
	return &Reply{Content: fmt.Sprintf("▶️ Heartbeat **%s** resumed by %s: next ping expected by <t:%d:f> (+%s grace).",
		e.Monitor.Name, bot.UserRef(a.UserID), e.Next.Unix(), e.Monitor.Grace)}, nil
}

func (h *HeartbeatCommands) names(_ context.Context, r *Request) (*Reply, error) {
	if h.Service == nil {
		return &Reply{}, nil
	}
	typed := strings.ToLower(r.String("name"))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, n := range h.Service.Names() {
		if strings.Contains(n, typed) && len(out) < 25 {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: n, Value: n})
		}
	}
	return &Reply{Choices: out}, nil
}
