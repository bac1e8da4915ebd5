#!/usr/bin/env bash
# Side-by-side HNSW comparison: our index vs hnswlib (Debian's Python module, and the same C++ compiled with
# -march=native) vs faiss IndexHNSWFlat, same vectors, same parameters
# (M=16, efConstruction=200, k=10), same thread counts, in one run. Writes docs/benchmarks/vector-index.md.
#
#   tests/benchmarks/hnsw/compare.sh                 # 100k x 384 clustered vectors, 1k queries
#   tests/benchmarks/hnsw/compare.sh --n 20000       # smaller run on a busy machine
#   (any option of compare.py passes through: --dims --queries --ef --build-threads --search-threads --out)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

# The peers come from Debian packages; the Debian python3 is used on purpose (a pyenv python would not see them).
if ! /usr/bin/python3 -c 'import numpy, hnswlib, faiss' 2>/dev/null; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-hnswlib python3-faiss python3-numpy
fi

# The same hnswlib compiled here for this CPU (-march=native: AVX-512 distance kernels), from Debian's header-only package.
if [ ! -f /usr/include/hnswlib/hnswlib.h ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libhnswlib-dev g++
fi
native="${TMPDIR:-/tmp}/semsearch-hnswlib-native"
g++ -O3 -march=native -std=c++17 -pthread -o "$native" "$here/hnswlib_native.cpp"

dotnet build -c Release "$repo/tests/SemanticSearch.VectorIndex.Benchmarks" -v q -nologo
ours="$repo/tests/SemanticSearch.VectorIndex.Benchmarks/bin/Release/net10.0/SemanticSearch.VectorIndex.Benchmarks.dll"

# One benchmark at a time on this shared machine.
export OMP_WAIT_POLICY=PASSIVE
exec flock /tmp/semsearch-bench.lock /usr/bin/python3 "$here/compare.py" --ours "$ours" --native "$native" \
  --out "$repo/docs/benchmarks/vector-index.md" --command "tests/benchmarks/hnsw/compare.sh $*" "$@"
