package calendar_test

import (
	"path/filepath"
	"testing"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/bot/internal/bottest"
	"github.com/marola-rp/klaxon/store"
)

// incidents is what the report and SLO tests need of the incident feature:
// incidents declared and moved by command in a real database. (No alerts
// are ingested, so neither paging nor the incident job takes part.)
type incidents struct {
	db  *store.DB
	inc *incident.Service
}

func newIncidents(t *testing.T) *incidents {
	t.Helper()
	db := bottest.OpenDB(t, filepath.Join(t.TempDir(), "k.db"))
	t.Cleanup(func() { db.Close() })
	pol := &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	for i := range pol.Routes {
		pol.Routes[i] = bot.Route{ChannelID: "10" + string(rune('0'+i)), AckWithin: bot.Priority(i).DefaultAckDeadline()}
	}
	ip := incident.DefaultPolicy()
	ip.ChannelID, ip.StatusChannelID = "300", "301"
	return &incidents{db: db, inc: &incident.Service{Store: db.Incident(), Policy: ip, Alerts: pol}}
}
