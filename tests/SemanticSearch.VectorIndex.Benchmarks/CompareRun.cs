// The comparison run: build our HNSW index on the given vectors with the given parameters and thread counts, then
// for each ef and thread count search all queries, and print build time, memory, QPS and recall@k as JSON. The
// peers (hnswlib, faiss) are run on the same files by tests/benchmarks/hnsw/compare.py.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.VectorIndex.Benchmarks;

internal static class CompareRun
{
    public static int Run(string[] args)
    {
        var options = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2) options[args[i].TrimStart('-')] = args[i + 1];
        string Get(string name, string fallback) => options.TryGetValue(name, out string? v) ? v : fallback;
        int[] Ints(string name, string fallback) => Get(name, fallback).Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        var (data, n, dims) = VectorFiles.Read<float>(Get("base", "base.fbin"));
        var (queries, nq, qdims) = VectorFiles.Read<float>(Get("queries", "queries.fbin"));
        var (truth, _, truthK) = VectorFiles.Read<int>(Get("truth", "truth.ibin"));
        if (qdims != dims) throw new InvalidOperationException("query and base dimensions differ");
        int m = Ints("m", "16")[0], efc = Ints("efc", "200")[0], k = Ints("k", "10")[0], repeats = Ints("repeats", "3")[0];
        int[] buildThreads = Ints("build-threads", "1,2"), searchThreads = Ints("search-threads", "1,2"), efs = Ints("ef", "16,32,64,128,256");
        long[] ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();

        var builds = new List<object>();
        HnswIndex? index = null;
        foreach (int threads in buildThreads)
        {
            index = null;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long rssBefore = Process.GetCurrentProcess().WorkingSet64;
            var sw = Stopwatch.StartNew();
            index = new HnswIndex(dims, new HnswParameters(M: m, EfConstruction: efc), initialCapacity: n);
            index.AddMany(ids, data, threads);
            sw.Stop();
            long rssAfter = Process.GetCurrentProcess().WorkingSet64;
            builds.Add(new { threads, seconds = sw.Elapsed.TotalSeconds, rss_delta_mb = (rssAfter - rssBefore) / 1048576.0, index_mb = index.MemoryBytes / 1048576.0 });
            Console.Error.WriteLine($"ours: built {n}x{dims} with {threads} thread(s) in {sw.Elapsed.TotalSeconds:F1}s");
        }
        if (index is null) throw new InvalidOperationException("no build-threads given");

        string? savePath = options.GetValueOrDefault("save");
        double? openSeconds = null;
        if (savePath is not null)
        {
            index.Save(savePath);
            var sw = Stopwatch.StartNew();
            index = HnswIndex.Open(savePath);
            openSeconds = sw.Elapsed.TotalSeconds;
            File.Delete(savePath);
        }

        var searches = new List<object>();
        foreach (int threads in searchThreads)
        {
            foreach (int ef in efs)
            {
                var results = new IReadOnlyList<VectorHit>[nq];
                HnswIndex idx = index;
                void Run(int q) => results[q] = idx.Search(queries.AsSpan(q * dims, dims), k, ef);
                for (int q = 0; q < Math.Min(nq, 200); q++) Run(q); // warm-up (JIT tiers, caches)
                double best = double.MaxValue;
                for (int r = 0; r < repeats; r++)
                {
                    var sw = Stopwatch.StartNew();
                    if (threads == 1)
                    {
                        for (int q = 0; q < nq; q++) Run(q);
                    }
                    else
                    {
                        Parallel.For(0, nq, new ParallelOptions { MaxDegreeOfParallelism = threads }, Run);
                    }
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                }
                double recall = 0;
                for (int q = 0; q < nq; q++)
                {
                    var want = new HashSet<long>();
                    for (int j = 0; j < k; j++) want.Add(truth[q * truthK + j]);
                    recall += results[q].Count(h => want.Contains(h.Id)) / (double)k;
                }
                searches.Add(new { threads, ef, qps = nq / best, recall = recall / nq });
                Console.Error.WriteLine($"ours: ef={ef} threads={threads} qps={nq / best:F0} recall={recall / nq:F4}");
            }
        }

        var report = new { library = "semsearch", runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, n, dims, m, efc, k, builds, open_seconds = openSeconds, searches };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }
}
