package handlers_test

import (
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/handlers"
	"github.com/marola-rp/klaxon/runbooks"
)

func TestRunbookButton(t *testing.T) {
	lib, errs := runbooks.NewLibrary("")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	button := handlers.RunbookButton(lib)
	for _, tc := range []struct {
		name string
		g    *bot.Group
		kind bot.PostKind
		want string // custom_id, "" for no button
	}{
		{"runbook label", &bot.Group{CommonLabels: map[string]string{"alertname": "X", "runbook": "game-bug"}}, bot.Card, "rb:game-bug"},
		{"runbook annotation by alias", &bot.Group{CommonAnnotations: map[string]string{"runbook": "outage"}}, bot.Card, "rb:service-down"},
		{"runbook_url naming a runbook", &bot.Group{CommonAnnotations: map[string]string{"runbook_url": "https://wiki.example/runbooks/ddos-attack.md#steps"}}, bot.Card, "rb:ddos-attack"},
		{"matcher", &bot.Group{CommonLabels: map[string]string{"alertname": "InstanceDown"}}, bot.Card, "rb:service-down"},
		{"unknown reference falls back to matchers", &bot.Group{CommonLabels: map[string]string{"alertname": "TargetDown", "runbook": "nope"}}, bot.Card, "rb:service-down"},
		{"nothing", &bot.Group{CommonLabels: map[string]string{"alertname": "DiskFull"}}, bot.Card, ""},
		{"not a card", &bot.Group{CommonLabels: map[string]string{"runbook": "game-bug"}}, bot.Digest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bs := button(bot.View{Post: bot.Post{Kind: tc.kind}, Groups: []*bot.Group{tc.g}})
			got := ""
			if len(bs) == 1 {
				got = bs[0].CustomID
			}
			if got != tc.want || len(bs) > 1 {
				t.Errorf("buttons %+v, want %q", bs, tc.want)
			}
		})
	}
}

func TestParseDue(t *testing.T) {
	now := mustTime("2026-03-14T20:00:00Z")
	for _, tc := range []struct{ in, want string }{
		{"2026-04-01", "2026-04-01T23:59:00Z"},
		{"3d", "2026-03-17T20:00:00Z"},
		{"2w", "2026-03-28T20:00:00Z"},
		{"36h", "2026-03-16T08:00:00Z"},
		{"tomorrow", "2026-03-15T23:59:00Z"},
		{"soon", ""},
		{"0d", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := handlers.ParseDue(tc.in, now)
			if tc.want == "" {
				if bot.ErrorCode(err) != bot.EInvalid {
					t.Errorf("got %v, %v; want EInvalid", got, err)
				}
				return
			}
			if err != nil || !got.Equal(mustTime(tc.want)) {
				t.Errorf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
