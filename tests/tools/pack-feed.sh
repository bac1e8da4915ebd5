#!/usr/bin/env bash
# Packs every packable project (IsPackable=true: the libraries and the semsearch tool) into a local NuGet feed folder.
# Usage: tests/tools/pack-feed.sh <feed-dir> [version]      (version defaults to 0.1.0-local)
# SOURCELINK=1 adds SourceLink (commit + origin URL in the .nuspec and PDBs); it needs a clone with a GitHub origin.
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
sourcelink=()
if [ "${SOURCELINK:-0}" = 1 ]; then sourcelink=(-p:SourceLink=true); fi
# Every src project whose own file says <IsPackable>true</IsPackable>: a new one is picked up without editing this.
mapfile -t projects < <(grep -l '<IsPackable>true</IsPackable>' "$here"/src/*/*.csproj | sort)
for project in "${projects[@]}"; do
  dotnet pack "$project" -c Release -o "$feed" -p:Version="$version" "${sourcelink[@]}" -v q --nologo
done
ls "$feed"/*."$version".nupkg
