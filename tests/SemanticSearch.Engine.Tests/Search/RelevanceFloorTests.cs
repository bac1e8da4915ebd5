using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;
using static SemanticSearch.Tests.Search.DocumentBm25Tests;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// Hybrid's relevance floor against the rule worked out independently: BM25's matches, plus the documents whose dense
/// score reaches μ + c(N)·σ of the query's scores over the whole index (the index is small enough that the engine's
/// background sample is every vector), with c(N) the expected maximum of N standard normals.
/// </summary>
public sealed class RelevanceFloorTests
{
    private static readonly string[] Topics = ["tide pools and crabs", "bread and butter", "lighthouse keepers", "garden roses", "train timetables", "river otters", "mountain passes", "violin strings"];

    // 120 one-chunk documents; exactly one holds "quokka"
    private static SemanticIndex Build(string dir, ITextEncoder encoder)
    {
        var index = SemanticIndex.OpenOrCreate(dir, new(), encoder);
        index.BeginBatch();
        for (var i = 0; i < 120; i++)
        {
            var text = $"Notes on {Topics[i % Topics.Length]}, part {i}: {Topics[(i * 3) % Topics.Length]} again.";
            index.Write(Doc($"d{i:D3}", $"Note {i}", i == 57 ? text + " A quokka lives on Rottnest." : text));
        }
        index.Commit();
        return index;
    }

    // the expected maximum of n standard normal draws, two terms of its expansion (as the engine documents)
    private static double ExpectedMax(int n)
    {
        var a = Math.Sqrt(2 * Math.Log(n));
        return a - ((Math.Log(Math.Log(n)) + Math.Log(4 * Math.PI)) / (2 * a));
    }

    private static HashSet<string> ExpectedHybrid(Searcher searcher, string query, int n)
    {
        var lexical = searcher.Search(new SearchRequest(query, K: n, Mode: SearchMode.Lexical)).Hits.Select(h => h.DocId);
        var dense = searcher.Search(new SearchRequest(query, K: n, Mode: SearchMode.Dense) { CollapseDuplicates = false }).Hits;
        Assert.Equal(n, dense.Count);
        var scores = dense.Select(h => h.Score).ToList();
        var mean = scores.Average();
        var sd = Math.Sqrt(scores.Sum(s => (s - mean) * (s - mean)) / (n - 1));
        var floor = mean + (ExpectedMax(n) * sd);
        return lexical.Concat(dense.Where(h => h.Score >= floor).Select(h => h.DocId)).ToHashSet(StringComparer.Ordinal);
    }

    [Theory]
    [InlineData("quokka")]
    [InlineData("river otters")]
    [InlineData("zebra")]
    public void Search_Hybrid_KeepsLexicalMatchesAndVectorsAboveTheNoiseCeilingOnly(string query)
    {
        using var root = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        using var index = Build(Path.Combine(root.Path, "idx"), encoder);
        var searcher = new Searcher(index);

        var expected = ExpectedHybrid(searcher, query, 120);
        var hybrid = searcher.Search(new SearchRequest(query, K: 120, Mode: SearchMode.Hybrid, Fusion: new FusionOverride(Depth: 200))).Hits;

        Assert.Equal(expected.Order(StringComparer.Ordinal), hybrid.Select(h => h.DocId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Search_OneDocumentHoldsTheWord_HybridIsNotPaddedToK()
    {
        using var root = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        using var index = Build(Path.Combine(root.Path, "idx"), encoder);
        var searcher = new Searcher(index);

        var hits = searcher.Search(new SearchRequest("quokka", K: 10, Mode: SearchMode.Hybrid)).Hits;
        Assert.Equal("d057", hits[0].DocId);
        Assert.True(hits.Count < 10, $"{hits.Count} hits for a word one document holds: padded with strangers");

        var unfloored = searcher.Search(new SearchRequest("quokka", K: 10, Mode: SearchMode.Hybrid) { RelevanceFloor = false }).Hits;
        Assert.Equal(10, unfloored.Count);
    }
}
