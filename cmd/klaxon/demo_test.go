//go:build demo

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoTranscript runs `klaxon demo` as a user would and reads its
// transcript: the P0 card is posted with the on-call mention, the phone
// rings, the incident thread opens with its summary pinned, the
// acknowledgement stops the escalation, a storm folds into a digest, the
// same card is edited to resolved, the sections are numbered 1, 2, 3… in
// order, and the command exits 0.
func TestDemoTranscript(t *testing.T) {
	builtin := []string{
		"📞 phone call to", "DM @anna sends a DM", "Every request passed the fake Discord's checks",
		"opens a thread “INC-1 · P0 · GameServerDown", "📌 pins msg #",
		"@anna clicks [Acknowledge] on the GameServerDown card",
		"Klaxon answers (only @anna sees it): 👀 You acknowledged **GameServerDown**: paging has stopped.",
		"escalation of #1: next step 2 due in", "escalation of #1 stopped: nobody else is paged for it",
	}
	cases := []struct {
		name     string
		args     []string
		want     []string // further lines the transcript must contain
		sections []string // the numbered section titles, in order (prefixes)
		not      []string // lines it must not contain
	}{
		{name: "built-in", args: []string{"demo", "--no-color"},
			want: append(builtin, "🌩️ Alert storm — ", "opens a thread “Alert storm"),
			sections: []string{"Alertmanager sends three alerts", "The P0 alert opens an incident", "@anna acknowledges the P0 card",
				"An alert storm: 30 low-priority alerts", "The alerts resolve"}},
		{name: "no storm", args: []string{"demo", "--no-color", "--storm", "0"},
			want: builtin,
			sections: []string{"Alertmanager sends three alerts", "The P0 alert opens an incident", "@anna acknowledges the P0 card",
				"The alerts resolve"},
			not: []string{"Alert storm"}},
		{name: "operator config", args: []string{"demo", "--no-color", "--storm", "0", "--config", "../../deploy/klaxon.example.yaml"},
			want:     []string{"channel  100000000000000010 (priorities.P0.channel) → #alerts-p0", "Alertmanager silences are off in the demo"},
			sections: []string{"Alertmanager sends three alerts", "The P0 alert opens an incident", "The alerts resolve"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, tc.args, func(k string) string { return "" }, &out, &errb)
			transcript := out.String()
			if code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, errb.String(), transcript)
			}
			if strings.Contains(transcript, "\x1b[") {
				t.Errorf("--no-color transcript has ANSI escapes")
			}
			// The P0 card: posted in #alerts-p0, mentioning the on-call role, and that role notified.
			card := regexp.MustCompile(`(?m)^ +\+[0-9.]+s #alerts-p0 posts (msg #\d+)\n +@(on-call|role-0100) P0 critical outage: GameServerDown\n(?: +┃.*\n)*(?: +buttons: .*\n) +🔔 notifies @(on-call|role-0100)\n`)
			m := card.FindStringSubmatch(transcript)
			if m == nil {
				t.Fatalf("no P0 card posted with the on-call mention in the transcript:\n%s", transcript)
			}
			if !strings.Contains(m[0], "[P0 red] 🔴 P0 · GameServerDown") || !strings.Contains(m[0], "[Runbook ↗ https://wiki.marola.example/runbooks/service-down]") {
				t.Errorf("P0 card lacks its title or runbook button:\n%s", m[0])
			}
			// The same message edited to resolved.
			edit := regexp.MustCompile(`(?m)^ +\+[0-9.]+s #alerts-p0 edits ` + regexp.QuoteMeta(m[1]) + `\n +┃ \[resolved green\] ✅ P0 · GameServerDown`)
			if !edit.MatchString(transcript) {
				t.Errorf("the P0 card (%s) is not edited to resolved in the transcript:\n%s", m[1], transcript)
			}
			if i, j := strings.Index(transcript, m[0]), edit.FindStringIndex(transcript); j != nil && j[0] < i {
				t.Errorf("the resolve edit comes before the card")
			}
			for _, w := range tc.want {
				if !strings.Contains(transcript, w) {
					t.Errorf("transcript lacks %q:\n%s", w, transcript)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(transcript, w) {
					t.Errorf("transcript has %q:\n%s", w, transcript)
				}
			}
			var got []string
			for _, m := range regexp.MustCompile(`(?m)^== (\d+)\. (.*)$`).FindAllStringSubmatch(transcript, -1) {
				got = append(got, m[1]+". "+m[2])
			}
			if len(got) != len(tc.sections) {
				t.Fatalf("sections %q, want %d: %q", got, len(tc.sections), tc.sections)
			}
			for i, want := range tc.sections {
				if !strings.HasPrefix(got[i], fmt.Sprintf("%d. %s", i+1, want)) {
					t.Errorf("section %d is %q, want %d. %s…", i+1, got[i], i+1, want)
				}
			}
			if strings.Contains(transcript, "would reject") {
				t.Errorf("the fake Discord found violations:\n%s", transcript)
			}
		})
	}
}

// An interrupted demo (Ctrl-C) stops cleanly with 130; --db keeps the
// database, and the demo refuses to reuse one.
func TestDemoInterruptedAndKeepsDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{marker: "Alertmanager → Klaxon", cancel: cancel}
	code := run(ctx, []string{"demo", "--no-color", "--db", db}, func(string) string { return "" }, w, &bytes.Buffer{})
	if code != 130 {
		t.Fatalf("interrupted demo exit %d, want 130\n%s", code, w.b.String())
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("--db file: %v", err)
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"demo", "--no-color", "--db", db}, func(string) string { return "" }, &out, &out); code != 1 ||
		!strings.Contains(out.String(), "already exists") {
		t.Fatalf("demo on an existing database: exit %d, want 1 and why\n%s", code, out.String())
	}
}

// cancelAfter cancels once marker has been written: Ctrl-C in mid-demo.
type cancelAfter struct {
	b      bytes.Buffer
	marker string
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.b.Write(p)
	if strings.Contains(c.b.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}
