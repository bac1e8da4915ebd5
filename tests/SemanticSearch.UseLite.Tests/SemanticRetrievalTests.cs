using System.Text.RegularExpressions;
using SemanticSearch.Core.Encoding;
using Xunit.Abstractions;

namespace SemanticSearch.UseLite.Tests;

[Collection(PulledModelCollection.Name)]
public sealed partial class SemanticRetrievalTests(PulledModelFixture model, ITestOutputHelper log)
{
    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    [Fact]
    public void Encode_QuerySharingNoWordWithItsDocument_RanksThatSampleDocumentFirst()
    {
        // samples/example-queries: this query shares no word with tide-pools.html. Each text sample is cut into
        // ~60-word windows (use-lite reads 128 tokens) and scored by its best window, as chunked search would.
        const string query = "little creatures living among seaside puddles after ebbing ocean";
        var docs = Directory.EnumerateFiles(Path.Combine(TestPaths.RepositoryRoot(), "samples", "docs"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".txt", StringComparison.Ordinal) || f.EndsWith(".md", StringComparison.Ordinal) || f.EndsWith(".html", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(docs, d => d.EndsWith("tide-pools.html", StringComparison.Ordinal));

        var windows = new List<(string Doc, string Text)>();
        foreach (var doc in docs)
        {
            var words = Tag().Replace(File.ReadAllText(doc), " ").Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < words.Length; i += 60)
            {
                windows.Add((Path.GetFileName(doc), string.Join(' ', words.Skip(i).Take(60))));
            }
        }

        using var encoder = UseLiteModel.OpenEncoder(model.ModelDirectory);
        var q = new float[512];
        encoder.Encode([query], TextRole.Query, q);
        var vectors = new float[windows.Count * 512];
        encoder.Encode(windows.Select(w => w.Text).ToList(), TextRole.Passage, vectors);
        var best = windows.Select((w, i) => (w.Doc, Score: BruteForce.Cosine(q, vectors.AsSpan(i * 512, 512))))
            .GroupBy(x => x.Doc).Select(g => (Doc: g.Key, Score: g.Max(x => x.Score))).OrderByDescending(x => x.Score).ToList();
        foreach (var (doc, score) in best) log.WriteLine($"{score:F4} {doc}");
        Assert.Equal("tide-pools.html", best[0].Doc);
    }
}
