using System.Text.Json;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// <c>semsearch index --model a,b</c> and <c>semsearch spaces list|add|remove</c> through the real program, with two
/// seeded test models as local model directories.
/// </summary>
public sealed class SpacesCommandTests
{
    private static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    private static List<string> Names(JsonElement spaces) => spaces.EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();

    [Fact]
    public void IndexWithTwoModels_SearchExplainsBoth_ThenRemoveAndAddASpace()
    {
        using var dir = new TempDir();
        var first = TestModels.TestBertDirectory;
        var second = TestModels.SecondTestBertDirectory;
        var firstName = Path.GetFileName(first);
        Json(CliRunner.Run(dir.Path, "index", RepoPaths.SampleDocs, "--index", "two", "--model", $"{first},{second}", "--json"));

        var list = Json(CliRunner.Run(dir.Path, "spaces", "list", "--index", "two", "--json"));
        Assert.Equal([firstName, "other-bert"], Names(list.GetProperty("spaces")));
        var chunks = Json(CliRunner.Run(dir.Path, "stats", "--index", "two", "--json")).GetProperty("chunks").GetInt64();
        Assert.All(list.GetProperty("spaces").EnumerateArray(), s => Assert.True(s.GetProperty("vectors").GetInt64() >= chunks));

        // a hybrid search names each space's rank of every hit; --spaces narrows it to one
        var hybrid = Json(CliRunner.Run(dir.Path, "search", "tide pools at low tide", "--index", "two", "--model", $"{first},{second}", "--json"));
        Assert.Equal([firstName, "other-bert"], hybrid.GetProperty("spaces").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(hybrid.GetProperty("hits").EnumerateArray(), h => h.GetProperty("spaces").ValueKind == JsonValueKind.Object
            && h.GetProperty("spaces").EnumerateObject().Count() == 2);
        var one = Json(CliRunner.Run(dir.Path, "search", "tide pools at low tide", "--index", "two", "--model", $"{first},{second}", "--spaces", "other-bert", "--json"));
        Assert.Equal(["other-bert"], one.GetProperty("spaces").EnumerateArray().Select(e => e.GetString()));
        var unknown = CliRunner.Run(dir.Path, "search", "tide", "--index", "two", "--model", $"{first},{second}", "--spaces", "nope");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("spaces: the index has no vector space 'nope'", unknown.Stderr);
        Assert.DoesNotContain("   at ", unknown.Stderr); // one line, no stack trace

        // the first space stays; the second goes, files and all
        var keepFirst = CliRunner.Run(dir.Path, "spaces", "remove", firstName, "--index", "two", "--model", $"{first},{second}");
        Assert.Equal(1, keepFirst.ExitCode);
        Assert.Contains("first space", keepFirst.Stderr);
        Json(CliRunner.Run(dir.Path, "spaces", "remove", "other-bert", "--index", "two", "--model", $"{first},{second}", "--json"));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, "two"), "vectors.other-bert.*"));

        // adding it back embeds every chunk once, in a job of its own
        var added = Json(CliRunner.Run(dir.Path, "spaces", "add", second, "--index", "two", "--model", first, "--json"));
        Assert.Equal("other-bert", added.GetProperty("space").GetProperty("name").GetString());
        Assert.True(added.GetProperty("space").GetProperty("vectorCount").GetInt64() >= chunks);
        Assert.True(added.GetProperty("fileBytes").GetInt64() > 0);
        var verify = CliRunner.Run(dir.Path, "verify", "--index", "two");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);

        // an existing index keeps its spaces when indexed again without --model
        var again = Json(CliRunner.Run(dir.Path, "index", RepoPaths.SampleDocs, "--index", "two", "--model", $"{first},{second}", "--json"));
        Assert.Equal(0, again.GetProperty("chunksWritten").GetInt64());
    }
}
