package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/mail"
	"github.com/marola-rp/klaxon/bot/mail/mailtest"
)

var quiet = slog.New(slog.DiscardHandler)

const (
	user = "klaxon"
	pass = "s3cret-pw"
)

func TestSend(t *testing.T) {
	plainMail := mail.Mail{To: []string{"alice@example.org"}, Subject: "Disk full", Text: "db-1 is at 99%.\n"}
	tests := []struct {
		name      string
		server    mailtest.Options
		mailer    func(m *mail.Mailer, s *mailtest.Server)
		rejects   map[string]int // RCPT address → reply code
		mail      mail.Mail
		wantErr   bool
		temporary bool
		code      int
		wantTLS   bool
		wantAuth  string
	}{
		{name: "plain, StartTLS off", mailer: off, mail: plainMail},
		{name: "opportunistic without STARTTLS on offer", mailer: func(m *mail.Mailer, _ *mailtest.Server) { m.StartTLS = mail.StartTLSOpportunistic }, mail: plainMail},
		{name: "opportunistic uses STARTTLS when offered", server: mailtest.Options{StartTLS: true}, mailer: func(m *mail.Mailer, s *mailtest.Server) {
			m.StartTLS, m.TLSConfig = mail.StartTLSOpportunistic, s.ClientTLSConfig()
		}, mail: plainMail, wantTLS: true},
		{name: "STARTTLS required and AUTH PLAIN after it", server: mailtest.Options{StartTLS: true, Username: user, Password: pass, AuthOnlyTLS: true, RequireAuth: true},
			mailer: tlsAuth, mail: plainMail, wantTLS: true, wantAuth: user},
		{name: "AUTH PLAIN without TLS to localhost", server: mailtest.Options{Username: user, Password: pass, RequireAuth: true},
			mailer: func(m *mail.Mailer, _ *mailtest.Server) {
				m.StartTLS, m.Username, m.Password = mail.StartTLSOff, user, pass
			}, mail: plainMail, wantAuth: user},
		{name: "wrong password is permanent 535", server: mailtest.Options{StartTLS: true, Username: user, Password: pass},
			mailer: func(m *mail.Mailer, s *mailtest.Server) { tlsAuth(m, s); m.Password = "nope" }, mail: plainMail, wantErr: true, code: 535},
		{name: "STARTTLS required but not offered is permanent", mailer: func(m *mail.Mailer, _ *mailtest.Server) { m.StartTLS = "" }, mail: plainMail, wantErr: true},
		{name: "untrusted certificate is temporary", server: mailtest.Options{StartTLS: true}, mailer: func(*mail.Mailer, *mailtest.Server) {}, mail: plainMail, wantErr: true, temporary: true},
		{name: "AUTH not offered before TLS is permanent", server: mailtest.Options{Username: user, Password: pass, AuthOnlyTLS: true},
			mailer: func(m *mail.Mailer, _ *mailtest.Server) {
				m.StartTLS, m.Username, m.Password = mail.StartTLSOff, user, pass
			}, mail: plainMail, wantErr: true},
		{name: "5xx RCPT is permanent", rejects: map[string]int{"bob@example.org": 550}, mailer: off,
			mail: mail.Mail{To: []string{"alice@example.org", "bob@example.org"}, Subject: "s", Text: "t"}, wantErr: true, code: 550},
		{name: "4xx RCPT is temporary", rejects: map[string]int{"alice@example.org": 451}, mailer: off, mail: plainMail, wantErr: true, temporary: true, code: 451},
		{name: "server down is temporary", mailer: func(m *mail.Mailer, _ *mailtest.Server) { off(m, nil); m.Port = closedPort(t) }, mail: plainMail, wantErr: true, temporary: true},
		{name: "no recipients is permanent", mailer: off, mail: mail.Mail{Subject: "s", Text: "t"}, wantErr: true},
		{name: "header injection in address is refused", mailer: off, mail: mail.Mail{To: []string{"a@example.org\r\nBcc: x@example.org"}, Subject: "s", Text: "t"}, wantErr: true},
		{name: "bad StartTLS mode is permanent", mailer: func(m *mail.Mailer, _ *mailtest.Server) { m.StartTLS = "yes" }, mail: plainMail, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.New(t, tt.server)
			for a, code := range tt.rejects {
				srv.RejectRcpt(a, code, "x.y.z rejected for the test")
			}
			var logs bytes.Buffer
			m := &mail.Mailer{Host: srv.Host, Port: srv.Port, From: "Klaxon <klaxon@example.org>", Timeout: 5 * time.Second,
				HeloName: "klaxon.test", Log: slog.New(slog.NewTextHandler(&logs, nil))}
			tt.mailer(m, srv)
			err := m.Send(context.Background(), tt.mail)
			if strings.Contains(logs.String(), pass) {
				t.Errorf("log leaks the password:\n%s", logs.String())
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				msgs := srv.Messages()
				if len(msgs) != 1 {
					t.Fatalf("server got %d messages, want 1", len(msgs))
				}
				got := msgs[0]
				if got.TLS != tt.wantTLS || got.AuthUser != tt.wantAuth {
					t.Errorf("TLS=%v AuthUser=%q, want %v %q", got.TLS, got.AuthUser, tt.wantTLS, tt.wantAuth)
				}
				if got.From != "klaxon@example.org" || strings.Join(got.To, ",") != strings.Join(tt.mail.To, ",") {
					t.Errorf("envelope from %q to %q", got.From, got.To)
				}
				if got.Subject != tt.mail.Subject || got.Text != tt.mail.Text {
					t.Errorf("got subject %q text %q", got.Subject, got.Text)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			var se *bot.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *bot.SendError", err, err)
			}
			if se.Temporary != tt.temporary || se.Code != tt.code {
				t.Errorf("Temporary=%v Code=%d, want %v %d (%v)", se.Temporary, se.Code, tt.temporary, tt.code, err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages despite the error", n)
			}
		})
	}
}

func off(m *mail.Mailer, _ *mailtest.Server) { m.StartTLS = mail.StartTLSOff }

func tlsAuth(m *mail.Mailer, s *mailtest.Server) {
	m.StartTLS, m.TLSConfig, m.Username, m.Password = mail.StartTLSRequired, s.ClientTLSConfig(), user, pass
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestMessageFormat checks the message on the wire.
func TestMessageFormat(t *testing.T) {
	long := strings.Repeat("0123456789", 30)
	tests := []struct {
		name    string
		mail    mail.Mail
		headers map[string]string // raw header → substring of its value
		subject string            // decoded, "" means mail.Subject
	}{
		{name: "ascii", mail: mail.Mail{To: []string{"a@example.org"}, Subject: "Disk full", Text: "hello\n"},
			headers: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": "quoted-printable", "MIME-Version": "1.0", "Subject": "Disk full"}},
		{name: "non-ASCII subject is RFC 2047 encoded", mail: mail.Mail{To: []string{"a@example.org"}, Subject: "Störung: Überlast 🚨 in Zürich", Text: "Grüße\n"},
			headers: map[string]string{"Subject": "=?utf-8?q?"}},
		{name: "line breaks in the subject are flattened", mail: mail.Mail{To: []string{"a@example.org"}, Subject: "one\r\nBcc: evil@example.org", Text: "x\n"},
			subject: "one Bcc: evil@example.org"},
		{name: "dots, long lines and bare LFs", mail: mail.Mail{To: []string{"a@example.org"}, Subject: "s", Text: ".\n..two dots\nend.\n" + long + "\n"}},
		{name: "HTML makes multipart/alternative", mail: mail.Mail{To: []string{"a@example.org", "Bob Ö <b@example.org>"}, Subject: "s", Text: "plain\n", HTML: "<p>rich</p>"},
			headers: map[string]string{"Content-Type": "multipart/alternative; boundary=", "To": "=?utf-8?q?Bob_=C3=96?= <b@example.org>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.New(t, mailtest.Options{})
			m := &mail.Mailer{Host: srv.Host, Port: srv.Port, From: "Klaxon Bot <klaxon@example.org>", StartTLS: mail.StartTLSOff, Log: quiet}
			if err := m.Send(context.Background(), tt.mail); err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("got %d messages", len(msgs))
			}
			got := msgs[0]
			raw := string(got.Data)
			if strings.Contains(strings.ReplaceAll(raw, "\r\n", ""), "\n") {
				t.Error("message has bare LF line endings")
			}
			for _, line := range strings.Split(raw, "\r\n") {
				if len(line) > 998 {
					t.Errorf("line of %d octets", len(line))
				}
			}
			for _, h := range []string{"Date", "Message-ID", "From", "To", "Subject", "MIME-Version", "Auto-Submitted"} {
				if got.Header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
			if _, err := got.Header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			if id := got.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
				t.Errorf("Message-ID %q", id)
			}
			for h, want := range tt.headers {
				if v := got.Header.Get(h); !strings.Contains(v, want) {
					t.Errorf("%s: %q lacks %q", h, v, want)
				}
			}
			wantSubject := tt.subject
			if wantSubject == "" {
				wantSubject = tt.mail.Subject
			}
			if got.Subject != wantSubject {
				t.Errorf("Subject decodes to %q, want %q", got.Subject, wantSubject)
			}
			if strings.TrimRight(got.Text, "\n") != strings.TrimRight(tt.mail.Text, "\n") {
				t.Errorf("text decodes to %q, want %q", got.Text, tt.mail.Text)
			}
			if tt.mail.HTML != "" && strings.TrimRight(got.HTML, "\n") != tt.mail.HTML {
				t.Errorf("HTML decodes to %q", got.HTML)
			}
		})
	}
}

// TestSendRefusesPlainAuthToRemote: AUTH PLAIN over plaintext only to localhost.
func TestSendRefusesPlainAuthToRemote(t *testing.T) {
	srv := mailtest.New(t, mailtest.Options{Host: "127.0.0.2", Username: user, Password: pass})
	m := &mail.Mailer{Host: srv.Host, Port: srv.Port, From: "klaxon@example.org", StartTLS: mail.StartTLSOpportunistic, Username: user, Password: pass, Log: quiet}
	err := m.Send(context.Background(), mail.Mail{To: []string{"a@example.org"}, Subject: "s", Text: "t"})
	se := bot.AsSendError(err)
	if err == nil || se.Temporary || !strings.Contains(err.Error(), "unencrypted") {
		t.Fatalf("err = %v (temporary %v), want a permanent refusal", err, se.Temporary)
	}
	if len(srv.Messages()) != 0 {
		t.Error("message sent anyway")
	}
}

// TestSendHonoursContext: a server that never greets does not hang Send.
func TestSendHonoursContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, silent
		}
	}()
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		timeout time.Duration
	}{
		{name: "context deadline", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}},
		{name: "mailer timeout", ctx: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, timeout: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			m := &mail.Mailer{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, From: "k@example.org", StartTLS: mail.StartTLSOff, Timeout: tt.timeout, Log: quiet}
			start := time.Now()
			err := m.Send(ctx, mail.Mail{To: []string{"a@example.org"}, Subject: "s", Text: "t"})
			if time.Since(start) > 3*time.Second {
				t.Errorf("Send took %s", time.Since(start))
			}
			if se := bot.AsSendError(err); err == nil || !se.Temporary || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want a temporary deadline error", err)
			}
		})
	}
}

