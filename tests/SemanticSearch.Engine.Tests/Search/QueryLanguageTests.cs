using System.Text.Json;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;
using SemanticSearch.Reference;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// The query language through the searcher: phrases and exclusions on the lexical side and as a filter on the dense
/// side, "did you mean" from the index's own dictionary, operators that are not syntax searched as text, plain queries
/// ranked exactly as the bag-of-words BM25 they always were.
/// </summary>
public sealed class QueryLanguageTests : IDisposable
{
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    // "tide" and "pools" next to each other in p1 only; p2 has both words apart; p3 has "pools" without "tide".
    private static readonly (string Id, string Title, string Text)[] Shore =
    [
        ("p1", "Shore walk", "The tide pools hold anemones and small crabs under the rocks."),
        ("p2", "Rain notes", "Pools of rain gathered on the path while the tide went out slowly."),
        ("p3", "Garden", "Swimming pools and garden ponds need clean water in summer."),
        ("p4", "Harbour", "Fishing boats leave the harbour at dawn when the tide turns."),
    ];

    private SemanticIndex Build(string dir, bool dense)
    {
        var index = dense ? SemanticIndex.OpenOrCreate(dir, DocumentBm25Tests.SmallChunks, _encoder) : SemanticIndex.OpenOrCreate(dir, DocumentBm25Tests.SmallChunks);
        index.BeginBatch();
        foreach (var (id, title, text) in Shore)
        {
            index.Write(DocumentBm25Tests.Doc(id, title, text, "/shore/" + id + ".txt"));
        }
        index.Commit();
        return index;
    }

    private static string Text(string id) => Shore.Single(d => d.Id == id).Text;

    private static List<string> Ids(SearchResponse response) => response.Hits.Select(h => h.DocId).ToList();

    [Fact]
    public void Search_QuotedPhrase_DocumentWithTheWordsApartDoesNotMatch()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var searcher = new Searcher(index);

        var words = Ids(searcher.Search(new SearchRequest("tide pools")));
        Assert.Contains("p2", words); // as a bag of words the document with the words apart matches

