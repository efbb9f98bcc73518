#!/usr/bin/env bash
# Builds the container image when a container engine is here (docker,
# podman or buildah); otherwise checks the Dockerfile's stages with what is
# here: every FROM names an image with a tag and the stages COPY --from
# refers to exist, every COPY source exists in the build context (after
# .dockerignore), and the image's `go build` command, run for real, builds
# a klaxon that prints its version.  Run from the repository root.
set -euo pipefail
cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
f=Dockerfile
version=$(git describe --tags --always --dirty 2>/dev/null || echo ci)

for engine in docker podman buildah; do
  if command -v "$engine" >/dev/null && "$engine" info >/dev/null 2>&1; then
    echo "building the image with $engine"
    if [[ $engine == buildah ]]; then
      buildah bud --build-arg VERSION="$version" -t klaxon:ci .
    else
      "$engine" build --build-arg VERSION="$version" -t klaxon:ci .
      "$engine" run --rm klaxon:ci version
    fi
    exit 0
  fi
done
echo "no container engine here: checking $f's stages instead"

fail() { echo "  FAIL: $*" >&2; exit 1; }
# Stages: FROM image[:tag] [AS name]
mapfile -t froms < <(grep -E '^FROM ' "$f")
[[ ${#froms[@]} -ge 2 ]] || fail "want a build and a runtime stage, found ${#froms[@]} FROM lines"
stages=()
for line in "${froms[@]}"; do
  read -r _ image as name <<<"$line"
  [[ $image =~ ^[a-z0-9./_-]+:[A-Za-z0-9._-]+$ ]] || fail "FROM $image: want name:tag (pinned), got '$image'"
  [[ -n ${as:-} ]] && stages+=("$name")
  echo "  stage: $image ${name:+as $name}"
done
grep -E '^FROM golang:1\.26' "$f" >/dev/null || fail "the build stage is not golang:1.26 (go.mod says $(grep '^go ' go.mod))"
# COPY --from=<stage> must name a stage; other COPY sources must exist.
while read -r line; do
  set -- $line; shift
  from=""
  while [[ $1 == --* ]]; do [[ $1 == --from=* ]] && from=${1#--from=}; shift; done
  args=("$@"); dest=${args[-1]}; unset 'args[-1]'
  if [[ -n $from ]]; then
    printf '%s\n' "${stages[@]}" | grep -qx "$from" || fail "COPY --from=$from: no such stage"
    continue
  fi
  for src in "${args[@]}"; do
    [[ $src == . ]] && continue
    [[ -e $src ]] || fail "COPY $src: not in the build context"
    ! grep -qx "$src" .dockerignore 2>/dev/null || fail "COPY $src: excluded by .dockerignore"
  done
  echo "  COPY ${args[*]} -> $dest: ok"
done < <(grep -E '^COPY ' "$f")
# The build command, for real: the RUN line's `go build …` with its ARG.
cmd=$(awk '/go build/ { sub(/.*go build/, "go build"); sub(/ *\\$/, ""); sub(/ *&&.*/, ""); print; exit }' "$f")
[[ -n $cmd ]] || fail "no go build in $f"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cmd=${cmd//\$\{VERSION\}/$version}
cmd=${cmd//\/out\/klaxon/$tmp/klaxon}
echo "  $cmd"
CGO_ENABLED=1 eval "$cmd"
out=$("$tmp/klaxon" version)
echo "  $out"
[[ $out == "klaxon $version "* ]] || fail "the built binary says '$out', want version $version"
echo "  Dockerfile checks passed"
