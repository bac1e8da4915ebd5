using SemanticSearch.Core;
using SemanticSearch.Lexical;

namespace SemanticSearch.Tests.Lexical;

public sealed class LexicalIndexTests
{
    private static readonly IReadOnlyDictionary<string, string> NoMeta = new Dictionary<string, string>();

    private static LexicalChunk Chunk(long id, string doc, string text, string path = "/p/x.txt", string type = ".txt", DateTime? modified = null, IReadOnlyDictionary<string, string>? meta = null) =>
        new(id, doc, string.Empty, text, path, type, modified ?? new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), meta ?? NoMeta);

    [Fact]
    public void Analyze_EnglishAnalyzer_StemsLowercasesAndDropsStopWords()
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        Assert.Equal(["run", "quick", "fox", "dog"], index.Analyze("The Running and the QUICK foxes' dogs"));
    }

    [Fact]
    public void Search_MoreOccurrencesInEqualLengthDocs_RanksHigher()
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([
            Chunk(1, "a", "apple banana cherry date"),
            Chunk(2, "b", "apple apple cherry date"),
            Chunk(3, "c", "kiwi banana cherry date"),
        ]);
        index.Commit();
        var hits = index.Search("apple", 10);
        Assert.Equal([2L, 1L], hits.Select(h => h.ChunkId));
        Assert.True(hits[0].Score > hits[1].Score);
        Assert.Equal("b", hits[0].DocumentId);
    }

    [Fact]
    public void Search_Bm25_MatchesHandComputedScoreForEqualLengthDocuments()
    {
        // Two one-term documents of equal length (avgdl = dl, so the length factor is 1 regardless of norm encoding):
        // idf = ln(1 + (N - n + 0.5)/(n + 0.5)) with N=2, n=1 → ln(2); tf=1 → tf·(k1+1)/(tf + k1) = (k1+1)/(1+k1) = 1.
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions(0.9f, 0.4f));
        index.Add([Chunk(1, "a", "zebra"), Chunk(2, "b", "lion")]);
        index.Commit();
        var hit = Assert.Single(index.Search("zebra", 10));
        Assert.Equal(Math.Log(2.0), hit.Score, 4);
    }

    [Fact]
    public void SearchDocuments_ChunkAndDocumentEntriesInOneIndex_Bm25CountsOnlyDocuments()
    {
        // Four entries in Lucene (two chunks, two document entries), two documents: N and the average length are those
        // of the documents. With MaxDoc (4) as N the idf would be ln(1 + 3.5/1.5), not ln(2).
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions(0.9f, 0.4f));
        index.Add([Chunk(1, "a", "zebra"), Chunk(2, "b", "lion")]);
        index.Commit();
        var hit = Assert.Single(index.SearchDocuments("zebra", 10));
        Assert.Equal("a", hit.DocumentId);
        Assert.Equal(Math.Log(2.0), hit.Score, 4);
        Assert.Equal(2, index.Count);
        Assert.Equal([1L, 2L], index.AllChunkIds().Order());
        Assert.Equal(["a", "b"], index.AllDocumentEntryIds().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SearchDocuments_TermsInDifferentChunks_ScoresTheDocumentAsOneText()
    {
        // "a" has the two query terms in two chunks; "b" has one of them in its only chunk. As whole documents "a"
        // (both terms) outranks "b"; as best chunks they would tie on one term each.
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([Chunk(1, "a", "zebra grass"), Chunk(2, "a", "lion grass"), Chunk(3, "b", "zebra grass"), Chunk(4, "c", "grass only")]);
        index.Commit();
        var hits = index.SearchDocuments("zebra lion", 10);
        Assert.Equal(["a", "b"], hits.Select(h => h.DocumentId));
        Assert.True(hits[0].Score > hits[1].Score * 1.5);
        var best = index.BestChunks("lion", ["a", "b"]);
        Assert.Equal(2L, Assert.Single(best).Value.ChunkId);
    }

    [Fact]
    public void MatchingChunkIds_Filter_ListsChunksNotDocumentEntries()
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([Chunk(1, "a", "one", "/docs/a.md"), Chunk(2, "a", "two", "/docs/a.md"), Chunk(3, "b", "three", "/other/b.md")]);
        index.Commit();
        Assert.Equal([1L, 2L], index.MatchingChunkIds(new LexicalFilter(PathPrefix: "/docs/")).Order());
        Assert.Equal([1L, 2L, 3L], index.MatchingChunkIds(new LexicalFilter(FileTypes: [".txt"])).Order());
    }

    [Fact]
    public void Search_RepeatedQueryTerm_BoostsByCount()
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([Chunk(1, "a", "zebra"), Chunk(2, "b", "lion")]);
        index.Commit();
        var once = index.Search("zebra", 1)[0].Score;
        var twice = index.Search("zebra zebra", 1)[0].Score;
        Assert.Equal(2 * once, twice, 4);
    }

    [Fact]
    public void AllChunkDocuments_SeveralSegmentsAndDeletions_EveryLiveChunkWithItsDocument()
    {
        // the engine's chunk → document map is built from this: each commit below is a segment of its own, and the
        // deletions leave dead entries inside them
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        var expected = new Dictionary<long, string>();
        long id = 1;
        for (var segment = 0; segment < 4; segment++)
        {
            for (var d = 0; d < 5; d++)
            {
                var doc = $"s{segment}/doc{d}";
                var chunks = new List<LexicalChunk>();
                for (var c = 0; c <= d % 3; c++)
                {
                    chunks.Add(Chunk(id, doc, $"words of {doc} part {c}"));
                    expected[id++] = doc;
                }
                index.Add(chunks);
            }
            index.Commit();
        }
        foreach (var gone in new[] { "s0/doc1", "s2/doc4", "s3/doc0" })
        {
            index.DeleteDocument(gone);
            foreach (var k in expected.Where(e => e.Value == gone).Select(e => e.Key).ToList())
            {
                expected.Remove(k);
            }
        }
        index.Commit();

        var all = index.AllChunkDocuments();
        Assert.Equal(expected.Count, all.Count);
        Assert.Equal(expected.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), all.OrderBy(e => e.ChunkId).Select(e => (e.ChunkId, e.DocumentId)));
    }

    [Fact]
    public void DocumentIdsWithTextHashes_AcrossSegmentsAndDeletions_EachLiveDocumentWithAHashOnce()
    {
        // documents of 1 to 3 chunks over three commits (three segments), the text hash given with every chunk; the
        // expected sets are the written pairs, kept beside the index
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        var hashOf = new Dictionary<string, string?>(StringComparer.Ordinal);
        long id = 1;
        for (var segment = 0; segment < 3; segment++)
        {
            for (var d = 0; d < 6; d++)
            {
                var doc = $"s{segment}/doc{d}";
                var hash = d == 5 ? null : $"text{d % 3}"; // three texts shared across segments; one document has none
                hashOf[doc] = hash;
                var chunks = Enumerable.Range(0, 1 + d % 3).Select(c => Chunk(id++, doc, $"words of {doc} part {c}") with { TextHash = hash }).ToList();
                index.AddDocument(string.Join('\n', chunks.Select(c => c.Text)), chunks);
            }
            index.Commit();
        }
        foreach (var gone in new[] { "s0/doc0", "s2/doc3", "s1/doc1" })
        {
            index.DeleteDocument(gone);
            hashOf.Remove(gone);
        }
        index.Commit();

        Assert.Equal(LexicalIndex.CurrentFormat, index.Format);
        for (var t = 0; t < 3; t++)
        {
            var expected = hashOf.Where(h => h.Value == $"text{t}").Select(h => h.Key).Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, index.DocumentIdsWithTextHashes([$"text{t}"]));
        }
        Assert.Empty(index.DocumentIdsWithTextHashes(["text9"]));
        Assert.Empty(index.DocumentIdsWithTextHashes([]));
        var two = hashOf.Where(h => h.Value is "text0" or "text2").Select(h => h.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(two, index.DocumentIdsWithTextHashes(["text2", "text9", "text0"]));
    }

    [Fact]
    public void DeleteDocument_RemovesAllItsChunksAfterCommit()
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([Chunk(1, "a", "shared words one"), Chunk(2, "a", "shared words two"), Chunk(3, "b", "shared words three")]);
        index.Commit();
        index.DeleteDocument("a");
        Assert.Equal(3, index.Search("shared", 10).Count); // uncommitted deletes are invisible
        index.Commit();
        Assert.Equal([3L], index.Search("shared", 10).Select(h => h.ChunkId));
        Assert.Equal([3L], index.AllChunkIds());
    }

    [Fact]
    public void Search_Filters_RestrictByPathTypeDateAndMetadata()
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var recent = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        index.Add([
            Chunk(1, "a", "ocean tide", "/docs/a.md", ".md", old, new Dictionary<string, string> { ["team"] = "red" }),
            Chunk(2, "b", "ocean tide", "/docs/sub/b.pdf", ".pdf", recent, new Dictionary<string, string> { ["team"] = "blue" }),
            Chunk(3, "c", "ocean tide", "/other/c.md", ".md", recent, NoMeta),
        ]);
        index.Commit();
        long[] Ids(LexicalFilter f) => index.Search("ocean", 10, f).Select(h => h.ChunkId).Order().ToArray();
        Assert.Equal([1L, 2L], Ids(new LexicalFilter(PathPrefix: "/docs/")));
        Assert.Equal([1L, 3L], Ids(new LexicalFilter(FileTypes: [".MD"])));
        Assert.Equal([2L, 3L], Ids(new LexicalFilter(ModifiedAfterUtc: new DateTime(2022, 1, 1, 0, 0, 0, DateTimeKind.Utc))));
        Assert.Equal([2L], Ids(new LexicalFilter(Metadata: new Dictionary<string, string> { ["team"] = "blue" })));
        Assert.Equal([3L], Ids(new LexicalFilter(PathPrefix: "/other", FileTypes: [".md"])));
    }

    [Theory]
    [InlineData("")]
    [InlineData("the and of")]
    [InlineData("AND OR NOT ( ) [ ] { } ~ * ? \\ : \"")]
    public void Search_QueryWithoutTermsOrWithSyntax_NeverThrows(string query)
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([Chunk(1, "a", "content")]);
        index.Commit();
        Assert.Empty(index.Search(query, 10));
    }

    [Fact]
    public void Search_HugeQuery_IsCappedNotRejected()
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([Chunk(1, "a", "word17 content")]);
        index.Commit();
        var query = string.Join(' ', Enumerable.Range(0, 5000).Select(i => $"word{i}"));
        Assert.Single(index.Search(query, 10));
    }

    [Fact]
    public void OpenReadOnly_Missing_ThrowsNotFound()
    {
        using var dir = new TempDir();
        Assert.Throws<NotFoundException>(() => LexicalIndex.OpenReadOnly(Path.Combine(dir.Path, "none"), new LexicalOptions()));
    }

    [Fact]
    public void Options_Invalid_NameTheSetting()
    {
        Assert.Equal("lexical.k1", Assert.Throws<InvalidSettingException>(() => new LexicalOptions(K1: -1).Validate()).Setting);
        Assert.Equal("lexical.b", Assert.Throws<InvalidSettingException>(() => new LexicalOptions(B: 2).Validate()).Setting);
        Assert.Equal("lexical.analyzer", Assert.Throws<InvalidSettingException>(() => new LexicalOptions(Analyzer: "klingon").Validate()).Setting);
    }
}
