using System.Text.Json;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// <c>semsearch index --source</c>, <c>semsearch sources list|remove</c> and the sources in <c>stats</c> (issue 19),
/// through the real program on lexical-only indexes.
/// </summary>
public sealed class SourcesCommandTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string Indexes => Path.Combine(_tmp.Path, "indexes");

    private string Folder(string name) => Path.Combine(_tmp.Path, name);

    private CliRunner.Result Run(params string[] args) => CliRunner.Run(Indexes, args);

    private static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    private void TwoFolders()
    {
        _tmp.File("a/README.md", "# Alpha\nthe alpha readme talks about lighthouses");
        _tmp.File("a/one.txt", "a note on sourdough starters");
        _tmp.File("b/README.md", "# Beta\nthe beta readme talks about submarines");
        _tmp.File("b/deep/two.txt", "tide pools at low tide");
    }

    private List<string> HitIds(string query) =>
        Json(Run("search", query, "--index", "t", "--json")).GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("docId").GetString()!).ToList();

    [Fact]
    public void Index_SecondFolder_ReportsItsSourceAndBothFoldersStaySearchable()
    {
        TwoFolders();
        Json(Run("index", Folder("a"), "--index", "t", "--model", "none", "--json"));
        var second = Run("index", Folder("b"), "--index", "t", "--model", "none");

        Assert.Equal(0, second.ExitCode);
        Assert.Contains("(source b, ids b/…)", second.Stdout);
        Assert.Contains("2 added, 0 updated", second.Stdout);
        Assert.Equal(["README.md"], HitIds("lighthouses"));
        Assert.Equal(["b/README.md"], HitIds("submarines"));
    }

    [Fact]
    public void SourcesList_TwoFolders_ListsEachWithKindPathAndCounts()
    {
        TwoFolders();
        Json(Run("index", Folder("a"), "--index", "t", "--model", "none", "--json"));
        var indexed = Json(Run("index", Folder("b"), "--index", "t", "--model", "none", "--source", "beta", "--json"));
        Assert.Equal(("beta", "beta/"), (indexed.GetProperty("source").GetString(), indexed.GetProperty("idPrefix").GetString()));

        var sources = Json(Run("sources", "list", "--index", "t", "--json")).GetProperty("sources").EnumerateArray().ToList();

        Assert.Equal(["a", "beta"], sources.Select(s => s.GetProperty("name").GetString()));
        Assert.All(sources, s => Assert.Equal("folder", s.GetProperty("kind").GetString()));
        Assert.Equal([Folder("a"), Folder("b")], sources.Select(s => s.GetProperty("path").GetString()));
        Assert.Equal([2, 2], sources.Select(s => s.GetProperty("documents").GetInt32()));
        Assert.All(sources, s => Assert.True(s.GetProperty("chunks").GetInt32() >= 2));
        Assert.All(sources, s => Assert.Equal(JsonValueKind.String, s.GetProperty("lastIndexedUtc").ValueKind));
        var stats = Json(Run("stats", "--index", "t", "--json"));
        Assert.Equal(stats.GetProperty("chunks").GetInt32(), sources.Sum(s => s.GetProperty("chunks").GetInt32()));
        Assert.Equal(["a", "beta"], stats.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var text = Run("stats", "--index", "t");
        Assert.Contains($"source     beta (folder {Folder("b")}): 2 documents", text.Stdout);
    }

    [Fact]
    public void SourcesRemove_OneFolder_RemovesItsDocumentsOnlyAndAnUnknownNameFails()
    {
        TwoFolders();
        Json(Run("index", Folder("a"), "--index", "t", "--model", "none", "--json"));
        Json(Run("index", Folder("b"), "--index", "t", "--model", "none", "--json"));

        var unknown = Run("sources", "remove", "nope", "--index", "t");
        var removed = Run("sources", "remove", "b", "--index", "t");

        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no source 'nope' (its sources: a, b)", unknown.Stderr);
        Assert.DoesNotContain("   at ", unknown.Stderr);
        Assert.Equal(0, removed.ExitCode);
        Assert.Contains("removed source b", removed.Stdout);
        Assert.Contains("2 documents", removed.Stdout);
        Assert.Empty(HitIds("submarines"));
        Assert.Empty(HitIds("tide pools"));
        Assert.Equal(["README.md"], HitIds("lighthouses"));
        Assert.Equal(2, Json(Run("stats", "--index", "t", "--json")).GetProperty("documents").GetInt32());
        Assert.Equal(["a"], Json(Run("sources", "list", "--index", "t", "--json")).GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var verify = Run("verify", "--index", "t");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
    }

    [Fact]
    public void Index_SourceNameTaken_FailsNamingTheSetting()
    {
        TwoFolders();
        Json(Run("index", Folder("a"), "--index", "t", "--model", "none", "--json"));

        var taken = Run("index", Folder("b"), "--index", "t", "--model", "none", "--source", "a");

        Assert.Equal(1, taken.ExitCode);
        Assert.Contains("source: index", taken.Stderr);
        Assert.Contains("already has a source named 'a'", taken.Stderr);
        Assert.Equal(2, Json(Run("stats", "--index", "t", "--json")).GetProperty("documents").GetInt32());
    }
}
