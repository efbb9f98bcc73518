#!/usr/bin/env bash
# Validates the deployment files in deploy/ with the real tools.
# Run from the repository root:  .ci/check-deploy.sh
# Needs promtool and amtool on PATH (Debian: prometheus, prometheus-alertmanager);
# it installs nothing — the main CI script does that first.
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
if [[ ! -f deploy/alertmanager.yml ]]; then
  echo "check-deploy: run from the repository root (deploy/alertmanager.yml not found)" >&2
  exit 2
fi

for tool in promtool amtool; do
  if ! command -v "$tool" >/dev/null; then
    echo "check-deploy: $tool not found on PATH (Debian: apt-get install prometheus prometheus-alertmanager)" >&2
    exit 2
  fi
done

step() { printf '\n==> %s\n' "$*"; }

step "tool versions"
promtool --version 2>&1 | head -n1
amtool --version 2>&1 | head -n1

step "promtool check rules deploy/prometheus/*rules.yml"
promtool check rules deploy/prometheus/*rules.yml

# Test files name their rule files relative to themselves; promtool resolves
# them relative to the working directory, so run from deploy/prometheus.
step "promtool test rules deploy/prometheus/*_test.yml"
(cd deploy/prometheus && promtool test rules ./*_test.yml)

# rule_files and file_sd paths in prometheus.yml are relative to the file itself.
step "promtool check config deploy/prometheus/prometheus.yml"
promtool check config deploy/prometheus/prometheus.yml

step "every rule carries priority, severity, service, summary, description (and runbook outside klaxon-rules)"
# promtool cannot express "required labels"; a tiny awk check over each rule block.
for f in deploy/prometheus/*rules.yml; do
  awk -v file="$f" -v need_runbook="$([[ $f == *klaxon-rules.yml ]] && echo 0 || echo 1)" '
    function check() {
      if (name == "") return
      split("priority: severity: service: summary: description:", keys, " ")
      for (i in keys) if (index(block, keys[i]) == 0) { printf "%s: %s lacks %s\n", file, name, keys[i]; bad = 1 }
      if (need_runbook && index(block, "runbook:") == 0) { printf "%s: %s lacks runbook:\n", file, name; bad = 1 }
      if (file ~ /klaxon-rules/ && index(block, "klaxon_self: \"true\"") == 0) { printf "%s: %s lacks klaxon_self: \"true\"\n", file, name; bad = 1 }
      if (block !~ /priority: P[0-3]/) { printf "%s: %s has no priority P0..P3\n", file, name; bad = 1 }
    }
    /^ *- alert:/ { check(); name = $3; block = ""; next }
    /^ *- name:/  { check(); name = ""; block = ""; next }
    { block = block "\n" $0 }
    END { check(); exit bad }
  ' "$f"
done
echo "  SUCCESS"

step "amtool check-config deploy/alertmanager.yml"
amtool check-config deploy/alertmanager.yml

step "amtool config routes test: self-alerts go to the fallback, everything else to Klaxon"
route() {
  local want=$1; shift
  local got
  got=$(amtool config routes test --config.file=deploy/alertmanager.yml "$@" 2>/dev/null)
  if [[ $got != "$want" ]]; then
    echo "  FAIL: {$*} routes to '$got', want '$want'" >&2
    return 1
  fi
  echo "  {$*} -> $got"
}
route klaxon-fallback alertname=KlaxonDown klaxon_self=true priority=P0 service=klaxon
route klaxon          alertname=ServiceDown priority=P0 severity=critical service=game
route klaxon          alertname=PlayersOnlineLow priority=P3 severity=info service=game
route klaxon          alertname=External severity=warning
route klaxon          alertname=Watchdog priority=P3 severity=none service=monitoring-pipeline

step "amtool check-config on deploy/kubernetes/optional/alertmanager.yaml (the webhook token from a mounted Secret)"
amtmp=$(mktemp -d)
awk '/^  alertmanager.yml: \|/ { on = 1; next } on && /^    / { print substr($0, 5); next } on && /^[^ ]/ { on = 0 }' \
  deploy/kubernetes/optional/alertmanager.yaml > "$amtmp/alertmanager.yml"
amtool check-config "$amtmp/alertmanager.yml"
# The file the receiver reads is the one the Secret is mounted as.
grep -q 'credentials_file: /etc/alertmanager/klaxon/token' "$amtmp/alertmanager.yml"
grep -q 'mountPath: /etc/alertmanager/klaxon ' deploy/kubernetes/optional/alertmanager.yaml
grep -q 'credentials_file' "$amtmp/alertmanager.yml" && ! grep -q 'credentials:' "$amtmp/alertmanager.yml" || { echo "  FAIL: the token must come from credentials_file, not inline"; exit 1; }
rm -rf "$amtmp"

# The ConfigMap's klaxon.yaml must satisfy Klaxon's strict config parser. Only
# once the binary exists (it is written concurrently); SKIP_KLAXON_CONFIG_CHECK=1
# skips it.
if [[ -d cmd/klaxon && ${SKIP_KLAXON_CONFIG_CHECK:-0} != 1 ]] && command -v go >/dev/null; then
  step "klaxon check-config on deploy/kubernetes/configmap.yaml's klaxon.yaml"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # Extract the block scalar under `klaxon.yaml: |` (indented 4 spaces).
  awk '/^  klaxon.yaml: \|/ { on = 1; next } on && /^    / { print substr($0, 5); next } on && /^[^ ]/ { on = 0 } on && /^$/ { print }' \
    deploy/kubernetes/configmap.yaml > "$tmp/klaxon.yaml"
  # A compile error is the Go build's business (main CI), not a deploy problem:
  # report it and skip; a config Klaxon rejects fails this check.
  if go build -o "$tmp/klaxon" ./cmd/klaxon 2>"$tmp/build.log"; then
    KLAXON_DISCORD_TOKEN=check-deploy-dummy KLAXON_WEBHOOK_TOKEN=check-deploy-dummy KLAXON_DB="$tmp/klaxon.db" \
      "$tmp/klaxon" check-config --config "$tmp/klaxon.yaml"
  else
    echo "  FAILED: ./cmd/klaxon does not build:"
    sed 's/^/    /' "$tmp/build.log" | head -n 5
    exit 1
  fi
fi

printf '\ncheck-deploy: all checks passed\n'
