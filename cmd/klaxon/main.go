// Command klaxon is the Discord incident-response bot: it receives
// Alertmanager webhooks and pages people on Discord.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
// Left at "dev", it is replaced by the commit the binary was built from
// (see buildVersion).
var version = "dev"

const usage = `Klaxon — Alertmanager to Discord pager.

Usage:
  klaxon init --guild ID [--out FILE]  write a configuration for your Discord server (lists its channels and roles;
                                       asks which to use, or takes --channel P0=#name, --staff-role NAME, …)
  klaxon serve --config FILE           run the bot (refuses to start without a configuration, or with the
                                       example's placeholder ids)
  klaxon check-config --config FILE [--online]
                                       validate a configuration, print every problem with file:line;
                                       --online also asks Discord about every channel, role, user and the guild
  klaxon register-commands [--global]  register the slash commands (in discord.guild_id, or globally)
  klaxon demo [--config FILE] [--storm N] [--db FILE] [--verbose] [--no-color]
                                       fire sample alerts through the real pipeline into a fake Discord, print
                                       what would be posted (built with -tags demo: go run -tags demo ./cmd/klaxon demo)
  klaxon backup [--dir DIR] [--db FILE]  snapshot the database now (safe while serve runs)
  klaxon restore --from FILE [--db FILE] verify a backup and restore it (Klaxon must be stopped)
  klaxon requeue                       retry every dead letter (outbound items Discord refused for good) in KLAXON_DB
  klaxon alerts | ack ID | resolve ID | oncall [SCHEDULE]  [--as USER] [--json]
                                       the terminal, for when Discord is down: through the running server's
                                       admin API (KLAXON_ADMIN_TOKEN), or the database when no server runs
  klaxon healthcheck                   exit 0 if the local /healthz answers 200 (for Docker)
  klaxon version, --version, -v        print the version (the commit it was built from)
  klaxon COMMAND --help                the command's own flags

Secrets and deployment settings come from the environment. Every secret can
also be read from a file: set NAME_FILE=/path instead of NAME (the file's
content, without its trailing newline; setting both is an error):
  KLAXON_DISCORD_TOKEN     bot token (Discord Developer Portal → your application → Bot → Reset Token)
  KLAXON_WEBHOOK_TOKEN     bearer token Alertmanager must send
  KLAXON_TWILIO_AUTH_TOKEN phone calls: the provider's auth token (with a phone: section)
  KLAXON_SMTP_PASSWORD     e-mail: the SMTP password (with an email: section)
  KLAXON_LLM_API_KEY       post-mortem drafts: the OpenAI-compatible API key (with an llm: section)
  KLAXON_ADMIN_TOKEN       the admin API the terminal commands call (unset: the API is off)
  KLAXON_ADMIN_USER        the terminal commands: your Discord user id (or --as; roles from admin.users)
  KLAXON_ADMIN_URL         the terminal commands: the server (default from KLAXON_HTTP_ADDR)
  KLAXON_DB                SQLite database path (default klaxon.db)
  KLAXON_HTTP_ADDR         listen address (default :8080)
  KLAXON_DISCORD_API_URL   Discord REST base URL (default https://discord.com/api/v10)
  KLAXON_DISCORD_GATEWAY   "off" to run without the gateway websocket
  KLAXON_CONFIG            configuration file when --config is not given
  KLAXON_LOG_LEVEL, KLAXON_LOG_FORMAT   debug|info|warn|error, json|text
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd { // commands with flags of their own
	case "register-commands":
		return registerCommands(ctx, args, getenv, stdout, stderr)
	case "demo":
		return demoCmd(ctx, args, getenv, stdout, stderr)
	case "backup":
		return backupCmd(ctx, args, getenv, stdout, stderr)
	case "restore":
		return restoreCmd(ctx, args, getenv, stdout, stderr)
	case "alerts", "ack", "resolve", "oncall": // the terminal, for when Discord is down
		return terminalCmd(ctx, cmd, args, getenv, stdout, stderr)
	case "init":
		return initCmd(ctx, args, getenv, os.Stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "-v", "-version", "--version":
		fs := newFlagSet("version", "klaxon version", "print the version: the release, or the commit the binary was built from", stdout, stderr)
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "check-config":
		fs := newFlagSet(cmd, "klaxon check-config --config FILE [--online]", "validate a configuration and print every problem with file:line", stdout, stderr)
		configPath := fs.String("config", getenv("KLAXON_CONFIG"), "configuration file (YAML; default KLAXON_CONFIG)")
		online := fs.Bool("online", false, "also ask Discord about every configured channel (view, post, embed, threads), role, user and the guild, print a table of them, and list deliveries Discord refused")
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		return checkConfig(ctx, *configPath, *online, getenv, stdout, stderr)
	case "serve":
		fs := newFlagSet(cmd, "klaxon serve --config FILE", "run the bot", stdout, stderr)
		configPath := fs.String("config", getenv("KLAXON_CONFIG"), "configuration file (YAML; default KLAXON_CONFIG); klaxon init writes one")
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		return serve(ctx, *configPath, getenv, stderr)
	case "requeue":
		fs := newFlagSet(cmd, "klaxon requeue", "retry every dead letter in KLAXON_DB (safe while serve runs)", stdout, stderr)
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		return requeueCmd(ctx, getenv, stdout, stderr)
	case "healthcheck":
		fs := newFlagSet(cmd, "klaxon healthcheck", "exit 0 if the local /healthz (KLAXON_HTTP_ADDR) answers 200", stdout, stderr)
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		return healthcheck(getenv, stderr)
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

func checkConfig(ctx context.Context, path string, online bool, getenv func(string) string, stdout, stderr io.Writer) int {
	if path == "" {
		fmt.Fprintln(stderr, "check-config: give the file with --config FILE (or KLAXON_CONFIG)")
		return 2
	}
	cfg, problems := LoadConfig(path, getenv)
	if cfg != nil {
		if p, ok := cfg.placeholderProblem(true); ok {
			problems = append(problems, p)
		}
	}
	if online && cfg != nil {
		problems = append(problems, checkOnline(ctx, cfg, stdout)...)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	if len(problems.Errors()) > 0 {
		fmt.Fprintf(stdout, "%s: %d error(s)\n", path, len(problems.Errors()))
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n", path)
	return 0
}

// noConfig is what serve says when it has no configuration to run.
const noConfig = "serve: no configuration: without one Klaxon would store alerts and post them nowhere.\n" +
	"Write one for your Discord server with\n" +
	"  klaxon init --guild <server id>     (needs KLAXON_DISCORD_TOKEN; see README, Getting started)\n" +
	"then run  klaxon serve --config klaxon.yaml  (or set KLAXON_CONFIG)."

func serve(ctx context.Context, path string, getenv func(string) string, stderr io.Writer) int {
	if path == "" {
		fmt.Fprintln(stderr, noConfig)
		return 2
	}
	cfg, problems := LoadConfig(path, getenv)
	if len(problems.Errors()) > 0 {
		fmt.Fprintln(stderr, problems.Errors().Error())
		return 1
	}
	if p, ok := cfg.placeholderProblem(false); ok {
		fmt.Fprintln(stderr, p.String())
		return 1
	}
	m := &Main{Config: cfg, Stderr: stderr, Getenv: getenv}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "klaxon: %v\n", err)
		m.Close()
		return 1
	}
	for _, p := range problems {
		m.Log.Warn("configuration", "problem", p.String())
	}
	stopHUP := m.reloadOnHUP()
	defer stopHUP()
	<-ctx.Done()
	if err := m.Close(); err != nil {
		fmt.Fprintf(stderr, "klaxon: shutdown: %v\n", err)
		return 1
	}
	return 0
}

func healthcheck(getenv func(string) string, stderr io.Writer) int {
	addr := getenv("KLAXON_HTTP_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: /healthz answered %s\n", resp.Status)
		return 1
	}
	return 0
}
