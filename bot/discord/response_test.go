package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

func TestCardShowsWhoOwnsIt(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		group bot.Group
		want  []string
	}{
		{"unacknowledged", bot.Group{Status: bot.Firing}, []string{"Unacknowledged"}},
		{"overdue", bot.Group{Status: bot.Firing, Overdue: true, Escalated: 2}, []string{"Acknowledgement overdue", "Escalation step 2"}},
		{"acknowledged by phone", bot.Group{Status: bot.Firing, Ack: &bot.Action{Actor: bot.Actor{UserID: "501", Via: "phone"}, At: now}},
			[]string{"Acknowledged by <@501> via phone <t:"}},
		{"silenced", bot.Group{Status: bot.Firing, Silence: &bot.Silence{ID: "s", Until: now.Add(time.Hour), CreatedBy: bot.Actor{UserID: "502"}}},
			[]string{"Silenced until <t:", "by <@502>"}},
		{"resolved by hand", bot.Group{Status: bot.Resolved, ResolvedBy: &bot.Action{Actor: bot.Actor{UserID: "503", Via: "button"}, At: now}},
			[]string{"Resolved by <@503> via button"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.group
			g.Key, g.Priority = "k", bot.P0
			m := RenderCard(&g, bot.Post{Kind: bot.Card}, now, RenderOptions{})
			var text strings.Builder
			for _, f := range m.Embeds[0].Fields {
				text.WriteString(f.Value + "\n")
			}
			for _, w := range tt.want {
				if !strings.Contains(text.String(), w) {
					t.Errorf("card fields %q lack %q", text.String(), w)
				}
			}
			if err := m.Validate(); err != nil {
				t.Errorf("invalid card: %v", err)
			}
		})
	}
}
