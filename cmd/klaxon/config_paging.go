package main

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// EscalationConfig is one priority's escalation policy:
//
//	escalation:
//	  P0:
//	    repeat: 2            # run the steps again this many times while unacknowledged
//	    repeat_after: 5m
//	    steps:
//	      - delay: 0m
//	        targets:
//	          - schedule: primary
//	            via: [mention, dm, phone]
//	          - role: "100000000000000100"
//	      - delay: 5m
//	        targets:
//	          - schedule: secondary
type EscalationConfig struct {
	Repeat      int          `yaml:"repeat"`
	RepeatAfter Duration     `yaml:"repeat_after"`
	Steps       []StepConfig `yaml:"steps"`
}

// StepConfig is one escalation step.
type StepConfig struct {
	Delay   Duration       `yaml:"delay"`
	Targets []TargetConfig `yaml:"targets"`
}

// TargetConfig is one escalation target: exactly one of role, schedule, user.
type TargetConfig struct {
	Role     string    `yaml:"role"`
	Schedule string    `yaml:"schedule"`
	User     string    `yaml:"user"`
	Via      []bot.Via `yaml:"via"`
}

// AlertmanagerConfig says where Alertmanager's API is, for silences.
type AlertmanagerConfig struct {
	URL string `yaml:"url"`
}

// InteractionsConfig enables the HTTP interactions endpoint.
type InteractionsConfig struct {
	PublicKey string `yaml:"public_key"` // the application's public key (hex), from the Developer Portal
}

// PhoneConfig configures page calls through a Twilio-compatible API. The
// auth token comes from KLAXON_TWILIO_AUTH_TOKEN.
type PhoneConfig struct {
	BaseURL    string   `yaml:"base_url"`
	AccountSID string   `yaml:"account_sid"`
	From       string   `yaml:"from"`
	PublicURL  string   `yaml:"public_url"` // how the provider reaches Klaxon, for keypress callbacks
	MaxCalls   int      `yaml:"max_calls"`  // per person per window; default 3
	Window     Duration `yaml:"window"`     // default 15m
}

// EmailConfig configures SMTP. The password comes from KLAXON_SMTP_PASSWORD.
type EmailConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	From     string `yaml:"from"`
	StartTLS string `yaml:"starttls"` // required (default), opportunistic, off
}

var actionNames = []string{"acknowledge", "resolve", "silence", "escalate", "page"}

