package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/calendar"
	"github.com/marola-rp/klaxon/bot/incident"
	"github.com/marola-rp/klaxon/store"
)

// calendarFromYAML parses the four sections strictly, the way the main
// config will, and builds them with the real line lookup.
func calendarFromYAML(t *testing.T, doc string) (*CalendarSettings, Problems) {
	t.Helper()
	var sections struct {
		Reminders RemindersConfig `yaml:"reminders"`
		SLO       SLOConfig       `yaml:"slo"`
		Reports   ReportsConfig   `yaml:"reports"`
		Backups   BackupConfig    `yaml:"backups"`
	}
	c := &Config{file: "klaxon.yaml"}
	if err := yaml.Unmarshal([]byte(doc), &c.root); err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&sections); err != nil {
		t.Fatal(err)
	}
	return buildCalendar(c.file, c.line, sections.Reminders, sections.SLO, sections.Reports, sections.Backups)
}

func TestCalendarExampleConfig(t *testing.T) {
	doc, err := os.ReadFile("testdata/calendar.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cs, ps := calendarFromYAML(t, string(doc))
	if len(ps) != 0 {
		t.Fatalf("problems in the example: %v", ps)
	}
	var names []string
	for _, r := range cs.Reminders {
		names = append(names, r.Name)
		if r.TimeZone != "Europe/Berlin" {
			t.Errorf("%s: zone %q", r.Name, r.TimeZone)
		}
	}
	if got := strings.Join(names, ","); got != "restore-test,dr-exercise,full-recovery,dr-simulation,sre-review" {
		t.Errorf("reminders %s", got)
	}
	want := map[string][3]float64{"game-servers": {0.999, 100, 0.001}, "web": {0.995, 200, 0.005}, "database": {0.9999, 50, 0.0001}, "cdn": {0.999, 50, 0.001}}
	if len(cs.SLO.Services) != 4 {
		t.Fatalf("services %+v", cs.SLO.Services)
	}
	for _, s := range cs.SLO.Services {
		w := want[s.Service]
		if abs(s.Availability-w[0]) > 1e-12 || s.Latency != time.Duration(w[1])*time.Millisecond || abs(s.ErrorRate-w[2]) > 1e-12 {
			t.Errorf("%s: %+v", s.Service, s)
		}
	}
	if cs.SLO.Weights != [4]float64{1, 0.5, 0.25, 0} || len(cs.SLO.WarnAt) != 3 || cs.SLO.WarnAt[1] != 0.25 || cs.SLO.Location.String() != "Europe/Berlin" {
		t.Errorf("slo policy %+v", cs.SLO)
	}
	if cs.Backups.Retention != 30*24*time.Hour || cs.Backups.Dir != "/data/backups" || cs.Reports.Monthly != "0 9 1 * *" {
		t.Errorf("backups %+v reports %+v", cs.Backups, cs.Reports)
	}
	// The defaults of the core match the example.
	for i, d := range calendar.DefaultSLOs() {
		if s := cs.SLO.Services[i]; s.Service != d.Service || abs(s.Availability-d.Availability) > 1e-12 || s.Latency != d.Latency {
			t.Errorf("default %s differs from the example: %+v vs %+v", d.Service, d, s)
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestCalendarConfigProblems(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
		want      string
		warning   bool
	}{
		{"bad cron", "reminders:\n  list:\n    - name: a\n      cron: \"0 10 * *\"\n      channel: \"1\"\n      message: m\n", 4, "has 4 fields", false},
		{"no channel", "reminders:\n  list:\n    - name: a\n      cron: \"@daily\"\n      message: m\n", 3, "channel is empty", false},
		{"bad zone", "reminders:\n  time_zone: Berlin\n", 2, "Europe/Berlin", false},
		{"duplicate reminder", "reminders:\n  list:\n    - {name: a, cron: \"@daily\", channel: \"1\", message: m}\n    - {name: a, cron: \"@daily\", channel: \"1\", message: m}\n", 4, "used twice", false},
		{"fraction for a percentage", "slo:\n  services:\n    - name: web\n      availability: 0.995\n", 4, "write percent", true},
		{"availability 100", "slo:\n  services:\n    - name: web\n      availability: 100\n", 4, "below 100", false},
		{"bad weight", "slo:\n  weights:\n    P1: 2\n", 3, "between 0", false},
		{"bad priority", "slo:\n  weights:\n    P7: 1\n", 3, "P0, P1, P2, P3", false},
		{"warn threshold", "slo:\n  warn_at_remaining: [150]\n", 2, "between 0", false},
		{"prometheus url", "slo:\n  prometheus_url: prometheus:9090\n", 2, "http(s) URL", false},
		{"bad report cron", "reports:\n  channel: \"1\"\n  monthly: \"0 9 32 * *\"\n", 3, "out of range", false},
		{"backup channel", "backups:\n  dir: /tmp/b\n  ops_channel: \"#ops\"\n", 3, "not a Discord channel id", false},
		{"no ops channel", "backups:\n  dir: /tmp/b\n", 1, "only be logged", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := calendarFromYAML(t, tc.doc)
			if len(ps) != 1 {
				t.Fatalf("problems %v, want one", ps)
			}
			p := ps[0]
			if !strings.Contains(p.Message, tc.want) || p.Line != tc.line || p.Warning != tc.warning {
				t.Errorf("problem %s; want line %d containing %q (warning %v)", p, tc.line, tc.want, tc.warning)
			}
		})
	}
	cs, ps := calendarFromYAML(t, "{}\n")
	if len(ps) != 0 || len(cs.SLO.Services) != 4 || cs.Reports.Weekly != calendar.DefaultWeeklyReport || len(cs.Reminders) != 0 {
		t.Errorf("defaults: %+v %v", cs, ps)
	}
	cs, _ = calendarFromYAML(t, "reports:\n  weekly: \"off\"\n")
	if cs.Reports.Weekly != "" {
		t.Errorf("weekly off: %q", cs.Reports.Weekly)
	}
}

func TestBackupAndRestoreCommands(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	dbPath, dir := filepath.Join(tmp, "k.db"), filepath.Join(tmp, "backups")
	cfg := filepath.Join(tmp, "klaxon.yaml")
	// Only the backups section is read: a key serve would refuse does not matter here.
	os.WriteFile(cfg, []byte("backups:\n  dir: "+dir+"\nnot_a_klaxon_key: 1\n"), 0o600)
	env := map[string]string{"KLAXON_DB": dbPath, "KLAXON_CONFIG": cfg}
	getenv := func(k string) string { return env[k] }
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	g := &bot.Group{Key: "k", Receiver: "r", Status: bot.Firing, Priority: bot.P1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.SaveGroup(g) }); err != nil {
		t.Fatal(err)
	}
	runCmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, getenv, &out, &errb)
		return code, out.String(), errb.String()
	}

	// backup while serving, into the configured directory
	code, out, errs := runCmd("backup")
	if code != 0 || !strings.Contains(out, "backed up "+dbPath+" to "+dir) || !strings.Contains(out, "alert_groups 1") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	list, _ := store.ListBackups(dir)
	if len(list) != 1 {
		t.Fatalf("backups %+v", list)
	}
	// --dir wins over the configuration
	other := filepath.Join(tmp, "other")
	if code, out, errs := runCmd("backup", "--dir", other); code != 0 || !strings.Contains(out, other) {
		t.Fatalf("backup --dir: %d %q %q", code, out, errs)
	}

	// restore refuses while the database is open (serve running)
	code, _, errs = runCmd("restore", "--from", list[0].Path)
	if code != 3 || !strings.Contains(errs, "in use") {
		t.Fatalf("restore while serving: %d %q", code, errs)
	}
	g2 := &bot.Group{Key: "k2", Receiver: "r", Status: bot.Firing, Priority: bot.P1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	db.Update(ctx, func(tx bot.Tx) error { return tx.SaveGroup(g2) })
	db.Close()

	code, out, errs = runCmd("restore", "--from", list[0].Path)
	if code != 0 || !strings.Contains(out, "checksum and row counts match its manifest") || !strings.Contains(out, "previous database is kept as") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	db, err = store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var open []*bot.Group
	db.View(ctx, func(tx bot.Tx) (err error) { open, err = tx.OpenGroups(10); return err })
	if len(open) != 1 || open[0].Key != "k" {
		t.Errorf("restored groups %+v", open)
	}

	if code, _, errs := runCmd("restore"); code != 2 || !strings.Contains(errs, "--from FILE") {
		t.Errorf("restore without --from: %d %q", code, errs)
	}
	env["KLAXON_CONFIG"] = ""
	if code, _, errs := runCmd("backup"); code != 2 || !strings.Contains(errs, "--dir DIR") {
		t.Errorf("backup without a directory: %d %q", code, errs)
	}
}

