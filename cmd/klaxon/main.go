// Command klaxon is the Discord incident-response bot: it receives
// Alertmanager webhooks and pages people on Discord.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `Klaxon — Alertmanager to Discord pager.

Usage:
  klaxon serve [--config FILE]         run the bot
  klaxon check-config [--config FILE]  validate a configuration, print every problem with file:line
  klaxon register-commands [--global]  register the slash commands (in discord.guild_id, or globally)
  klaxon demo [--config FILE] [--storm N]  fire sample alerts through the real pipeline into a fake Discord, print what would be posted
                                       (built with -tags demo: go run -tags demo ./cmd/klaxon demo)
  klaxon backup [--dir DIR]            snapshot the database now (safe while serve runs)
  klaxon requeue                       retry every dead letter (outbound items Discord refused for good) in KLAXON_DB
  klaxon restore --from FILE           verify a backup and restore it (Klaxon must be stopped)
  klaxon version                       print the version
  klaxon healthcheck                   exit 0 if the local /healthz answers 200 (for Docker)

Secrets and deployment settings come from the environment:
  KLAXON_DISCORD_TOKEN     bot token (Discord Developer Portal → your application → Bot → Reset Token)
  KLAXON_WEBHOOK_TOKEN     bearer token Alertmanager must send
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
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("KLAXON_CONFIG"), "configuration file (YAML)")
	online := fs.Bool("online", false, "check-config: also ask Discord whether Klaxon can use each configured channel, and list deliveries Discord refused")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch cmd {
	case "version":
		fmt.Fprintf(stdout, "klaxon %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "check-config":
		return checkConfig(ctx, *configPath, *online, getenv, stdout, stderr)
	case "serve":
		return serve(ctx, *configPath, getenv, stderr)
	case "requeue":
		return requeueCmd(ctx, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(getenv, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
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
	if online && cfg != nil {
		problems = append(problems, checkOnline(ctx, cfg)...)
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

func serve(ctx context.Context, path string, getenv func(string) string, stderr io.Writer) int {
	cfg, problems := LoadConfig(path, getenv)
	if len(problems.Errors()) > 0 {
		fmt.Fprintln(stderr, problems.Errors().Error())
		return 1
	}
	m := &Main{Config: cfg, Stderr: stderr}
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
