package mail_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot/mail"
	"github.com/marola-rp/klaxon/bot/mail/mailtest"
)

var t0 = time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)

// storm returns n P3 items spread over recipients, a minute apart.
func storm(n int, recipients ...string) []mail.Item {
	items := make([]mail.Item, n)
	for i := range items {
		items[i] = mail.Item{
			To: recipients[i%len(recipients)], Priority: "P3", Title: fmt.Sprintf("Disk almost full on node-%03d", i),
			Body: "Filesystem /var is 91% full.", At: t0.Add(time.Duration(i) * time.Second), Link: fmt.Sprintf("https://discord.com/channels/1/2/%d", i),
		}
	}
	return items
}

func TestDigestBatch(t *testing.T) {
	now := t0.Add(15 * time.Minute)
	tests := []struct {
		name     string
		digest   mail.Digest
		items    []mail.Item
		subjects []string // per mail, in order
		to       []string
		contains [][]string // per mail: substrings of the body
		order    [][]string // per mail: substrings that must appear in this order
	}{
		{name: "nothing", items: nil},
		{name: "one item keeps its title", items: []mail.Item{{To: "a@example.org", Priority: "p1", Title: "API down", Body: "5xx > 50%", At: t0, Link: "https://x.example/1"}},
			subjects: []string{"Klaxon [P1]: API down"}, to: []string{"a@example.org"},
			contains: [][]string{{"API down", "5xx > 50%", "https://x.example/1", "2026-03-01 14:00 UTC"}}},
		{name: "storm of 37 P3 is one mail", items: storm(37, "a@example.org"),
			subjects: []string{"Klaxon: 37 alerts (P3)"}, to: []string{"a@example.org"},
			contains: [][]string{{"37 alerts since 2026-03-01 14:00 UTC", "P3 warning (37):", "node-000", "node-036"}}},
		{name: "mixed priorities, most urgent first, oldest first within", items: []mail.Item{
			{To: "a@example.org", Priority: "P3", Title: "warn-late", At: t0.Add(2 * time.Minute)},
			{To: "a@example.org", Priority: "P1", Title: "major", At: t0.Add(3 * time.Minute)},
			{To: "a@example.org", Priority: "P3", Title: "warn-early", At: t0.Add(time.Minute)},
			{To: "a@example.org", Priority: "bogus", Title: "unknown", At: t0},
		}, subjects: []string{"Klaxon: 4 alerts (P1, P3, P?)"}, to: []string{"a@example.org"},
			order: [][]string{{"P1 major issue (1):", "major", "P3 warning (2):", "warn-early", "warn-late", "P? (1):", "unknown"}}},
		{name: "recipients grouped case-insensitively, sorted", items: append(storm(4, "b@example.org", "A@example.org"), mail.Item{To: "a@EXAMPLE.org", Priority: "P2", Title: "x", At: t0}),
			subjects: []string{"Klaxon: 3 alerts (P2, P3)", "Klaxon: 2 alerts (P3)"}, to: []string{"A@example.org", "b@example.org"}},
		{name: "items without recipient are dropped", items: []mail.Item{{Priority: "P0", Title: "x"}, {To: "  ", Title: "y"}}},
		{name: "long lists are cut", digest: mail.Digest{MaxListed: 5}, items: storm(8, "a@example.org"),
			subjects: []string{"Klaxon: 8 alerts (P3)"}, to: []string{"a@example.org"},
			contains: [][]string{{"node-004", "and 3 more not listed"}}},
		{name: "times in the configured zone", digest: mail.Digest{Location: time.FixedZone("CET", 3600)}, items: storm(2, "a@example.org"),
			subjects: []string{"Klaxon: 2 alerts (P3)"}, to: []string{"a@example.org"}, contains: [][]string{{"2026-03-01 15:00 CET"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mails := tt.digest.Batch(tt.items, now)
			if len(mails) != len(tt.subjects) {
				t.Fatalf("got %d mails, want %d: %+v", len(mails), len(tt.subjects), mails)
			}
			for i, m := range mails {
				if m.Subject != tt.subjects[i] {
					t.Errorf("mail %d subject %q, want %q", i, m.Subject, tt.subjects[i])
				}
				if len(m.To) != 1 || m.To[0] != tt.to[i] {
					t.Errorf("mail %d to %q, want %q", i, m.To, tt.to[i])
				}
				if i < len(tt.contains) {
					for _, s := range tt.contains[i] {
						if !strings.Contains(m.Text, s) {
							t.Errorf("mail %d lacks %q:\n%s", i, s, m.Text)
						}
					}
				}
				if i < len(tt.order) {
					rest := m.Text
					for _, s := range tt.order[i] {
						j := strings.Index(rest, s)
						if j < 0 {
							t.Errorf("mail %d: %q missing or out of order:\n%s", i, s, m.Text)
							break
						}
						rest = rest[j+len(s):]
					}
				}
			}
			if tt.name == "long lists are cut" && strings.Contains(mails[0].Text, "node-005") {
				t.Errorf("listed past MaxListed:\n%s", mails[0].Text)
			}
		})
	}
}

// TestDigestStormOverSMTP: 300 pending items for three people are three
// mails on the wire, not 300.
func TestDigestStormOverSMTP(t *testing.T) {
	srv := mailtest.New(t, mailtest.Options{})
	m := &mail.Mailer{Host: srv.Host, Port: srv.Port, From: "klaxon@example.org", StartTLS: mail.StartTLSOff, Log: quiet}
	recipients := []string{"alice@example.org", "bob@example.org", "carol@example.org"}
	for _, dm := range (mail.Digest{}).Batch(storm(300, recipients...), t0.Add(time.Hour)) {
		if err := m.Send(context.Background(), dm); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != len(recipients) {
		t.Fatalf("server got %d messages, want %d", len(msgs), len(recipients))
	}
	for i, got := range msgs {
		if len(got.To) != 1 || got.To[0] != recipients[i] {
			t.Errorf("message %d to %v", i, got.To)
		}
		if got.Subject != "Klaxon: 100 alerts (P3)" {
			t.Errorf("message %d subject %q", i, got.Subject)
		}
		if n := strings.Count(got.Text, "Disk almost full"); n != 100 {
			t.Errorf("message %d lists %d alerts, want 100", i, n)
		}
	}
}
