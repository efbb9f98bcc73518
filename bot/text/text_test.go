package text

import (
	"testing"
	"time"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"empty", "", 5, ""},
		{"fits", "hello", 5, "hello"},
		{"cut", "hello world", 8, "hello w…"},
		{"cut after a space drops it", "hello world", 7, "hello…"},
		{"cut after a line break drops it", "hello\nworld", 7, "hello…"},
		{"n=0", "hello", 0, ""},
		{"n<0", "hello", -3, ""},
		{"n=0 empty", "", 0, ""},
		{"n=1", "hello", 1, "…"},
		{"n=1 fits", "h", 1, "h"},
		{"n=2", "hello", 2, "h…"},
		{"multi-byte fits", "héllo wörld", 11, "héllo wörld"},
		{"multi-byte cut", "héllo wörld", 9, "héllo wö…"},
		{"emoji", "🔴🟠🟡🔵✅", 3, "🔴🟠…"},
		{"cjk", "日本語のテキスト", 4, "日本語…"},
		{"combining marks count as runes", "e\u0301e\u0301e\u0301", 3, "e\u0301…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Truncate(tc.s, tc.n)
			if got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Truncate(%q, %d) = %q: not valid UTF-8", tc.s, tc.n, got)
			}
			if n := utf8.RuneCountInString(got); n > max(tc.n, 0) {
				t.Errorf("Truncate(%q, %d) has %d runes", tc.s, tc.n, n)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"spaces collapse", "  a \n\t b  ", 10, "a b"},
		{"cut", "the answer\nwas not JSON", 12, "the answer…"},
		{"n=0", "a b", 0, ""},
		{"multi-byte", "ça\nva très bien", 8, "ça va t…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OneLine(tc.s, tc.n); got != tc.want {
				t.Errorf("OneLine(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "0s"},
		{0, "0s"},
		{45 * time.Second, "45s"},
		{59*time.Second + 600*time.Millisecond, "1m"},
		{12*time.Minute + 30*time.Second, "12m"},
		{time.Hour + 5*time.Minute, "1h 05m"},
		{time.Hour, "1h 00m"},
		{47*time.Hour + 59*time.Minute, "47h 59m"},
		{51 * time.Hour, "2d 3h"},
		{10 * 24 * time.Hour, "10d 0h"},
	} {
		if got := Span(tc.d); got != tc.want {
			t.Errorf("Span(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
