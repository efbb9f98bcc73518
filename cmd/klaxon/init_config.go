package main

import (
	"fmt"
	"strings"
	"unicode"
)

// renderInitConfig writes the configuration klaxon init produces: the shape
// of deploy/klaxon.example.yaml (every section, in its order, with its
// comments), with the server's ids and their names as comments. Sections
// that need choices init does not ask about (schedules, users, the
// calendar, phone, e-mail, LLM) are there, commented, with what to fill in.
func renderInitConfig(a initAnswers) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	ch := func(i int) string {
		return fmt.Sprintf("%q%s# #%s", a.channels[i].ID, pad(a.channels[i].ID), commentText(a.channels[i].Name))
	}
	ping := "[]"
	pingNote := "# nobody is pinged by role (klaxon init: no mention role chosen)"
	target := a.staff
	if a.mention != nil {
		ping = fmt.Sprintf("[%q]", a.mention.ID)
		pingNote = "# @" + commentText(a.mention.Name)
		target = a.mention
	}
	w(`# Klaxon configuration for the Discord server %s, written by klaxon init on %s.
# Strict: an unknown key is an error that names its line. Check it, also against Discord, with:
#   klaxon check-config --online --config <this file>
# The full example with every option explained: deploy/klaxon.example.yaml.
#
# Secrets and deployment settings are NOT here; they come from the environment
# (each also as NAME_FILE=/path): KLAXON_DISCORD_TOKEN, KLAXON_WEBHOOK_TOKEN,
# KLAXON_DB, KLAXON_HTTP_ADDR (see klaxon --help).

discord:
  guild_id: %q        # %s

priorities:
  # An alert's `+"`priority`"+` label (P0–P3) wins. Otherwise its `+"`severity`"+` label
  # is looked up here. Otherwise `+"`default`"+` applies, and the card says so.
  default: P3
  severity:
    critical: P0
    page: P0
    error: P1
    major: P1
    high: P1
    warning: P2
    minor: P2
    medium: P2
    info: P3
    low: P3

  # Per priority: where cards go, who is pinged when a card is created (only
  # these ids are ever put in allowed_mentions), the acknowledgement deadline,
  # and how it reaches people (phone and email need their sections below).
  P0:                                    # critical outage
    channel: %s
    mention_roles: %s %s
    ack_within: 15m
    reach: [discord]
  P1:                                    # major issue
    channel: %s
    mention_roles: %s %s
    ack_within: 30m
    reach: [discord]
  P2:                                    # minor issue
    channel: %s
    ack_within: 2h
    reach: [discord]
  P3:                                    # warning
    channel: %s
    ack_within: 24h
    reach: [discord]

# Alert storms: P2/P3 cards fold into one digest card when more than
# threshold wait in one channel; P0 and P1 always get their own card.
storm:
  threshold: 10        # waiting cards per channel before folding; 0 turns digests off
  window: 10m          # a digest keeps taking new groups while it took one this recently
  listed: 15           # groups listed on the digest card itself
  page_size: 30        # groups per overflow message in the thread

webhook:
  max_bytes: 8388608   # larger Alertmanager bodies get 413: lower max_alerts instead

engine:
  interval: 2s         # the engine also runs at once whenever a webhook arrives

log:
  level: info          # debug, info, warn, error

# ---------------------------------------------------------------- paging --
# On-call rotations (Discord user ids: Developer Mode → right-click a member →
# Copy User ID). Without schedules, escalation pages the role below.
# schedules:
#   - name: primary
#     time_zone: Europe/Berlin
#     rotation: weekly              # daily, weekly, or custom (with shift: 12h)
#     handoff: "09:00"
#     handoff_day: monday
#     start: "2026-01-05"
#     participants: ["<user id>", "<user id>"]
#     announce_channel: %q   # #%s: handoffs are announced here

# How to reach people outside Discord (phone numbers in E.164).
# users:
#   "<user id>": {name: Anna, phone: "+491510000001", email: anna@example.org, time_zone: Europe/Berlin}

# What happens while an alert stays unacknowledged.
escalation:
  P0:
    repeat: 2                     # run the steps again twice
    repeat_after: 5m
    steps:
      - delay: 0m
        targets:
          - role: %q   # @%s
  P1:
    steps:
      - delay: 0m
        targets:
          - role: %q   # @%s
  P2:
    steps: []                     # the card is enough
  P3:
    steps: []

# Who may do what (role ids; see README → Security model). Every command,
# button, menu and modal is refused to members without one of staff_roles —
# except /problem (old name /report), which is for players.
access:
  staff_roles: [%q]   # @%s

# On top of access: per action and priority (role ids). Unlisted: no extra check.
# permissions:
#   resolve:
#     P0: ["<role id>"]    # e.g. only leads resolve a P0 by hand

# The terminal (klaxon alerts, ack, resolve, oncall) for when Discord is down:
# each user's roles (KLAXON_ADMIN_TOKEN turns the admin API on).
# admin:
#   users:
#     "<your user id>": ["<role id>"]   # e.g. the staff role above

# Silences from Discord are created in Alertmanager through its API v2.
# alertmanager:
#   url: http://alertmanager:9093

# Optional: the HTTP interactions endpoint (POST /interactions) beside the gateway.
# interactions:
#   public_key: <the application's PUBLIC KEY from the Developer Portal>

# Phone calls through a Twilio-compatible API (auth token: KLAXON_TWILIO_AUTH_TOKEN).
# phone:
#   account_sid: AC...
#   from: "+4930000000"
#   public_url: https://klaxon.example.org   # where the provider posts keypresses
#   max_calls: 3                             # per person per window
#   window: 15m

# E-mail (password: KLAXON_SMTP_PASSWORD).
# email:
#   host: smtp.example.org
#   port: 587
#   username: klaxon
#   from: "Klaxon <klaxon@example.org>"
#   starttls: required

# Optional: post-mortem narratives drafted by an LLM (key: KLAXON_LLM_API_KEY).
# llm:
#   base_url: https://api.openai.com/v1
#   model: gpt-4o-mini

# ------------------------------------------------------------ calendar --
# Reminders, SLOs, reports and backups: see deploy/klaxon.example.yaml.
# reminders:
#   time_zone: Europe/Berlin
#   list:
#     - name: restore-test
#       cron: "0 10 * * TUE"
#       channel: %q   # #%s
#       message: "Weekly restore test."
# slo:
#   services: [{name: game-servers, availability: 99.9}]
# reports:
#   channel: %q   # #%s
# backups:
#   dir: /data/backups

# ---------------------------------------------------------- heartbeats --
# Dead-man's switch on Prometheus' Watchdog, and monitors of jobs whose
# absence is the incident (jobs send KLAXON_HEARTBEAT_TOKEN): README,
# "Heartbeats and the Watchdog".
# watchdog:
#   matchers: {alertname: Watchdog}
#   timeout: 5m
#   priority: P0
# heartbeats:
#   - name: backup-full
#     cron: "0 3 * * *"
#     time_zone: Europe/Berlin
#     grace: 2h
#     priority: P1
`,
		commentText(a.guild.Name), a.generatedAt.Format("2006-01-02"),
		a.guild.ID, commentText(a.guild.Name),
		ch(0), ping, pingNote, ch(1), ping, pingNote, ch(2), ch(3),
		a.channels[3].ID, commentText(a.channels[3].Name),
		target.ID, commentText(target.Name), target.ID, commentText(target.Name),
		a.staff.ID, commentText(a.staff.Name),
		a.channels[3].ID, commentText(a.channels[3].Name), a.channels[3].ID, commentText(a.channels[3].Name),
	)
	return b.String()
}

// pad aligns the comments after quoted ids.
func pad(id string) string {
	if n := 28 - len(id); n > 1 {
		return strings.Repeat(" ", n)
	}
	return " "
}

// commentText makes a Discord name safe in a YAML comment: one line, no
// control characters.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
