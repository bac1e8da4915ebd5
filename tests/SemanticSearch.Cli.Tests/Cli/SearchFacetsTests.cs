using System.Text.Json;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// <c>search --facets</c>, the total line, and the filter options (relative <c>--path-prefix</c>,
/// <c>--modified-before</c>, <c>--meta</c>) on a generated folder; expected counts come from the files written.
/// </summary>
public sealed class SearchFacetsTests
{
    private static readonly string[] Folders = ["guides", "faq", "notes"];
    private static readonly string[] Types = [".md", ".txt"];

    // 24 files over three folders and two types; about two in three hold "walrus"
    private static List<(string RelativePath, bool Matches)> WriteCorpus(TempDir src)
    {
        var rng = new Random(5);
        var files = new List<(string, bool)>();
        for (var i = 0; i < 24; i++)
        {
            var rel = $"{Folders[rng.Next(Folders.Length)]}/file{i:D2}{Types[rng.Next(Types.Length)]}";
            var matches = rng.Next(3) > 0;
            src.File(rel, $"Notes on tides and reefs, number {i}." + (matches ? " A walrus rests on the ice." : " Gulls circle the pier."));
            files.Add((rel, matches));
        }
        return files;
    }

    [Fact]
    public void Search_FacetsAndRelativePathPrefix_CountsOfTheMatchingFiles()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        var files = WriteCorpus(src);
        var index = CliRunner.Run(root.Path, "index", src.Path, "--index", "t", "--model", "none");
        Assert.True(index.ExitCode == 0, index.Stderr);
        var matching = files.Where(f => f.Matches).ToList();

        var all = Json(CliRunner.Run(root.Path, "search", "walrus", "--index", "t", "--json", "--facets", "-k", "3"));
        Assert.Equal(matching.Count, all.GetProperty("total").GetInt64());
        Assert.True(all.GetProperty("totalExact").GetBoolean());
        var folders = all.GetProperty("facets").GetProperty("folders").EnumerateArray()
            .ToDictionary(f => f.GetProperty("value").GetString()!, f => f.GetProperty("count").GetInt64());
        Assert.Equal(matching.GroupBy(f => f.RelativePath.Split('/')[0]).ToDictionary(g => g.Key, g => (long)g.Count()), folders);
        var types = all.GetProperty("facets").GetProperty("fileTypes").EnumerateArray()
            .ToDictionary(f => f.GetProperty("value").GetString()!, f => f.GetProperty("count").GetInt64());
        Assert.Equal(matching.GroupBy(f => Path.GetExtension(f.RelativePath)).ToDictionary(g => g.Key, g => (long)g.Count()), types);
        Assert.All(all.GetProperty("hits").EnumerateArray(), h => Assert.Equal(JsonValueKind.Object, h.GetProperty("metadata").ValueKind));

        var guides = Json(CliRunner.Run(root.Path, "search", "walrus", "--index", "t", "--json", "--path-prefix", "guides/", "-k", "100"));
        Assert.Equal(
            matching.Where(f => f.RelativePath.StartsWith("guides/", StringComparison.Ordinal)).Select(f => f.RelativePath).Order(StringComparer.Ordinal),
            guides.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("docId").GetString()!).Order(StringComparer.Ordinal));

        var text = CliRunner.Run(root.Path, "search", "walrus", "--index", "t", "--facets", "-k", "3");
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains($"hits 1–3 of {matching.Count}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("folders: ", text.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--modified-before", "soon")]
    [InlineData("--meta", "novalue")]
    public void Search_MalformedFilterOption_UsageErrorNamingIt(string option, string value)
    {
        using var root = new TempDir();
        using var src = new TempDir();
        WriteCorpus(src);
        Assert.Equal(0, CliRunner.Run(root.Path, "index", src.Path, "--index", "t", "--model", "none").ExitCode);

        var result = CliRunner.Run(root.Path, "search", "walrus", "--index", "t", option, value);

        Assert.Equal(64, result.ExitCode);
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Search_ModifiedBeforeTomorrowAndAfterTomorrow_AllOrNothing()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        var files = WriteCorpus(src);
        Assert.Equal(0, CliRunner.Run(root.Path, "index", src.Path, "--index", "t", "--model", "none").ExitCode);
        var tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var before = Json(CliRunner.Run(root.Path, "search", "walrus", "--index", "t", "--json", "--modified-before", tomorrow));
        var after = Json(CliRunner.Run(root.Path, "search", "walrus", "--index", "t", "--json", "--modified-after", tomorrow));

        Assert.Equal(files.Count(f => f.Matches), before.GetProperty("total").GetInt64());
        Assert.Equal(0, after.GetProperty("total").GetInt64());
    }

    private static JsonElement Json(CliRunner.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        return json.RootElement.Clone();
    }
}
