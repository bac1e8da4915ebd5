using System.Text.Json;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Lexical;
using SemanticSearch.Reference;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// Lexical ranking is whole-document BM25 whatever the chunking (lexical format 2); chunks still serve per-chunk
/// results and snippets; indexes of format 1 keep opening and repair upgrades them.
/// </summary>
public sealed class DocumentBm25Tests
{
    // Small chunks, so every long document below has many.
    internal static readonly IndexSettings SmallChunks = new() { Chunking = new(MaxTokens: 12, OverlapTokens: 3) };

    internal static SourceDocument Doc(string id, string title, string text, string path = "", string type = ".txt") =>
        new(id, "test", path, title, text, type, text.Length, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), id + ":" + text.GetHashCode(), new Dictionary<string, string>());

    // Documents whose query terms sit in different chunks, in different proportions, so that best-chunk BM25 and
    // whole-document BM25 order them differently.
    internal static readonly (string Id, string Title, string Text)[] Corpus =
    [
        ("d1", "Harbour notes", "The tide pools hold anemones and small crabs. " + Filler(30) + " Later the lighthouse keeper counted gulls near the harbour wall."),
        ("d2", "Lighthouse log", "The lighthouse keeper wrote about tide pools, crabs and gulls every morning in one long sentence."),
        ("d3", "Garden", "Roses and tulips. " + Filler(40) + " tide " + Filler(20) + " tide " + Filler(20) + " crabs gulls."),
        ("d4", "Kitchen", "Bread, butter and jam for breakfast. " + Filler(10)),
        ("d5", "Rock pools", "Crabs crabs crabs. " + Filler(25) + " The tide came in."),
    ];

    private static string Filler(int words) => string.Join(' ', Enumerable.Range(0, words).Select(i => "word" + (i % 7)));

    private static string WriteBeir(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "corpus.jsonl"), Corpus.Select(d => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = d.Id, ["title"] = d.Title, ["text"] = d.Text })));
        File.WriteAllText(Path.Combine(folder, "queries.jsonl"), "");
        return folder;
    }

    private static SemanticIndex BuildLexical(string dir)
    {
        var index = SemanticIndex.OpenOrCreate(dir, SmallChunks);
        index.BeginBatch();
        foreach (var (id, title, text) in Corpus)
        {
            index.Write(Doc(id, title, text, "/corpus/" + (id == "d5" ? "pools/" : "") + id + ".txt"));
        }
        index.Commit();
        return index;
    }

    [Theory]
    [InlineData("tide pools crabs gulls")]
    [InlineData("lighthouse keeper")]
    [InlineData("crabs crabs tide")]
    public void RankDocuments_ManyChunksPerDocument_ScoresEqualAPlainWholeDocumentIndex(string query)
    {
        using var root = new TempDir();
        using var index = BuildLexical(Path.Combine(root.Path, "idx"));
        Assert.True(index.Manifest.Counts.Chunks > 2 * Corpus.Length); // the chunking really splits the documents
        using var reference = new WholeDocumentBm25(WriteBeir(Path.Combine(root.Path, "beir")));

        var expected = reference.Search(query, 10);
        var actual = new Searcher(index).RankDocuments(query, SearchMode.Lexical, 10);

        Assert.Equal(expected.Select(e => e.DocId), actual.Select(a => a.DocId));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, actual[i].Score, 4);
        }
    }

    [Fact]
    public void Search_DocumentHit_ShowsItsBestScoringChunk()
    {
        using var root = new TempDir();
        using var index = BuildLexical(Path.Combine(root.Path, "idx"));
        var hits = new Searcher(index).Search(new SearchRequest("lighthouse keeper gulls", K: 5)).Hits;
        var d1 = Assert.Single(hits, h => h.DocId == "d1");
        // d1's first chunks are about tide pools and filler; only its last one names the lighthouse keeper
        Assert.Contains("lighthouse keeper", d1.Text);
        Assert.Contains(index.Metadata.GetChunks(index.Metadata.GetDocument("d1")!.ChunkIds).Values, c => c.Id == d1.ChunkId);
        Assert.All(hits, h => Assert.NotEqual(-1, h.ChunkId));
    }

    [Fact]
    public void Search_PerChunk_RanksChunksNotDocuments()
    {
        using var root = new TempDir();
        using var index = BuildLexical(Path.Combine(root.Path, "idx"));
        var hits = new Searcher(index).Search(new SearchRequest("tide", K: 20, PerChunk: true)).Hits;
        Assert.True(hits.Count(h => h.DocId == "d3") >= 2, "d3 has 'tide' in two chunks: both are listed");
        Assert.Equal(hits.Count, hits.Select(h => h.ChunkId).Distinct().Count());
    }

    [Fact]
    public void Search_FilterAndDelete_ApplyToDocumentRanking()
    {
        using var root = new TempDir();
        using var index = BuildLexical(Path.Combine(root.Path, "idx"));
        var searcher = new Searcher(index);
        var filtered = searcher.Search(new SearchRequest("crabs", K: 10, Filter: new SearchFilter(PathPrefix: "/corpus/pools/"))).Hits;
        Assert.Equal(["d5"], filtered.Select(h => h.DocId));

        index.BeginBatch();
        Assert.True(index.Delete("d5"));
        index.Commit();
        var after = searcher.RankDocuments("crabs", SearchMode.Lexical, 10).Select(r => r.DocId).ToList();
        Assert.DoesNotContain("d5", after);
        Assert.Contains("d1", after);
        Assert.Equal(4, index.Lexical.AllDocumentEntryIds().Count);
        Assert.True(IndexVerifier.Verify(index.Directory).Clean);
    }

    [Fact]
    public void Write_ReplacedDocument_KeepsOneDocumentEntry()
    {
        using var root = new TempDir();
        using var index = BuildLexical(Path.Combine(root.Path, "idx"));
        index.BeginBatch();
        index.Write(Doc("d4", "Kitchen", "Now the kitchen note mentions crabs once."));
        index.Commit();
        Assert.Single(index.Lexical.AllDocumentEntryIds(), id => id == "d4");
        Assert.Contains("d4", new Searcher(index).RankDocuments("crabs", SearchMode.Lexical, 10).Select(r => r.DocId));
        Assert.True(IndexVerifier.Verify(index.Directory).Clean);
    }

    // A lexical-only index written before document entries (lexical format 1): 3 documents of samples/docs.
    internal static string CopyFormat1Fixture(TempDir root)
    {
        var source = Path.Combine(RepoPaths.Tests, "SemanticSearch.Engine.Tests", "Fixtures", "lexical-v1");
        var target = Path.Combine(root.Path, "lexical-v1");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    [Fact]
    public void OpenReadOnly_LexicalFormat1Fixture_SearchesByBestChunkAndVerifiesClean()
    {
        using var root = new TempDir();
        var dir = CopyFormat1Fixture(root);
        using var index = SemanticIndex.OpenReadOnly(dir);
        Assert.Equal(1, index.Lexical.Format);
        Assert.False(index.Lexical.HasDocumentEntries);
        var hits = new Searcher(index).Search(new SearchRequest("honeybee colony waggle dance")).Hits;
        Assert.Equal("honeybees.txt", hits[0].DocId);
        Assert.Contains("waggle dance", hits[0].Text);
        Assert.True(IndexVerifier.Verify(dir).Clean);
    }

    [Fact]
    public void Write_LexicalFormat1Fixture_StaysFormat1AndConsistent()
    {
        using var root = new TempDir();
        var dir = CopyFormat1Fixture(root);
        using (var index = SemanticIndex.OpenOrCreate(dir, new IndexSettings()))
        {
            index.BeginBatch();
            index.Write(Doc("tides.txt", "Tides", "The tide pools hold anemones."));
            index.Commit();
            Assert.Equal(1, index.Lexical.Format);
            Assert.Empty(index.Lexical.AllDocumentEntryIds());
        }
        Assert.True(IndexVerifier.Verify(dir).Clean);
        using var read = SemanticIndex.OpenReadOnly(dir);
        Assert.Equal("tides.txt", new Searcher(read).Search(new SearchRequest("anemones")).Hits[0].DocId);
    }

    [Fact]
    public void Repair_LexicalFormat1Fixture_RebuildsWithDocumentEntries()
    {
        using var root = new TempDir();
        var dir = CopyFormat1Fixture(root);
        Assert.Equal(["lexical"], SemanticIndex.Repair(dir, encoder: null));
        using var index = SemanticIndex.OpenReadOnly(dir);
        Assert.Equal(LexicalIndex.CurrentFormat, index.Lexical.Format);
        Assert.Equal(["honeybees.txt", "solar-eclipse.md", "sourdough.txt"], index.Lexical.AllDocumentEntryIds().Order(StringComparer.Ordinal));
        Assert.Equal(3, index.Lexical.Count);
        Assert.True(IndexVerifier.Verify(dir).Clean);
        Assert.Equal("honeybees.txt", new Searcher(index).Search(new SearchRequest("honeybee colony waggle dance")).Hits[0].DocId);
        Assert.Empty(SemanticIndex.Repair(dir, encoder: null)); // nothing left to do
    }

    [Fact]
    public void Repair_DocumentEntries_RebuiltFromChunksScoreAsWritten()
    {
        using var root = new TempDir();
        var dir = Path.Combine(root.Path, "idx");
        List<RankedDocument> before;
        using (var index = BuildLexical(dir))
        {
            before = new Searcher(index).RankDocuments("tide pools crabs gulls lighthouse", SearchMode.Lexical, 10).ToList();
        }
        // damage the lexical store: repair rebuilds it (document entries from the stored chunks, which overlap)
        Directory.Delete(Path.Combine(dir, "lexical"), recursive: true);
        Directory.CreateDirectory(Path.Combine(dir, "lexical"));
        Assert.Equal(["lexical"], SemanticIndex.Repair(dir, encoder: null));
        using var repaired = SemanticIndex.OpenReadOnly(dir);
        var after = new Searcher(repaired).RankDocuments("tide pools crabs gulls lighthouse", SearchMode.Lexical, 10);
        Assert.Equal(before.Select(b => b.DocId), after.Select(a => a.DocId));
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Score, after[i].Score, 5);
        }
    }
}