func (c *Config) validatePaging() Problems {
	var ps Problems
	bad := func(msg string, path ...string) {
		ps = append(ps, Problem{File: c.file, Line: c.line(path...), Message: msg})
	}
	warn := func(msg string, path ...string) {
		ps = append(ps, Problem{File: c.file, Line: c.line(path...), Message: msg, Warning: true})
	}
	scheduleNames := map[string]bool{} // as written: a schedule with an error of its own is still defined (no cascade)
	for _, s := range c.Schedules {
		scheduleNames[s.Name] = true
	}
	for key := range c.Escalation {
		if _, err := bot.ParsePriority(key); err != nil || !strings.HasPrefix(key, "P") {
			bad(fmt.Sprintf("escalation.%s: keys are priorities P0, P1, P2, P3", key), "escalation", key)
		}
	}
	for i, r := range c.routes() {
		pr := bot.Priority(i)
		ec, ok := c.Escalation[pr.String()]
		if !ok {
			c.policies[i] = c.defaultPolicy(pr, r)
			continue
		}
		pol := paging.EscalationPolicy{Repeat: ec.Repeat, RepeatAfter: time.Duration(ec.RepeatAfter)}
		if ec.Repeat < 0 || ec.Repeat > 10 {
			bad(fmt.Sprintf("escalation.%s.repeat must be between 0 and 10", pr), "escalation", pr.String(), "repeat")
		}
		if ec.Steps == nil { // "steps: []" says so on purpose
			warn(fmt.Sprintf("escalation.%s has no steps: %s alerts page nobody beyond the card (write steps: [] if that is intended)", pr, pr), "escalation", pr.String())
		}
		for si, st := range ec.Steps {
			step := paging.EscalationStep{Delay: time.Duration(st.Delay)}
			path := []string{"escalation", pr.String(), "steps", strconv.Itoa(si)}
			if len(st.Targets) == 0 {
				bad(fmt.Sprintf("escalation.%s step %d has no targets", pr, si+1), path...)
			}
			for ti, t := range st.Targets {
				tpath := append(slices.Clone(path), "targets", strconv.Itoa(ti))
				n := 0
				for _, v := range []string{t.Role, t.Schedule, t.User} {
					if v != "" {
						n++
					}
				}
				if n != 1 {
					bad(fmt.Sprintf("escalation.%s step %d target %d: set exactly one of role, schedule, user", pr, si+1, ti+1), tpath...)
					continue
				}
				if t.Role != "" && !snowflake.MatchString(t.Role) {
					bad(fmt.Sprintf("escalation.%s: role %q is not a Discord id", pr, t.Role), tpath...)
				}
				if t.User != "" && !snowflake.MatchString(t.User) {
					bad(fmt.Sprintf("escalation.%s: user %q is not a Discord id", pr, t.User), tpath...)
				}
				if t.Schedule != "" && !scheduleNames[t.Schedule] {
					bad(fmt.Sprintf("escalation.%s: schedule %q is not defined under schedules", pr, t.Schedule), tpath...)
				}
				for _, v := range t.Via {
					switch {
					case v.Valid():
						if !c.hasProvider(v) {
							bad(fmt.Sprintf("escalation.%s step %d target %d pages via %s, but %s, or remove %s here",
								pr, si+1, ti+1, v, c.noProvider(v), v), append(slices.Clone(tpath), "via")...)
						}
					default:
						bad(fmt.Sprintf("escalation.%s: via %q is not one of %s", pr, v, viaList()), tpath...)
					}
				}
				if t.User != "" {
					c.warnContact(&ps, t.User, t.Via, tpath)
				}
				if t.Schedule != "" {
					for _, s := range c.schedules {
						if s.Name == t.Schedule {
							for _, u := range s.Participants {
								c.warnContact(&ps, u, t.Via, tpath)
							}
						}
					}
				}
				step.Targets = append(step.Targets, paging.Target{Role: t.Role, Schedule: t.Schedule, User: t.User, Via: t.Via})
			}
			pol.Steps = append(pol.Steps, step)
		}
		c.policies[i] = pol
	}
	for action, byPrio := range c.Permissions {
		if !slices.Contains(actionNames, action) {
			bad(fmt.Sprintf("permissions.%s: actions are %s", action, strings.Join(actionNames, ", ")), "permissions", action)
		}
		for p, roles := range byPrio {
			if _, err := bot.ParsePriority(p); err != nil {
				bad(fmt.Sprintf("permissions.%s.%s: keys are priorities P0-P3", action, p), "permissions", action, p)
			}
			for _, r := range roles {
				if !snowflake.MatchString(r) {
					bad(fmt.Sprintf("permissions.%s.%s: role %q is not a Discord id", action, p, r), "permissions", action, p)
				}
			}
		}
	}
	if u := c.Alertmanager.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
			bad(fmt.Sprintf("alertmanager.url %q: want http(s)://host:port", u), "alertmanager", "url")
		}
	}
	if k := c.Interactions.PublicKey; k != "" {
		if b, err := hex.DecodeString(k); err != nil || len(b) != 32 {
			bad("interactions.public_key must be the 64 hex characters shown as PUBLIC KEY in the Developer Portal", "interactions", "public_key")
		}
	}
	if c.Phone.AccountSID != "" {
		if c.Phone.From == "" || !bot.ValidPhone(c.Phone.From) {
			bad("phone.from must be the E.164 number calls come from, e.g. +15551234567", "phone", "from")
		}
		if pu, err := url.Parse(c.Phone.PublicURL); c.Phone.PublicURL == "" || err != nil || pu.Host == "" {
			bad("phone.public_url must be the https URL where the phone provider reaches Klaxon (for keypresses)", "phone", "public_url")
		}
	}
	if c.Email.Host != "" && c.Email.From == "" {
		bad("email.from is required when email.host is set", "email", "from")
	}
	switch c.Email.StartTLS {
	case "", "required", "opportunistic", "off":
	default:
		bad(fmt.Sprintf("email.starttls %q is not one of required, opportunistic, off", c.Email.StartTLS), "email", "starttls")
	}
	return ps
}

