package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/handlers"
)

// AdminConfig is the admin: section: who may use the terminal commands
// (`klaxon alerts`, `ack`, `resolve`, `oncall`) and with which roles.
//
// Klaxon stores no member's roles, and when Discord is down it cannot ask:
// users lists, per Discord user id, the role ids the gate checks for that
// user at the terminal, against the same access: and permissions: sections
// as Discord. A user not listed is looked up in Discord while it answers.
type AdminConfig struct {
	Users map[string][]string `yaml:"users"`
}

func (c *Config) validateAdmin() Problems {
	var ps Problems
	users := make([]string, 0, len(c.Admin.Users))
	for u := range c.Admin.Users {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		if !snowflake.MatchString(u) {
			ps = append(ps, Problem{File: c.file, Line: c.line("admin", "users", u),
				Message: fmt.Sprintf("admin.users: %q is not a Discord user id (Developer Mode → right-click the user → Copy User ID)", u)})
			continue
		}
		if len(c.Admin.Users[u]) == 0 {
			ps = append(ps, Problem{File: c.file, Line: c.line("admin", "users", u), Warning: true,
				Message: fmt.Sprintf("admin.users.%s has no roles: the terminal refuses this user everything but what needs no role", u)})
		}
		for _, r := range c.Admin.Users[u] {
			if !snowflake.MatchString(r) {
				ps = append(ps, Problem{File: c.file, Line: c.line("admin", "users", u),
					Message: fmt.Sprintf("admin.users.%s: %q is not a Discord role id (Server Settings → Roles → right-click → Copy Role ID)", u, r)})
			}
		}
	}
	return ps
}

// terminal is the terminal commands' service on a database: the server's,
// or the one `klaxon ack` opens when the server is stopped.
func (c *Config) terminal(p *paging.Service, overrides handlers.OverrideService, gate *handlers.Gate, clock bot.Clock, log *slog.Logger) *handlers.Terminal {
	return &handlers.Terminal{Alerts: p, Overrides: overrides, Schedules: paging.NewLiveSchedules(c.schedules), Directory: c.directory, Gate: gate,
		Users: c.Admin.Users, Clock: clock, Log: log}
}

// routeAdmin serves the admin API under /admin/ on the HTTP listener, with
// the interactions' gate (roles from admin.users, else asked of Discord).
func (m *Main) routeAdmin(mux *http.ServeMux, gate *handlers.Gate) {
	log := m.Log.With("component", "admin")
	t := m.Config.terminal(m.Paging, &paging.Overrides{Store: m.DB.Paging()}, gate, m.Clock, log)
	t.Schedules = m.schedules // the ones a reload replaces
	mux.Handle("/admin/", &handlers.AdminAPI{Terminal: t, Token: m.Config.Env.AdminToken, Log: log, Now: m.Clock.Now})
	if m.Config.Env.AdminToken == "" {
		log.Info("admin API off: set KLAXON_ADMIN_TOKEN for the terminal commands (klaxon alerts, ack, resolve, oncall)")
	}
}
