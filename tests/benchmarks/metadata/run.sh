#!/usr/bin/env bash
# The metadata store at a million chunks: build, read-only open and page fetches, a writer's commit of 1,000 documents.
#   tests/benchmarks/metadata/run.sh <dir> [chunks=1000000]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$1"; chunks="${2:-1000000}"
dotnet build "$here/MetadataScale.csproj" -c Release -v q -nologo >/dev/null
exe="$here/bin/Release/net10.0/MetadataScale"
[ -f "$dir/metadata.db" ] || "$exe" build "$dir" "$chunks"
"$exe" read "$dir"
"$exe" commit "$dir"
"$exe" read "$dir"
