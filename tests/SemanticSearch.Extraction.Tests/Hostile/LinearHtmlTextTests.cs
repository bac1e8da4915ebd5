using System.Text;
using SemanticSearch.Extraction;

namespace SemanticSearch.Tests.Hostile;

public sealed class LinearHtmlTextTests
{
    [Theory]
    [InlineData("<div><div>x</div></div>", 2)]
    [InlineData("<p>a<p>b<p>c<li>d<br><img src=x>", 0)] // implied end tags and void elements never deepen the tree
    [InlineData("<div title='a > b'><span>x</span></div>", 2)] // '>' inside a quoted attribute is not the tag's end
    [InlineData("<div><script>for (i = 0; i < 3; i++) '<div><div><div>'</script></div>", 2)] // script content is not markup
    [InlineData("<!-- <div><div><div> --><div></div>", 1)]
    [InlineData("</div></div><div>", 1)] // stray end tags do not go below zero
    [InlineData("a < b and c<d", 1)] // "<d" is an (unclosed) tag; "< b" is text
    public void NestingDepth_HandWrittenPages_MatchesHandCount(string html, int expected) =>
        Assert.Equal(expected, LinearHtmlText.NestingDepth(html));

    [Theory]
    [InlineData("tide-pools.html")]
    [InlineData("volcanoes.html")]
    public void Extract_SamplePages_SameWordsAsTheTreeBuilder(string name)
    {
        // Reference: the AngleSharp tree walk the extractor uses for ordinary pages.
        var bytes = File.ReadAllBytes(Path.Combine(RepoPaths.SampleDocs, name));
        var reference = new HtmlTextExtractor().Extract(bytes, name);
        var html = Encoding.UTF8.GetString(bytes);
        var (text, title) = LinearHtmlText.Extract(html, new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object", "nav",
        }, new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "p", "div", "li", "h1", "h2", "h3", "br", "section", "article", "header", "footer", "main", "ul", "ol", "table", "tr", "td", "th" });
        Assert.Equal(reference.Title, title);
        Assert.Equal(Words(reference.Text), Words(text));
    }

    [Fact]
    public void Extract_HundredThousandNestedDivs_FindsTheTextAndTitle()
    {
        const int depth = 100_000;
        var html = "<html><head><title>Deep &amp; dark</title></head><body>" + string.Concat(Enumerable.Repeat("<div>", depth))
            + "the bottom of the well" + string.Concat(Enumerable.Repeat("</div>", depth)) + "</body></html>";
        Assert.Equal(depth, LinearHtmlText.NestingDepth(html));
        var result = new HtmlTextExtractor().Extract(Encoding.UTF8.GetBytes(html), "deep.html");
        Assert.Equal("Deep & dark", result.Title);
        Assert.Equal("the bottom of the well", result.Text);
    }

    [Fact]
    public void Extract_PageWithoutHeadEndTag_KeepsTheBody()
    {
        // The tree builder closes <head> implicitly at <body>; the scanner must not drop the body either.
        var (text, title) = LinearHtmlText.Extract("<html><head><title>T</title><meta charset=utf-8><body><p>kept words</p><nav>menu</nav>",
            new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "head", "nav" }, new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "p" });
        Assert.Equal("T", title);
        Assert.Equal("kept words", text);
    }

    [Fact]
    public void Extract_PageLongerThanTheTreeLimit_SameWordsAsAShortPageOfTheSameParagraphs()
    {
        // Reference: the tree builder's text of one paragraph block, repeated; the long page (over MaxTreeChars) goes
        // through the scanner and must yield the same words.
        const string Block = "<div class=\"c\"><p>granite &amp; basalt quarry</p><script>var x = '<p>no</p>';</script><nav>menu</nav></div>\n";
        var shortPage = "<html><head><title>Rocks</title></head><body>" + Block + "</body></html>";
        var reference = Words(new HtmlTextExtractor().Extract(Encoding.UTF8.GetBytes(shortPage), "rocks.html").Text);
        var repeats = HtmlTextExtractor.MaxTreeChars / Block.Length + 1;
        var longPage = "<html><head><title>Rocks</title></head><body>" + string.Concat(Enumerable.Repeat(Block, repeats)) + "</body></html>";
        Assert.True(longPage.Length > HtmlTextExtractor.MaxTreeChars);
        var result = new HtmlTextExtractor().Extract(Encoding.UTF8.GetBytes(longPage), "rocks.html");
        Assert.Equal("Rocks", result.Title);
        Assert.Equal(Enumerable.Range(0, repeats).SelectMany(_ => reference), Words(result.Text));
    }

    private static string[] Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}