// TestWiredSLOsCountIncidents: the SLOs serve builds count an incident's
// affected services, not only alerts labelled with a service.
func TestWiredSLOsCountIncidents(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, ps := calendarFromYAML(t, "{}\n")
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	start := now.Add(-48 * time.Hour)
	inc := &bot.Incident{Title: "Web down", Priority: bot.P0, Services: []string{"web"}, Status: bot.IncResolved, Roles: map[string]string{},
		StartedAt: start, DetectedAt: start, AckedAt: start, MitigatedAt: start.Add(50 * time.Minute), ResolvedAt: start.Add(time.Hour), Version: 1}
	if err := db.Incident().Update(ctx, func(tx incident.Tx) error {
		if err := tx.SaveIncident(inc); err != nil {
			return err
		}
		return tx.SaveIncidentMeasure(incident.Measure{IncidentID: inc.ID, Priority: bot.P0, DetectedAt: start, Acked: true,
			Mitigated: true, TimeToMitigate: 50 * time.Minute, Resolved: true, TimeToResolve: time.Hour, ImpactDuration: time.Hour})
	}); err != nil {
		t.Fatal(err)
	}
	f := cs.Wire(db, bot.NewFakeClock(now), nil)
	bs, err := f.SLOs.Budgets(ctx, now, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		want := time.Duration(0)
		if b.SLO.Service == "web" {
			want = 50 * time.Minute
		}
		if b.Spent != want {
			t.Errorf("%s: spent %s, want %s (outages %+v)", b.SLO.Service, b.Spent, want, b.Outages)
		}
	}
	// The monthly report built on them says so too.
	m, err := f.Reports.SLAReport(ctx, now, now)
	if err != nil {
		t.Fatal(err)
	}
	var web, incs string
	for _, fl := range m.Fields {
		switch {
		case strings.Contains(fl.Name, "web"):
			web = fl.Value
		case strings.HasPrefix(fl.Name, "Incidents"):
			incs = fl.Value
		}
	}
	if !strings.Contains(web, "50 min of 3 h 43 min") || !strings.Contains(incs, "1 in all · P0 1") {
		t.Errorf("report: web %q, incidents %q", web, incs)
	}
}
