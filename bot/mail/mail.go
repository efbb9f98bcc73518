// Package mail sends Klaxon's e-mail: an SMTP client built on net/smtp
// (STARTTLS, AUTH PLAIN) and a digest that folds a storm of pending alert
// mails into one message per recipient.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

// StartTLS modes.
const (
	StartTLSRequired      = "required"      // refuse to send unless the server offers STARTTLS (the default)
	StartTLSOpportunistic = "opportunistic" // use STARTTLS when offered
	StartTLSOff           = "off"           // never use STARTTLS (a local relay)
)

// DefaultPort is the SMTP submission port.
const DefaultPort = 587

// DefaultTimeout bounds a whole Send when Mailer.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Mail is one message to send.
type Mail struct {
	To      []string // addresses, "alice@example.org" or "Alice <alice@example.org>"
	Subject string
	Text    string // plain-text body
	HTML    string // optional HTML alternative
}

// Mailer sends mail through one SMTP server. Safe for concurrent use: each
// Send opens its own connection.
type Mailer struct {
	Host      string
	Port      int    // 0 means DefaultPort
	Username  string // "" means no AUTH
	Password  string // never logged
	From      string // envelope and header sender, "Klaxon <klaxon@example.org>"
	StartTLS  string // StartTLSRequired (""), StartTLSOpportunistic or StartTLSOff
	TLSConfig *tls.Config
	Timeout   time.Duration // bounds a whole Send; 0 means DefaultTimeout
	HeloName  string        // EHLO name; "" means the host name
	Log       *slog.Logger  // nil: slog.Default()
}

// Send delivers m. Every error is a *bot.SendError: SMTP 5xx replies are
// permanent, 4xx replies and network failures temporary; invalid input and
// a server that cannot meet the StartTLS or AUTH requirements are permanent.
func (mr *Mailer) Send(ctx context.Context, m Mail) error {
	const op = "send mail"
	from, err := parseAddress(mr.From)
	if err != nil {
		return &bot.SendError{Op: op, Err: fmt.Errorf("from address: %w", err)}
	}
	if len(m.To) == 0 {
		return &bot.SendError{Op: op, Err: errors.New("no recipients")}
	}
	to := make([]addr, 0, len(m.To))
	for _, s := range m.To {
		a, err := parseAddress(s)
		if err != nil {
			return &bot.SendError{Op: op, Err: fmt.Errorf("recipient %q: %w", s, err)}
		}
		to = append(to, a)
	}
	mode := mr.StartTLS
	switch mode {
	case "":
		mode = StartTLSRequired
	case StartTLSRequired, StartTLSOpportunistic, StartTLSOff:
	default:
		return &bot.SendError{Op: op, Err: fmt.Errorf("StartTLS %q is not one of required, opportunistic, off", mr.StartTLS)}
	}
	if mr.Host == "" {
		return &bot.SendError{Op: op, Err: errors.New("no SMTP host configured")}
	}
	// References (bot.UserRef, TimeRef, …) are read as plain text in a mail.
	m.Subject, m.Text, m.HTML = bot.PlainRefs(m.Subject), bot.PlainRefs(m.Text), bot.PlainRefs(m.HTML)
	msg, err := compose(from, to, m, time.Now())
	if err != nil {
		return &bot.SendError{Op: op, Err: err}
	}

	timeout := mr.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	port := mr.Port
	if port == 0 {
		port = DefaultPort
	}
	hostport := net.JoinHostPort(mr.Host, strconv.Itoa(port))
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", hostport)
	if err != nil {
		return classify(op, "connecting to "+hostport, err)
	}
	// One deadline for the whole conversation, and cancellation unblocks it.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, mr.Host)
	if err != nil {
		conn.Close()
		return classify(op, "reading greeting", ctxErr(ctx, err))
	}
	defer c.Close()

	log := mr.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("smtp", hostport)
	if err := mr.converse(ctx, c, mode, from, to, msg); err != nil {
		log.Warn("mail not sent", "recipients", len(to), "err", err)
		return err
	}
	log.Info("mail sent", "recipients", len(to), "bytes", len(msg))
	return nil
}

func (mr *Mailer) converse(ctx context.Context, c *smtp.Client, mode string, from addr, to []addr, msg []byte) error {
	const op = "send mail"
	helo := mr.HeloName
	if helo == "" {
		helo, _ = os.Hostname()
		if helo == "" || strings.ContainsAny(helo, " \r\n") {
			helo = "localhost"
		}
	}
	if err := c.Hello(helo); err != nil {
		return classify(op, "EHLO", ctxErr(ctx, err))
	}
	secure := false
	if mode != StartTLSOff {
		if ok, _ := c.Extension("STARTTLS"); ok {
			cfg := &tls.Config{}
			if mr.TLSConfig != nil {
				cfg = mr.TLSConfig.Clone()
			}
			if cfg.ServerName == "" {
				cfg.ServerName = mr.Host
			}
			if cfg.MinVersion == 0 {
				cfg.MinVersion = tls.VersionTLS12
			}
			if err := c.StartTLS(cfg); err != nil {
				return classify(op, "STARTTLS", ctxErr(ctx, err))
			}
			secure = true
		} else if mode == StartTLSRequired {
			return &bot.SendError{Op: op, Err: fmt.Errorf("server %s does not offer STARTTLS and StartTLS is %q: "+
				"fix the server, or set StartTLS to %q for a trusted local relay", mr.Host, StartTLSRequired, StartTLSOff)}
		}
	}
	if mr.Username != "" {
		if !secure && !isLocalhost(mr.Host) {
			return &bot.SendError{Op: op, Err: fmt.Errorf("refusing AUTH PLAIN over an unencrypted connection to %s: enable StartTLS", mr.Host)}
		}
		if ok, mechs := c.Extension("AUTH"); !ok || !hasWord(mechs, "PLAIN") {
			return &bot.SendError{Op: op, Err: fmt.Errorf("server %s does not offer AUTH PLAIN (offers %q)", mr.Host, mechs)}
		}
		if err := c.Auth(smtp.PlainAuth("", mr.Username, mr.Password, mr.Host)); err != nil {
			return classify(op, "AUTH PLAIN", ctxErr(ctx, err))
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return classify(op, "MAIL FROM", ctxErr(ctx, err))
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return classify(op, "RCPT TO "+a.Address, ctxErr(ctx, err))
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(op, "DATA", ctxErr(ctx, err))
	}
	if _, err := w.Write(msg); err != nil {
		return classify(op, "writing message", ctxErr(ctx, err))
	}
	if err := w.Close(); err != nil { // the server's verdict on the message
		return classify(op, "end of DATA", ctxErr(ctx, err))
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// classify turns an SMTP conversation error into a *bot.SendError.
func classify(op, step string, err error) *bot.SendError {
	se := &bot.SendError{Op: op, Temporary: true, Err: fmt.Errorf("%s: %w", step, err)}
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		se.Code = tpe.Code
		se.Temporary = tpe.Code < 500
	}
	return se
}

// ctxErr prefers the context's error when the connection broke because the
// context ended.
func ctxErr(ctx context.Context, err error) error {
	var tpe *textproto.Error
	if err == nil || errors.As(err, &tpe) {
		return err
	}
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); cerr == nil && ok && !time.Now().Before(dl) {
		cerr = context.DeadlineExceeded // the connection deadline fired a moment before the context's timer
	}
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

func isLocalhost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}
