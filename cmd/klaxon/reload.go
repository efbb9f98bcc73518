package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/heartbeat"
	"github.com/marola-rp/klaxon/bot/paging"
)

// reloadResult is what a reload did: applied, or refused with the problems
// (the running configuration kept); NeedsRestart names the changed
// settings that take effect only after a restart.
type reloadResult struct {
	Applied      bool
	Problems     Problems // errors when refused; warnings when applied
	NeedsRestart []string
	// ResolvedHeartbeats names the removed heartbeat monitors (and
	// "watchdog") whose open alerts the reload resolved.
	ResolvedHeartbeats []string
}

// Summary is the result in a few lines, for the log and /admin reload.
func (r reloadResult) Summary() string {
	var b strings.Builder
	if !r.Applied {
		b.WriteString("configuration reload refused; the running configuration is kept:")
		for _, p := range r.Problems.Errors() {
			b.WriteString("\n- " + p.String())
		}
		return b.String()
	}
	b.WriteString("configuration reloaded: priorities (channels, mentions, ack deadlines, reach), severities, storm digests, escalation policies, users, access, incidents, reminders, on-call schedules, heartbeat monitors, the watchdog and runbooks applied")
	if len(r.ResolvedHeartbeats) > 0 {
		b.WriteString("\nremoved from the configuration, their open alerts resolved: " + strings.Join(r.ResolvedHeartbeats, ", "))
	}
	if len(r.NeedsRestart) > 0 {
		b.WriteString("\nchanged, needs a restart to take effect: " + strings.Join(r.NeedsRestart, ", "))
	}
	return b.String()
}

// reload re-reads the configuration file with the same validation as
// check-config and applies what can change while running, atomically for
// the core's policy (bot.Policy.Replace). A file with errors changes
// nothing. why says what asked ("SIGHUP", "/admin reload").
func (m *Main) reload(why string) reloadResult {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	getenv := m.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	running := m.applied
	if running == nil {
		running = m.Config
	}
	cfg, problems := LoadConfig(running.file, getenv)
	if cfg != nil {
		if p, ok := cfg.placeholderProblem(false); ok {
			problems, cfg = append(problems, p), nil
		}
	}
	if cfg == nil || len(problems.Errors()) > 0 {
		res := reloadResult{Problems: problems}
		m.Metrics.ConfigReload("refused", m.Clock.Now())
		m.Log.Error("configuration reload refused; the running configuration is kept", "why", why,
			"file", running.file, "problems", problems.Errors().Error())
		return res
	}
	res := reloadResult{Applied: true, Problems: problems, NeedsRestart: needsRestart(running, cfg)}
	m.Engine.Policy.Replace(cfg.Policy())
	m.Paging.Reconfigure(paging.People{Policies: cfg.policies, Directory: cfg.directory})
	m.gate.SetAccess(cfg.accessWithPermissions())
	m.schedules.Replace(cfg.schedules)
	if m.reminders != nil {
		var set calendar.Settings
		if cs := cfg.calendar; cs != nil {
			set = calendar.Settings{Configured: cs.Reminders, TimeZone: cs.ReminderZone, Grace: cs.ReminderGrace}
		}
		m.reminders.Reconfigure(set)
	} else if yamlOf(running.Reminders) != yamlOf(cfg.Reminders) {
		// No calendar job runs: reminders take a restart to start.
		res.NeedsRestart = append(res.NeedsRestart, "reminders")
	}
	if m.incidents != nil {
		pol, _ := cfg.buildIncidents() // validated by LoadConfig
		m.incidents.Reconfigure(pol)
	}
	if m.Heartbeats != nil {
		hs := cfg.heartbeats
		if hs == nil {
			hs = &heartbeatSetup{}
		}
		resolved, err := m.Heartbeats.Reconfigure(context.Background(), heartbeat.Watched{Monitors: hs.Monitors, Watchdog: hs.Watchdog}, m.Clock.Now())
		if err != nil {
			m.Log.Error("configuration reload", "err", err)
		}
		res.ResolvedHeartbeats = resolved
	}
	if m.Runbooks != nil {
		_ = m.Runbooks.Reload() // logs what it kept and why
	}
	m.applied = cfg
	m.Metrics.ConfigReload("applied", m.Clock.Now())
	for _, p := range problems {
		m.Log.Warn("configuration", "problem", p.String())
	}
	m.Log.Info("configuration reloaded", "why", why, "file", cfg.file, "needs_restart", res.NeedsRestart, "resolved_heartbeats", res.ResolvedHeartbeats)
	return res
}

// ReloadConfig implements handlers.ConfigReloader: /admin reload.
func (m *Main) ReloadConfig(ctx context.Context, by string) (bool, string) {
	res := m.reload("/admin reload by " + by)
	m.requeueDead(ctx, "reload")
	return res.Applied, res.Summary()
}

// needsRestart names the settings that differ between the running and the
// new configuration and that a reload does not apply.
func needsRestart(old, cur *Config) []string {
	var out []string
	for _, s := range []struct {
		name     string
		old, cur any
	}{
		{"KLAXON_HTTP_ADDR", old.Env.HTTPAddr, cur.Env.HTTPAddr},
		{"KLAXON_DB", old.Env.DB, cur.Env.DB},
		{"KLAXON_DISCORD_TOKEN", old.Env.DiscordToken, cur.Env.DiscordToken},
		{"KLAXON_DISCORD_API_URL", old.Env.DiscordAPIURL, cur.Env.DiscordAPIURL},
		{"KLAXON_DISCORD_GATEWAY", old.Env.DiscordGateway, cur.Env.DiscordGateway},
		{"KLAXON_WEBHOOK_TOKEN", old.Env.WebhookToken, cur.Env.WebhookToken},
		{"KLAXON_TWILIO_AUTH_TOKEN", old.Env.TwilioAuthToken, cur.Env.TwilioAuthToken},
		{"KLAXON_SMTP_PASSWORD", old.Env.SMTPPassword, cur.Env.SMTPPassword},
		{"KLAXON_HEARTBEAT_TOKEN", old.Env.HeartbeatToken, cur.Env.HeartbeatToken},
		{"KLAXON_ADMIN_TOKEN", old.Env.AdminToken, cur.Env.AdminToken},
		{"discord", old.Discord, cur.Discord},
		{"webhook", old.Webhook, cur.Webhook},
		{"engine", old.Engine, cur.Engine},
		{"log", old.Log, cur.Log},
		{"alertmanager", old.Alertmanager, cur.Alertmanager},
		{"interactions", old.Interactions, cur.Interactions},
		{"phone", old.Phone, cur.Phone},
		{"email", old.Email, cur.Email},
		{"slo", old.SLO, cur.SLO},
		{"reports", old.Reports, cur.Reports},
		{"backups", old.Backups, cur.Backups},
		{"postmortems", old.Postmortems, cur.Postmortems},
		{"llm", old.LLM, cur.LLM},
		{"admin", old.Admin, cur.Admin},
	} {
		if yamlOf(s.old) != yamlOf(s.cur) {
			out = append(out, s.name)
		}
	}
	return out
}

// yamlOf is v as YAML, for comparing sections (a yaml.Node compares by
// content, not by the lines it was on).
func yamlOf(v any) string {
	if n, ok := v.(*yaml.Node); ok && n.Kind == 0 {
		return ""
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
