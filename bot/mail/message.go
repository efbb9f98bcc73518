package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"

	"github.com/marola-rp/klaxon/bot/text"
)

// MaxSubjectRunes bounds a subject; longer ones are cut with "…".
const MaxSubjectRunes = 200

type addr = *netmail.Address

func parseAddress(s string) (addr, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in address")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// compose renders m as an RFC 5322 message with CRLF line endings: UTF-8
// text in quoted-printable, multipart/alternative when there is HTML.
func compose(from addr, to []addr, m Mail, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("From", from.String())
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	hdr("To", strings.Join(tos, ",\r\n ")) // folded: one address per line
	hdr("Subject", mime.QEncoding.Encode("utf-8", cleanSubject(m.Subject)))
	hdr("Message-ID", messageID(from.Address, now))
	hdr("MIME-Version", "1.0")
	hdr("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies, please
	hdr("X-Auto-Response-Suppress", "All")

	if m.HTML == "" {
		hdr("Content-Type", "text/plain; charset=utf-8")
		hdr("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	hdr("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, p := range []struct{ ctype, body string }{{"text/plain; charset=utf-8", m.Text}, {"text/html; charset=utf-8", m.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("composing mail: %w", err)
		}
		if err := writeQP(pw, p.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("composing mail: %w", err)
	}
	return b.Bytes(), nil
}

func writeQP(w interface{ Write([]byte) (int, error) }, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ToValidUTF8(text, "\uFFFD"))); err != nil {
		return fmt.Errorf("composing mail: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("composing mail: %w", err)
	}
	if !strings.HasSuffix(text, "\n") {
		_, err := w.Write([]byte("\r\n"))
		return err
	}
	return nil
}

// cleanSubject makes s one line of at most MaxSubjectRunes runes.
func cleanSubject(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	return text.Truncate(s, MaxSubjectRunes)
}

func messageID(fromAddr string, now time.Time) string {
	domain := "klaxon.invalid"
	if i := strings.LastIndexByte(fromAddr, '@'); i >= 0 && i < len(fromAddr)-1 {
		domain = fromAddr[i+1:]
	}
	var r [12]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("<%d.%s@%s>", now.Unix(), hex.EncodeToString(r[:]), domain)
}
