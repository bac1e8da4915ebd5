using System.Text;
using SemanticSearch.Extraction;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace SemanticSearch.Tests.Extraction;

/// <summary>Page boilerplate: HTML navigation, banners and footers; PDF running headers, footers and page numbers.</summary>
public sealed class BoilerplateTests
{
    private readonly DocumentExtractor _extractor = new();

    private const string Page = """
        <html><head><title>Apt pinning</title></head><body>
        <header><a href="/">Debian Reference</a> sitebannerword</header>
        <nav><a>Home</a> <a>Next</a> navmenuword</nav>
        <div role="navigation">breadcrumbword</div>
        <main>
          <article>
            <header><h1>Pinning packages</h1><p>articlebylineword</p></header>
            <p>Pinning keeps a package at a chosen version bodyword.</p>
            <aside>relatedlinksword</aside>
          </article>
        </main>
        <div role="contentinfo">copyrightword</div>
        <footer>Copyright 2026 footerword</footer>
        </body></html>
        """;

    [Fact]
    public void Extract_HtmlPage_DropsNavigationBannerFooterAndAside()
    {
        var text = _extractor.Extract(Encoding.UTF8.GetBytes(Page), "pin.html").Text;
        Assert.Contains("bodyword", text);
        foreach (var word in new[] { "sitebannerword", "navmenuword", "breadcrumbword", "relatedlinksword", "copyrightword", "footerword" })
        {
            Assert.DoesNotContain(word, text);
        }
    }

    [Fact]
    public void Extract_HtmlArticleHeader_IsKept()
    {
        var text = _extractor.Extract(Encoding.UTF8.GetBytes(Page), "pin.html").Text;
        Assert.Contains("Pinning packages", text);
        Assert.Contains("articlebylineword", text);
    }

    [Fact]
    public void Extract_DeepHtmlReadByTheLinearScanner_DropsTheSameElements()
    {
        // past the tree builder's depth cap the linear scanner reads the page: element names, no roles
        var deep = string.Concat(Enumerable.Repeat("<div>", HtmlTextExtractor.MaxTreeDepth + 10));
        var html = Page.Replace("<main>", "<main>" + deep, StringComparison.Ordinal);
        var text = _extractor.Extract(Encoding.UTF8.GetBytes(html), "deep.html").Text;
        Assert.Contains("bodyword", text);
        Assert.Contains("articlebylineword", text);
        foreach (var word in new[] { "sitebannerword", "navmenuword", "relatedlinksword", "footerword" })
        {
            Assert.DoesNotContain(word, text);
        }
    }

    private static readonly string[] Topics =
    [
        "Kernels schedule threads across cores", "Mirrors carry packages to every continent", "Locales shape how dates appear",
        "Firewalls filter traffic by port", "Journals record what services printed", "Backups rotate weekly onto tape",
    ];

    // A PDF of `pages` pages, each with a running header, two body lines of its own and a footer.
    private static byte[] BookPdf(int pages, Func<int, string> header, Func<int, string> footer)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        for (var p = 1; p <= pages; p++)
        {
            var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
            page.AddText(header(p), 9, new PdfPoint(50, 810), font);
            page.AddText($"{Topics[p - 1]} bodyword{p}", 12, new PdfPoint(50, 700), font);
            page.AddText($"otherword{p} {Topics[pages - p]}", 12, new PdfPoint(50, 680), font);
            page.AddText(footer(p), 9, new PdfPoint(280, 30), font);
        }
        return builder.Build();
    }

    [Fact]
    public void Extract_PdfRunningHeaderAndPageNumbers_AreRemoved()
    {
        var pdf = BookPdf(5, _ => "Debian Administrator's Handbook runningheaderword", p => $"Page {p} of 5");
        var text = _extractor.Extract(pdf, "book.pdf").Text;
        for (var p = 1; p <= 5; p++)
        {
            Assert.Contains($"bodyword{p}", text);
            Assert.Contains($"otherword{p}", text);
        }
        Assert.DoesNotContain("runningheaderword", text);
        Assert.DoesNotContain("Page 3 of 5", text);
        Assert.DoesNotContain("of 5", text);
    }

    [Fact]
    public void Extract_PdfBarePageNumbersAndAlternatingHeaders_AreRemoved()
    {
        var pdf = BookPdf(6, p => p % 2 == 0 ? "Book title evenheaderword" : "Chapter three oddheaderword", p => $"{p}");
        var text = _extractor.Extract(pdf, "book.pdf").Text;
        Assert.DoesNotContain("evenheaderword", text);
        Assert.DoesNotContain("oddheaderword", text);
        Assert.Contains("bodyword6", text);
        // the page numbers were the only digits-only words
        Assert.DoesNotContain(text.Split(' ', '\n'), w => w.Length > 0 && w.All(char.IsDigit));
    }

    [Fact]
    public void Extract_PdfLineOnOnlyOnePage_IsKept()
    {
        var pdf = BookPdf(4, p => p == 2 ? "A heading only page two has uniqueheadword" : $"Varying header {(char)('a' + p)}{(char)('k' + p)}word", _ => "");
        var text = _extractor.Extract(pdf, "book.pdf").Text;
        Assert.Contains("uniqueheadword", text);
        Assert.Contains("bodyword2", text);
    }

    [Fact]
    public void Extract_TwoPagePdf_KeepsRepeatedLines()
    {
        // too few pages to call anything a running line
        var pdf = BookPdf(2, _ => "Same top line twopagesword", p => $"{p}");
        var text = _extractor.Extract(pdf, "two.pdf").Text;
        Assert.Contains("twopagesword", text);
    }
}
