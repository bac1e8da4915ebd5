"""Runs hnswlib, faiss IndexHNSWFlat and our HNSW index on the same clustered vectors and writes a Markdown report.

Data: n base + q query vectors drawn from the same clusters (fixed seed), L2-normalised, inner product (cosine);
exact top-k ground truth by numpy. Each library builds once per build-thread count; the last build is searched
with every ef and search-thread count. Memory: RSS growth of the process across the build (peers) and, for ours,
the same plus the index's own byte count.
"""
import argparse, datetime, json, os, platform, resource, subprocess, sys, time
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=100_000)
p.add_argument("--dims", type=int, default=384)
p.add_argument("--queries", type=int, default=1000)
p.add_argument("--clusters", type=int, default=1000)
p.add_argument("--spread", type=float, default=0.8)
p.add_argument("--m", type=int, default=16)
p.add_argument("--efc", type=int, default=200)
p.add_argument("--k", type=int, default=10)
p.add_argument("--ef", default="16,32,64,128,256")
p.add_argument("--build-threads", default="1,2")
p.add_argument("--search-threads", default="1,2")
p.add_argument("--faiss-build-threads", default="2", help="faiss builds are slow here; build it once by default")
p.add_argument("--repeats", type=int, default=3, help="search timings are the best of this many passes")
p.add_argument("--seed", type=int, default=42)
p.add_argument("--work", default="/tmp/semsearch-hnsw-bench")
p.add_argument("--ours", required=True)
p.add_argument("--native", default=None, help="hnswlib compiled with -march=native (hnswlib_native.cpp)")
p.add_argument("--out", required=True)
p.add_argument("--command", default="")
a = p.parse_args()
efs = [int(x) for x in a.ef.split(",")]
build_threads = [int(x) for x in a.build_threads.split(",")]
faiss_build_threads = [int(x) for x in a.faiss_build_threads.split(",")]
search_threads = [int(x) for x in a.search_threads.split(",")]
os.makedirs(a.work, exist_ok=True)

def log(*args):
    print(*args, file=sys.stderr, flush=True)

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0

# ---------------------------------------------------------------- data
rng = np.random.default_rng(a.seed)
centres = rng.standard_normal((a.clusters, a.dims)).astype(np.float32)
centres /= np.linalg.norm(centres, axis=1, keepdims=True)
total = a.n + a.queries
X = centres[rng.integers(0, a.clusters, total)] + (a.spread / np.sqrt(a.dims)) * rng.standard_normal((total, a.dims)).astype(np.float32)
X /= np.linalg.norm(X, axis=1, keepdims=True)
X = X.astype(np.float32)
base, queries = np.ascontiguousarray(X[: a.n]), np.ascontiguousarray(X[a.n:])
del X
truth = np.empty((a.queries, a.k), dtype=np.int32)
for s in range(0, a.queries, 100):
    sims = queries[s:s + 100] @ base.T
    part = np.argpartition(-sims, a.k, axis=1)[:, : a.k]
    order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
    truth[s:s + 100] = np.take_along_axis(part, order, axis=1)
log(f"data: {a.n} x {a.dims}, {a.queries} queries, truth computed")

def write_bin(path, arr):
    with open(path, "wb") as f:
        np.array(arr.shape, dtype=np.int32).tofile(f)
        arr.tofile(f)

paths = {name: os.path.join(a.work, name) for name in ("base.fbin", "queries.fbin", "truth.ibin")}
write_bin(paths["base.fbin"], base)
write_bin(paths["queries.fbin"], queries)
write_bin(paths["truth.ibin"], truth)

def recall_of(labels):
    return float(np.mean([len(set(labels[i][: a.k]) & set(truth[i])) / a.k for i in range(a.queries)]))

results = {}

# ---------------------------------------------------------------- hnswlib
import hnswlib
builds, searches, index = [], [], None
for t in build_threads:
    index = None
    r0 = rss_mb()
    start = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=a.dims)
    index.init_index(max_elements=a.n, ef_construction=a.efc, M=a.m, random_seed=a.seed)
    index.set_num_threads(t)
    index.add_items(base, np.arange(a.n))
    secs = time.perf_counter() - start
    builds.append({"threads": t, "seconds": secs, "rss_delta_mb": rss_mb() - r0})
    log(f"hnswlib: built with {t} thread(s) in {secs:.1f}s")
for t in search_threads:
    index.set_num_threads(t)
    for ef in efs:
        index.set_ef(ef)
        index.knn_query(queries[:200], k=a.k)
        secs = float("inf")
        for _ in range(a.repeats):
            start = time.perf_counter()
            labels, _ = index.knn_query(queries, k=a.k)
            secs = min(secs, time.perf_counter() - start)
        searches.append({"threads": t, "ef": ef, "qps": a.queries / secs, "recall": recall_of(labels)})
        log(f"hnswlib: ef={ef} threads={t} qps={a.queries / secs:.0f} recall={searches[-1]['recall']:.4f}")
