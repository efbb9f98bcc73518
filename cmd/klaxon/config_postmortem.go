package main

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/discord"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/llm"
	"github.com/marola-rp/klaxon/bot/postmortem"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/runbooks"
)

// RunbooksConfig is the runbooks section of klaxon.yaml:
//
//	runbooks:
//	  dir: /etc/klaxon/runbooks        # *.md files; a file with a built-in id replaces it
//	  admin_roles: ["456789012345678901"] # may /runbook reload (default: Manage Server)
type RunbooksConfig struct {
	Dir        string   `yaml:"dir"`
	AdminRoles []string `yaml:"admin_roles"`
}

// PostmortemsConfig is the postmortems section:
//
//	postmortems:
//	  forum_channel: "567890123456789012"  # knowledge-base forum; "" publishes in Klaxon only
//	  due_days: 5                          # published within N days of resolution...
//	  priorities_requiring: [P0, P1]       # ...for these priorities ([] turns the policy off)
//	  remind_every: 24h                    # overdue reminders (due policy and action items)
type PostmortemsConfig struct {
	ForumChannel        string   `yaml:"forum_channel"`
	DueDays             *int     `yaml:"due_days"`
	PrioritiesRequiring []string `yaml:"priorities_requiring"`
	RemindEvery         Duration `yaml:"remind_every"`
}

// LLMConfig is the optional llm section; the key comes from KLAXON_LLM_API_KEY:
//
//	llm:
//	  base_url: http://localhost:11434/v1   # OpenAI, Azure, Ollama, vLLM, ...
//	  model: llama3.1
//	  timeout: 60s
//	  sensitive_labels: [instance, ip, "*_token", user_email]  # never sent
//	  send_user_names: false   # true: Discord user names and mentions are sent as they are
//	  allow_insecure: false    # true: allow http:// to another machine
//
// Whatever the settings, secret-shaped values and e-mail addresses are
// blanked before anything is sent (postmortem.ScrubSecrets).
type LLMConfig struct {
	BaseURL         string   `yaml:"base_url"`
	Model           string   `yaml:"model"`
	Timeout         Duration `yaml:"timeout"`
	SensitiveLabels []string `yaml:"sensitive_labels"`
	APIType         string   `yaml:"api_type"`    // "" (OpenAI-compatible) or azure
	APIVersion      string   `yaml:"api_version"` // azure only
	MaxTokens       int      `yaml:"max_tokens"`
	// SendUserNames sends Discord user names, mentions and ids; by default
	// each person is "responder N" in what the LLM sees.
	SendUserNames bool `yaml:"send_user_names"`
	// AllowInsecure allows a plain-http base_url that is not on this machine.
	AllowInsecure bool `yaml:"allow_insecure"`

	APIKey string `yaml:"-"` // from KLAXON_LLM_API_KEY
}

// postmortemSetup is what the runbooks, postmortems and llm sections build.
type postmortemSetup struct {
	Library    *runbooks.Library
	AdminRoles []string
	Policy     postmortem.Policy
	Drafter    postmortem.Drafter // nil without an llm section
	LLMModel   string
}

// defaultSensitive are never sent to an LLM, whatever the configuration adds.
var defaultSensitive = []string{"*password*", "*secret*", "*token*", "*api_key*", "*apikey*", "authorization"}

