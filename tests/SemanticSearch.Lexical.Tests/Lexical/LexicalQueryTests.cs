using CsCheck;
using SemanticSearch.Lexical;

namespace SemanticSearch.Tests.Lexical;

/// <summary>The query language: how text is read, and how a real Lucene index answers phrases, exclusions and typos.</summary>
public sealed class LexicalQueryTests
{
    private static readonly IReadOnlyDictionary<string, string> NoMeta = new Dictionary<string, string>();

    private static LexicalChunk Chunk(long id, string doc, string text, string title = "") =>
        new(id, doc, title, text, "/p/" + doc + ".txt", ".txt", new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), NoMeta);

    private static LexicalIndex Shore(TempDir dir)
    {
        var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        index.Add([
            Chunk(1, "a", "The tide pools hold anemones."),
            Chunk(2, "a", "Small crabs hide under the rocks."),
            Chunk(3, "b", "Pools of rain gathered while the tide went out."),
            Chunk(4, "c", "Boats leave the harbour when the tide turns."),
            Chunk(5, "d", "Harpoons hang in the harbour museum."),
        ]);
        index.Commit();
        return index;
    }

    [Fact]
    public void Parse_EveryOperator_SplitsClausesAtTheirOffsets()
    {
        const string text = "tide \"rock pools\" -crabs +gulls -\"sea weed\" wi-fi";
        var q = LexicalQuery.Parse(text);
        Assert.Equal(["tide", "wi-fi"], q.Free.Select(c => c.Text));
        Assert.Equal([("rock pools", true), ("gulls", false)], q.Required.Select(c => (c.Text, c.Quoted)));
        Assert.Equal([("crabs", false), ("sea weed", true)], q.Excluded.Select(c => (c.Text, c.Quoted)));
        Assert.All(q.Free.Concat(q.Required).Concat(q.Excluded), c => Assert.Equal(c.Text, text.Substring(c.Start, c.Text.Length)));
        Assert.Equal("tide rock pools gulls wi-fi", q.EmbeddingText);
        Assert.Empty(q.Notes);
    }

    [Theory]
    [InlineData("covid-19 c++ state-of-the-art")]
    [InlineData("what is \"love")]
    [InlineData("a - b + c")]
    [InlineData("\"\"")]
    [InlineData("")]
    public void Parse_NoOperatorParsed_IsThePlainQueryAsTyped(string text)
    {
        var q = LexicalQuery.Parse(text);
        Assert.True(q.IsPlain);
        Assert.Equal(text, q.EmbeddingText);
        Assert.Equal(text, Assert.Single(q.Free).Text);
    }

    [Theory]
    [InlineData("\"tide pools", "unbalanced quote")]
    [InlineData("tide -", "lone '-'")]
    [InlineData("tide + pools", "lone '+'")]
    [InlineData("--tide", "'-' before")]
    [InlineData("ti\"de", "quote inside")]
    [InlineData("tide \"\"", "empty phrase")]
    public void Parse_StraySyntax_IsReadAsTextAndNoted(string text, string note)
    {
        var q = LexicalQuery.Parse(text);
        Assert.True(q.IsPlain);
        Assert.Contains(q.Notes, n => n.Contains(note, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_AnyText_NeverThrowsAndKeepsClauseOffsets()
    {
        Gen.String[Gen.OneOf('"', '-', '+', ' ', 'a', 'b', '\t', '(', '|', '*'), 0, 30].Sample(text =>
        {
            var q = LexicalQuery.Parse(text);
            foreach (var c in q.Free.Concat(q.Required).Concat(q.Excluded))
            {
                Assert.Equal(c.Text, text.Substring(c.Start, c.Text.Length));
            }
            Assert.Equal(text, q.WithReplacements([]).Text);
        }, iter: 2000);
    }

    [Fact]
    public void SearchDocuments_Phrase_DoesNotMatchTheWordsApart()
    {
        using var dir = new TempDir();
        using var index = Shore(dir);
        Assert.Contains("b", index.SearchDocuments("tide pools", 10).Select(h => h.DocumentId)); // both words, apart
        Assert.Equal(["a"], index.SearchDocuments(LexicalQuery.Parse("\"tide pools\""), 10).Select(h => h.DocumentId));
        Assert.Equal([1L], index.Search(LexicalQuery.Parse("\"tide pools\""), 10).Select(h => h.ChunkId));
    }

    [Fact]
    public void SearchDocuments_PhraseOfStemmedWords_MatchesOtherFormsOfTheWords()
    {
        using var dir = new TempDir();
        using var index = Shore(dir);
        Assert.Equal(["a"], index.SearchDocuments(LexicalQuery.Parse("\"tides pool\""), 10).Select(h => h.DocumentId));
    }

    [Fact]
    public void SearchDocuments_Exclusion_DropsDocumentsThatHoldItInAnyChunk()
    {
        // "a" holds "tide" in its first chunk and "crabs" in its second: the exclusion is judged on the whole document
        using var dir = new TempDir();
        using var index = Shore(dir);
        Assert.Equal(["b", "c"], index.SearchDocuments(LexicalQuery.Parse("tide -crabs"), 10).Select(h => h.DocumentId).Order(StringComparer.Ordinal));
        Assert.Equal(["a", "b"], index.SearchDocuments(LexicalQuery.Parse("tide -\"harbour when\""), 10).Select(h => h.DocumentId).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("tide pools")]
    [InlineData("harbour harbour tide")]
    [InlineData("the rocks' crabs, boats!")]
    public void SearchDocuments_PlainParsedQuery_RanksAndScoresAsTheBagOfWordsQuery(string text)
    {
        using var dir = new TempDir();
        using var index = Shore(dir);
        Assert.Equal(index.SearchDocuments(text, 10), index.SearchDocuments(LexicalQuery.Parse(text), 10));
        Assert.Equal(index.Search(text, 10), index.Search(LexicalQuery.Parse(text), 10));
    }

    [Fact]
    public void Constraint_RequiredAndExcluded_AdmitsChunksOfTheMatchingDocumentsOnly()
    {
        using var dir = new TempDir();
        using var index = Shore(dir);
        var byDocument = index.Constraint(LexicalQuery.Parse("\"tide pools\""), perChunk: false)!;
        Assert.Equal([1L, 2L], byDocument.Required!.Order()); // both chunks of "a"
        var perChunk = index.Constraint(LexicalQuery.Parse("\"tide pools\""), perChunk: true)!;
        Assert.Equal([1L], perChunk.Required!.Order());

        var excluded = index.Constraint(LexicalQuery.Parse("tide -crabs"), perChunk: false)!;
        Assert.Null(excluded.Required);
        Assert.Equal([1L, 2L], excluded.Excluded.Order());
        Assert.False(excluded.Admits(1));
        Assert.True(excluded.Admits(3));

        Assert.Null(index.Constraint(LexicalQuery.Parse("tide pools"), perChunk: false));
        Assert.True(index.Constraint(LexicalQuery.Parse("\"pools harbour\""), perChunk: false)!.AdmitsNone);
    }

    [Fact]
    public void Correct_UnknownWord_ReturnsTheClosestTermOfTheIndexDictionary()
    {
        using var dir = new TempDir();
        using var index = Shore(dir);
        const string typed = "harbuor mueseum";
        var fixes = index.Correct(LexicalQuery.Parse(typed));
        Assert.Equal(2, fixes.Count);
        // the terms are the analysed (stemmed) forms of words the index holds
        Assert.Equal(index.Analyze("harbour museum"), fixes.Select(f => f.Term));
        Assert.Equal(["harbuor", "mueseum"], fixes.Select(f => typed.Substring(f.Start, f.Length)));
        Assert.Equal("harbour", index.WordFor("Boats leave the harbour when the tide turns.", fixes[0].Term));
        Assert.Contains(fixes[1].ExampleChunk, index.Search("museum", 10).Select(h => h.ChunkId));
    }

    [Fact]
    public void Correct_KnownWordsOrNoCloseTerm_ReturnsNothing()
    {
        using var dir = new TempDir();
        using var index = Shore(dir);
        Assert.Empty(index.Correct(LexicalQuery.Parse("tide harbour")));
        Assert.Empty(index.Correct(LexicalQuery.Parse("xylophone")));
        Assert.Empty(index.Correct(LexicalQuery.Parse("ab"))); // too short to correct
        Assert.Empty(index.Correct(LexicalQuery.Parse("tide -crabz"))); // exclusions are not corrected
    }
}
