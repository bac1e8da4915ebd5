using System.Globalization;
using System.Text.Json;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// <c>semsearch search</c>'s fusion flags (issue 16): the printed <c>fusion</c> passed back as flags ranks the same,
/// and a partial override keeps what the index records (here convex 0.9 : 0.1 over 200) for the fields it leaves out.
/// </summary>
public sealed class SearchFusionFlagsTests : IDisposable
{
    private static readonly FusionOptions Recorded = new(FusionMethod.Convex, 60, 0.9, 0.1, 200);

    private readonly TempDir _root = new();
    private readonly TempDir _docs = new();

    public SearchFusionFlagsTests()
    {
        _docs.File("bees.txt", "Honeybees dance to tell the hive where the flowers are.");
        _docs.File("ants.txt", "Ants leave scent trails that lead the colony to food.");
        _docs.File("whales.txt", "Humpback whales sing long songs that carry across the ocean.");
        _docs.File("bats.txt", "Bats find insects in the dark by listening to echoes of their calls.");
        _docs.File("birds.txt", "Migrating birds read the stars and the magnetic field to find their way.");
        var index = CliRunner.Run(_root.Path, "index", _docs.Path, "--index", "t", "--model", TestModels.TestBertDirectory);
        Assert.True(index.ExitCode == 0, index.Stderr);
        // what `eval --save-fusion` does: record a tuned fusion in the manifest
        using var encoder = TestModels.OpenTestBert();
        using var semantic = SemanticIndex.OpenOrCreate(Path.Combine(_root.Path, "t"), new IndexSettings(), encoder);
        semantic.SetDefaultFusion(Recorded);
        semantic.Commit();
    }

    public void Dispose()
    {
        _root.Dispose();
        _docs.Dispose();
    }

    private JsonElement Search(params string[] flags)
    {
        var run = CliRunner.Run(_root.Path, ["search", "how do animals find their way", "--index", "t", "--mode", "hybrid", "--json",
            "--model", TestModels.TestBertDirectory, .. flags]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        return json.RootElement.Clone();
    }

    private static List<(string Id, double Score)> Hits(JsonElement result) =>
        result.GetProperty("hits").EnumerateArray().Select(h => (h.GetProperty("docId").GetString()!, h.GetProperty("score").GetDouble())).ToList();

    private static string[] Flags(JsonElement fusion)
    {
        var inv = CultureInfo.InvariantCulture;
        var flags = new List<string>
        {
            "--fusion", fusion.GetProperty("method").GetString()!,
            "--rrf-k", fusion.GetProperty("k").GetDouble().ToString("R", inv),
            "--weights", $"{fusion.GetProperty("lexicalWeight").GetDouble().ToString("R", inv)},{fusion.GetProperty("denseWeight").GetDouble().ToString("R", inv)}",
        };
        if (fusion.TryGetProperty("depth", out var depth) && depth.ValueKind == JsonValueKind.Number)
        {
            flags.AddRange(["--depth", depth.GetInt32().ToString(inv)]);
        }
        return [.. flags];
    }

    [Fact]
    public void Search_PrintedFusionPassedBackAsFlags_SameHitsAndScores()
    {
        var first = Search("--fusion", "rrf", "--rrf-k", "30");

        var again = Search(Flags(first.GetProperty("fusion")));

        Assert.NotEmpty(Hits(first));
        Assert.Equal(Hits(first), Hits(again));
        Assert.Equal(first.GetProperty("fusion").GetRawText(), again.GetProperty("fusion").GetRawText());
    }

    [Fact]
    public void Search_PartialFusionFlags_KeepTheIndexMethodAndWeights()
    {
        var rrfK = Search("--rrf-k", "30").GetProperty("fusion");
        var deep = Search("--depth", "50").GetProperty("fusion");

        Assert.Equal("convex", rrfK.GetProperty("method").GetString());
        Assert.Equal(30, rrfK.GetProperty("k").GetDouble());
        Assert.Equal(0.9, rrfK.GetProperty("lexicalWeight").GetDouble());
        Assert.Equal(0.1, rrfK.GetProperty("denseWeight").GetDouble());
        Assert.Equal(200, rrfK.GetProperty("depth").GetInt32());
        Assert.Equal("convex", deep.GetProperty("method").GetString());
        Assert.Equal(0.9, deep.GetProperty("lexicalWeight").GetDouble());
        Assert.Equal(50, deep.GetProperty("depth").GetInt32());
    }
}
