using System.Text.Json;

namespace SemanticSearch.Tests.Cli;

/// <summary>A folder that ships a page twice (the FAQ case): one result naming the copy, or both with --show-duplicates.</summary>
public sealed class DuplicateFilesTests
{
    private const string Page = "<html><head><title>Printer FAQ</title></head><body><p>To clear a paper jam, open the rear tray and pull the sheet out slowly.</p></body></html>";

    [Fact]
    public void Search_PageShippedTwice_OneHitNamingTheCopy_BothWithShowDuplicates()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("faq/jam.html", Page);
        src.File("faq-print/jam.html", Page);
        src.File("tray.txt", "The rear tray holds envelopes; a paper jam there is rare.");
        var index = CliRunner.Run(root.Path, "index", src.Path, "--index", "t", "--model", "none");
        Assert.True(index.ExitCode == 0, index.Stderr);

        var collapsed = Hits(CliRunner.Run(root.Path, "search", "paper jam rear tray", "--index", "t", "--json"));
        var page = Assert.Single(collapsed, h => h.GetProperty("docId").GetString()!.EndsWith("jam.html", StringComparison.Ordinal));
        var shown = page.GetProperty("docId").GetString()!;
        var copy = Assert.Single(page.GetProperty("alsoAt").EnumerateArray());
        Assert.Equal(shown == "faq/jam.html" ? "faq-print/jam.html" : "faq/jam.html", copy.GetProperty("docId").GetString());
        Assert.Equal(Path.Combine(src.Path, copy.GetProperty("docId").GetString()!), copy.GetProperty("path").GetString());
        Assert.Contains(collapsed, h => h.GetProperty("docId").GetString() == "tray.txt");
        // --json carries the snippet and where the query's words are in it, as BM25 matches them
        var snippet = page.GetProperty("snippet").GetString()!;
        var marked = page.GetProperty("snippetHighlights").EnumerateArray()
            .Select(s => snippet.Substring(s.GetProperty("start").GetInt32(), s.GetProperty("length").GetInt32())).ToList();
        Assert.Equal(["paper", "jam", "rear", "tray"], marked);

        var text = CliRunner.Run(root.Path, "search", "paper jam rear tray", "--index", "t");
        Assert.Contains("also at: " + copy.GetProperty("path").GetString(), text.Stdout);

        var both = Hits(CliRunner.Run(root.Path, "search", "paper jam rear tray", "--index", "t", "--json", "--show-duplicates"));
        Assert.Equal(["faq-print/jam.html", "faq/jam.html"], both.Select(h => h.GetProperty("docId").GetString()).Where(id => id!.EndsWith("jam.html", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    private static List<JsonElement> Hits(CliRunner.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        return json.RootElement.GetProperty("hits").EnumerateArray().Select(h => h.Clone()).ToList();
    }
}
