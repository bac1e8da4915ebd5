#!/usr/bin/env bash
# Compares use-lite throughput, same run, same 1,000 SciFact abstracts:
#   (a) our C# encoder (ONNX Runtime on the converted model), (b) the TF.js reference runtime in Node,
#   (c) onnxruntime-node on the very same converted model.onnx.
# Usage: tests/benchmarks/use-lite/compare.sh [count=1000] [repeats=3]
# Needs: dotnet, node + npm (packages come from the npm registry), ../shared/datasets/scifact/corpus.jsonl.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
corpus="${SCIFACT_CORPUS:-$repo/../shared/datasets/scifact/corpus.jsonl}"
count="${1:-1000}"
repeats="${2:-3}"

( cd "$here" && npm install --no-audit --no-fund --silent )
dotnet build -c Release "$repo/tests/SemanticSearch.UseLite.Benchmarks" -v quiet -nologo >/dev/null
bench_dll="$repo/tests/SemanticSearch.UseLite.Benchmarks/bin/Release/net10.0/SemanticSearch.UseLite.Benchmarks.dll"

echo "# machine: $(nproc) cores; $(lscpu | sed -n 's/^Model name: *//p')"
echo "# date: $(date -u +%Y-%m-%dT%H:%MZ); count=$count repeats=$repeats"
csharp="$(dotnet "$bench_dll" "$corpus" "$count" "$repeats")"
echo "$csharp"
model="$(echo "$csharp" | tail -1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).modelPath))')"
( cd "$here" && node bench.js ort "$corpus" "$model" "$count" "$repeats" )
( cd "$here" && node bench.js tfjs "$corpus" "$count" "$repeats" )