// buildPostmortems validates the three sections and loads the runbooks.
// Runbook problems come back as warnings with the runbook's own file:line:
// the broken files are skipped and Klaxon still starts with the rest.
func buildPostmortems(file string, line func(path ...string) int, rc RunbooksConfig, pc PostmortemsConfig, lc LLMConfig) (*postmortemSetup, Problems) {
	var ps Problems
	bad := func(msg string, at ...string) {
		ps = append(ps, Problem{File: file, Line: line(at...), Message: msg})
	}
	s := &postmortemSetup{}

	lib, errs := runbooks.NewLibrary(strings.TrimSpace(rc.Dir))
	s.Library = lib
	for _, err := range errs {
		var le *runbooks.LoadError
		if errors.As(err, &le) {
			ps = append(ps, Problem{File: le.File, Line: le.Line, Message: "runbook skipped: " + le.Err.Error(), Warning: true})
		} else {
			ps = append(ps, Problem{File: file, Line: line("runbooks", "dir"), Message: "runbooks: " + err.Error(), Warning: true})
		}
	}
	for _, id := range rc.AdminRoles {
		if !snowflake.MatchString(id) {
			bad(fmt.Sprintf("runbooks.admin_roles: %q is not a Discord role id (digits only; no <@&…> or names)", id), "runbooks", "admin_roles")
		}
	}
	s.AdminRoles = rc.AdminRoles

	pol := postmortem.Policy{ForumChannel: strings.TrimSpace(pc.ForumChannel), RemindEvery: time.Duration(pc.RemindEvery)}
	if pol.ForumChannel != "" && !snowflake.MatchString(pol.ForumChannel) {
		bad(fmt.Sprintf("postmortems.forum_channel %q is not a Discord channel id (digits only: Developer Mode → right-click the forum → Copy Channel ID)", pol.ForumChannel), "postmortems", "forum_channel")
	}
	if pc.DueDays != nil {
		if *pc.DueDays < 1 || *pc.DueDays > 90 {
			bad("postmortems.due_days must be between 1 and 90", "postmortems", "due_days")
		}
		pol.DueAfter = time.Duration(*pc.DueDays) * 24 * time.Hour
	}
	if pc.PrioritiesRequiring != nil {
		pol.Require = []bot.Priority{}
		for _, p := range pc.PrioritiesRequiring {
			pr, err := bot.ParsePriority(p)
			if err != nil {
				bad("postmortems.priorities_requiring: "+bot.ErrorMessage(err), "postmortems", "priorities_requiring")
				continue
			}
			pol.Require = append(pol.Require, pr)
		}
	}
	if d := time.Duration(pc.RemindEvery); d != 0 && (d < time.Hour || d > 14*24*time.Hour) {
		bad("postmortems.remind_every must be between 1h and 14 days", "postmortems", "remind_every")
	}
	slo := calendar.DefaultSLOPolicy()
	pol.SLOs, pol.Weights = slo.Services, slo.Weights

	pol.Sensitive = append(append([]string{}, defaultSensitive...), lc.SensitiveLabels...)
	for _, p := range lc.SensitiveLabels {
		if _, err := path.Match(strings.ToLower(p), ""); err != nil || strings.TrimSpace(p) == "" {
			bad(fmt.Sprintf("llm.sensitive_labels: %q is not a label name or pattern (e.g. instance, \"*_ip\")", p), "llm", "sensitive_labels")
		}
	}
	pol.DraftTimeout = time.Duration(lc.Timeout)
	pol.SendUserNames = lc.SendUserNames
	if lc.BaseURL != "" || lc.Model != "" {
		u, err := url.Parse(lc.BaseURL)
		switch {
		case lc.BaseURL == "":
			bad("llm.base_url is empty: set the OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://localhost:11434/v1 (Ollama)", "llm")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad(fmt.Sprintf("llm.base_url %q is not an http(s) URL", lc.BaseURL), "llm", "base_url")
		default:
			if err := llm.CheckEndpoint(lc.BaseURL, lc.AllowInsecure); err != nil {
				bad(strings.TrimPrefix(err.Error(), "llm: "), "llm", "base_url")
			}
		}
		if lc.Model == "" {
			bad("llm.model is empty: name the model, e.g. gpt-4o-mini or llama3.1", "llm")
		}
		if d := time.Duration(lc.Timeout); d != 0 && (d < time.Second || d > 10*time.Minute) {
			bad("llm.timeout must be between 1s and 10m", "llm", "timeout")
		}
		if lc.MaxTokens < 0 {
			bad("llm.max_tokens must be positive", "llm", "max_tokens")
		}
		if len(ps.Errors()) == 0 {
			c, err := llm.New(llm.Config{BaseURL: lc.BaseURL, Model: lc.Model, APIKey: lc.APIKey, APIType: lc.APIType, APIVersion: lc.APIVersion,
				Timeout: time.Duration(lc.Timeout), MaxTokens: lc.MaxTokens, AllowInsecure: lc.AllowInsecure})
			if err != nil {
				bad(err.Error(), "llm")
			} else {
				s.Drafter, s.LLMModel = c, lc.Model
			}
		}
	}
	s.Policy = pol
	return s, ps
}

// withRunbookButton adds the runbook button to alert cards' actions.
func withRunbookButton(actions func(bot.View) []discordgo.Button, s *postmortemSetup) func(bot.View) []discordgo.Button {
	if s == nil || s.Library == nil {
		return actions
	}
	rb := handlers.RunbookButton(s.Library)
	return func(v bot.View) []discordgo.Button {
		var out []discordgo.Button
		if actions != nil {
			out = actions(v)
		}
		return append(out, rb(v)...)
	}
}

// wirePostmortems registers /runbook and /postmortem and adds the
// post-mortem jobs (reminders, due policy, forum publication) to the
// engine. Call it after m.Interactions and m.Engine exist, before the
// engine runs. The returned handler's Reload is what SIGHUP calls.
func (m *Main) wirePostmortems(s *postmortemSetup) *handlers.Runbooks {
	if s == nil {
		return nil
	}
	rb := &handlers.Runbooks{Library: s.Library, Checklists: &incident.Checklists{Store: m.DB.Incident()}, Clock: m.Clock, AdminRoles: s.AdminRoles, Log: m.Log.With("component", "runbooks")}
	rb.Register(m.Interactions)
	core := &postmortem.Service{Store: m.DB.Postmortem(), Policy: s.Policy, Drafter: s.Drafter, Log: m.Log.With("component", "postmortems"), Trigger: m.Engine.Trigger,
		Legacy: discord.LegacyRefs}
	(&handlers.Postmortems{Core: core, Clock: m.Clock, Log: m.Log.With("component", "postmortems")}).Register(m.Interactions)
	publish := &postmortem.PublishJob{Postmortems: core, Forum: &discord.Forum{C: m.Discord}, Log: m.Log.With("component", "postmortems")}
	m.Engine.Jobs = append(m.Engine.Jobs, core, publish)
	m.Engine.Senders[bot.ItemForum] = publish
	if m.Engine.Hooks == nil {
		m.Engine.Hooks = map[string]bot.SentHook{}
	}
	m.Engine.Hooks[postmortem.KindReminder] = core.ReminderSent
	if s.Drafter != nil {
		m.Log.Info("post-mortem drafting with an LLM", "model", s.LLMModel, "send_user_names", s.Policy.SendUserNames)
	}
	return rb
}
