using System.Text;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Testing;
using static SemanticSearch.Tests.Search.DocumentBm25Tests;

namespace SemanticSearch.Tests.Search;

/// <summary>
/// Hits say where they are: the PDF page and the headings (with the anchor that opens the file there) of the snippet.
/// Each query holds one word that occurs in one place of the corpus below; the expected page and headings are read
/// off the corpus by hand.
/// </summary>
public sealed class HitLocationTests
{
    private const string Markdown = """
        # Router handbook

        Routers move packets between networks. introductionword appears here.

        ## Installing the router

        Unpack the box, attach the antennas and plug in installword power.

        ### Wall mounting

        Two screws hold it; mountingword drill holes sixty millimetres apart.

        ## Resetting

        Hold the button for ten seconds until resetword lights blink.
        """;

    private const string Html = """
        <html><head><title>Firewall guide</title></head><body>
        <nav><h2 id="menu">Menu</h2><p>navword</p></nav>
        <h1 id="fw">Firewall guide</h1><p>Filtering traffic by port and address.</p>
        <section id="rules"><h2>Writing rules</h2><p>Every rule names a chain; chainword rules run in order.</p></section>
        <h2>Logging</h2><p>Dropped packets are logged with logword prefixes.</p>
        </body></html>
        """;

    private static (TempDir Root, SemanticIndex Index) Build()
    {
        var root = new TempDir();
        var folder = Path.Combine(root.Path, "docs");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "router.md"), Markdown, Encoding.UTF8);
        File.WriteAllText(Path.Combine(folder, "firewall.html"), Html, Encoding.UTF8);
        File.WriteAllBytes(Path.Combine(folder, "manual.pdf"), HostileCorpus.PdfPages(
            ["Kernels schedule threads across cores firstpageword", "", "Mirrors carry packages thirdpageword", "Locales shape dates fourthpageword"]));
        File.WriteAllText(Path.Combine(folder, "plain.txt"), "Plain notes with plainword and nothing else.");
        var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), SmallChunks);
        new FolderIndexer(index, SmallChunks).Run(folder);
        return (root, index);
    }

    private static SearchHit Only(SemanticIndex index, string query) =>
        Assert.Single(new Searcher(index).Search(new SearchRequest(query, K: 5, Mode: SearchMode.Lexical)).Hits);

    [Theory]
    [InlineData("introductionword", "Router handbook", "router-handbook")]
    [InlineData("installword", "Router handbook|Installing the router", "installing-the-router")]
    [InlineData("mountingword", "Router handbook|Installing the router|Wall mounting", "wall-mounting")]
    [InlineData("resetword", "Router handbook|Resetting", "resetting")]
    [InlineData("chainword", "Firewall guide|Writing rules", "rules")]
    [InlineData("logword", "Firewall guide|Logging", "fw")]
    public void Search_HitInASection_NamesItsHeadingsAndAnchor(string word, string sections, string anchor)
    {
        var (root, index) = Build();
        using (root)
        using (index)
        {
            var hit = Only(index, word);
            Assert.NotNull(hit.Location);
            Assert.Equal(sections, string.Join('|', hit.Location.Sections));
            Assert.Equal(anchor, hit.Location.Anchor);
            Assert.Null(hit.Location.Page);
        }
    }

    [Theory]
    [InlineData("firstpageword", 1)]
    [InlineData("thirdpageword", 3)]
    [InlineData("fourthpageword", 4)]
    public void Search_HitInAPdf_NamesItsPage(string word, int page)
    {
        var (root, index) = Build();
        using (root)
        using (index)
        {
            var hit = Only(index, word);
            Assert.Equal(page, hit.Location?.Page);
            Assert.Empty(hit.Location!.Sections);
        }
    }

    [Fact]
    public void Search_PlainTextAndApiDocuments_HaveNoLocation()
    {
        var (root, index) = Build();
        using (root)
        using (index)
        {
            index.BeginBatch();
            index.Write(Doc("api-1", "Uploaded", "An uploaded note holding uploadword."));
            index.Commit();
            Assert.Null(Only(index, "plainword").Location);
            Assert.Null(Only(index, "uploadword").Location);
            Assert.Empty(new Searcher(index).Search(new SearchRequest("navword", Mode: SearchMode.Lexical)).Hits);
        }
    }

    [Fact]
    public void Reopen_KeepsTheOutline()
    {
        var (root, index) = Build();
        using (root)
        {
            var dir = index.Directory;
            index.Dispose();
            using var reopened = SemanticIndex.OpenReadOnly(dir);
            Assert.Equal(3, Only(reopened, "thirdpageword").Location?.Page);
            Assert.Equal("wall-mounting", Only(reopened, "mountingword").Location?.Anchor);
        }
    }
}
