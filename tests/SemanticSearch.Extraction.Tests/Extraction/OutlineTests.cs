using System.Text;
using SemanticSearch.Core.Text;
using SemanticSearch.Extraction;
using SemanticSearch.Testing;

namespace SemanticSearch.Tests.Extraction;

/// <summary>
/// Outlines: where PDF pages and HTML/Markdown headings begin in the extracted text. Each expectation is read off the
/// input by hand (the heading's own words, its id, the slug GitHub shows for it), and every offset is checked by
/// looking at the extracted text there, not at what the outline says.
/// </summary>
public sealed class OutlineTests
{
    private readonly DocumentExtractor _extractor = new();

    private static ExtractedText Extract(string fileName, string content) =>
        new DocumentExtractor().Extract(Encoding.UTF8.GetBytes(content), fileName);

    private static void AssertAtOffsets(ExtractedText extracted)
    {
        foreach (var h in extracted.Outline.Headings)
        {
            Assert.True(extracted.Text.AsSpan(h.Offset).StartsWith(h.Text.AsSpan(0, Math.Min(6, h.Text.Length))),
                $"heading '{h.Text}' at {h.Offset}, where the text reads '{extracted.Text.Substring(h.Offset, Math.Min(20, extracted.Text.Length - h.Offset))}'");
        }
    }

    [Fact]
    public void Markdown_AtxAndSetextHeadings_WithLevelsGitHubSlugsAndOffsets()
    {
        var md = "# Getting Started\n\nIntro text.\n\n## Install *the* `semsearch` tool ##\n\nRun it.\n\nNetwork setup\n-------------\n\nCables.\n\nOverview Again\n==============\n";
        var extracted = Extract("guide.md", md);
        var h = extracted.Outline.Headings;
        Assert.Equal(["Getting Started", "Install the semsearch tool", "Network setup", "Overview Again"], h.Select(x => x.Text));
        Assert.Equal([1, 2, 2, 1], h.Select(x => x.Level));
        Assert.Equal(["getting-started", "install-the-semsearch-tool", "network-setup", "overview-again"], h.Select(x => x.Anchor));
        Assert.Equal(md.IndexOf("# Getting", StringComparison.Ordinal), h[0].Offset);
        Assert.Equal(md.IndexOf("## Install", StringComparison.Ordinal), h[1].Offset);
        Assert.Equal(md.IndexOf("Network setup", StringComparison.Ordinal), h[2].Offset);
        Assert.Empty(extracted.Outline.Pages);
    }

    [Fact]
    public void Markdown_CodeFrontMatterAndNonHeadings_AreNotHeadings()
    {
        var md = "---\ntitle: x\n# not: a heading\n---\n\n```sh\n# a shell comment\n```\n\n    # indented code\n\n#hashtag is not a heading\n\n- item\n---\n\n~~~\n## fenced too\n~~~\n\n### Real One\n";
        var h = Extract("notes.md", md).Outline.Headings;
        var only = Assert.Single(h);
        Assert.Equal(("Real One", 3, "real-one"), (only.Text, only.Level, only.Anchor));
    }

    [Fact]
    public void Markdown_RepeatedSlugsAreNumberedAndExplicitIdsWin()
    {
        var md = "## Usage\n\n## Usage\n\n## Usage-1\n\n## Usage\n\n## Flags {#cli-flags}\n\n## See [the docs](https://example.org) & C++!\n";
        var h = Extract("a.md", md).Outline.Headings;
        // GitHub: usage, usage-1, then a literal "Usage-1" heading cannot reuse usage-1, then usage-2
        Assert.Equal(["usage", "usage-1", "usage-1-1", "usage-2", "cli-flags", "see-the-docs--c"], h.Select(x => x.Anchor));
        Assert.Equal("Flags", h[4].Text);
        Assert.Equal("See the docs & C++!", h[5].Text);
    }

    [Fact]
    public void Html_HeadingsInVisibleText_WithTheirAnchors()
    {
        var html = """
            <html><head><title>Handbook</title></head><body>
            <nav><h2 id="menu">Site menu</h2></nav>
            <h1 id="top">Package management</h1>
            <p>Packages come from mirrors.</p>
            <div class="section" id="sect.apt"><h2 class="title">APT sources</h2><p>Lines in sources.list.</p></div>
            <h2><a id="pinning"></a>Pinning <em>versions</em></h2>
            <p>Preferences files.</p>
            <h3><a name="old-style">Old style anchors</a></h3>
            <h3>No anchor at all</h3>
            <p>The end.</p>
            </body></html>
            """;
        var extracted = Extract("apt.html", html);
        var h = extracted.Outline.Headings;
        Assert.Equal(["Package management", "APT sources", "Pinning versions", "Old style anchors", "No anchor at all"], h.Select(x => x.Text));
        Assert.Equal([1, 2, 2, 3, 3], h.Select(x => x.Level));
        Assert.Equal(["top", "sect.apt", "pinning", "old-style", null], h.Select(x => x.Anchor));
        AssertAtOffsets(extracted);
        Assert.DoesNotContain("Site menu", extracted.Text); // boilerplate is dropped, its heading with it
    }

    [Fact]
    public void Html_LocateAParagraph_GivesTheHeadingsItIsUnder()
    {
        var html = "<h1 id='a'>Alpha</h1><p>one</p><h2 id='b'>Beta</h2><p>two</p><h3>Gamma</h3><p>three</p><h2 id='d'>Delta</h2><p>four</p>";
        var extracted = Extract("x.html", html);
        var at = extracted.Outline.Locate(extracted.Text.IndexOf("three", StringComparison.Ordinal));
        Assert.Equal(["Alpha", "Beta", "Gamma"], at.Sections.Select(s => s.Text));
        Assert.Equal("b", at.Anchor); // Gamma has none: the nearest enclosing heading that has one
        var four = extracted.Outline.Locate(extracted.Text.IndexOf("four", StringComparison.Ordinal));
        Assert.Equal(["Alpha", "Delta"], four.Sections.Select(s => s.Text));
        Assert.Null(four.Page);
    }

    [Fact]
    public void Pdf_PageStarts_CountPagesWithoutText()
    {
        var pdf = HostileCorpus.PdfPages(["Kernels schedule threads firstpage", "", "Mirrors carry packages thirdpage", "Locales shape dates fourthpage"]);
        var extracted = _extractor.Extract(pdf, "book.pdf");
        var pages = extracted.Outline.Pages;
        Assert.Equal([1, 3, 4], pages.Select(p => p.Number));
        Assert.Equal(0, pages[0].Offset);
        Assert.Equal(extracted.Text.IndexOf("Mirrors", StringComparison.Ordinal), pages[1].Offset);
        Assert.Equal(extracted.Text.IndexOf("Locales", StringComparison.Ordinal), pages[2].Offset);
        Assert.Equal(3, extracted.Outline.Locate(extracted.Text.IndexOf("thirdpage", StringComparison.Ordinal)).Page);
        Assert.Equal(4, extracted.Outline.Locate(extracted.Text.Length - 1).Page);
    }

    [Fact]
    public void PlainTextAndDocx_HaveNoOutline()
    {
        Assert.True(Extract("a.txt", "Title\n\nbody").Outline.IsEmpty);
        Assert.True(_extractor.Extract(HostileCorpus.Docx("hello"), "a.docx").Outline.IsEmpty);
    }
}
