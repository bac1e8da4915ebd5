#!/usr/bin/env bash
# API benchmark: indexes SciFact through POST /indexes/{name}/documents, then measures single-client search latency
# per mode (p50/p95/p99, first request excluded) and throughput under load with wrk (2 threads, 8 connections, 30 s).
# Results go to stdout; docs/benchmarks/api.md records a run.
#   tests/benchmarks/api/run.sh                      # builds the CLI in Release, serves on 127.0.0.1:5181
#   SEMSEARCH_BIN=/path/to/semsearch tests/benchmarks/api/run.sh   # use a prebuilt semsearch
#   DURATION=30s CONNECTIONS=8 PORT=5181 ...
# Run under the shared lock so benchmarks never overlap: flock /tmp/semsearch-bench.lock tests/benchmarks/api/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="$repo/../shared/datasets/scifact"
port="${PORT:-5181}"
base="http://127.0.0.1:$port"

[ -f "$data/corpus.jsonl" ] || { echo "SciFact not found at $data" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi

work="$(mktemp -d)"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

bin="${SEMSEARCH_BIN:-}"
if [ -z "$bin" ]; then
  dotnet build "$repo/src/SemanticSearch.Cli" -c Release -o "$work/bin" --nologo -v q >/dev/null
  bin="$work/bin/semsearch"
fi

echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ)"
SEMSEARCH_INDEXES="$work/indexes" "$bin" serve --urls "$base" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/health" >/dev/null || { cat "$work/serve.log"; exit 1; }

echo "== load"
node "$here/load-scifact.mjs" "$base" "$data/corpus.jsonl" scifact 500
curl -fs "$base/indexes/scifact" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(`index: ${j.documents} documents, ${j.chunks} chunks, modes ${j.modes.join("/")}`)})'

echo "== single-client latency (all $(wc -l <"$data/queries.jsonl") SciFact queries per mode, k=10)"
node "$here/latency.mjs" "$base" scifact "$data/queries.jsonl" "$work/bodies.txt" 10

for mode in hybrid lexical; do
  sed "s/\"mode\":\"lexical\"/\"mode\":\"$mode\"/" "$work/bodies.txt" > "$work/bodies-$mode.txt"
  echo "== wrk -t2 -c${CONNECTIONS:-8} -d${DURATION:-30s} ($mode bodies)"
  wrk -t2 -c"${CONNECTIONS:-8}" -d"${DURATION:-30s}" --latency -s "$here/search.lua" "$base/indexes/scifact/search" -- "$work/bodies-$mode.txt"
done
