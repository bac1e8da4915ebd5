// Times the parts of a query in-process over one index: the query embedding, each retriever at the depth hybrid
// search uses, and whole searches. Used to find where a hybrid query's time goes (docs/benchmarks/api.md).
//
//   dotnet run --project tests/benchmarks/search-parts -c Release -- <index-dir> <queries.jsonl> [count]
//   e.g. an eval index: indexes/eval-scifact-<key> (built by `semsearch eval ../shared/datasets/scifact --model use-lite`)
//
// Latency of whole hybrid searches, single client, arms interleaved query by query (so a machine that speeds up or
// slows down over the run does so for every arm alike), each arm an index and optionally the spaces it queries:
//   dotnet run --project tests/benchmarks/search-parts -c Release -- --latency <queries.jsonl> <index-dir>[:space,space] ...
// prints p50/p95/p99 per arm, its ratio to the first arm, and the working set each index added when it was opened.
using System.Diagnostics;
using System.Text.Json;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;

if (args.Length >= 3 && args[0] == "--latency")
{
    return Latency.Run(args[1], args[2..]);
}
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: search-parts <index-dir> <queries.jsonl> [count]");
    return 2;
}
var count = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 300;
var queries = File.ReadLines(args[1]).Where(l => l.Length > 0)
    .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).Take(count).ToList();
var resolver = new ModelResolver();
using var index = SemanticIndex.OpenReadOnly(args[0], info => resolver.Open(info.ModelId)!);
var encoder = index.Encoder!;
var searcher = new Searcher(index);
var depth = index.Manifest.Fusion?.Depth ?? 100;
Console.WriteLine($"{args[0]}: {index.Manifest.Counts.Documents:N0} documents, {index.Manifest.Counts.Vectors:N0} vectors, model {encoder.Info.ModelId}, {queries.Count} queries, {Environment.ProcessorCount} cores");

void Time(string name, Action<string> run)
{
    foreach (var q in queries.Take(20))
    {
        run(q); // warm-up
    }
    var clock = Stopwatch.StartNew();
    foreach (var q in queries)
    {
        run(q);
    }
    Console.WriteLine($"{name,-36} {clock.Elapsed.TotalMilliseconds / queries.Count,8:F2} ms/query");
}

var vector = new float[encoder.Info.Dimensions];
Time("embed query", q => encoder.Encode([q], TextRole.Query, vector));
Time($"lexical documents, depth {depth}", q => searcher.RankDocuments(q, SearchMode.Lexical, depth));
Time($"dense documents, depth {depth}", q => searcher.RankDocuments(q, SearchMode.Dense, depth));
Time("search lexical, k 10", q => searcher.Search(new SearchRequest(q, 10, Mode: SearchMode.Lexical)));
Time("search dense, k 10", q => searcher.Search(new SearchRequest(q, 10, Mode: SearchMode.Dense)));
Time("search hybrid, k 10 (index fusion)", q => searcher.Search(new SearchRequest(q, 10, Mode: SearchMode.Hybrid)));
return 0;

internal static class Latency
{
    public static int Run(string queriesPath, string[] arms)
    {
        var queries = File.ReadLines(queriesPath).Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToList();
        var resolver = new ModelResolver();
        var encoders = new Dictionary<string, ITextEncoder>(StringComparer.Ordinal);
        var opened = new List<(string Label, Searcher Searcher, IReadOnlyList<string>? Spaces, long Bytes)>();
        foreach (var arm in arms)
        {
            var colon = arm.LastIndexOf(':');
            var (dir, spaces) = colon > 0 ? (arm[..colon], (IReadOnlyList<string>?)arm[(colon + 1)..].Split(',')) : (arm, null);
            GC.Collect();
            var before = Environment.WorkingSet;
            var index = SemanticIndex.OpenReadOnly(dir, info =>
            {
                var key = info.ModelId + "@" + info.Revision;
                if (!encoders.TryGetValue(key, out var e))
                {
                    encoders[key] = e = resolver.OpenRecorded(info)!;
                }
                return e;
            });
            var searcher = new Searcher(index);
            searcher.Search(new SearchRequest(queries[0], 10, Mode: SearchMode.Hybrid, Spaces: spaces)); // load what a first query loads
            GC.Collect();
            var label = $"{Path.GetFileName(dir)} [{string.Join(",", spaces ?? index.Manifest.Spaces.Select(sp => sp.Name).ToList())}]";
            opened.Add((label, searcher, spaces, Environment.WorkingSet - before));
        }
        Console.WriteLine($"{queries.Count} queries, hybrid, k 10, each index's default fusion, arms interleaved, {Environment.ProcessorCount} cores");
        var times = opened.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < 2; round++)
        {
            foreach (var q in queries)
            {
                for (var i = 0; i < opened.Count; i++)
                {
                    var arm = opened[(i + round) % opened.Count]; // alternate which arm goes first
                    var clock = Stopwatch.StartNew();
                    arm.Searcher.Search(new SearchRequest(q, 10, Mode: SearchMode.Hybrid, Spaces: arm.Spaces));
                    if (round == 1)
                    {
                        times[(i + round) % opened.Count].Add(clock.Elapsed.TotalMilliseconds); // the first round warms up
                    }
                }
            }
        }
        double P(List<double> t, double p) => t.Order().ElementAt((int)Math.Min(t.Count - 1, Math.Ceiling(p * t.Count) - 1));
        var p50First = P(times[0], 0.5);
        for (var i = 0; i < opened.Count; i++)
        {
            var t = times[i];
            Console.WriteLine($"{opened[i].Label,-60} p50 {P(t, 0.5),7:F2} ms  p95 {P(t, 0.95),7:F2}  p99 {P(t, 0.99),7:F2}  mean {t.Average(),7:F2}  p50 ratio {P(t, 0.5) / p50First:F2}×  +{opened[i].Bytes / 1048576.0:F0} MiB at open");
        }
        return 0;
    }
}
