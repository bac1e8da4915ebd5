#!/usr/bin/env bash
# Engine lexical retrieval ('semsearch eval --mode lexical --model none', full sets) against an independent
# whole-document BM25 (WholeDocumentBm25.cs) on every set in ../shared/datasets. Prints a Markdown table; exits
# non-zero when any nDCG@10 differs by more than 0.002. Results: docs/eval/lexical-faithfulness.md.
# Usage: tests/reference/lexical-bm25/run.sh [sets...]   (default: scifact nfcorpus cranfield medline)
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@")
if [ ${#sets[@]} -eq 0 ]; then sets=(scifact nfcorpus cranfield medline); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pairs=()
for s in "${sets[@]}"; do
  SEMSEARCH_INDEXES="$work/indexes" ./semsearch eval "../shared/datasets/$s" --mode lexical --model none \
    --json "$work/$s.json" --run-dir "$work/runs" >/dev/null
  pairs+=("../shared/datasets/$s" "$work/runs/$s-lexical.trec")
done
dotnet run -c Release --project tests/reference/lexical-bm25 -- "${pairs[@]}"
