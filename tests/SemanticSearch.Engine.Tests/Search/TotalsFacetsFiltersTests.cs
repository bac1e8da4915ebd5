using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// Hit totals, facet counts by file type, folder and source, and the filters (relative or absolute path prefix,
/// modified before/after, metadata OR lists) over a generated corpus of two sources and four folders; every
/// expected count is worked out from the generated documents, never from the searcher (issue 19).
/// </summary>
public sealed class TotalsFacetsFiltersTests
{
    private const string Needle = "zebra";
    private static readonly string[] Folders = ["guides", "faq", "notes", ""];
    private static readonly string[] Types = [".md", ".txt", ".html"];
    private static readonly string[] Sources = ["/corpus/a", "/corpus/b"];
    private static readonly string[] Teams = ["geo", "sea", "home"];
    private static readonly string[] Words = ["granite", "river", "lantern", "orchard", "meadow", "harbor", "violin", "copper", "basket", "thunder"];
    private static readonly DateTime Epoch = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly IReadOnlyList<SourceDocument> Corpus = Generate();

    // 60 documents, seeded: a document holds the needle word about half the time; two of them share their text (a
    // duplicate pair, counted each by totals), and a few hold no metadata at all.
    private static List<SourceDocument> Generate()
    {
        var rng = new Random(19);
        var docs = new List<SourceDocument>();
        for (var i = 0; i < 60; i++)
        {
            var folder = Folders[rng.Next(Folders.Length)];
            var type = Types[rng.Next(Types.Length)];
            var source = Sources[rng.Next(Sources.Length)];
            var id = (folder.Length == 0 ? "" : folder + "/") + $"doc{i:D2}{type}";
            var words = Enumerable.Range(0, 8 + rng.Next(10)).Select(_ => Words[rng.Next(Words.Length)]).ToList();
            if (rng.Next(2) == 0)
            {
                words.Insert(rng.Next(words.Count), Needle);
            }
            var text = string.Join(' ', words) + ".";
            var meta = i % 7 == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { ["team"] = Teams[rng.Next(Teams.Length)], ["lang"] = i % 2 == 0 ? "en" : "de" };
            docs.Add(new SourceDocument(id, source, source + "/" + id, $"Document {i}", text, type, text.Length, Epoch.AddDays(i), $"h{i}", meta));
        }
        // the duplicate pair: the same text in two folders
        var copy = docs[1] with { Id = "faq/copy-of-1.txt", Path = docs[1].Source + "/faq/copy-of-1.txt", FileType = ".txt", ContentHash = "copy" };
        docs.Add(copy with { Text = docs[1].Text.Contains(Needle, StringComparison.Ordinal) ? docs[1].Text : docs[1].Text + " " + Needle });
        docs[1] = docs[1] with { Text = docs[^1].Text };
        return docs;
    }

    private static bool HoldsNeedle(SourceDocument d) => d.Text.Split(' ', '.').Contains(Needle);

    private static (TempDir Root, SemanticIndex Index) Build(bool withModel)
    {
        var root = new TempDir();
        var dir = Path.Combine(root.Path, "idx");
        var index = withModel
            ? SemanticIndex.OpenOrCreate(dir, DocumentBm25Tests.SmallChunks, TestModels.OpenTestBert())
            : SemanticIndex.OpenOrCreate(dir, DocumentBm25Tests.SmallChunks);
        index.BeginBatch();
        foreach (var d in Corpus)
        {
            index.Write(d);
        }
        index.Commit();
        return (root, index);
    }

    private static string TopFolder(string id) => id.Contains('/', StringComparison.Ordinal) ? id[..id.IndexOf('/', StringComparison.Ordinal)] : "";

    private static Dictionary<string, long> CountBy(IEnumerable<SourceDocument> docs, Func<SourceDocument, string> key) =>
        docs.GroupBy(key).ToDictionary(g => g.Key, g => (long)g.Count());

    private static Dictionary<string, long> AsDictionary(IReadOnlyList<FacetCount> counts) => counts.ToDictionary(c => c.Value, c => c.Count);

