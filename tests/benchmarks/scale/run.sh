#!/usr/bin/env bash
# Scale benchmark (issue 20): N generated chunks with given 384-d vectors imported into one index, then what a search
# process meets at that size. Steps:
#   1. generate N documents + EXTRA more + QUERIES queries (ScaleBench generate: SciFact and NFCorpus sentences from
#      ../shared/datasets recombined, deterministic pseudo-vectors calibrated on arctic-embed-xs; see PseudoVectors.cs),
#      and check that the generator is deterministic (the first 200 documents made again, alone, are byte-identical);
#   2. bulk-import the N documents into a new index (model MODEL, its vectors as given: no document is embedded),
#      timed by /usr/bin/time -v (wall, max RSS);
#   3. import the EXTRA documents into the same index, timed likewise (the "commit of 1,000 more documents"; the
#      importer's own report gives the commit alone);
#   4. ScaleBench measure: open time, single-client p50/p99 of lexical, dense and hybrid queries (query vectors given,
#      so no encoder runs in them; the query embedding is timed apart), RSS, disk by store against the live data,
#      dense recall@10 against an exact brute force, and the index's own graph file searched at ef 16…512. Prints one
#      table, writes $WORK/result.json.
#
#   tests/benchmarks/scale/run.sh N
#   env: IMPORT (cli: `semsearch import <file> --index <name> --model MODEL --json`, the default; engine: the same
#        import through the engine API, `ScaleBench import`), MODEL (default arctic-embed-xs), EXTRA (default 1000),
#        QUERIES (default 300), SEED (default 42), WORK (scratch folder, default a new /tmp/semsearch-scale.XXXXXX;
#        the generated files are kept there and reused when N, EXTRA, QUERIES and SEED match), KEEP=0 (delete the
#        index and the generated files at the end)
set -euo pipefail
N=${1:?usage: tests/benchmarks/scale/run.sh N   (see the comment at the top)}
EXTRA=${EXTRA:-1000}
QUERIES=${QUERIES:-300}
SEED=${SEED:-42}
IMPORT=${IMPORT:-cli}
MODEL=${MODEL:-arctic-embed-xs}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/semsearch-scale.XXXXXX)}
DATASETS="$ROOT/../shared/datasets"
mkdir -p "$WORK"
export SEMSEARCH_INDEXES="$WORK/indexes" NO_COLOR=1
case "$IMPORT" in cli|engine) ;; *) echo "IMPORT must be cli or engine (got '$IMPORT')" >&2; exit 2 ;; esac

start=$(date +%s)
build() { dotnet build "$1" -c Release -v q -nologo > "$WORK/build.log" || { cat "$WORK/build.log" >&2; exit 1; }; }
build "$ROOT/tests/benchmarks/scale/ScaleBench"
BENCH=(dotnet "$ROOT/tests/benchmarks/scale/ScaleBench/bin/Release/net10.0/ScaleBench.dll")
if [ "$IMPORT" = cli ]; then
  build "$ROOT/src/SemanticSearch.Cli"
  CLI=(dotnet "$ROOT/src/SemanticSearch.Cli/bin/Release/net10.0/semsearch.dll")
fi

DATA="$WORK/data"
key="n=$N extra=$EXTRA queries=$QUERIES seed=$SEED"
if [ "$(cat "$DATA/key" 2>/dev/null || true)" != "$key" ]; then
  rm -rf "$DATA"
  "${BENCH[@]}" generate --datasets "$DATASETS" --out "$DATA" --n "$N" --extra "$EXTRA" --queries "$QUERIES" --seed "$SEED"
  echo "$key" > "$DATA/key"
fi
"${BENCH[@]}" generate --datasets "$DATASETS" --out "$WORK/check" --n 200 --extra 0 --queries 0 --seed "$SEED" 2>/dev/null
if ! cmp -s <(head -n 200 "$DATA/docs.jsonl") "$WORK/check/docs.jsonl"; then
  echo "the generator is not deterministic: the first 200 documents differ when made again" >&2
  exit 1
fi
rm -rf "$WORK/check"

INDEX=scale
rm -rf "${SEMSEARCH_INDEXES:?}/$INDEX"
import() { # file, name of the step
  if [ "$IMPORT" = cli ]; then
    /usr/bin/time -v -o "$WORK/$2.time" "${CLI[@]}" import "$1" --index "$INDEX" --model "$MODEL" --json > "$WORK/$2.out"
  else
    /usr/bin/time -v -o "$WORK/$2.time" "${BENCH[@]}" import "$1" --index-dir "$SEMSEARCH_INDEXES/$INDEX" --model "$MODEL" > "$WORK/$2.out"
  fi
  sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/$2.time" | sed "s/^/$2: /"
}
echo "importing $N documents ($IMPORT) into $SEMSEARCH_INDEXES/$INDEX"
import "$DATA/docs.jsonl" import
import "$DATA/extra.jsonl" commit
echo "measuring (offline: the model must come from the cache)"
SEMSEARCH_OFFLINE=1 "${BENCH[@]}" measure --index-dir "$SEMSEARCH_INDEXES/$INDEX" --docs "$DATA/docs.jsonl,$DATA/extra.jsonl" --queries "$DATA/queries.jsonl" \
  --out "$WORK/result.json" --import-report "$WORK/import.out" --import-time "$WORK/import.time" \
  --commit-report "$WORK/commit.out" --commit_1000-time "$WORK/commit.time"
echo "result: $WORK/result.json ($(( $(date +%s) - start )) s in all, import: $IMPORT)"
if [ "${KEEP:-1}" = 0 ]; then rm -rf "$SEMSEARCH_INDEXES" "$DATA"; fi
