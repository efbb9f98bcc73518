package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func klaxonConfig(guild string, chans [4]string, oncall, logLevel string) string {
	return fmt.Sprintf(`# Written by klaxon-bench: four channels on the fake Discord, storm digests at their defaults.
discord:
  guild_id: %q
priorities:
  P0: {channel: %q, mention_roles: [%q], ack_within: 15m, reach: [discord]}
  P1: {channel: %q, mention_roles: [%q], ack_within: 30m, reach: [discord]}
  P2: {channel: %q, ack_within: 2h, reach: [discord]}
  P3: {channel: %q, ack_within: 24h, reach: [discord]}
access:
  staff_roles: [%q]
log:
  level: %s
  format: json
`, guild, chans[0], oncall, chans[1], oncall, chans[2], chans[3], oncall, logLevel)
}

func alertmanagerConfig(klaxonURL, discordWebhook string, groupWait, groupInterval time.Duration) string {
	return fmt.Sprintf(`# Written by klaxon-bench: every group to both receivers at once.
global:
  resolve_timeout: 6h
route:
  receiver: both
  group_by: [alertname]
  group_wait: %s
  group_interval: %s
  repeat_interval: 24h
receivers:
  - name: both
    webhook_configs:
      - url: %s/webhook/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: %s
    discord_configs:
      - webhook_url: %s
        send_resolved: true
`, promDuration(groupWait), promDuration(groupInterval), klaxonURL, benchWebhookToken, discordWebhook)
}

// promDuration writes d the way Alertmanager's configuration reads it.
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

func alertmanagerVersion(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w (%s)", bin, err, strings.TrimSpace(string(out)))
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if _, v, ok := strings.Cut(first, "version "); ok {
		v, _, _ = strings.Cut(v, " ")
		return "Alertmanager " + v, nil
	}
	return strings.TrimSpace(first), nil
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb float64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
				m.MemTotal = fmt.Sprintf("%.1f GiB", kb/1024/1024)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}
