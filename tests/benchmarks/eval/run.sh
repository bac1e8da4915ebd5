#!/usr/bin/env bash
# The evaluation table of docs/eval/models.md: for each model and each BEIR set in ../shared/datasets, lexical, dense,
# default hybrid and tuned hybrid (nDCG@10 / Recall@100), plus the two-fold check of the fusion tuner.
#   tests/benchmarks/eval/run.sh                          # all models, all sets
#   MODELS="arctic-embed-xs" SETS="scifact nfcorpus" tests/benchmarks/eval/run.sh
#   OUT=/tmp/eval-runs tests/benchmarks/eval/run.sh       # where the JSON results go (default: a temporary folder)
# Tuned hybrid: SciFact and NFCorpus tune on their train split and score every test query; Cranfield and MEDLINE have
# no train split, so their tuned figure is the two-fold one — each half of the test queries scored by the setting
# tuned on the other half (--cross-check), averaged over the queries. Indexes are cached under SEMSEARCH_INDEXES (per
# corpus, model and settings), so a second run only queries.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="$repo/../shared/datasets"
models="${MODELS:-arctic-embed-xs all-MiniLM-L6-v2 use-lite}"
sets="${SETS:-scifact nfcorpus cranfield medline}"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
semsearch="$repo/semsearch"

for model in $models; do
  for set in $sets; do
    echo "== $model $set" >&2
    case "$set" in
      scifact|nfcorpus)
        "$semsearch" eval "$data/$set" --mode all --model "$model" --tune-fusion --json "$out/$model-$set.json" >&2
        ;;
      *)
        "$semsearch" eval "$data/$set" --mode all --model "$model" --json "$out/$model-$set.json" >&2
        ;;
    esac
    "$semsearch" eval "$data/$set" --model "$model" --cross-check --json "$out/$model-$set-folds.json" >&2
  done
done
python3 "$here/table.py" "$out" $models -- $sets
