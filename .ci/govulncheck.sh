#!/usr/bin/env bash
# Known-vulnerability check that needs nothing but the Go module proxy.
#
# govulncheck normally asks vuln.go.dev; CI has no internet. The Go module
# proxy serves golang.org/x/vulndb, whose data/osv/ holds every report, and
# its cmd/indexdb turns those into the database layout govulncheck reads with
# -db file://DIR. Both versions are pinned here, so the result changes only
# when someone bumps them (bump VULNDB_VERSION to see newer reports:
# `go list -m -versions golang.org/x/vulndb` or `go list -m golang.org/x/vulndb@latest`).
#
# The database is built once per VULNDB_VERSION (the first time indexdb
# downloads its own dependencies, about two minutes) and cached under
# ${XDG_CACHE_HOME:-~/.cache}/klaxon-vulndb/, or KLAXON_VULNDB_DIR if set.
#
# Exit status: 0 clean, 3 findings (govulncheck's own code), other = failure.
# Without GOTOOLCHAIN set it runs with the toolchain go.mod names.
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018 # golang.org/x/vulndb, 2026-11-05
GOVULNCHECK_VERSION=v1.9.0                          # golang.org/x/vuln

# The standard library's findings depend on the Go version: use go.mod's
# toolchain line unless the caller chose one (the machine's go.env says local).
if [[ -z "${GOTOOLCHAIN:-}" ]]; then
  GOTOOLCHAIN=$(sed -n 's/^toolchain //p' go.mod)
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
fi

db="${KLAXON_VULNDB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/klaxon-vulndb/$VULNDB_VERSION}"

if [[ ! -s "$db/index/db.json" ]]; then
  echo "govulncheck.sh: building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION into $db"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # Outside this module, so go.mod and go.sum stay as they are.
  src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [[ -z "$src" || ! -d "$src/data/osv" ]]; then
    echo "govulncheck.sh: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv (got dir '$src')" >&2
    exit 1
  fi
  (cd "$work" && go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$work/db")
  mkdir -p "$(dirname "$db")"
  rm -rf "$db"
  mv "$work/db" "$db"
fi

echo "govulncheck.sh: $(go env GOVERSION), govulncheck $GOVULNCHECK_VERSION, vulndb $VULNDB_VERSION"
go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$db" ./...
