#!/usr/bin/env bash
# Compares use-lite throughput, same run, same 1,000 SciFact abstracts:
#   (a) our C# encoder (ONNX Runtime on the converted model), (b) the TF.js reference runtime in Node,
#   (c) onnxruntime-node on the very same converted model.onnx.
# The three are interleaved round by round (a, c, b, a, c, b, ...) so that load from other jobs on a shared machine
# hits them alike; each process warms up on one batch before its timed pass.
# Usage: tests/benchmarks/use-lite/compare.sh [count=1000] [rounds=3]
# Needs: dotnet, node + npm (packages come from the npm registry), ../shared/datasets/scifact/corpus.jsonl.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
corpus="${SCIFACT_CORPUS:-$repo/../shared/datasets/scifact/corpus.jsonl}"
count="${1:-1000}"
rounds="${2:-3}"

( cd "$here" && npm install --no-audit --no-fund --silent )
dotnet build -c Release "$repo/tests/SemanticSearch.UseLite.Benchmarks" -v quiet -nologo >/dev/null
bench_dll="$repo/tests/SemanticSearch.UseLite.Benchmarks/bin/Release/net10.0/SemanticSearch.UseLite.Benchmarks.dll"

echo "# machine: $(nproc) cores; $(lscpu | sed -n 's/^Model name: *//p'); $(free -g | awk '/^Mem:/{print $2" GiB RAM"}')"
echo "# date: $(date -u +%Y-%m-%dT%H:%MZ); count=$count rounds=$rounds; dotnet $(dotnet --version); node $(node --version)"
for ((r = 1; r <= rounds; r++)); do
  csharp="$(dotnet "$bench_dll" "$corpus" "$count" 1)"
  echo "$csharp"
  model="$(echo "$csharp" | tail -1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).modelPath))')"
  ( cd "$here" && node bench.js ort "$corpus" "$model" "$count" 1 )
  ( cd "$here" && node bench.js tfjs "$corpus" "$count" 1 )
done
