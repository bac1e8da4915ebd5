// Times the parts of a query in-process over one index: the query embedding, each retriever at the depth hybrid
// search uses, and whole searches. Used to find where a hybrid query's time goes (docs/benchmarks/api.md).
//
//   dotnet run --project tests/benchmarks/search-parts -c Release -- <index-dir> <queries.jsonl> [count]
//   e.g. an eval index: indexes/eval-scifact-<key> (built by `semsearch eval ../shared/datasets/scifact --model use-lite`)
using System.Diagnostics;
using System.Text.Json;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;

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
