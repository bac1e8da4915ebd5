#!/usr/bin/env bash
# Lexical (BM25-only, --model none) indexing throughput: writes N small text files (SciFact abstracts, one per file, default 5,000) into a temp
# folder, builds semsearch in Release, and times `semsearch index` on a fresh index, then again (unchanged re-run).
# Usage: tests/benchmarks/lexical/index-folder.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../../.."
n=${1:-5000}
corpus=../shared/datasets/scifact/corpus.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$corpus" "$work/docs" "$n" <<'PY'
import json, os, sys
corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out)
with open(corpus) as f:
    for i, line in enumerate(f):
        if i >= n: break
        d = json.loads(line)
        sub = os.path.join(out, f"d{i // 500:02d}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"{d['_id']}.txt"), "w") as g:
            g.write(d["title"] + "\n\n" + d["text"])
PY
dotnet build src/SemanticSearch.Cli -c Release -v q -nologo >/dev/null
bin=src/SemanticSearch.Cli/bin/Release/net10.0/semsearch.dll
export SEMSEARCH_INDEXES="$work/indexes"
echo "files: $(find "$work/docs" -type f | wc -l), bytes: $(du -sb "$work/docs" | cut -f1)"
/usr/bin/time -f "fresh index: %e s wall, %M KB max RSS" dotnet "$bin" index "$work/docs" --index bench --model none 2>&1 >/dev/null | grep -v '^indexing'
/usr/bin/time -f "unchanged re-run: %e s wall, %M KB max RSS" dotnet "$bin" index "$work/docs" --index bench --model none 2>&1 >/dev/null | grep -v '^indexing'
dotnet "$bin" stats --index bench | sed -n '2,4p'
