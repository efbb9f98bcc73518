package mail

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marola-rp/klaxon/bot"

	"github.com/marola-rp/klaxon/bot/text"
)

// Item is one pending alert mail for one recipient.
type Item struct {
	To       string // recipient address
	Priority string // "P0".."P3"
	Title    string
	Body     string
	At       time.Time // when the alert fired
	Link     string    // e.g. the Discord message or Alertmanager URL
}

// Defaults of Digest.
const (
	DefaultMaxListed = 200 // items listed in one digest; the rest are counted
	maxBodyRunes     = 500 // of one item's body in a digest
)

// Digest folds pending mail items into one mail per recipient, so a storm
// of alerts is one message, not hundreds. The zero value is ready to use.
type Digest struct {
	Location  *time.Location // times in the body; nil means UTC
	MaxListed int            // items listed per mail; <= 0 means DefaultMaxListed
}

// Batch returns one Mail per distinct recipient of items (addresses compared
// case-insensitively), in recipient order. Items without a recipient are
// dropped. A lone item keeps its own title as subject; several make a
// digest "Klaxon: 37 alerts (P1, P3)" listing them most urgent first, oldest
// first within a priority.
func (d Digest) Batch(items []Item, now time.Time) []Mail {
	byTo := map[string][]Item{}
	spelled := map[string]string{} // key → the first spelling of the address
	var keys []string
	for _, it := range items {
		to := strings.TrimSpace(it.To)
		if to == "" {
			continue
		}
		k := strings.ToLower(to)
		if _, ok := byTo[k]; !ok {
			keys = append(keys, k)
			spelled[k] = to
		}
		it.To = spelled[k]
		byTo[k] = append(byTo[k], it)
	}
	sort.Strings(keys)
	out := make([]Mail, 0, len(keys))
	for _, k := range keys {
		out = append(out, d.mail(byTo[k], now))
	}
	return out
}

func (d Digest) mail(items []Item, now time.Time) Mail {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	max := d.MaxListed
	if max <= 0 {
		max = DefaultMaxListed
	}
	items = append([]Item(nil), items...)
	sort.SliceStable(items, func(i, j int) bool {
		pi, pj := rank(items[i].Priority), rank(items[j].Priority)
		if pi != pj {
			return pi < pj
		}
		return items[i].At.Before(items[j].At)
	})
	prios := distinctPriorities(items)

	if len(items) == 1 {
		it := items[0]
		var b strings.Builder
		fmt.Fprintf(&b, "[%s] %s\n\n", label(it.Priority), it.Title)
		writeItem(&b, it, loc, false)
		b.WriteString(footer)
		return Mail{To: []string{it.To}, Subject: fmt.Sprintf("Klaxon [%s]: %s", label(it.Priority), it.Title), Text: b.String()}
	}

	var b strings.Builder
	oldest := items[0].At
	for _, it := range items {
		if it.At.Before(oldest) {
			oldest = it.At
		}
	}
	fmt.Fprintf(&b, "%d alerts since %s (digest of %s).\n", len(items), stamp(oldest, loc), stamp(now, loc))
	counts := map[string]int{}
	for _, it := range items {
		counts[label(it.Priority)]++
	}
	for _, p := range prios {
		fmt.Fprintf(&b, "  %s: %d\n", p, counts[p])
	}
	b.WriteString("\n")
	current := ""
	for i, it := range items {
		if i == max {
			fmt.Fprintf(&b, "… and %d more not listed here.\n", len(items)-max)
			break
		}
		if p := label(it.Priority); p != current {
			current = p
			fmt.Fprintf(&b, "%s%s (%d):\n\n", p, meaning(it.Priority), counts[p])
		}
		writeItem(&b, it, loc, true)
	}
	b.WriteString(footer)
	return Mail{
		To:      []string{items[0].To},
		Subject: fmt.Sprintf("Klaxon: %d alerts (%s)", len(items), strings.Join(prios, ", ")),
		Text:    b.String(),
	}
}

const footer = "\n-- \nSent by Klaxon. Acknowledge alerts in Discord.\n"

func writeItem(b *strings.Builder, it Item, loc *time.Location, indent bool) {
	pad := ""
	if indent {
		pad = "    "
		fmt.Fprintf(b, "* %s  %s\n", stamp(it.At, loc), oneLine(it.Title))
	} else {
		fmt.Fprintf(b, "Fired: %s\n", stamp(it.At, loc))
	}
	if body := strings.TrimSpace(it.Body); body != "" {
		body = text.Truncate(body, maxBodyRunes)
		for _, line := range strings.Split(body, "\n") {
			b.WriteString(pad + strings.TrimRight(line, " \t\r") + "\n")
		}
	}
	if it.Link != "" {
		b.WriteString(pad + it.Link + "\n")
	}
	b.WriteString("\n")
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "(unknown time)"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// rank orders priorities most urgent first; unknown ones last.
func rank(p string) int {
	if pr, err := bot.ParsePriority(p); err == nil {
		return int(pr)
	}
	return int(bot.P3) + 1
}

// label is the canonical "P0".."P3", or "P?" for an unknown priority.
func label(p string) string {
	if pr, err := bot.ParsePriority(p); err == nil {
		return pr.String()
	}
	return "P?"
}

func meaning(p string) string {
	if pr, err := bot.ParsePriority(p); err == nil {
		return " " + pr.Meaning()
	}
	return ""
}

// distinctPriorities returns the labels of items' priorities, most urgent first.
func distinctPriorities(items []Item) []string { // items sorted by rank
	var out []string
	for _, it := range items {
		if l := label(it.Priority); len(out) == 0 || out[len(out)-1] != l {
			out = append(out, l)
		}
	}
	return out
}