// hasProvider reports whether pages by via can go out: Discord channels
// always, the others when their provider's section is configured (see
// providers). The outbound wiring starts the jobs on exactly these.
func (c *Config) hasProvider(via bot.Via) bool {
	ch, _ := bot.ChannelOf(via)
	return ch.Provider == "" || providers[ch.Provider].configured(c)
}

// noProvider says what is missing for via, and how to add it.
func (c *Config) noProvider(via bot.Via) string {
	ch, _ := bot.ChannelOf(via)
	return providers[ch.Provider].missing
}

// reachList names the values of a priority's reach: "discord, phone, email".
func reachList() string {
	names := []string{"discord"}
	for _, ch := range bot.Channels {
		if ch.Provider != "" {
			names = append(names, string(ch.Via))
		}
	}
	return strings.Join(names, ", ")
}

// viaList names the vias for error messages: "mention, dm, phone, email".
func viaList() string {
	var names []string
	for _, ch := range bot.Channels {
		names = append(names, string(ch.Via))
	}
	return strings.Join(names, ", ")
}

// warnContact warns when an escalation target cannot be reached the way it asks.
func (c *Config) warnContact(ps *Problems, user string, via []bot.Via, path []string) {
	u, known := c.directory.Lookup(user)
	for _, v := range via {
		switch {
		case (v == bot.ViaPhone || v == bot.ViaEmail) && !known:
			*ps = append(*ps, Problem{File: c.file, Line: c.line(path...), Warning: true,
				Message: fmt.Sprintf("user %s is an escalation target but is not in the users directory: %s pages to them will be skipped", user, v)})
		case v == bot.ViaPhone && u.Phone == "" && known:
			*ps = append(*ps, Problem{File: c.file, Line: c.line(path...), Warning: true,
				Message: fmt.Sprintf("user %s has no phone in the users directory: phone pages to them will be skipped", user)})
		case v == bot.ViaEmail && u.Email == "" && known:
			*ps = append(*ps, Problem{File: c.file, Line: c.line(path...), Warning: true,
				Message: fmt.Sprintf("user %s has no email in the users directory: e-mail pages to them will be skipped", user)})
		}
	}
}

// defaultPolicy follows the priorities table when no escalation is configured:
// page the first schedule's on-call at once, by the priority's reach (Discord:
// a mention, and for P0/P1 a DM too; phone; e-mail); repeat twice, a third of
// the acknowledgement deadline apart.
func (c *Config) defaultPolicy(p bot.Priority, r *RouteConfig) paging.EscalationPolicy {
	if r == nil {
		return paging.EscalationPolicy{}
	}
	ack := time.Duration(r.AckWithin)
	if ack <= 0 {
		ack = p.DefaultAckDeadline()
	}
	reach := r.Reach
	if len(reach) == 0 {
		reach = []string{"discord"}
	}
	var via []bot.Via
	for _, how := range reach {
		switch how {
		case "discord":
			via = append(via, bot.ViaMention)
			if p <= bot.P1 {
				via = append(via, bot.ViaDM) // minor issues stay in the channel
			}
		default: // validated: a channel with a provider
			via = append(via, bot.Via(how))
		}
	}
	var targets []paging.Target
	if len(c.schedules) > 0 {
		targets = append(targets, paging.Target{Schedule: c.schedules[0].Name, Via: via})
	}
	if len(targets) == 0 {
		return paging.EscalationPolicy{}
	}
	return paging.EscalationPolicy{Steps: []paging.EscalationStep{{Targets: targets}}, Repeat: 2, RepeatAfter: ack / 3}
}

// permissions turns the permissions section into the handlers' form.
func (c *Config) permissions() map[string][4][]string {
	out := map[string][4][]string{}
	for action, byPrio := range c.Permissions {
		var v [4][]string
		for p, roles := range byPrio {
			if pr, err := bot.ParsePriority(p); err == nil {
				v[pr] = roles
			}
		}
		out[action] = v
	}
	return out
}