    [Fact]
    public void Search_Lexical_TotalAndFacetsCountEveryMatchingDocument()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var expected = Corpus.Where(HoldsNeedle).ToList();
            Assert.True(expected.Count > 10, "the generated corpus should match more documents than a page");

            var response = new Searcher(index).Search(new SearchRequest(Needle, K: 5) { Facets = true });

            Assert.Equal(5, response.Hits.Count);
            Assert.True(response.TotalExact);
            Assert.Equal(expected.Count, response.Total);
            Assert.Equal(CountBy(expected, d => d.FileType), AsDictionary(response.Facets!.FileTypes));
            Assert.Equal(CountBy(expected, d => TopFolder(d.Id)), AsDictionary(response.Facets.Folders));
            Assert.Equal(CountBy(expected, d => d.Source), AsDictionary(response.Facets.Sources));
            // most frequent first
            Assert.Equal(response.Facets.Folders.Select(f => f.Count).OrderDescending(), response.Facets.Folders.Select(f => f.Count));
        }
    }

    [Fact]
    public void Search_LexicalWithFilter_TotalCountsOnlyWhatTheFilterAdmits()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var expected = Corpus.Count(d => HoldsNeedle(d) && d.FileType == ".md" && d.Source == "/corpus/b");

            var response = new Searcher(index).Search(new SearchRequest(Needle, K: 3, Filter: new SearchFilter(PathPrefix: "/corpus/b/", FileTypes: [".md"])) { Facets = true });

            Assert.Equal(expected, response.Total);
            Assert.Equal(expected, Assert.Single(response.Facets!.FileTypes).Count);
            Assert.Equal("/corpus/b", Assert.Single(response.Facets.Sources).Value);
        }
    }

    [Fact]
    public void Search_FacetsNotAsked_NoFacetsButATotal()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var response = new Searcher(index).Search(new SearchRequest(Needle, K: 2));

            Assert.Null(response.Facets);
            Assert.Equal(Corpus.Count(HoldsNeedle), response.Total);
        }
    }

    [Theory]
    [InlineData(SearchMode.Dense)]
    [InlineData(SearchMode.Hybrid)]
    public void Search_DenseOrHybrid_TotalIsALowerBoundTheFacetsAddUpTo(SearchMode mode)
    {
        var (root, index) = Build(withModel: true);
        using (root)
        using (index)
        {
            var filter = new SearchFilter(FileTypes: [".md", ".txt"]);
            var admitted = Corpus.Where(d => d.FileType is ".md" or ".txt").ToList();

            var response = new Searcher(index).Search(new SearchRequest(Needle, K: 3, Mode: mode, Filter: filter) { Facets = true });

            Assert.False(response.TotalExact);
            Assert.InRange(response.Total, response.Hits.Count, admitted.Count);
            if (mode == SearchMode.Hybrid)
            {
                // every BM25 match survives the floor and is within the default depth (100) of this corpus
                Assert.InRange(response.Total, admitted.Count(HoldsNeedle), admitted.Count);
            }
            foreach (var facet in new[] { response.Facets!.FileTypes, response.Facets.Folders, response.Facets.Sources })
            {
                Assert.Equal(response.Total, facet.Sum(f => f.Count));
            }
            Assert.All(response.Facets.FileTypes, f => Assert.InRange(f.Count, 1, admitted.Count(d => d.FileType == f.Value)));
        }
    }

    [Theory]
    [InlineData(SearchMode.Lexical, "guides/")]
    [InlineData(SearchMode.Lexical, "./guides")]
    [InlineData(SearchMode.Hybrid, "guides/")]
    public void Search_RelativePathPrefix_SameHitsAsTheAbsoluteOnes(SearchMode mode, string relative)
    {
        var (root, index) = Build(withModel: mode != SearchMode.Lexical);
        using (root)
        using (index)
        {
            var searcher = new Searcher(index);
            SearchResponse Run(string prefix) =>
                searcher.Search(new SearchRequest(Needle, K: 100, Mode: mode, Filter: new SearchFilter(PathPrefix: prefix)) { RelevanceFloor = false, CollapseDuplicates = false });
            var expected = Corpus.Where(d => d.Id.StartsWith("guides/", StringComparison.Ordinal) && (mode != SearchMode.Lexical || HoldsNeedle(d)))
                .Select(d => d.Id).Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(expected);

            var byRelative = Run(relative).Hits.Select(h => h.DocId).Order(StringComparer.Ordinal).ToList();
            var byAbsolute = Run("/corpus/a/guides/").Hits.Concat(Run("/corpus/b/guides/").Hits).Select(h => h.DocId).Order(StringComparer.Ordinal).ToList();

            Assert.Equal(expected, byRelative);
            Assert.Equal(byAbsolute, byRelative);
        }
    }

    [Fact]
    public void Search_ModifiedBefore_OnlyDocumentsModifiedEarlier()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var before = Epoch.AddDays(20);
            var after = Epoch.AddDays(5);
            var searcher = new Searcher(index);

            var older = searcher.Search(new SearchRequest(Needle, K: 100, Filter: new SearchFilter(ModifiedBeforeUtc: before)) { CollapseDuplicates = false });
            var window = searcher.Search(new SearchRequest(Needle, K: 100, Filter: new SearchFilter(ModifiedAfterUtc: after, ModifiedBeforeUtc: before)) { CollapseDuplicates = false });
            var never = searcher.Search(new SearchRequest(Needle, K: 100, Filter: new SearchFilter(ModifiedAfterUtc: before, ModifiedBeforeUtc: after)));

            Assert.Equal(Corpus.Where(d => HoldsNeedle(d) && d.ModifiedUtc < before).Select(d => d.Id).Order(StringComparer.Ordinal), older.Hits.Select(h => h.DocId).Order(StringComparer.Ordinal));
            Assert.Equal(Corpus.Where(d => HoldsNeedle(d) && d.ModifiedUtc > after && d.ModifiedUtc < before).Select(d => d.Id).Order(StringComparer.Ordinal), window.Hits.Select(h => h.DocId).Order(StringComparer.Ordinal));
            Assert.Empty(never.Hits);
            Assert.Equal(0, never.Total);
        }
    }

    [Theory]
    [InlineData(SearchMode.Lexical)]
    [InlineData(SearchMode.Hybrid)]
    public void Search_MetadataOrList_HitsHoldOneOfTheListedValues(SearchMode mode)
    {
        var (root, index) = Build(withModel: mode != SearchMode.Lexical);
        using (root)
        using (index)
        {
            var filter = new SearchFilter(MetadataAnyOf: new Dictionary<string, IReadOnlyList<string>> { ["team"] = ["geo", "sea"], ["lang"] = ["en"] });
            var expected = Corpus.Where(d => d.Metadata.GetValueOrDefault("team") is "geo" or "sea" && d.Metadata.GetValueOrDefault("lang") == "en"
                    && (mode != SearchMode.Lexical || HoldsNeedle(d)))
                .Select(d => d.Id).Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(expected);

            var hits = new Searcher(index).Search(new SearchRequest(Needle, K: 100, Mode: mode, Filter: filter) { RelevanceFloor = false, CollapseDuplicates = false }).Hits;

            Assert.Equal(expected, hits.Select(h => h.DocId).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Search_Hits_CarryTheirDocumentsMetadata()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var hits = new Searcher(index).Search(new SearchRequest(Needle, K: 100) { CollapseDuplicates = false }).Hits;

            Assert.Equal(Corpus.Count(HoldsNeedle), hits.Count);
            Assert.All(hits, h => Assert.Equal(Corpus.Single(d => d.Id == h.DocId).Metadata.OrderBy(kv => kv.Key), h.Metadata.OrderBy(kv => kv.Key)));
            Assert.Contains(hits, h => h.Metadata.Count > 0);
        }
    }

    [Theory]
    [InlineData("guides/intro.md", "guides")]
    [InlineData("intro.md", "")]
    [InlineData("a/b/c.txt", "a")]
    public void TopFolder_DocumentId_ItsFirstPart(string id, string expected) => Assert.Equal(expected, Searcher.TopFolder(id));
}
