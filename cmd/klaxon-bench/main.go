// Command klaxon-bench measures Klaxon beside Alertmanager's own Discord
// receiver under an alert storm, in one run:
//
//	go run ./cmd/klaxon-bench storm [flags]
//
// It starts the fake Discord (bot/discordtest) on loopback with Discord's
// rate limits, `klaxon serve` built from this checkout with a fresh
// database, and a real Alertmanager (Debian's prometheus-alertmanager) that
// routes every group to both Klaxon's webhook and its native discord_configs
// receiver. It pushes a storm of P2/P3 groups with fresh P0s at its peak,
// resolves everything, and prints one table (and, with --json, the same as
// JSON). It exits 0 when the run completed and Klaxon lost no group, 1 when
// Klaxon lost a group, left a resolution unshown or died, 2 on bad usage and
// 3 when the run could not be set up (e.g. no Alertmanager binary: apt-get install -y
// prometheus-alertmanager, or set KLAXON_ALERTMANAGER).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `klaxon-bench — Klaxon beside Alertmanager's native Discord receiver, under an alert storm.

Usage:
  go run ./cmd/klaxon-bench storm [flags]

Needs: the Go toolchain (Klaxon is built from this checkout) and Alertmanager
(apt-get install -y prometheus-alertmanager, or KLAXON_ALERTMANAGER=/path).

Exit status: 0 completed and Klaxon lost nothing; 1 Klaxon lost a group, left
a resolution unshown or died; 2 bad usage; 3 the run could not be set up or
was interrupted.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "storm" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, usage)
			newFlags(stdout, &options{}, new(bool)).PrintDefaults()
			return 0
		}
		fmt.Fprint(stderr, usage)
		newFlags(stderr, &options{}, new(bool)).PrintDefaults()
		return 2
	}
	var o options
	var short bool
	fs := newFlags(stderr, &o, &short)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "klaxon-bench storm: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if short {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		applyShort(&o, set)
	}
	if o.Groups < 1 || o.P0s < 1 || o.StormDuration <= 0 {
		fmt.Fprintln(stderr, "klaxon-bench storm: --groups and --p0 must be at least 1 and --storm-duration positive")
		return 2
	}
	o.Progress = stderr

	res, err := runStorm(ctx, o)
	if err != nil {
		var se errSetup
		switch {
		case errors.As(err, &se):
			fmt.Fprintf(stderr, "klaxon-bench: could not set up the run: %v\n", err)
		case ctx.Err() != nil:
			fmt.Fprintln(stderr, "klaxon-bench: interrupted")
		default:
			fmt.Fprintf(stderr, "klaxon-bench: the run did not complete: %v\n", err)
		}
		return 3
	}
	table := res.Table()
	fmt.Fprint(stdout, table)
	if o.TablePath != "" {
		if err := os.WriteFile(o.TablePath, []byte(table), 0o644); err != nil {
			fmt.Fprintf(stderr, "klaxon-bench: %v\n", err)
			return 3
		}
	}
	if o.JSONPath != "" {
		if err := res.WriteJSON(o.JSONPath); err != nil {
			fmt.Fprintf(stderr, "klaxon-bench: %v\n", err)
			return 3
		}
	}
	if len(res.Failures) > 0 {
		return 1
	}
	return 0
}

func newFlags(out io.Writer, o *options, short *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("storm", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.Groups, "groups", 2000, "storm alert groups (P2/P3, one alert each)")
	fs.IntVar(&o.P0s, "p0", 5, "fresh P0 groups injected through the storm's peak")
	fs.DurationVar(&o.StormDuration, "storm-duration", 5*time.Second, "time over which the storm is pushed")
	fs.DurationVar(&o.RepresentTimeout, "represent-timeout", 3*time.Minute, "how long to wait for every group to be on Discord (both receivers get the same window)")
	fs.DurationVar(&o.ResolveTimeout, "resolve-timeout", 2*time.Minute, "how long to wait, after resolving, for the resolutions to show")
	fs.DurationVar(&o.Settle, "settle", 3*time.Second, "extra wait at the end for trailing edits")
	fs.DurationVar(&o.GroupWait, "group-wait", time.Second, "Alertmanager group_wait")
	fs.DurationVar(&o.GroupInterval, "group-interval", 5*time.Second, "Alertmanager group_interval")
	fs.BoolVar(short, "short", false, "a small run for CI: 200 groups, 2 P0s, 2s storm, 60s waits (explicit flags win)")
	fs.StringVar(&o.JSONPath, "json", "", "also write the result as JSON to this file")
	fs.StringVar(&o.TablePath, "table", "", "also write the table to this file")
	fs.StringVar(&o.WorkDir, "work-dir", "", "directory for configs, logs and Klaxon's database (default: a new temporary directory, kept)")
	fs.StringVar(&o.KlaxonBin, "klaxon-bin", "", "use this klaxon binary instead of building ./cmd/klaxon")
	fs.StringVar(&o.AlertmanagerBin, "alertmanager", "", "Alertmanager binary (default $KLAXON_ALERTMANAGER, then prometheus-alertmanager or alertmanager on PATH)")
	fs.StringVar(&o.KlaxonExtra, "klaxon-config-extra", "", "YAML file appended to the generated Klaxon configuration (to compare settings; the table's Klaxon column then reflects them)")
	fs.StringVar(&o.KlaxonLogLevel, "klaxon-log-level", "info", "Klaxon's log level (debug, info, warn, error)")
	return fs
}

// applyShort sets the --short defaults for every flag not given explicitly.
func applyShort(o *options, set map[string]bool) {
	if !set["groups"] {
		o.Groups = 200
	}
	if !set["p0"] {
		o.P0s = 2
	}
	if !set["storm-duration"] {
		o.StormDuration = 2 * time.Second
	}
	if !set["represent-timeout"] {
		o.RepresentTimeout = time.Minute
	}
	if !set["resolve-timeout"] {
		o.ResolveTimeout = time.Minute
	}
}
