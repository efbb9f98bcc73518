package bot

import "context"

// The ports of the notification channels' providers (see Channels): the
// paging feature calls people and sends e-mail through them; bot/phone and
// bot/mail implement them.

// Phone places page calls. The adapter builds the keypress callback from PageID.
type Phone interface {
	Call(ctx context.Context, c PhoneCall) (callID string, err error)
}

// PhoneCall is one page call.
type PhoneCall struct {
	To      string // E.164
	Message string // what the call reads out
	PageID  int64
}

// Mailer sends e-mail.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Mail is one e-mail.
type Mail struct {
	To      []string
	Subject string
	Text    string
}
