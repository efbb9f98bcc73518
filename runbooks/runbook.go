// Package runbooks loads incident runbooks: Markdown files with a YAML front
// matter (id, title, priority, scenario, first_response, matchers, aliases)
// whose "Steps" list drives interactive checklists.
//
// A Set is an immutable, validated collection (built-in defaults plus a
// directory of overrides); a Library holds the current Set and swaps it
// atomically on Reload, keeping the old one if the new files have errors.
package runbooks

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Runbook is one parsed runbook. Runbooks in a Set are shared: treat them as
// read-only.
type Runbook struct {
	ID            string // slug, unique within a Set (e.g. "service-down")
	Title         string
	Priority      string // "P0" (most urgent) … "P3"
	Scenario      string
	FirstResponse string // what to do in the first minutes, one line
	Aliases       []string
	// Matchers select the alerts this runbook is for; all must match. A
	// runbook without matchers is never picked by Set.Match.
	Matchers labels.Matchers
	Body     string   // Markdown after the front matter
	Steps    []string // items of the first list under the "Steps" heading
	Source   string   // "embedded:<name>.md" or the file path
}

// priorities lists the valid priorities, most urgent first.
var priorities = []string{"P0", "P1", "P2", "P3"}

// priorityRank returns 0 for P0 … 3 for P3, and -1 for anything else.
func priorityRank(p string) int {
	for i, q := range priorities {
		if p == q {
			return i
		}
	}
	return -1
}

// matches reports whether all of the runbook's matchers match lbls; a
// missing label matches as the empty string, as in Alertmanager.
func (r *Runbook) matches(lbls map[string]string) bool {
	if len(r.Matchers) == 0 {
		return false
	}
	for _, m := range r.Matchers {
		if !m.Matches(lbls[m.Name]) {
			return false
		}
	}
	return true
}

// Summary returns one plain-text line for lists and autocomplete, e.g.
// "[P0] Service Down (service-down): Health check …".
func (r *Runbook) Summary() string {
	s := fmt.Sprintf("[%s] %s (%s)", r.Priority, r.Title, r.ID)
	if r.FirstResponse != "" {
		s += ": " + r.FirstResponse
	}
	return strings.Join(strings.Fields(s), " ")
}

// TruncatedMarker ends a Render output that was cut to fit.
const TruncatedMarker = "… (truncated)"

// Render returns the runbook as Discord-ready Markdown: title, priority,
// scenario, first response and body. If that is longer than max runes it is
// cut on a rune boundary (never inside a multi-byte rune or right before a
// combining mark), an open code fence is closed, and TruncatedMarker is
// appended; the result never exceeds max runes. max <= 0 means no limit.
func (r *Runbook) Render(max int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n", r.Title)
	fmt.Fprintf(&b, "**Priority:** %s · **Runbook:** `%s`\n", r.Priority, r.ID)
	if r.Scenario != "" {
		fmt.Fprintf(&b, "**Scenario:** %s\n", r.Scenario)
	}
	if r.FirstResponse != "" {
		fmt.Fprintf(&b, "**First response:** %s\n", r.FirstResponse)
	}
	if r.Body != "" {
		b.WriteString("\n")
		b.WriteString(r.Body)
	}
	return truncate(strings.TrimRight(b.String(), "\n"), max)
}

// truncate cuts s to at most max runes, marking the cut (see Render).
func truncate(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	marker := []rune(TruncatedMarker)
	if max <= len(marker) {
		return string(runes[:safeCut(runes, max)])
	}
	cut := func(budget int) string {
		n := safeCut(runes, budget)
		return strings.TrimRightFunc(string(runes[:n]), unicode.IsSpace)
	}
	head := cut(max - len(marker) - 1) // 1 for the separating newline
	if strings.Count(head, "```")%2 == 1 {
		// Close the code block so the marker and later messages render.
		head = cut(max - len(marker) - 1 - len("\n```"))
		if strings.Count(head, "```")%2 == 1 {
			head += "\n```"
		}
	}
	return head + "\n" + TruncatedMarker
}

// safeCut returns n, or less so that runes[:n] does not separate a base
// character from following combining marks, variation selectors or ZWJ
// sequences.
func safeCut(runes []rune, n int) int {
	if n >= len(runes) {
		return len(runes)
	}
	for n > 0 && (joinsPrevious(runes[n]) || runes[n-1] == '\u200d') {
		n--
	}
	return n
}

func joinsPrevious(r rune) bool {
	return unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) ||
		r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f') ||
		(r >= 0x1f3fb && r <= 0x1f3ff) // emoji skin-tone modifiers
}
