package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/bot/paging"
)

// Config is klaxon.yaml plus the environment. Unknown keys are errors.
type Config struct {
	Discord    DiscordConfig    `yaml:"discord"`
	Priorities PrioritiesConfig `yaml:"priorities"`
	Storm      StormConfig      `yaml:"storm"`
	Webhook    WebhookConfig    `yaml:"webhook"`
	Engine     EngineConfig     `yaml:"engine"`
	Log        LogConfig        `yaml:"log"`

	Schedules    []ScheduleConfig               `yaml:"schedules"`
	Users        map[string]UserConfig          `yaml:"users"`
	Escalation   map[string]EscalationConfig    `yaml:"escalation"`
	Permissions  map[string]map[string][]string `yaml:"permissions"`
	Alertmanager AlertmanagerConfig             `yaml:"alertmanager"`
	Interactions InteractionsConfig             `yaml:"interactions"`
	Phone        PhoneConfig                    `yaml:"phone"`
	Email        EmailConfig                    `yaml:"email"`
	Reminders    RemindersConfig                `yaml:"reminders"`
	SLO          SLOConfig                      `yaml:"slo"`
	Reports      ReportsConfig                  `yaml:"reports"`
	Backups      BackupConfig                   `yaml:"backups"`
	Runbooks     RunbooksConfig                 `yaml:"runbooks"`
	Postmortems  PostmortemsConfig              `yaml:"postmortems"`
	LLM          LLMConfig                      `yaml:"llm"`
	Incidents    IncidentsConfig                `yaml:"incidents"`
	Watchdog     *WatchdogConfig                `yaml:"watchdog"`
	Heartbeats   []HeartbeatConfig              `yaml:"heartbeats"`
	// Access says who may do what (see config_access.go); kept as YAML so
	// that unknown kinds and actions are reported with the valid names.
	Access yaml.Node   `yaml:"access"`
	Admin  AdminConfig `yaml:"admin"` // the terminal commands (terminal_config.go)

	// Built from the sections above by validate.
	schedules   []*paging.Schedule
	directory   bot.Directory
	policies    [4]paging.EscalationPolicy
	calendar    *CalendarSettings
	postmortems *postmortemSetup
	heartbeats  *heartbeatSetup

	// From the environment.
	Env EnvConfig `yaml:"-"`

	file string
	root yaml.Node
}

// DiscordConfig says where Klaxon lives on Discord.
type DiscordConfig struct {
	GuildID       string `yaml:"guild_id"`
	ApplicationID string `yaml:"application_id"`
}

// PrioritiesConfig maps alerts to priorities and priorities to channels.
type PrioritiesConfig struct {
	Default  string            `yaml:"default"`
	Severity map[string]string `yaml:"severity"`
	P0       *RouteConfig      `yaml:"P0"`
	P1       *RouteConfig      `yaml:"P1"`
	P2       *RouteConfig      `yaml:"P2"`
	P3       *RouteConfig      `yaml:"P3"`
}

// RouteConfig is one priority's channel, who it pings, and its deadline.
type RouteConfig struct {
	Channel      string   `yaml:"channel"`
	MentionRoles []string `yaml:"mention_roles"`
	MentionUsers []string `yaml:"mention_users"`
	AckWithin    Duration `yaml:"ack_within"`
	Reach        []string `yaml:"reach"`
}

// StormConfig tunes storm digests.
type StormConfig struct {
	Threshold *int     `yaml:"threshold"`
	Window    Duration `yaml:"window"`
	Listed    int      `yaml:"listed"`
	PageSize  int      `yaml:"page_size"`
}

// WebhookConfig tunes the Alertmanager receiver.
type WebhookConfig struct {
	MaxBytes int64 `yaml:"max_bytes"`
}

