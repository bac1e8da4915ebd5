#!/usr/bin/env bash
# Runs every test in the solution on a fresh machine: installs what the tests need first (the Node packages of the
# reference implementations the tests compare against), then builds and tests in Release.
# Ends with one line "N passed, N failed" and a non-zero exit when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's chromium for the search page's browser test (Playwright drives it; no browser download). Idempotent.
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo -n"; fi
  $sudo_cmd apt-get update -qq >/dev/null
  $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

# Node reference implementations used by tests (exact versions from their lock files).
find tests -name package-lock.json -not -path '*/node_modules/*' | while read -r lock; do
  (cd "$(dirname "$lock")" && npm ci --no-audit --no-fund --loglevel=error)
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# Build once (in parallel), then run the test projects one at a time: each already spreads its tests over every core,
# and a dozen test processes at once on a small machine only starve the timing-sensitive reliability tests.
dotnet build SemanticSearch.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
  dotnet test SemanticSearch.sln -c Release --nologo --no-build -m:1 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
set -e
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed"
exit "$status"
