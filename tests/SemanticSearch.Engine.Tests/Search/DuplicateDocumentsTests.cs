using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using static SemanticSearch.Tests.Search.DocumentBm25Tests;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// Documents with the same extracted text (a FAQ shipped twice, a file copied into two folders) come back as one hit,
/// the best-ranked, naming the others; on request each is a hit of its own. Expected hits are worked out from the
/// corpus below, not from the searcher.
/// </summary>
public sealed class DuplicateDocumentsTests
{
    private const string Faq = "How do I reset the router? Hold the reset button for ten seconds until the router lights blink.";

    // faq/a and mirror/a and old/a share their text (titles differ: a title is not the text); the rest are distinct
    private static readonly SourceDocument[] Docs =
    [
        Doc("faq/a.html", "Router FAQ", Faq, "/docs/faq/a.html", ".html"),
        Doc("mirror/a.html", "Router FAQ (mirror)", Faq, "/docs/mirror/a.html", ".html"),
        Doc("old/a.txt", "", Faq, "/docs/old/a.txt"),
        Doc("guide.txt", "Router guide", "The router reset restores factory settings; the router then reboots.", "/docs/guide.txt"),
        Doc("notes.txt", "Notes", "A router needs power. Reset it when it hangs.", "/docs/notes.txt"),
        Doc("kitchen.txt", "Kitchen", "Bread, butter and jam for breakfast.", "/docs/kitchen.txt"),
        // two title-only documents: empty text is nobody's duplicate
        Doc("t1", "Quokka census", ""),
        Doc("t2", "Quokka census", ""),
    ];

    private static readonly string[] FaqCopies = ["faq/a.html", "mirror/a.html", "old/a.txt"];

    private static (TempDir Root, SemanticIndex Index) Build(bool withModel)
    {
        var root = new TempDir();
        var encoder = withModel ? TestModels.OpenTestBert() : null;
        var index = encoder is null
            ? SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), SmallChunks)
            : SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), SmallChunks, encoder);
        index.BeginBatch();
        foreach (var d in Docs)
        {
            index.Write(d);
        }
        index.Commit();
        return (root, index);
    }

    [Theory]
    [InlineData(SearchMode.Lexical)]
    [InlineData(SearchMode.Dense)]
    [InlineData(SearchMode.Hybrid)]
    public void Search_ThreeCopiesOfOneText_OneHitNamingTheOtherTwo(SearchMode mode)
    {
        var (root, index) = Build(withModel: mode != SearchMode.Lexical);
        using (root)
        using (index)
        {
            // lexically, three distinct texts hold "reset" or "router" (the FAQ, the guide, the notes)
            var hits = new Searcher(index).Search(new SearchRequest("reset the router", K: 3, Mode: mode)).Hits;

            var copies = hits.Where(h => FaqCopies.Contains(h.DocId)).ToList();
            var shown = Assert.Single(copies);
            Assert.Equal(FaqCopies.Where(id => id != shown.DocId).Order(StringComparer.Ordinal), shown.AlsoAt!.Select(a => a.DocId));
            Assert.All(shown.AlsoAt!, a => Assert.Equal(Docs.Single(d => d.Id == a.DocId).Path, a.Path));
            Assert.Equal(hits.Count, hits.Select(h => h.DocId).Distinct().Count());
            Assert.All(hits.Where(h => h != shown), h => Assert.Null(h.AlsoAt));
            // the copies no longer take the page's places
            Assert.Equal(3, hits.Count);
        }
    }

    [Fact]
    public void Search_NewIndex_FindsCopiesThroughTheLexicalIndexAfterAReplacement()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            Assert.False(index.Metadata.IndexesTextHashes); // a new store leaves text hashes to the lexical index
            // one copy gets a text of its own: the other two still name each other, and the changed one names none
            index.BeginBatch();
            index.Write(Doc("mirror/a.html", "Router FAQ (mirror)", "Router lights: green is fine, red means reset it.", "/docs/mirror/a.html", ".html"));
            index.Commit();
            var hits = new Searcher(index).Search(new SearchRequest("reset router", K: 10)).Hits;
            var faq = Assert.Single(hits, h => h.DocId is "faq/a.html" or "old/a.txt");
            Assert.Equal(["faq/a.html", "old/a.txt"], new[] { faq.DocId }.Concat(faq.AlsoAt!.Select(a => a.DocId)).Order(StringComparer.Ordinal));
            Assert.Null(Assert.Single(hits, h => h.DocId == "mirror/a.html").AlsoAt);
        }
    }

    [Fact]
    public void Search_IndexWrittenBeforeLexicalTextHashes_FindsCopiesThroughTheMetadata()
    {
        // the fixture's metadata store indexes text hashes itself (and its lexical store is format 1): copies written
        // into it are found through that index
        using var root = new TempDir();
        var dir = DocumentBm25Tests.CopyFormat1Fixture(root);
        using var index = SemanticIndex.OpenOrCreate(dir, new IndexSettings());
        Assert.True(index.Metadata.IndexesTextHashes);
        index.BeginBatch();
        foreach (var d in Docs.Take(3))
        {
            index.Write(d);
        }
        index.Commit();
        var shown = Assert.Single(new Searcher(index).Search(new SearchRequest("reset the router", K: 3)).Hits, h => FaqCopies.Contains(h.DocId));
        Assert.Equal(FaqCopies.Where(id => id != shown.DocId).Order(StringComparer.Ordinal), shown.AlsoAt!.Select(a => a.DocId));
    }

    [Fact]
    public void Search_CollapseOff_EveryCopyIsAHitOfItsOwn()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var hits = new Searcher(index).Search(new SearchRequest("reset the router", K: 10) { CollapseDuplicates = false }).Hits;

            Assert.Equal(FaqCopies.Order(StringComparer.Ordinal), hits.Where(h => FaqCopies.Contains(h.DocId)).Select(h => h.DocId).Order(StringComparer.Ordinal));
            Assert.All(hits, h => Assert.Null(h.AlsoAt));
        }
    }

    [Fact]
    public void Search_CopiesFillTheFirstPass_PageStillFullOfDistinctDocuments()
    {
        // lexical retrieval asks for exactly offset + k documents: with k 2 the first pass holds only copies
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var searcher = new Searcher(index);
            const string query = "router lights blink reset"; // the FAQ's copies hold all four words, the guide and the notes two
            var all = searcher.Search(new SearchRequest(query, K: 10) { CollapseDuplicates = false }).Hits.Select(h => h.DocId).ToList();
            Assert.True(FaqCopies.Contains(all[0]) && FaqCopies.Contains(all[1]), "the corpus no longer puts two copies first; the test needs that");

            var page = searcher.Search(new SearchRequest(query, K: 2)).Hits;
            var expected = all.Where(id => !FaqCopies.Contains(id) || id == all[0]).Take(3).ToList();
            Assert.Equal(expected.Take(2), page.Select(h => h.DocId));
            var next = searcher.Search(new SearchRequest(query, K: 2, Offset: 2)).Hits;
            Assert.Equal(expected.Skip(2).Take(1), next.Select(h => h.DocId));
        }
    }

    [Fact]
    public void Search_TitleOnlyDocumentsWithOneTitle_AreNotCollapsed()
    {
        var (root, index) = Build(withModel: false);
        using (root)
        using (index)
        {
            var hits = new Searcher(index).Search(new SearchRequest("quokka census", K: 10)).Hits;
            Assert.Equal(["t1", "t2"], hits.Select(h => h.DocId).Order(StringComparer.Ordinal));
        }
    }
}