// EngineConfig tunes the engine loop.
type EngineConfig struct {
	Interval Duration `yaml:"interval"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// EnvConfig holds the settings that come from the environment.
type EnvConfig struct {
	DiscordToken    string
	WebhookToken    string
	DB              string
	HTTPAddr        string
	DiscordAPIURL   string
	DiscordGateway  bool
	TwilioAuthToken string
	SMTPPassword    string
	HeartbeatToken  string
	AdminToken      string // KLAXON_ADMIN_TOKEN: the admin API the terminal commands call
}

// Duration is a time.Duration written like "15m" or "2h".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil { // a TypeError: decoding goes on, so one bad value is one message
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (write e.g. 90s, 15m, 2h)", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// Problem is one thing wrong with a configuration, with where it is.
type Problem struct {
	File    string
	Line    int
	Message string
	Warning bool
}

func (p Problem) String() string {
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, kind, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, kind, p.Message)
}

// Problems is a list of configuration problems; it is an error when any is not a warning.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// LoadConfig reads and validates the configuration file (path may be "" for
// none) and the environment. It returns every problem found.
func LoadConfig(path string, getenv func(string) string) (*Config, Problems) {
	c := &Config{file: path}
	var parseProblems Problems
	if path == "" {
		c.file = "(no config file)"
	} else {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, Problems{{File: path, Message: fmt.Sprintf("cannot read: %v", err)}}
		}
		parseProblems = c.parse(data)
		if len(parseProblems) > 0 && c.root.Kind == 0 {
			return nil, parseProblems // not YAML at all
		}
	}
	// Unknown keys do not stop the check: report everything at once.
	ps := append(parseProblems, c.readEnv(getenv)...)
	ps = withoutCascades(append(ps, c.validate()...))
	if len(ps.Errors()) > 0 {
		return nil, ps
	}
	return c, ps
}

func (c *Config) parse(data []byte) Problems {
	var ps Problems
	if err := yaml.Unmarshal(data, &c.root); err != nil {
		ps = c.yamlProblems(err)
		if line, msg := badIndentation(data); line > 0 && len(ps) == 1 {
			ps[0].Line, ps[0].Message = line, msg+" (YAML: "+ps[0].Message+")"
		}
		return ps
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		ps = append(ps, c.yamlProblems(err)...)
	}
	return ps
}

func (c *Config) yamlProblems(err error) Problems {
	var ps Problems
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		p := Problem{File: c.file, Message: m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Message = c.rewriteYAMLMessage(p.Line, sm[2])
		}
		ps = append(ps, p)
	}
	return ps
}

func (c *Config) readEnv(getenv func(string) string) Problems {
	secret, ps := readSecrets(getenv, c.file) // NAME or the file NAME_FILE names
	c.Env = EnvConfig{
		DiscordToken:    strings.TrimSpace(secret["KLAXON_DISCORD_TOKEN"]),
		WebhookToken:    strings.TrimSpace(secret["KLAXON_WEBHOOK_TOKEN"]),
		DB:              getenv("KLAXON_DB"),
		HTTPAddr:        getenv("KLAXON_HTTP_ADDR"),
		DiscordAPIURL:   strings.TrimRight(getenv("KLAXON_DISCORD_API_URL"), "/"),
		DiscordGateway:  !strings.EqualFold(getenv("KLAXON_DISCORD_GATEWAY"), "off"),
		TwilioAuthToken: strings.TrimSpace(secret["KLAXON_TWILIO_AUTH_TOKEN"]),
		SMTPPassword:    secret["KLAXON_SMTP_PASSWORD"],
		HeartbeatToken:  strings.TrimSpace(secret["KLAXON_HEARTBEAT_TOKEN"]),
		AdminToken:      strings.TrimSpace(secret["KLAXON_ADMIN_TOKEN"]),
	}
	if c.Env.DB == "" {
		c.Env.DB = "klaxon.db"
	}
	if c.Env.HTTPAddr == "" {
		c.Env.HTTPAddr = ":8080"
	}
	if c.Env.DiscordAPIURL == "" {
		c.Env.DiscordAPIURL = "https://discord.com/api/v10"
	}
	if lv := getenv("KLAXON_LOG_LEVEL"); lv != "" {
		c.Log.Level = lv
	}
	if f := getenv("KLAXON_LOG_FORMAT"); f != "" {
		c.Log.Format = f
	}
	c.LLM.APIKey = strings.TrimSpace(secret["KLAXON_LLM_API_KEY"])
	return ps
}

// line returns the line of the node at path in the YAML document, or 0.
func (c *Config) line(path ...string) int {
	n := &c.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, key := range path {
		if n.Kind == yaml.SequenceNode {
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
			continue
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

func (c *Config) validate() Problems {
	var ps Problems
	bad := func(msg string, path ...string) {
		ps = append(ps, Problem{File: c.file, Line: c.line(path...), Message: msg})
	}
	warn := func(msg string, path ...string) {
		ps = append(ps, Problem{File: c.file, Line: c.line(path...), Message: msg, Warning: true})
	}
	if c.Priorities.Default != "" {
		if _, err := bot.ParsePriority(c.Priorities.Default); err != nil {
			bad(fmt.Sprintf("priorities.default: %v", bot.ErrorMessage(err)), "priorities", "default")
		}
	}
	for sev, p := range c.Priorities.Severity {
		if _, err := bot.ParsePriority(p); err != nil {
			bad(fmt.Sprintf("priorities.severity.%s: %v", sev, bot.ErrorMessage(err)), "priorities", "severity", sev)
		}
	}
	anyChannel := false
	for i, r := range c.routes() {
		name := bot.Priority(i).String()
		if r == nil {
			warn(fmt.Sprintf("priorities.%s is not configured: %s alerts will only be stored, not posted", name, name), "priorities")
			continue
		}
		if r.Channel != "" {
			anyChannel = true // a bad id is its own error, not also "no channel"
		}
		if r.Channel == "" {
			bad(fmt.Sprintf("priorities.%s.channel is empty: set the Discord channel id (Developer Mode → right-click the channel → Copy Channel ID)", name), "priorities", name)
		} else if !snowflake.MatchString(r.Channel) {
			bad(fmt.Sprintf("priorities.%s.channel %q is not a Discord id (digits only)", name, r.Channel), "priorities", name, "channel")
		}
		for _, id := range append(append([]string{}, r.MentionRoles...), r.MentionUsers...) {
			if !snowflake.MatchString(id) {
				bad(fmt.Sprintf("priorities.%s: mention %q is not a Discord id (digits only; no <@&…> or names)", name, id), "priorities", name)
			}
		}
		for _, how := range r.Reach {
			ch, known := bot.ChannelOf(bot.Via(how))
			switch {
			case how == "discord":
			case known && ch.Provider != "":
				if !c.hasProvider(ch.Via) {
					bad(fmt.Sprintf("priorities.%s.reach includes %s, but %s, or remove %s here", name, how, c.noProvider(ch.Via), how),
						"priorities", name, "reach")
				}
			default:
				bad(fmt.Sprintf("priorities.%s.reach: %q is not one of %s", name, how, reachList()), "priorities", name, "reach")
			}
		}
		if r.AckWithin < 0 {
			bad(fmt.Sprintf("priorities.%s.ack_within must be positive", name), "priorities", name, "ack_within")
		}
	}
	if !anyChannel {
		warn("no priority has a channel: nothing will be posted to Discord", "priorities")
	}
	if c.Storm.Threshold != nil && *c.Storm.Threshold < 0 {
		bad("storm.threshold must be 0 (off) or more", "storm", "threshold")
	}
	if c.Storm.Listed < 0 || c.Storm.Listed > 20 {
		bad("storm.listed must be between 0 and 20 (a digest message lists at most 20 groups)", "storm", "listed")
	}
	if c.Storm.PageSize < 0 || c.Storm.PageSize > 40 {
		bad("storm.page_size must be between 1 and 40 (one Discord message holds about 40 lines)", "storm", "page_size")
	}
	switch strings.ToLower(c.Log.Level) {
	case "", "debug", "info", "warn", "error":
	default:
		bad(fmt.Sprintf("log.level %q is not one of debug, info, warn, error", c.Log.Level), "log", "level")
	}
	switch strings.ToLower(c.Log.Format) {
	case "", "json", "text":
	default:
		bad(fmt.Sprintf("log.format %q is not one of json, text", c.Log.Format), "log", "format")
	}
	if d := time.Duration(c.Engine.Interval); d != 0 && (d < 100*time.Millisecond || d > time.Minute) {
		bad("engine.interval must be between 100ms and 1m", "engine", "interval")
	}
	var more Problems
	c.schedules, c.directory, more = buildOnCall(c.file, c.line, c.Schedules, c.Users)
	ps = append(ps, more...)
	ps = append(ps, c.validatePaging()...)
	c.calendar, more = buildCalendar(c.file, c.line, c.Reminders, c.SLO, c.Reports, c.Backups)
	ps = append(ps, more...)
	c.postmortems, more = buildPostmortems(c.file, c.line, c.Runbooks, c.Postmortems, c.LLM)
	ps = append(ps, more...)
	if c.calendar != nil && c.postmortems != nil { // a post-mortem's error budget uses the configured SLOs
		c.postmortems.Policy.SLOs, c.postmortems.Policy.Weights = c.calendar.SLO.Services, c.calendar.SLO.Weights
	}
	c.heartbeats, more = c.buildHeartbeats(c.runbookKnown)
	ps = append(ps, more...)
	_, more = c.buildIncidents()
	ps = append(ps, more...)
	ps = append(ps, c.validateAccess()...)
	ps = append(ps, c.validateAdmin()...)
	return ps
}

func (c *Config) routes() [4]*RouteConfig {
	return [4]*RouteConfig{c.Priorities.P0, c.Priorities.P1, c.Priorities.P2, c.Priorities.P3}
}

// Policy builds the core's policy from the configuration.
func (c *Config) Policy() *bot.Policy {
	p := &bot.Policy{Classifier: bot.Classifier{Default: bot.P3, Severity: bot.DefaultSeverityMap()}, Storm: bot.DefaultStormPolicy()}
	if c.Priorities.Default != "" {
		p.Classifier.Default, _ = bot.ParsePriority(c.Priorities.Default)
	}
	if len(c.Priorities.Severity) > 0 {
		p.Classifier.Severity = map[string]bot.Priority{}
		for k, v := range c.Priorities.Severity {
			p.Classifier.Severity[strings.ToLower(k)], _ = bot.ParsePriority(v)
		}
	}
	for i, r := range c.routes() {
		pr := bot.Priority(i)
		route := bot.Route{AckWithin: pr.DefaultAckDeadline()}
		if r != nil {
			route.ChannelID = r.Channel
			route.Mentions = bot.Mentions{Roles: r.MentionRoles, Users: r.MentionUsers}
			route.Reach = r.Reach
			if r.AckWithin > 0 {
				route.AckWithin = time.Duration(r.AckWithin)
			}
		}
		p.Routes[i] = route
	}
	if c.Storm.Threshold != nil {
		p.Storm.Threshold = *c.Storm.Threshold
	}
	if c.Storm.Window > 0 {
		p.Storm.Window = time.Duration(c.Storm.Window)
	}
	if c.Storm.Listed > 0 {
		p.Storm.Listed = c.Storm.Listed
	}
	if c.Storm.PageSize > 0 {
		p.Storm.PageSize = c.Storm.PageSize
	}
	return p
}
