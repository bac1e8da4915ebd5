#!/usr/bin/env bash
# Issue #8, hostile input: generates the hostile corpus (the same generator the tests use, through the corpus test's
# SEMSEARCH_HOSTILE_CORPUS switch), runs the real `semsearch index` over it under /usr/bin/time -v, and reports the
# exit code, what was indexed and skipped, wall time and peak RSS (goal: under 1 GB for the whole corpus).
#
#   tests/reliability/hostile.sh            # default limits (the 200 MB file is skipped by size, unread)
#   MAX_FILE_MB=256 tests/reliability/hostile.sh   # raise the limit so the 200 MB file is read into memory too
#   MODEL=use-lite tests/reliability/hostile.sh    # embed as well (default: --model none, BM25 only)
#   BIG_TEXT_MB=50 tests/reliability/hostile.sh    # add a real (not sparse) text file of that size, at the default limit
#   BIG_HTML_MB=45 tests/reliability/hostile.sh    # add a flat HTML page of that size (paragraphs in divs)
#
# Linux only (symlinks, FIFOs, chmod 000, a non-UTF-8 file name). Everything lives under one temporary folder,
# removed at exit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
model=${MODEL:-none}
max_file_mb=${MAX_FILE_MB:-50}
work=$(mktemp -d "${TMPDIR:-/tmp}/semsearch-hostile.XXXXXX")
cleanup() {
    chmod -R u+rwX "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== build"
dotnet build tests/SemanticSearch.Cli.Tests -c Release -v quiet -nologo | tail -n 3

echo "== corpus -> $work/corpus"
SEMSEARCH_HOSTILE_CORPUS="$work/corpus" dotnet test tests/SemanticSearch.Cli.Tests -c Release --no-build -nologo \
    --filter "FullyQualifiedName~HostileCorpusTests.Write_HostileCorpus_EntriesExistAsDescribed" | tail -n 1
echo "files: $(find "$work/corpus" -mindepth 1 \( -type f -o -type l -o -type p \) | wc -l)," \
    "apparent size: $(du -sh --apparent-size "$work/corpus" | cut -f1), on disk: $(du -sh "$work/corpus" | cut -f1)"

if [ -n "${BIG_TEXT_MB:-}" ]; then
    # Twelve words a line from a fixed 5,000-word vocabulary: text the chunker and BM25 really have to process.
    python3 - "$work/corpus/big-text.txt" "$BIG_TEXT_MB" <<'PY'
import random, sys
random.seed(8)
words = ["".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(3, 9))) for _ in range(5000)]
limit, n = int(sys.argv[2]) * 1024 * 1024 - 200, 0
with open(sys.argv[1], "w") as f:
    while n < limit:
        line = " ".join(random.choice(words) for _ in range(12)) + "\n"
        f.write(line)
        n += len(line)
PY
    echo "added big-text.txt: $(du -h --apparent-size "$work/corpus/big-text.txt" | cut -f1)"
fi

if [ -n "${BIG_HTML_MB:-}" ]; then
    python3 - "$work/corpus/big-page.html" "$BIG_HTML_MB" <<'PY'
import random, sys
random.seed(9)
words = ["".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(3, 9))) for _ in range(5000)]
limit, n = int(sys.argv[2]) * 1024 * 1024 - 200, 0
with open(sys.argv[1], "w") as f:
    f.write("<html><head><title>Big page</title></head><body>")
    while n < limit:
        line = '<div class="c"><p>' + " ".join(random.choice(words) for _ in range(12)) + "</p><span>x</span></div>\n"
        f.write(line)
        n += len(line)
    f.write("</body></html>")
PY
    echo "added big-page.html: $(du -h --apparent-size "$work/corpus/big-page.html" | cut -f1)"
fi

semsearch="tests/SemanticSearch.Tests/bin/Release/net10.0/semsearch.dll"
run() {
    local label=$1
    echo "== $label: semsearch index --model $model --max-file-mb $max_file_mb"
    set +e
    SEMSEARCH_INDEXES="$work/indexes" NO_COLOR=1 /usr/bin/time -v -o "$work/time.txt" \
        dotnet "$semsearch" index "$work/corpus" --index hostile --model "$model" --max-file-mb "$max_file_mb" --json \
        > "$work/report.json" 2> "$work/stderr.txt"
    local rc=$?
    set -e
    echo "exit code: $rc (0 = all indexed, 2 = finished with skipped files)"
    python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"files seen {r['filesSeen']}, added {r['added']}, unchanged {r['unchanged']}, removed {r['removed']}, "
      f"chunks {r['chunksWritten']}, skipped {len(r['skipped'])}, job {r['elapsedSeconds']} s")
for s in r["skipped"]:
    print(f"  skipped {json.dumps(s['path'].rsplit('/', 1)[-1], ensure_ascii=False)}: {s['reason'][:110]}")
PY
    grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$work/time.txt" | sed 's/^\s*/  /'
    local kb
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    echo "peak RSS: $((kb / 1024)) MiB ($([ "$kb" -lt 1048576 ] && echo 'under' || echo 'OVER') the 1 GB goal)"
    [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
}

run "first run"
run "second run (must change nothing)"
