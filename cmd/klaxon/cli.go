package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
)

// cmdFlags is one subcommand's flag set: its help lists only its own flags,
// and goes to stdout (exit 0) when asked for with -h or --help.
type cmdFlags struct {
	*flag.FlagSet
	stdout io.Writer
}

func newFlagSet(name, synopsis, what string, stdout, stderr io.Writer) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n  %s\n", synopsis, what)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return &cmdFlags{FlagSet: fs, stdout: stdout}
}

// parseFlags parses a subcommand's arguments. ok is false when the command
// must stop, with code its exit code: 0 after --help, 2 on a bad flag or
// an unexpected argument.
func parseFlags(fs *cmdFlags, args []string) (code int, ok bool) {
	if helpAsked(args) {
		fs.SetOutput(fs.stdout)
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	case err != nil:
		return 2, false
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}

// flagExit is the exit code for an error from flag.FlagSet.Parse: 0 when
// help was asked for, 2 otherwise.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if slices.Contains([]string{"-h", "-help", "--help", "--h"}, a) {
			return true
		}
	}
	return false
}

func init() {
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = buildVersion(version, bi)
	}
}

// buildVersion is the version to report: the one stamped with -ldflags
// when there is one; else the module version `go install …@vX` recorded;
// else the commit the binary was built from (vcs.revision, "-dirty" with
// uncommitted changes); else "dev".
func buildVersion(stamped string, bi *debug.BuildInfo) string {
	if stamped != "dev" && stamped != "" {
		return stamped
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	s := vcsSettings(bi)
	if rev := s["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if s["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		return rev
	}
	return "dev"
}

func vcsSettings(bi *debug.BuildInfo) map[string]string {
	out := map[string]string{}
	for _, s := range bi.Settings {
		out[s.Key] = s.Value
	}
	return out
}

// versionLine is what `klaxon version` prints.
func versionLine() string {
	var details string
	if bi, ok := debug.ReadBuildInfo(); ok {
		details = buildDetails(bi)
	}
	return fmt.Sprintf("klaxon %s (%s%s %s/%s)", version, details, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildDetails names the commit, its time and whether the tree had
// uncommitted changes, from the build's VCS information ("" without it).
func buildDetails(bi *debug.BuildInfo) string {
	s := vcsSettings(bi)
	rev := s["vcs.revision"]
	if rev == "" {
		return ""
	}
	out := "commit " + rev
	if t := s["vcs.time"]; t != "" {
		out += " of " + t
	}
	if s["vcs.modified"] == "true" {
		out += ", with uncommitted changes"
	}
	return out + "; "
}
