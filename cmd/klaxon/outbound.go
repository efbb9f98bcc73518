package main

import (
	"context"
	"net/http"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/mail"
	"github.com/marola-rp/klaxon/bot/phone"
	"github.com/marola-rp/klaxon/handlers"
)

// wireOutbound adds the phone and e-mail channels when they are configured,
// and tells Paging which ones run: a page by any other is recorded as skipped.
func (m *Main) wireOutbound(mux *http.ServeMux) error {
	cfg := m.Config
	m.Paging.Channels = map[string]bool{}
	if pc := cfg.Phone; cfg.hasProvider(bot.ViaPhone) {
		m.Paging.Channels[bot.ViaPhone] = true
		client := &phone.Client{BaseURL: pc.BaseURL, AccountSID: pc.AccountSID, AuthToken: cfg.Env.TwilioAuthToken, From: pc.From,
			HTTP: &http.Client{Timeout: 15 * time.Second}, Log: m.Log.With("component", "phone")}
		m.Engine.Jobs = append(m.Engine.Jobs, &bot.PhoneJob{Paging: m.Paging, Phone: &phone.Pager{Caller: client, PublicURL: pc.PublicURL},
			Throttle: pc.MaxCalls, ThrottleWindow: time.Duration(pc.Window)})
		mux.Handle("POST "+phone.GatherPath, &handlers.PhoneCallback{AuthToken: cfg.Env.TwilioAuthToken, PublicURL: pc.PublicURL,
			Actions: phoneActions{m.Paging, m.Clock}, Log: m.Log.With("component", "phone")})
	}
	if ec := cfg.Email; cfg.hasProvider(bot.ViaEmail) {
		m.Paging.Channels[bot.ViaEmail] = true
		mailer := &mail.Mailer{Host: ec.Host, Port: ec.Port, Username: ec.Username, Password: cfg.Env.SMTPPassword, From: ec.From,
			StartTLS: ec.StartTLS, Log: m.Log.With("component", "email")}
		m.Engine.Jobs = append(m.Engine.Jobs, &bot.MailJob{Paging: m.Paging, Mailer: mail.Core{Mailer: mailer}})
	}
	return nil
}

// phoneActions gives the phone callback the engine's clock.
type phoneActions struct {
	p     *bot.Paging
	clock bot.Clock
}

func (a phoneActions) PhoneKeypress(ctx context.Context, pageID int64, callSID, digits string) (string, error) {
	return a.p.PhoneKeypress(ctx, pageID, callSID, digits, a.clock.Now())
}