        var phrase = searcher.Search(new SearchRequest("\"tide pools\""));
        Assert.Equal(["p1"], Ids(phrase));
        Assert.Equal(["\"tide pools\""], phrase.Understood!.Required);
    }

    [Fact]
    public void Search_PhraseWithAStopWord_MatchesAtTheAnalyzersPositions()
    {
        // "under the rocks": the stop word leaves a gap, so "under rocks" (no gap) is not the phrase but "under a rocks" is
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var searcher = new Searcher(index);
        Assert.Equal(["p1"], Ids(searcher.Search(new SearchRequest("\"under the rocks\""))));
        Assert.Empty(searcher.Search(new SearchRequest("\"under rocks\"")).Hits);
    }

    [Fact]
    public void Search_ExcludedTermAndPhrase_DropLexicalHitsThatHoldThem()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var searcher = new Searcher(index);
        Assert.Contains("p1", Ids(searcher.Search(new SearchRequest("tide"))));

        var response = searcher.Search(new SearchRequest("tide -anemones"));
        Assert.NotEmpty(response.Hits);
        Assert.All(response.Hits, h => Assert.DoesNotContain("anemones", Text(h.DocId), StringComparison.OrdinalIgnoreCase));
        Assert.Equal(["anemones"], response.Understood!.Excluded);

        var byPhrase = Ids(searcher.Search(new SearchRequest("tide -\"harbour at dawn\"")));
        Assert.Equal(["p1", "p2"], byPhrase.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(SearchMode.Dense)]
    [InlineData(SearchMode.Hybrid)]
    public void Search_ExcludedTerm_DropsDenseHitsThatHoldIt(SearchMode mode)
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: true);
        var searcher = new Searcher(index);
        // without the exclusion the dense side returns the document (the corpus is smaller than k)
        Assert.Contains("p1", Ids(searcher.Search(new SearchRequest("rock pools by the sea", Mode: mode))));

        var response = searcher.Search(new SearchRequest("rock pools by the sea -anemones", Mode: mode));
        Assert.NotEmpty(response.Hits);
        Assert.DoesNotContain("p1", Ids(response));
        Assert.All(response.Hits, h => Assert.DoesNotContain("anemones", Text(h.DocId), StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Search_RequiredPhraseInDenseMode_KeepsOnlyDenseHitsThatHoldIt()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: true);
        var searcher = new Searcher(index);
        Assert.True(searcher.Search(new SearchRequest("tide pools", Mode: SearchMode.Dense)).Hits.Count > 1);

        var response = searcher.Search(new SearchRequest("\"tide pools\"", Mode: SearchMode.Dense));
        Assert.Equal(["p1"], Ids(response));
    }

    [Fact]
    public void Search_ExclusionsOnly_FindNothingAndSaySo()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: true);
        var response = new Searcher(index).Search(new SearchRequest("-anemones", Mode: SearchMode.Hybrid));
        Assert.Empty(response.Hits);
        Assert.Contains("nothing to search for", response.Understood!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Search_HybridTypo_CorrectedOnlyWhenNoVectorHitClearsTheFloor()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: true);
        var searcher = new Searcher(index);
        Assert.Empty(searcher.RankDocuments("anemnoes", SearchMode.Lexical, 10)); // as typed, BM25 finds nothing
        // the relevance floor worked out by hand over every vector, one per chunk (the index is smaller than the
        // engine's sample, so the sample is all of them)
        var all = searcher.Search(new SearchRequest("anemnoes", K: SearchRequest.MaxK, Mode: SearchMode.Dense, PerChunk: true) { CollapseDuplicates = false }).Hits;
        Assert.Equal(index.Manifest.Counts.Vectors, all.Count);
        var mean = all.Average(h => h.Score);
        var sd = Math.Sqrt(all.Sum(h => (h.Score - mean) * (h.Score - mean)) / (all.Count - 1));
        var a = Math.Sqrt(2 * Math.Log(all.Count));
        var floor = mean + ((a - ((Math.Log(Math.Log(all.Count)) + Math.Log(4 * Math.PI)) / (2 * a))) * sd);
        var credible = all.Where(h => h.Score >= floor).Select(h => h.DocId).ToHashSet(StringComparer.Ordinal);

        var response = searcher.Search(new SearchRequest("anemnoes", K: SearchRequest.MaxK, Mode: SearchMode.Hybrid));
        if (credible.Count > 0)
        {
            // the vectors answer the query as typed: it is not replaced (a paraphrase is not a typo)
            Assert.Null(response.DidYouMean);
            Assert.Equal(credible.Order(StringComparer.Ordinal), response.Hits.Select(h => h.DocId).Order(StringComparer.Ordinal));
        }
        else
        {
            Assert.Equal("anemones", response.DidYouMean);
            Assert.Equal("p1", response.Hits[0].DocId);
        }
    }

    [Theory]
    [InlineData(SearchMode.Lexical)]
    public void Search_TypoWithNoLexicalMatch_SuggestsTheIndexWordAndAnswersIt(SearchMode mode)
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: mode != SearchMode.Lexical);
        var searcher = new Searcher(index);
        Assert.Empty(searcher.RankDocuments("anemnoes", SearchMode.Lexical, 10)); // as typed, BM25 finds nothing

        var response = searcher.Search(new SearchRequest("anemnoes", Mode: mode));
        Assert.Equal("anemones", response.DidYouMean); // the word as the corpus writes it, not its stem
        Assert.Equal("anemones", response.Understood!.Query);
        var top = response.Hits[0];
        Assert.Equal("p1", top.DocId);
        Assert.NotNull(top.Lexical);
    }

    [Fact]
    public void Search_TypoInsideAPhrase_KeepsTheSyntaxOfTheSuggestion()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var response = new Searcher(index).Search(new SearchRequest("\"tide poools\" -harbour"));
        Assert.Equal("\"tide pools\" -harbour", response.DidYouMean);
        Assert.Equal(["p1"], Ids(response));
    }

    [Fact]
    public void Search_CorrectionThatFindsNothingEither_IsNotSuggested()
    {
        // the only document with the corrected phrase holds the excluded word
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var response = new Searcher(index).Search(new SearchRequest("\"tide poools\" -crabs"));
        Assert.Empty(response.Hits);
        Assert.Null(response.DidYouMean);
    }

    [Fact]
    public void Search_QueryWithLexicalHits_GetsNoSuggestion()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var response = new Searcher(index).Search(new SearchRequest("tide anemnoes"));
        Assert.NotEmpty(response.Hits);
        Assert.Null(response.DidYouMean);
    }

    [Fact]
    public void Search_WordFarFromEveryIndexTerm_GetsNoSuggestion()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var response = new Searcher(index).Search(new SearchRequest("xylophone"));
        Assert.Empty(response.Hits);
        Assert.Null(response.DidYouMean);
    }

    [Theory]
    [InlineData("\"tide pools", true)]
    [InlineData("tide \"", true)]
    [InlineData("tide -", true)]
    [InlineData("- tide", true)]
    [InlineData("--tide", true)]
    [InlineData("tide +", true)]
    [InlineData("-\"tide", true)]
    [InlineData("\"\" tide", true)]
    [InlineData("tide | pools", true)]
    [InlineData("(tide OR pools*)", true)]
    [InlineData("\"", false)]
    [InlineData("-", false)]
    [InlineData("+", false)]
    [InlineData("\"\"\"", false)]
    [InlineData("-\"\"", false)]
    public void Search_UnbalancedQuotesAndStrayOperators_SearchAsPlainText(string query, bool findsTide)
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: true);
        var searcher = new Searcher(index);
        foreach (var mode in new[] { SearchMode.Lexical, SearchMode.Dense, SearchMode.Hybrid })
        {
            var response = searcher.Search(new SearchRequest(query, Mode: mode));
            if (findsTide && mode == SearchMode.Lexical)
            {
                Assert.Contains("p4", Ids(response)); // "tide" was searched
            }
        }
        var lexical = searcher.Search(new SearchRequest(query));
        Assert.NotNull(lexical.Understood);
        Assert.Empty(lexical.Understood.Excluded);
        Assert.Empty(lexical.Understood.Required);
    }

    [Fact]
    public void Search_UnbalancedQuote_IsNotedInTheResponse()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var response = new Searcher(index).Search(new SearchRequest("\"tide pools"));
        Assert.Contains(response.Understood!.Notes, n => n.Contains("unbalanced quote", StringComparison.Ordinal));
    }

    [Fact]
    public void Search_PhraseOfStopWordsOnly_IsIgnoredAndNoted()
    {
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var response = new Searcher(index).Search(new SearchRequest("tide \"to be\""));
        Assert.Equal(["p1", "p2", "p4"], Ids(response).Order(StringComparer.Ordinal));
        Assert.Empty(response.Understood!.Required);
        Assert.Contains(response.Understood.Notes, n => n.Contains("\"to be\"", StringComparison.Ordinal));
    }

    // A generated corpus over a small vocabulary, so queries share terms with many documents in many proportions.
    private static (string Id, string Title, string Text)[] Generated(int count, int seed)
    {
        string[] words = ["river", "mountain", "honey", "engine", "signal", "garden", "protein", "harbour", "violin", "glacier",
            "lantern", "orbit", "copper", "meadow", "circuit", "falcon", "running", "runs", "quickly", "quick"];
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var n = 5 + rng.Next(40);
            var text = string.Join(' ', Enumerable.Range(0, n).Select(_ => words[rng.Next(words.Length)]));
            return ("g" + i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture), words[i % words.Length] + " note", text);
        }).ToArray();
    }

    [Theory]
    [InlineData("river honey")]
    [InlineData("engine signal garden garden")]
    [InlineData("running quick falcon's meadow")]
    [InlineData("copper, circuit: orbit! (lantern)")]
    [InlineData("state-of-the-art river-engine")]
    [InlineData("it's the violin's glacier")]
    public void Search_PlainQueries_RankExactlyAsTheIndependentBagOfWordsBm25(string query)
    {
        using var root = new TempDir();
        var corpus = Generated(120, seed: 11);
        var beir = Path.Combine(root.Path, "beir");
        Directory.CreateDirectory(beir);
        File.WriteAllLines(Path.Combine(beir, "corpus.jsonl"), corpus.Select(d => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = d.Id, ["title"] = d.Title, ["text"] = d.Text })));
        using var reference = new WholeDocumentBm25(beir);
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), DocumentBm25Tests.SmallChunks);
        index.BeginBatch();
        foreach (var (id, title, text) in corpus)
        {
            index.Write(DocumentBm25Tests.Doc(id, title, text));
        }
        index.Commit();

        var expected = reference.Search(query, 50);
        var response = new Searcher(index).Search(new SearchRequest(query, K: 50));

        Assert.True(expected.Count >= 20);
        Assert.Equal(expected.Select(e => e.DocId), response.Hits.Select(h => h.DocId));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, response.Hits[i].Score, 4);
        }
        Assert.Equal(expected.Select(e => e.DocId), new Searcher(index).RankDocuments(query, SearchMode.Lexical, 50).Select(r => r.DocId));
    }

    [Theory]
    [InlineData("river honey")]
    [InlineData("copper, circuit: orbit! (lantern)")]
    public void Search_PlainHybridQueries_RankAsTheUnparsedPath(string query)
    {
        // the unparsed path (RankDocuments, what evaluation runs) against the parsed one, same fusion and depth
        using var root = new TempDir();
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), DocumentBm25Tests.SmallChunks, _encoder);
        index.BeginBatch();
        foreach (var (id, title, text) in Generated(60, seed: 5))
        {
            index.Write(DocumentBm25Tests.Doc(id, title, text));
        }
        index.Commit();
        var searcher = new Searcher(index);
        var fusion = (index.Manifest.Fusion ?? new FusionOptions()) with { Depth = 40 };

        var expected = searcher.RankDocuments(query, SearchMode.Hybrid, 20, fusion: fusion);
        var response = searcher.Search(new SearchRequest(query, K: 20, Mode: SearchMode.Hybrid, Fusion: new FusionOverride(Depth: 40)));

        Assert.Equal(20, expected.Count);
        Assert.Equal(expected.Select(e => e.DocId), response.Hits.Select(h => h.DocId));
        Assert.Equal(expected.Select(e => e.Score), response.Hits.Select(h => h.Score));
    }

    [Fact]
    public void RankDocuments_QueryWithQuotesAndDashes_IsReadAsPlainText()
    {
        // evaluation runs rank BEIR query text, which holds quotes and leading dashes as text: never operators
        using var dir = new TempDir();
        using var index = Build(dir.Path, dense: false);
        var ranked = new Searcher(index).RankDocuments("-anemones \"pools tide\"", SearchMode.Lexical, 10).Select(r => r.DocId).ToList();
        Assert.Equal("p1", ranked[0]); // the excluded word and the words of the "phrase" all count
        Assert.Contains("p2", ranked);
    }
}
