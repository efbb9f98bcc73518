package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/marola-rp/klaxon/bot"
	"github.com/marola-rp/klaxon/store"
)

const backupUsage = `Usage:
  klaxon backup [--dir DIR] [--db FILE] [--config FILE]
      take a consistent snapshot of the database now (safe while klaxon serve runs);
      DIR defaults to backups.dir of the configuration
  klaxon restore --from FILE [--db FILE]
      replace the database with a snapshot: verified first, refused while Klaxon runs;
      the old database is kept next to it as <db>.pre-restore-<time>
`

// backupCmd is `klaxon backup`.
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	configPath := fs.String("config", getenv("KLAXON_CONFIG"), "configuration file (YAML), for backups.dir")
	dir := fs.String("dir", "", "directory to write the snapshot into (default: backups.dir)")
	dbPath := fs.String("db", dbFromEnv(getenv), "database file (default: KLAXON_DB or klaxon.db)")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "backup: unexpected argument %q\n\n%s", fs.Arg(0), backupUsage)
		return 2
	}
	if *dir == "" && *configPath != "" {
		b, err := backupSection(*configPath)
		if err != nil {
			fmt.Fprintf(stderr, "backup: %v\n", err)
			return 1
		}
		*dir = b.Dir
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "backup: no directory: pass --dir DIR, or set backups.dir in the configuration (--config FILE or KLAXON_CONFIG)")
		return 2
	}
	info, err := store.BackupFile(ctx, *dbPath, *dir, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "backup: %s\n", userError(err))
		return 1
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes, sha256 %s)\n", *dbPath, info.Path, info.Size, info.SHA256)
	fmt.Fprintf(stdout, "verified: integrity ok, row counts match the live database (%s)\n", tableSummary(info.Tables))
	return 0
}

// restoreCmd is `klaxon restore`.
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	from := fs.String("from", "", "snapshot to restore (a klaxon-*.db file)")
	dbPath := fs.String("db", dbFromEnv(getenv), "database file to replace (default: KLAXON_DB or klaxon.db)")
	fs.String("config", getenv("KLAXON_CONFIG"), "configuration file (unused; accepted for symmetry)")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if *from == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "restore: give the snapshot with --from FILE\n\n%s", backupUsage)
		return 2
	}
	res, err := store.Restore(ctx, *from, *dbPath, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "restore: %s\n", userError(err))
		if bot.ErrorCode(err) == bot.EConflict {
			return 3
		}
		return 1
	}
	how := "integrity ok"
	if res.Manifest {
		how += ", checksum and row counts match its manifest"
	} else {
		how += " (no manifest next to it: row counts and checksum not compared)"
	}
	fmt.Fprintf(stdout, "verified %s: %s (%s)\n", *from, how, tableSummary(res.Check.Tables))
	fmt.Fprintf(stdout, "restored %s from %s\n", *dbPath, *from)
	if res.Previous != "" {
		fmt.Fprintf(stdout, "the previous database is kept as %s\n", res.Previous)
	}
	return 0
}

func dbFromEnv(getenv func(string) string) string {
	if p := getenv("KLAXON_DB"); p != "" {
		return p
	}
	return "klaxon.db"
}

// backupSection reads only the backups section of the configuration, so
// that `klaxon backup` works with a configuration that serve would refuse.
func backupSection(path string) (BackupConfig, error) {
	var doc struct {
		Backups BackupConfig `yaml:"backups"`
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return doc.Backups, fmt.Errorf("read the configuration: %w", err)
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return doc.Backups, fmt.Errorf("%s: %v", path, err)
	}
	return doc.Backups, nil
}

func userError(err error) string {
	if code := bot.ErrorCode(err); code != bot.EInternal && code != "" {
		return bot.ErrorMessage(err)
	}
	return err.Error()
}

func tableSummary(t map[string]int64) string {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		if n == "schema_migrations" || n == "ping" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d", n, t[n]))
	}
	if len(parts) > 8 {
		parts = append(parts[:8], fmt.Sprintf("… %d tables in all", len(names)))
	}
	return strings.Join(parts, ", ")
}
