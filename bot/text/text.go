// Package text holds the few plain-text helpers every part of Klaxon
// shares: cutting text to a number of runes, putting it on one line, and
// writing a duration the way people say it. It knows nothing of Discord:
// mentions, timestamps and colours are rendered by bot/discord.
package text

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Ellipsis marks text that Truncate cut.
const Ellipsis = "…"

// Truncate shortens s to at most n runes, ending in "…" when it cut. It
// never splits a rune, drops the spaces and line breaks left before the
// "…", and gives "" for n <= 0 (never a panic).
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n == 1 {
		return Ellipsis
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return strings.TrimRightFunc(s[:i], func(r rune) bool { return r == ' ' || r == '\n' }) + Ellipsis
}

// OneLine collapses every run of white space in s (line breaks included)
// into one space, trims it, and truncates it to n runes.
func OneLine(s string, n int) string {
	return Truncate(strings.Join(strings.Fields(s), " "), n)
}

// Span writes a duration the way people say it: "45s", "12m", "1h 05m"
// (up to two days), "2d 3h". Negative durations count as zero.
func Span(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}
