package main

import (
	"fmt"
	"strings"
)

// sampleConfig is the base configuration `klaxon demo` and the end-to-end
// tests both start from: a guild, one channel per priority (P0…P3), the
// on-call role mentioned for P0 and P1, and a 200 ms engine interval. reach
// is P0's reach (the demo rings phones: [discord, phone]; tests use
// [discord]). Callers append the sections they need (schedules, users,
// escalation, access, …) after it.
func sampleConfig(guild string, channels [4]string, oncallRole string, reach ...string) string {
	if len(reach) == 0 {
		reach = []string{"discord"}
	}
	return fmt.Sprintf(`discord:
  guild_id: %q
priorities:
  P0: {channel: %q, mention_roles: [%q], ack_within: 15m, reach: [%s]}
  P1: {channel: %q, mention_roles: [%q], ack_within: 30m}
  P2: {channel: %q, ack_within: 2h}
  P3: {channel: %q, ack_within: 24h}
engine:
  interval: 200ms
`, guild, channels[0], oncallRole, strings.Join(reach, ", "), channels[1], oncallRole, channels[2], channels[3])
}
