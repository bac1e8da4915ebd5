#!/usr/bin/env bash
# Packs every packable project (IsPackable=true: the libraries and the semsearch tool) into a local NuGet feed folder.
# Usage: tests/tools/pack-feed.sh <feed-dir> [version]      (version defaults to 0.1.0-local)
# Consumers point a NuGet.Config <add key="local" value="<feed-dir>" /> or `--add-source <feed-dir>` at the folder.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 <feed-dir> [version]" >&2
  exit 64
fi
here="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$1"
feed="$(cd "$1" && pwd)"
version="${2:-0.1.0-local}"
# One pack over the solution: NuGet skips the projects that are not packable (tests, benchmarks, tools).
dotnet pack "$here/SemanticSearch.sln" -c Release -o "$feed" -p:Version="$version" -v q --nologo
ls "$feed"/*."$version".nupkg
