#!/usr/bin/env bash
# Lock-race harness (issue 15, finding 1): a write.lock left by a dead process, then two or three 'semsearch index'
# jobs started at the same moment on a copy of an index. A round fails when more than one job reports that it wrote
# (exit 0 or 2), or when 'verify' afterwards finds the index damaged.
#
#   tests/reliability/lock-race.sh [ROUNDS=50] [WRITERS=2,3]
#   env: WORK (scratch folder), DOCS (corpus size, default 300)
set -euo pipefail
ROUNDS=${1:-50}
WRITERS=${2:-2,3}
DOCS=${DOCS:-300}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/semsearch-race.XXXXXX)}
export SEMSEARCH_INDEXES="$WORK/indexes" NO_COLOR=1 SEMSEARCH_OFFLINE=1
IFS=, read -r -a COUNTS <<< "$WRITERS"

dotnet build "$ROOT/src/SemanticSearch.Cli" -c Release -v q -nologo >/dev/null
# run a private copy of the build, so a rebuild in the checkout meanwhile cannot change the program mid-run
mkdir -p "$WORK/bin" && cp -r "$ROOT/src/SemanticSearch.Cli/bin/Release/net10.0/." "$WORK/bin/"
CLI="dotnet $WORK/bin/semsearch.dll"

mkdir -p "$WORK/base" "$WORK/more"
awk -v n="$DOCS" -v out="$WORK" 'BEGIN {
  split("river mountain honey engine signal garden protein harbour violin glacier lantern orbit copper meadow circuit falcon pepper canyon ledger quartz", w, " ")
  srand(15)
  for (i = 0; i < n; i++) {
    f = sprintf("%s/%s/note%05d.txt", out, (i < n / 2 ? "base" : "more"), i)
    printf "Note %d %s\n\n", i, w[1 + i % 20] > f
    for (k = 0; k < 60; k++) printf "%s ", w[1 + int(rand() * 20)] > f
    printf "\n" > f; close(f)
  }
}'
# the index every round starts from: the first half of the corpus; each job then indexes both halves
$CLI index "$WORK/base" --index seed --model none --commit-every 25 >/dev/null
mkdir -p "$WORK/all"; cp "$WORK/base"/* "$WORK/more"/* "$WORK/all/"

let_through=0; damaged=0; rounds=0; refused_ok=0; none_wrote=0
for ((r = 1; r <= ROUNDS; r++)); do
  n=${COUNTS[$(( (r - 1) % ${#COUNTS[@]} ))]}
  idx="$SEMSEARCH_INDEXES/race$r"
  rm -rf "$idx"; cp -r "$SEMSEARCH_INDEXES/seed" "$idx"
  printf '{"pid":999999,"host":"%s","processStartUtc":"2020-01-01T00:00:00Z","acquiredUtc":"2020-01-01T00:00:00Z"}' "$(hostname)" > "$idx/write.lock"
  pids=()
  for ((j = 0; j < n; j++)); do
    $CLI index "$WORK/all" --index "race$r" --commit-every 25 >"$WORK/out.$j" 2>"$WORK/err.$j" &
    pids+=($!)
  done
  wrote=0; codes=""
  for ((j = 0; j < n; j++)); do
    set +e; wait "${pids[$j]}"; rc=$?; set -e
    codes="$codes $rc"
    if [ "$rc" = 0 ] || [ "$rc" = 2 ]; then wrote=$((wrote + 1)); elif grep -q "locked\|being written" "$WORK/err.$j"; then refused_ok=$((refused_ok + 1)); fi
  done
  rounds=$((rounds + 1))
  verdict=""
  if [ "$wrote" -gt 1 ]; then let_through=$((let_through + 1)); verdict="TWO WRITERS"; fi
  if ! $CLI verify --index "race$r" >"$WORK/verify.out" 2>&1; then damaged=$((damaged + 1)); verdict="$verdict DAMAGED: $(head -c 300 "$WORK/verify.out" | tr '\n' ' ')"; fi
  docs=$($CLI stats --index "race$r" --json 2>"$WORK/stats.err" | sed -n 's/^  "documents": \([0-9]*\),*/\1/p' || true)
  if [ "$docs" != "$DOCS" ]; then
    verdict="$verdict documents=${docs:-unreadable: $(head -c 200 "$WORK/stats.err")}"
    if [ "$wrote" = 0 ]; then none_wrote=$((none_wrote + 1)); fi
  fi
  echo "round $r: $n writers, exit codes$codes, $wrote wrote: ${verdict:-ok}"
  rm -rf "$idx"
done
echo "rounds: $rounds; rounds with two writers through: $let_through; damaged after: $damaged; rounds where no job finished the index: $none_wrote; losers refused with a lock message: $refused_ok"
[ "$let_through" = 0 ] && [ "$damaged" = 0 ] && [ "$none_wrote" = 0 ]