results["hnswlib"] = {"builds": builds, "searches": searches}
del index

# ---------------------------------------------------------------- faiss
import faiss
builds, searches, index = [], [], None
for t in faiss_build_threads:
    index = None
    faiss.omp_set_num_threads(t)
    r0 = rss_mb()
    start = time.perf_counter()
    index = faiss.IndexHNSWFlat(a.dims, a.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = a.efc
    index.add(base)
    secs = time.perf_counter() - start
    builds.append({"threads": t, "seconds": secs, "rss_delta_mb": rss_mb() - r0})
    log(f"faiss: built with {t} thread(s) in {secs:.1f}s")
for t in search_threads:
    faiss.omp_set_num_threads(t)
    for ef in efs:
        index.hnsw.efSearch = ef
        index.search(queries[:200], a.k)
        secs = float("inf")
        for _ in range(a.repeats):
            start = time.perf_counter()
            _, labels = index.search(queries, a.k)
            secs = min(secs, time.perf_counter() - start)
        searches.append({"threads": t, "ef": ef, "qps": a.queries / secs, "recall": recall_of(labels)})
        log(f"faiss: ef={ef} threads={t} qps={a.queries / secs:.0f} recall={searches[-1]['recall']:.4f}")
results["faiss"] = {"builds": builds, "searches": searches}
del index

# ---------------------------------------------------------------- hnswlib, native build
if a.native:
    cmd = [a.native, "--base", paths["base.fbin"], "--queries", paths["queries.fbin"], "--truth", paths["truth.ibin"],
           "--m", str(a.m), "--efc", str(a.efc), "--k", str(a.k), "--ef", a.ef, "--build-threads", a.build_threads,
           "--search-threads", a.search_threads, "--repeats", str(a.repeats), "--seed", str(a.seed)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    results["native"] = json.loads(proc.stdout.strip().splitlines()[-1])

# ---------------------------------------------------------------- ours
cmd = ["dotnet", a.ours, "compare", "--base", paths["base.fbin"], "--queries", paths["queries.fbin"], "--truth", paths["truth.ibin"],
       "--m", str(a.m), "--efc", str(a.efc), "--k", str(a.k), "--ef", a.ef, "--build-threads", a.build_threads,
       "--search-threads", a.search_threads, "--repeats", str(a.repeats), "--save", os.path.join(a.work, "ours.ssv")]
proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
results["semsearch"] = json.loads(proc.stdout.strip().splitlines()[-1])

# ---------------------------------------------------------------- report
def lscpu_model():
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        return next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except Exception:
        return platform.processor()

libs = [("hnswlib", "hnswlib " + getattr(hnswlib, "__version__", "0.6.2 (Debian)")), ("faiss", "faiss " + faiss.__version__ + " IndexHNSWFlat"), ("semsearch", "SemanticSearch HnswIndex")]
if "native" in results:
    libs.insert(1, ("native", "hnswlib 0.6.2 C++ -O3 -march=native"))
peer = "native" if "native" in results else "hnswlib"
peer_name = "native hnswlib" if peer == "native" else "hnswlib"
def build_of(lib, t):
    return next(b for b in results[lib]["builds"] if b["threads"] == t)
def search_of(lib, t, ef):
    return next(s for s in results[lib]["searches"] if s["threads"] == t and s["ef"] == ef)

lines = []
w = lines.append
w("# Vector index benchmark: SemanticSearch HNSW vs hnswlib (Python module and native build) vs faiss")
w("")
w(f"Generated by `{a.command.strip()}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.")
w("")
w(f"- Machine: {lscpu_model()}, {os.cpu_count()} logical CPUs (`nproc`), Linux {platform.release()}. "
  "**Shared with other build/test jobs while measuring**, so absolute numbers are noisy; all three libraries ran in the same run, one after another.")
w(f"- Data: {a.n:,} x {a.dims} clustered vectors ({a.clusters} clusters, spread {a.spread}), L2-normalised, inner product; "
  f"{a.queries:,} held-out queries from the same clusters; exact top-{a.k} by numpy. Seed {a.seed}.")
w(f"- Search QPS is the best of {a.repeats} passes over all queries (after a warm-up); batch APIs for the peers "
  "(`knn_query`, `search`), a loop (1 thread) or `Parallel.For` (2 threads) over `Search` for ours. faiss is built once "
  f"({a.faiss_build_threads} thread(s)): its Debian build is far slower to build here.")
w(f"- Parameters: M={a.m} (2M on layer 0), efConstruction={a.efc}, k={a.k}. Peers: {libs[0][1]}, {libs[1][1]} (Debian packages).")
w(f"- Our index: {results['semsearch'].get('runtime', '.NET')} Release build, `SemanticSearch.VectorIndex.Benchmarks compare`; open of the saved file took "
  f"{results['semsearch']['open_seconds']:.3f} s." if results['semsearch'].get('open_seconds') is not None else "")
w("")
w("## Build")
w("")
w(f"| library | threads | build time (s) | vs {peer_name} | memory (RSS growth, MB) |")
w("|---|---:|---:|---:|---:|")
for lib, name in libs:
    for t in (faiss_build_threads if lib == "faiss" else build_threads):
        b = build_of(lib, t)
        ratio = b["seconds"] / build_of(peer, t)["seconds"]
        mem = f"{b['rss_delta_mb']:.0f}" + (f" (index {b['index_mb']:.0f})" if "index_mb" in b else "")
        w(f"| {name} | {t} | {b['seconds']:.1f} | {ratio:.2f}x | {mem} |")
w("")
w("## Search: QPS and recall@10")
w("")
w("| ef | threads | hnswlib (Python) QPS | recall | native hnswlib QPS | recall | faiss QPS | recall | ours QPS | recall | ours / native | ours / Python |")
w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for t in search_threads:
    for ef in efs:
        h, f, o = search_of("hnswlib", t, ef), search_of("faiss", t, ef), search_of("semsearch", t, ef)
        n = search_of("native", t, ef) if "native" in results else None
        nq = f"{n['qps']:.0f} | {n['recall']:.4f}" if n else "- | -"
        nr = f"{o['qps'] / n['qps']:.2f}x" if n else "-"
        w(f"| {ef} | {t} | {h['qps']:.0f} | {h['recall']:.4f} | {nq} | {f['qps']:.0f} | {f['recall']:.4f} | {o['qps']:.0f} | {o['recall']:.4f} | {nr} | {o['qps'] / h['qps']:.2f}x |")
w("")
w("## Against the goals")
w("")
for t in build_threads:
    ratio = build_of(peer, t)["seconds"] / build_of("semsearch", t)["seconds"]
    w(f"- Build, {t} thread(s): ours builds at {ratio:.2f}x the speed of {peer_name} (goal: at least 1.0x) - {'met' if ratio >= 1.0 else 'missed'}.")
for t in search_threads:
    def first_at(lib):
        ok = [s for s in results[lib]["searches"] if s["threads"] == t and s["recall"] >= 0.95]
        return min(ok, key=lambda s: s["ef"]) if ok else None
    h, o = first_at(peer), first_at("semsearch")
    if h and o:
        ratio = o["qps"] / h["qps"]
        w(f"- Search, {t} thread(s), lowest ef reaching recall@10 >= 0.95: {peer_name} ef={h['ef']} at {h['qps']:.0f} QPS, ours ef={o['ef']} "
          f"at {o['qps']:.0f} QPS = {ratio:.2f}x (goal: at least 1.0x) - {'met' if ratio >= 1.0 else 'missed'}.")
    else:
        w(f"- Search, {t} thread(s): recall@10 >= 0.95 not reached by {peer_name if not h else 'ours'} at the ef values tried.")
w("")
w("Caveats, read before quoting a ratio:")
w("")
w("- The Debian Python module of hnswlib targets baseline x86-64 and contains no AVX (ymm/zmm) instructions (`objdump -d`")
w("  of the .so), while .NET JIT-compiles our kernel with AVX-512 on this CPU; that flatters ours. The goals are therefore")
w("  set against the same hnswlib C++ compiled here with `-O3 -march=native` (tests/benchmarks/hnsw/hnswlib_native.cpp),")
w("  whose inner-product kernel uses AVX-512. faiss is Debian's baseline build too.")
w("- The libraries run one after another, and the machine's load from other jobs changes between them; a 2-thread")
w("  run slower than the 1-thread run of the same library shows where the second core was busy.")
w("")
w("The real set (SciFact corpus embedded with the default model) is not measured yet: this script has no loader for")
w("vectors the engine produced (an eval index keeps them in its vectors.hnsw); that loader is the missing piece.")
w("")
w("Raw results (JSON):")
w("")
w("```json")
w(json.dumps(results, indent=1))
w("```")
os.makedirs(os.path.dirname(a.out), exist_ok=True)
marker = "<!-- kept across reruns of compare.sh -->"
kept = ""
if os.path.exists(a.out):
    with open(a.out) as f:
        old = f.read()
    if marker in old:
        kept = "\n" + old[old.index(marker):]
with open(a.out, "w") as f:
    f.write("\n".join(lines) + "\n" + kept)
log(f"wrote {a.out}")
