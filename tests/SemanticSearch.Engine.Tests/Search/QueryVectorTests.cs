using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Core.Filtering;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using static SemanticSearch.Tests.Search.DocumentBm25Tests;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// A query answered by a vector the caller gives (SearchRequest.QueryVector), documents written with vectors the caller
/// gives (WriteWithVectors), and metadata conditions (SearchFilter.Where): checked against brute-force cosine and
/// against the conditions evaluated by hand.
/// </summary>
public sealed class QueryVectorTests
{
    private static readonly string[] Words = ["harbor", "lantern", "meadow", "quartz", "river", "saffron"];

    private static (SemanticIndex Index, List<float[]> Vectors) Build(string dir, ITextEncoder encoder, int n = 40)
    {
        var index = SemanticIndex.OpenOrCreate(dir, new(), encoder);
        var rng = new Random(5);
        var docs = new List<(SourceDocument, IReadOnlyList<Core.Chunking.TextChunk>)>();
        var vectors = new List<float[]>();
        for (var i = 0; i < n; i++)
        {
            var doc = Doc($"d{i:D2}", $"Doc {i}", $"{Words[i % Words.Length]} and {Words[(i * 5) % Words.Length]} number {i}") with
            {
                Metadata = new Dictionary<string, string> { ["n"] = i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture), ["kind"] = i % 2 == 0 ? "even" : "odd" },
            };
            docs.Add((doc, index.Chunk(doc)));
            vectors.Add(Enumerable.Range(0, encoder.Info.Dimensions).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray());
        }
        index.BeginBatch();
        index.WriteWithVectors(docs, vectors.Select(v => (ReadOnlyMemory<float>)v).ToList());
        index.Commit();
        return (index, vectors);
    }

    [Fact]
    public void Dense_ByGivenVector_RanksAsBruteForceOverTheGivenVectors()
    {
        using var root = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        var (index, vectors) = Build(Path.Combine(root.Path, "idx"), encoder);
        using var _ = index;
        var query = vectors[7].Select((x, i) => x + (float)Math.Sin(i)).ToArray(); // near d07, not equal to it
        var expected = vectors.Select((v, i) => (Id: $"d{i:D2}", Score: BruteForce.Cosine(query, v))).OrderByDescending(x => x.Score).Take(10).ToList();

        var hits = new Searcher(index).Search(new SearchRequest(string.Empty, K: 10, Mode: SearchMode.Dense) { QueryVector = query, CollapseDuplicates = false }).Hits;
        Assert.Equal(expected.Select(x => x.Id), hits.Select(h => h.DocId));
        Assert.Equal(expected[0].Score, hits[0].Score, 4);
    }

    [Fact]
    public void Where_AndOrNotRange_SelectWhatTheConditionsSayByHand()
    {
        using var root = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        var (index, _) = Build(Path.Combine(root.Path, "idx"), encoder);
        using var __ = index;
        var where = new MetadataCondition.All([
            new MetadataCondition.Range("n", "010", "030", IncludeLower: true, IncludeUpper: false),
            new MetadataCondition.Any([new MetadataCondition.Equal("kind", "odd"), new MetadataCondition.Equal("n", "012")]),
            new MetadataCondition.Not(new MetadataCondition.Equal("n", "015")),
        ]);
        var expected = Enumerable.Range(0, 40).Where(i => i >= 10 && i < 30 && (i % 2 == 1 || i == 12) && i != 15).Select(i => $"d{i:D2}").ToList();
        Assert.Equal(expected, index.DocumentIdsMatching(new SearchFilter { Where = where }));

        // the same condition restricts the dense side inside the walk and the lexical side alike
        var filter = new SearchFilter { Where = where };
        var searcher = new Searcher(index);
        var dense = searcher.Search(new SearchRequest(string.Empty, K: 40, Mode: SearchMode.Dense, Filter: filter) { QueryVector = new float[encoder.Info.Dimensions].Select((_, i) => (float)i).ToArray() }).Hits;
        Assert.Equal(expected.Order(), dense.Select(h => h.DocId).Order());
        var lexical = searcher.Search(new SearchRequest("number", K: 40, Filter: filter)).Hits;
        Assert.Equal(expected.Order(), lexical.Select(h => h.DocId).Order());
    }

    [Fact]
    public void QueryVector_BadShapes_AreRefusedNamingTheField()
    {
        using var root = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        var (index, _) = Build(Path.Combine(root.Path, "idx"), encoder, n: 3);
        using var __ = index;
        var searcher = new Searcher(index);
        var dims = encoder.Info.Dimensions;
        foreach (var (request, needle) in new (SearchRequest, string)[]
        {
            (new SearchRequest(string.Empty, Mode: SearchMode.Dense) { QueryVector = new float[dims - 1].Select(_ => 1f).ToArray() }, "dimensions"),
            (new SearchRequest(string.Empty, Mode: SearchMode.Dense) { QueryVector = new float[dims] }, "zeros"),
            (new SearchRequest(string.Empty, Mode: SearchMode.Dense) { QueryVector = Enumerable.Repeat(float.NaN, dims).ToArray() }, "finite"),
            (new SearchRequest("x", Mode: SearchMode.Lexical) { QueryVector = Enumerable.Repeat(1f, dims).ToArray() }, "lexical"),
        })
        {
            var e = Assert.Throws<InvalidSettingException>(() => searcher.Search(request));
            Assert.Equal("vector", e.Setting);
            Assert.Contains(needle, e.Message, StringComparison.Ordinal);
        }
        // hybrid still needs words for BM25
        Assert.Equal("query", Assert.Throws<InvalidSettingException>(() => searcher.Search(new SearchRequest(" ", Mode: SearchMode.Hybrid) { QueryVector = Enumerable.Repeat(1f, dims).ToArray() })).Setting);
    }

    [Fact]
    public void WriteWithVectors_WrongSize_FailsNamingTheDocumentAndWritesNothing()
    {
        using var root = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), new(), encoder);
        var good = Doc("good", "Good", "fine text");
        var bad = Doc("bad", "Bad", "other text");
        index.BeginBatch();
        var e = Assert.Throws<InvalidSettingException>(() => index.WriteWithVectors(
            [(good, index.Chunk(good)), (bad, index.Chunk(bad))],
            [new float[encoder.Info.Dimensions].Select(_ => 1f).ToArray(), new float[] { 1, 2 }]));
        Assert.Contains("bad", e.Message, StringComparison.Ordinal);
        index.Commit();
        Assert.Null(index.GetDocument("good"));
    }
}
