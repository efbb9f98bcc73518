package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"unicode/utf8"
)

// Result is one benchmark run: what was run, where, and what each receiver did.
type Result struct {
	Date    string  `json:"date"` // UTC, RFC 3339
	Machine Machine `json:"machine"`
	Setup   Setup   `json:"setup"`
	Klaxon  Outcome `json:"klaxon"`
	Native  Outcome `json:"native"` // Alertmanager's discord_configs receiver
	// Complete is false when a wait timed out before Klaxon was done (the
	// native receiver is expected not to finish; Notes say so). Failures
	// say why the run exits non-zero.
	Complete bool     `json:"complete"`
	Failures []string `json:"failures,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	WorkDir  string   `json:"work_dir"` // logs, configs, database
}

// Machine is where the run happened.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemTotal string `json:"mem_total"`
	Kernel   string `json:"kernel,omitempty"`
	Go       string `json:"go"`
	// CPU-seconds the machine spent outside the benchmark's processes
	// (the bench, Klaxon, Alertmanager) from the storm to the end, out of
	// AvailableCPUSeconds: a shared machine skews latencies.
	OtherCPUSeconds     float64 `json:"other_processes_cpu_s"`
	AvailableCPUSeconds float64 `json:"available_cpu_s"`
}

// Setup is what was run.
type Setup struct {
	Klaxon              string  `json:"klaxon"` // the commit built (+dirty), or the binary given
	Groups              int     `json:"storm_groups"`
	P0s                 int     `json:"p0s"`
	Alerts              int     `json:"alerts"` // groups + P0s, one alert each
	StormSeconds        float64 `json:"storm_push_s"`
	Alertmanager        string  `json:"alertmanager"`
	GroupWait           string  `json:"group_wait"`
	GroupInterval       string  `json:"group_interval"`
	DiscordLimits       string  `json:"discord_limits"`
	RepresentTimeoutSec float64 `json:"represent_timeout_s"`
	ResolveTimeoutSec   float64 `json:"resolve_timeout_s"`
}

// Outcome is what one receiver did.
type Outcome struct {
	Receiver string `json:"receiver"`
	// P0 latency from the moment Alertmanager's API accepted the push, and
	// from the moment Alertmanager flushed the group (its webhook reached
	// Klaxon; Alertmanager hands the same flush to both receivers at once).
	P0PushToVisible  Latency `json:"p0_push_to_visible"`
	P0FlushToVisible Latency `json:"p0_am_flush_to_visible"`

	Requests        int     `json:"discord_requests"`
	RequestsPer1000 float64 `json:"discord_requests_per_1000_alerts"`
	Status429       int     `json:"responses_429"`
	Other4xx        int     `json:"responses_other_4xx"`
	Status5xx       int     `json:"responses_5xx"`
	MessagesCreated int     `json:"messages_created"`
	MessageEdits    int     `json:"message_edits"`

	GroupsPushed      int      `json:"groups_pushed"`
	GroupsRepresented int      `json:"groups_represented"`
	GroupsLost        int      `json:"groups_lost"`
	LostExamples      []string `json:"lost_examples,omitempty"`
	// Seconds from the first push until the last group first appeared; null
	// when some group never did.
	AllRepresentedAfter *float64 `json:"all_represented_after_s"`

	ResolvedEdited     int      `json:"resolutions_edited_in_place"`
	ResolvedNewMessage int      `json:"resolutions_new_message"`
	ResolvedNotShown   int      `json:"resolutions_not_reflected"`
	AllResolvedAfter   *float64 `json:"all_resolutions_after_s"` // from the resolve push
	PeakRSSMiB         *float64 `json:"peak_rss_mib"`
	CPUSeconds         *float64 `json:"cpu_s"`
	ProcessNote        string   `json:"process_note,omitempty"`
	WebhookNon2xx      int      `json:"webhook_non_2xx,omitempty"` // Klaxon's answers to Alertmanager
	ViolationsExamples []string `json:"violation_examples,omitempty"`
}

// WriteJSON writes the result, indented.
func (r *Result) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Table renders the result as the one table the README shows.
func (r *Result) Table() string {
	k, n := &r.Klaxon, &r.Native
	rows := [][3]string{
		{"", "Klaxon", "Alertmanager discord_configs"},
		{"P0 push → visible, p50 / p99 / max", latencyCell(k.P0PushToVisible), latencyCell(n.P0PushToVisible)},
		{"P0 AM flush → visible¹, p50 / p99 / max", latencyCell(k.P0FlushToVisible), latencyCell(n.P0FlushToVisible)},
		{"Discord requests", thousands(k.Requests), thousands(n.Requests)},
		{"  per 1,000 alerts", thousands(int(math.Round(k.RequestsPer1000))), thousands(int(math.Round(n.RequestsPer1000)))},
		{"429 responses", thousands(k.Status429), thousands(n.Status429)},
		{"Other 4xx responses", thousands(k.Other4xx), thousands(n.Other4xx)},
		{"Groups pushed / represented / lost", groupsCell(k), groupsCell(n)},
		{"Every group represented after²", allCell(k.AllRepresentedAfter, k.GroupsRepresented, k.GroupsPushed), allCell(n.AllRepresentedAfter, n.GroupsRepresented, n.GroupsPushed)},
		{"Resolutions: edited in place", thousands(k.ResolvedEdited), thousands(n.ResolvedEdited)},
		{"Resolutions: new message", thousands(k.ResolvedNewMessage), thousands(n.ResolvedNewMessage)},
		{"Resolutions: not reflected", thousands(k.ResolvedNotShown), thousands(n.ResolvedNotShown)},
		{"Every resolution reflected after³", secondsOr(k.AllResolvedAfter, "not in the run"), secondsOr(n.AllResolvedAfter, "not in the run")},
		{"Peak RSS (VmHWM)", mibCell(k.PeakRSSMiB, ""), mibCell(n.PeakRSSMiB, n.ProcessNote)},
		{"CPU seconds (user+sys)", cpuCell(k.CPUSeconds, ""), cpuCell(n.CPUSeconds, n.ProcessNote)},
	}
	var w [3]int
	for _, row := range rows {
		for i, c := range row {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	s := r.Setup
	fmt.Fprintf(&b, "Klaxon %s vs %s's discord_configs, in the same run.\n", s.Klaxon, s.Alertmanager)
	fmt.Fprintf(&b, "Storm: %s groups (P2/P3) + %d P0 pushed over %.1fs via %s (group_by alertname, group_wait %s, group_interval %s); Discord limits: %s\n",
		thousands(s.Groups), s.P0s, s.StormSeconds, s.Alertmanager, s.GroupWait, s.GroupInterval, s.DiscordLimits)
	fmt.Fprintf(&b, "Machine: %d CPU (%s), %s RAM, %s; %s; other processes used %.0f of %.0f CPU-seconds during the run\n\n",
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemTotal, r.Machine.Go, r.Date, r.Machine.OtherCPUSeconds, r.Machine.AvailableCPUSeconds)
	for i, row := range rows {
		fmt.Fprintf(&b, "%s  %s  %s\n", pad(row[0], w[0]), pad(row[1], w[1]), row[2])
		if i == 0 {
			fmt.Fprintf(&b, "%s  %s  %s\n", strings.Repeat("─", w[0]), strings.Repeat("─", w[1]), strings.Repeat("─", w[2]))
		}
	}
	b.WriteString("\n¹ AM flush: when Alertmanager's notification for the P0 group reached Klaxon (recorded by the bench's loopback\n" +
		"  proxy in front of Klaxon's webhook); Alertmanager fans the same flush out to both receivers at once.\n" +
		"² from the first push of the storm; a group counts when its alertname shows in its channel (Klaxon: its card,\n" +
		"  or a line of a storm digest or of a page in the digest's thread; native: any message in the webhook's channel).\n" +
		"³ from the push that resolved every alert.\n")
	if !r.Complete {
		b.WriteString("Incomplete: a wait timed out before Klaxon was done; the figures are as of its end.\n")
	}
	for _, note := range r.Notes {
		b.WriteString("Note: " + note + "\n")
	}
	for _, f := range r.Failures {
		b.WriteString("FAIL: " + f + "\n")
	}
	return b.String()
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-utf8.RuneCountInString(s)))
}

// latencyCell is "0.41 s / 0.87 s / 0.87 s", with the P0s never seen
// counted.
func latencyCell(l Latency) string {
	switch {
	case l.Count == 0:
		return "—"
	case l.Seen == 0:
		return fmt.Sprintf("never (none of %d seen)", l.Count)
	}
	f := func(p *float64) string {
		if p == nil {
			return "never"
		}
		return fmt.Sprintf("%.2f s", *p)
	}
	cell := f(l.P50) + " / " + f(l.P99) + " / " + f(l.Max)
	if l.Seen < l.Count {
		cell += fmt.Sprintf(" (%d of %d never seen)", l.Count-l.Seen, l.Count)
	}
	return cell
}

func groupsCell(o *Outcome) string {
	return thousands(o.GroupsPushed) + " / " + thousands(o.GroupsRepresented) + " / " + thousands(o.GroupsLost)
}

func allCell(after *float64, seen, total int) string {
	if after != nil {
		return fmt.Sprintf("%.1f s", *after)
	}
	return fmt.Sprintf("not in the run (%s of %s)", thousands(seen), thousands(total))
}

func secondsOr(p *float64, otherwise string) string {
	if p == nil {
		return otherwise
	}
	return fmt.Sprintf("%.1f s", *p)
}

func mibCell(p *float64, note string) string {
	if p == nil {
		return "—"
	}
	s := fmt.Sprintf("%.1f MiB", *p)
	if note != "" {
		s += " (" + note + ")"
	}
	return s
}

func cpuCell(p *float64, note string) string {
	if p == nil {
		return "—"
	}
	s := fmt.Sprintf("%.1f s", *p)
	if note != "" {
		s += " (" + note + ")"
	}
	return s
}

// thousands formats n with comma separators: 12345 → "12,345".
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
