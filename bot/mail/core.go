package mail

import (
	"context"

	"github.com/marola-rp/klaxon/bot"
)

// Core adapts a Mailer to the core's bot.Mailer.
type Core struct{ Mailer *Mailer }

var _ bot.Mailer = Core{}

// Send sends m as a plain-text mail.
func (c Core) Send(ctx context.Context, m bot.Mail) error {
	return c.Mailer.Send(ctx, Mail{To: m.To, Subject: m.Subject, Text: m.Text})
}
