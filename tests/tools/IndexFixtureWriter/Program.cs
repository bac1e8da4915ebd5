// Writes a frozen whole index (BM25 + vectors + metadata) over samples/docs with the seeded test encoder, and
// expected.json: the hits of a few lexical, dense and hybrid queries at freeze time. Run ONCE per format version;
// later builds must open and search what it wrote identically (tests/SemanticSearch.Engine.Tests/Engine/FrozenIndexTests.cs).
// Usage: dotnet run -c Release --project tests/tools/IndexFixtureWriter -- <target directory, which must not exist>
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Testing;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: IndexFixtureWriter <target directory>");
    return 2;
}
var target = Path.GetFullPath(args[0]);
if (Directory.Exists(target) || File.Exists(target))
{
    Console.Error.WriteLine($"{target} exists: a frozen fixture is never rewritten; write a new index-v<format> beside it.");
    return 1;
}

// 64-token chunks embedded as 32-token windows: several chunks per document and several windows per chunk, so the
// fixture pins the windowed vector ids (chunk id << 4 | window) as well as plain chunking.
var settings = new IndexSettings { Chunking = new ChunkingOptions(MaxTokens: 64, OverlapTokens: 8), WindowTokens = 32 };
(string Query, SearchMode Mode)[] queries =
[
    ("water temperature and time", SearchMode.Lexical),
    ("sourdough starter flour", SearchMode.Lexical),
    ("sun and moon during the eclipse", SearchMode.Lexical),
    ("how to bake bread at home", SearchMode.Dense),
    ("training for a long race", SearchMode.Dense),
    ("bees make honey in the hive", SearchMode.Hybrid),
    ("the moon blocks the sun", SearchMode.Hybrid),
];

using var encoder = TestModels.OpenStableTestBert();
using (var index = SemanticIndex.OpenOrCreate(target, settings, encoder))
{
    var report = new FolderIndexer(index, settings).Run(RepoPaths.SampleDocs);
    Console.WriteLine($"indexed {report}");
}

var results = new JsonArray();
using (var index = SemanticIndex.OpenReadOnly(target, _ => encoder))
{
    var searcher = new Searcher(index);
    foreach (var (query, mode) in queries)
    {
        var response = searcher.Search(new SearchRequest(query, K: 5, Mode: mode));
        var hits = new JsonArray();
        var rank = 0;
        foreach (var hit in response.Hits)
        {
            hits.Add(new JsonObject
            {
                ["rank"] = ++rank,
                ["docId"] = hit.DocId,
                ["chunkId"] = hit.ChunkId,
                ["score"] = Math.Round(hit.Score, 6),
            });
        }
        results.Add(new JsonObject { ["query"] = query, ["mode"] = mode.ToString().ToLowerInvariant(), ["k"] = 5, ["hits"] = hits });
    }

    var expected = new JsonObject
    {
        ["writtenUtc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["formats"] = new JsonObject
        {
            ["manifest"] = IndexManifest.CurrentFormatVersion,
            // the header version of vectors.<generation>.hnsw (VectorIndex IndexFile.CurrentVersion, internal there)
            ["vectorFile"] = 1,
        },
        ["settings"] = new JsonObject
        {
            ["chunkMaxTokens"] = settings.Chunking.MaxTokens,
            ["chunkOverlapTokens"] = settings.Chunking.OverlapTokens,
            ["windowTokens"] = settings.WindowTokens,
        },
        ["model"] = index.Manifest.Model!.ModelId,
        ["documents"] = index.Manifest.Counts.Documents,
        ["chunks"] = index.Manifest.Counts.Chunks,
        ["vectors"] = index.Manifest.Counts.Vectors,
        ["queries"] = results,
    };
    File.WriteAllText(Path.Combine(target, "expected.json"), expected.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}

var verify = IndexVerifier.Verify(target);
Console.WriteLine(verify.Clean ? "verify: clean" : "verify: " + string.Join("; ", verify.Problems.Select(p => p.Message)));
return verify.Clean ? 0 : 1;