func TestCoreAdapter(t *testing.T) {
	srv := mailtest.New(t, mailtest.Options{})
	var m bot.Mailer = mail.Core{Mailer: &mail.Mailer{Host: srv.Host, Port: srv.Port, From: "klaxon@example.org", StartTLS: mail.StartTLSOff, Log: quiet}}
	if err := m.Send(context.Background(), bot.Mail{To: []string{"a@example.org"}, Subject: "Paged", Text: "You are paged.\n"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].Subject != "Paged" || got[0].Text != "You are paged.\n" {
		t.Fatalf("got %+v", got)
	}
}

// References from the core (bot.UserRef, TimeRef) arrive as plain text.
func TestSendRendersReferencesAsPlainText(t *testing.T) {
	srv := mailtest.New(t, mailtest.Options{})
	m := &mail.Mailer{Host: srv.Host, Port: srv.Port, From: "klaxon@example.org", StartTLS: mail.StartTLSOff, Timeout: 5 * time.Second}
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	if err := m.Send(context.Background(), mail.Mail{To: []string{"alice@example.org"}, Subject: "for " + bot.UserRef("7"),
		Text: "acknowledged by " + bot.UserRef("7") + " " + bot.TimeRef(at, bot.TimeRelative) + "\n"}); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	if got.Subject != "for user 7" || got.Text != "acknowledged by user 7 2025-03-14 09:30 UTC\n" {
		t.Errorf("subject %q text %q", got.Subject, got.Text)
	}
}
