package discord

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marola-rp/klaxon/bot"
)

func benchGroup(alerts int) *bot.Group {
	start := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	g := &bot.Group{ID: 1, Key: `{}:{alertname="HighCPU"}`, Status: bot.Firing, Priority: bot.P2, PrioritySource: "severity=warning",
		CommonLabels:      map[string]string{"alertname": "HighCPU", "service": "web", "severity": "warning"},
		CommonAnnotations: map[string]string{"summary": "CPU above 80 % on web nodes", "runbook_url": "https://wiki.example/rb"},
		ExternalURL:       "http://alertmanager:9093", CreatedAt: start}
	for i := 0; i < alerts; i++ {
		g.Alerts = append(g.Alerts, bot.Alert{Fingerprint: fmt.Sprintf("%016x", i), Status: bot.Firing, StartsAt: start,
			Labels:      map[string]string{"alertname": "HighCPU", "instance": fmt.Sprintf("web-%d:9100", i)},
			Annotations: map[string]string{"description": strings.Repeat("load is high; ", 10)}, GeneratorURL: "http://prometheus:9090/graph"})
	}
	return g
}

// BenchmarkRenderCard measures rendering one alert group's card (with every
// Discord limit enforced) for small and huge groups.
func BenchmarkRenderCard(b *testing.B) {
	for _, n := range []int{1, 10, 500} {
		g := benchGroup(n)
		now := g.CreatedAt.Add(10 * time.Minute)
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				RenderCard(g, bot.Post{Kind: bot.Card, Mentions: bot.Mentions{Roles: []string{"100"}}}, now, RenderOptions{})
			}
		})
	}
}

// BenchmarkRenderDigest measures a storm digest listing 15 of 1,000 groups.
func BenchmarkRenderDigest(b *testing.B) {
	var gs []*bot.Group
	for i := 0; i < 15; i++ {
		g := benchGroup(1)
		g.ID = int64(i + 1)
		gs = append(gs, g)
	}
	v := bot.View{Post: bot.Post{Kind: bot.Digest}, Groups: gs, Now: gs[0].CreatedAt.Add(time.Minute),
		Stats: bot.DigestStats{Groups: 1000, Firing: [4]int{0, 0, 400, 600}, Pages: 33}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		RenderDigest(v, RenderOptions{})
	}
}
