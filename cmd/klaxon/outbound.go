package main

import (
	"context"
	"net/http"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/mail"
	"github.com/marola-rp/klaxon/bot/paging"
	"github.com/marola-rp/klaxon/bot/phone"
	"github.com/marola-rp/klaxon/handlers"
)

// provider is the wiring of a notification channel that needs one
// (bot.Channel.Provider): whether its configuration section is present,
// what to say when it is not, and how to start its sender. Every channel in
// bot.Channels with a Provider has an entry (TestEveryChannelIsWired).
type provider struct {
	configured func(*Config) bool
	missing    string
	wire       func(*Main, *http.ServeMux)
}

var providers = map[string]provider{
	"phone": {
		configured: func(c *Config) bool { return c.Phone.AccountSID != "" },
		missing:    "no phone provider is configured: add a phone: section (account_sid, from, public_url)",
		wire:       (*Main).wirePhone,
	},
	"email": {
		configured: func(c *Config) bool { return c.Email.Host != "" },
		missing:    "no e-mail provider is configured: add an email: section (host, from)",
		wire:       (*Main).wireEmail,
	},
}

// wireOutbound adds the channels whose provider is configured, and tells
// Paging which ones run: a page by any other is recorded as skipped.
func (m *Main) wireOutbound(mux *http.ServeMux) error {
	m.Paging.Channels = map[bot.Via]bool{}
	for _, ch := range bot.Channels {
		if ch.Provider == "" || !m.Config.hasProvider(ch.Via) {
			continue
		}
		m.Paging.Channels[ch.Via] = true
		providers[ch.Provider].wire(m, mux)
	}
	return nil
}

func (m *Main) wirePhone(mux *http.ServeMux) {
	cfg, pc := m.Config, m.Config.Phone
	client := &phone.Client{BaseURL: pc.BaseURL, AccountSID: pc.AccountSID, AuthToken: cfg.Env.TwilioAuthToken, From: pc.From,
		HTTP: &http.Client{Timeout: 15 * time.Second}, Log: m.Log.With("component", "phone")}
	m.Engine.Jobs = append(m.Engine.Jobs, &paging.PhoneJob{Paging: m.Paging, Phone: &phone.Pager{Caller: client, PublicURL: pc.PublicURL},
		Throttle: pc.MaxCalls, ThrottleWindow: time.Duration(pc.Window)})
	mux.Handle("POST "+phone.GatherPath, &handlers.PhoneCallback{AuthToken: cfg.Env.TwilioAuthToken, PublicURL: pc.PublicURL,
		Actions: phoneActions{m.Paging, m.Clock}, Log: m.Log.With("component", "phone")})
}

func (m *Main) wireEmail(*http.ServeMux) {
	cfg, ec := m.Config, m.Config.Email
	mailer := &mail.Mailer{Host: ec.Host, Port: ec.Port, Username: ec.Username, Password: cfg.Env.SMTPPassword, From: ec.From,
		StartTLS: ec.StartTLS, Log: m.Log.With("component", "email")}
	m.Engine.Jobs = append(m.Engine.Jobs, &paging.MailJob{Paging: m.Paging, Mailer: mail.Core{Mailer: mailer}})
}

// phoneActions gives the phone callback the engine's clock.
type phoneActions struct {
	p     *paging.Service
	clock bot.Clock
}

func (a phoneActions) PhoneKeypress(ctx context.Context, pageID int64, callSID, digits string) (string, error) {
	return a.p.PhoneKeypress(ctx, pageID, callSID, digits, a.clock.Now())
}
