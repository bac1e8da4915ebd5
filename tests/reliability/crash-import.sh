#!/usr/bin/env bash
# Crash harness for bulk import (issue 20): 'semsearch import' of N documents with precomputed vectors is SIGKILLed at
# random moments; after each kill the index must open for search, a writer's reopen must need no repair, the stores
# must verify clean and the committed document count must never decrease. Finally the import is run to its end and
# must hold every document exactly once (N documents, verify clean), and each of a sample of documents must be found
# first by its own vector, as in a clean import of the same file.
#
#   tests/reliability/crash-import.sh [DOCS=100000] [KILLS=20]
#   env: WORK (scratch folder), SEED, MODEL (a 384-d model id, default arctic-embed-xs: its vectors are given, the
#        model only checks the dimension and embeds queries), COMMIT (documents a commit, default 2000)
set -euo pipefail
DOCS=${1:-100000}
KILLS=${2:-20}
SEED=${SEED:-7}
MODEL=${MODEL:-arctic-embed-xs}
COMMIT=${COMMIT:-2000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/semsearch-crash-import.XXXXXX)}
mkdir -p "$WORK"
export SEMSEARCH_INDEXES="$WORK/indexes" NO_COLOR=1
RANDOM=$SEED

dotnet build "$ROOT/src/SemanticSearch.Cli" -c Release -v q -nologo >/dev/null
CLI="dotnet $ROOT/src/SemanticSearch.Cli/bin/Release/net10.0/semsearch.dll"

# one document a line: a seeded draw of words and a seeded 384-d vector (uniform components; the engine normalises)
echo "corpus: $DOCS documents with vectors in $WORK/docs.jsonl; kills: $KILLS"
awk -v n="$DOCS" -v seed="$SEED" 'BEGIN {
  split("river mountain honey engine signal garden protein harbour violin glacier lantern orbit copper meadow circuit falcon pepper canyon ledger quartz turbine willow compass bakery thunder saddle vaccine pixel marble ember", w, " "); nw = length(w)
  srand(seed)
  for (i = 0; i < n; i++) {
    t = ""; for (k = 0; k < 30; k++) t = t w[1 + int(rand() * nw)] " "
    v = ""; for (d = 0; d < 384; d++) v = v (d ? "," : "") sprintf("%.5f", rand() * 2 - 1)
    printf "{\"id\":\"doc%06d\",\"title\":\"Note %d\",\"text\":\"%s\",\"metadata\":{\"bucket\":\"%d\"},\"vector\":[%s]}\n", i, i, t, i % 10, v
  }
}' > "$WORK/docs.jsonl"

ARGS=(--model "$MODEL" --commit-every "$COMMIT" --commit-interval 2)
start=$(date +%s.%N)
$CLI import "$WORK/docs.jsonl" --index clean "${ARGS[@]}" >/dev/null 2>&1
clean_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
# a resumed import first reads past what is committed (every line unchanged): timed here on the complete clean
# index, so each kill's moment can be set after the point its run resumes from
start=$(date +%s.%N)
$CLI import "$WORK/docs.jsonl" --index clean "${ARGS[@]}" >/dev/null 2>&1
skip_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "clean import: ${clean_s} s; a re-run over it, every document unchanged: ${skip_s} s"

docs() { $CLI stats --index crash --json | sed -n 's/^  "documents": \([0-9]*\),*/\1/p'; }
query_of() { sed -n "$(( $1 + 1 ))p" "$WORK/docs.jsonl" | sed 's/.*"vector":\(\[[^]]*\]\).*/\1/' > "$WORK/q.json"; }
query_of 0
last=0; passed=0
for ((k = 1; k <= KILLS; k++)); do
  $CLI import "$WORK/docs.jsonl" --index crash "${ARGS[@]}" >/dev/null 2>&1 &
  pid=$!
  # a random moment after start-up and after the run has read past the committed documents, spread so that the
  # kills together cover about 3/4 of a clean import (the later kills land in a writer holding most of the corpus)
  delay=$(awk -v r=$RANDOM -v c="$clean_s" -v k="$KILLS" -v s="$skip_s" -v done="$last" -v n="$DOCS" \
    'BEGIN { printf "%.2f", 1.0 + s * done / n + (r / 32767) * 1.5 * c / k }')
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -f "$SEMSEARCH_INDEXES/crash/manifest.json" ] || { echo "kill $k at ${delay}s: before the index existed"; passed=$((passed + 1)); continue; }
  ok=1
  $CLI search --vector-file "$WORK/q.json" --index crash --mode dense --json -k 10 >/dev/null || { echo "kill $k: read-only search failed"; ok=0; }
  rep=$($CLI repair --index crash --model "$MODEL" 2>&1) || { echo "kill $k: reopen/repair failed: $rep"; ok=0; }
  case "$rep" in *"nothing to rebuild"*) ;; *) echo "kill $k: a store had to be rebuilt: $rep"; ok=0;; esac
  $CLI verify --index crash >/dev/null || { echo "kill $k: verify found problems"; $CLI verify --index crash || true; ok=0; }
  n=$(docs)
  if [ "$n" -lt "$last" ]; then echo "kill $k: documents decreased $last -> $n"; ok=0; fi
  last=$n
  echo "kill $k at ${delay}s: $n documents committed, $([ $ok = 1 ] && echo ok || echo FAILED)"
  [ $ok = 1 ] && passed=$((passed + 1))
done

$CLI import "$WORK/docs.jsonl" --index crash "${ARGS[@]}" >/dev/null 2>&1
final_ok=1
$CLI verify --index crash >/dev/null || { echo "final: verify found problems"; final_ok=0; }
n=$(docs)
[ "$n" = "$DOCS" ] || { echo "final: $n documents, expected $DOCS"; final_ok=0; }
for i in 0 1 $((DOCS / 3)) $((DOCS / 2)) $((DOCS - 1)); do
  query_of "$i"
  want=$(printf 'doc%06d' "$i")
  for index in clean crash; do
    got=$($CLI search --vector-file "$WORK/q.json" --index "$index" --mode dense -k 1 --json | sed -n 's/.*"docId": "\([^"]*\)".*/\1/p' | head -1)
    [ "$got" = "$want" ] || { echo "final: $index finds '$got' first for the vector of $want"; final_ok=0; }
  done
done
echo "vector files: $(ls "$SEMSEARCH_INDEXES/crash" | grep '^vectors' | tr '\n' ' ')"
echo "kills passed: $passed/$KILLS, final index complete and consistent: $([ $final_ok = 1 ] && echo yes || echo NO)"
[ "$passed" = "$KILLS" ] && [ $final_ok = 1 ]
