namespace SemanticSearch.Tests.Cli;

/// <summary>
/// A command line that is wrong gets one line naming the problem and that command's usage, on standard error, and
/// exit code 64 — never the whole help, a .NET type name or a stack trace (issue 19).
/// </summary>
public sealed class UsageTests : IDisposable
{
    private const int UsageExit = 64;
    private readonly TempDir _root = new();

    public void Dispose() => _root.Dispose();

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // The answer to every usage error: exactly the problem and the command's usage line, nothing on standard output.
    private static void AssertUsage(CliRunner.Result r, string problemMentions, string command)
    {
        Assert.True(r.ExitCode == UsageExit, $"exit {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        Assert.Equal("", r.Stdout.Trim());
        var lines = Lines(r.Stderr);
        Assert.True(lines.Length == 2, $"expected two lines, got:\n{r.Stderr}");
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(problemMentions, lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"usage: semsearch {command}", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("Description:", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Options:", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--foo", "x", "--index", "s")] // before the query: the parser takes it for the query's value
    [InlineData("x", "--index", "s", "--foo")]
    public void Search_UnknownOption_OneLineNamingItAndTheSearchUsage(params string[] args)
    {
        var r = CliRunner.Run(_root.Path, ["search", .. args]);
        AssertUsage(r, "unknown option '--foo'", "search [<query>] --index <index>"); // optional: --vector-file searches without one
    }

    [Fact]
    public void Search_NotANumber_NamesTheOptionAndTheValueWithoutATypeName()
    {
        var r = CliRunner.Run(_root.Path, "search", "x", "--index", "s", "-k", "abc");
        AssertUsage(r, "-k: 'abc' is not a whole number", "search");
        Assert.DoesNotContain("Int32", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Search_MissingQuery_NamesTheArgument()
    {
        AssertUsage(CliRunner.Run(_root.Path, "search", "--index", "s"), "<query> is missing", "search");
    }

    [Fact]
    public void Stats_MissingRequiredOption_NamesItAndOnlyThatCommandsUsage()
    {
        var r = CliRunner.Run(_root.Path, "stats");
        AssertUsage(r, "--index is required", "stats --index <index>");
        Assert.DoesNotContain("<query>", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_NoSubcommand_ListsTheSubcommands()
    {
        AssertUsage(CliRunner.Run(_root.Path, "models"), "name a command: list, info", "models list|info");
    }

    [Fact]
    public void Root_UnknownCommand_ExitsWithTheUsageCode()
    {
        AssertUsage(CliRunner.Run(_root.Path, "serach", "x"), "'serach'", "index|import|search");
    }

    [Fact]
    public void Search_BadMode_ExitsWithTheUsageCodeNamingTheOption()
    {
        AssertUsage(CliRunner.Run(_root.Path, "search", "x", "--index", "s", "--mode", "psychic"), "--mode: unknown mode 'psychic'", "search");
    }

    /// <summary>An empty query used to return ten arbitrary hits; it is refused before the index is opened.</summary>
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Search_EmptyQuery_RefusedWithTheUsageCode(string query)
    {
        var index = CliRunner.Run(_root.Path, "index", "samples/docs", "--index", "s", "--model", "none");
        Assert.True(index.ExitCode == 0, index.Stderr);
        var r = CliRunner.Run(_root.Path, "search", query, "--index", "s", "--json");
        AssertUsage(r, "query: must contain some text", "search");
    }

    [Fact]
    public void Help_OfACommand_StillPrintsItsWholeHelpAndExitsZero()
    {
        var r = CliRunner.Run(_root.Path, "search", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--path-prefix", r.Stdout, StringComparison.Ordinal);
    }
}
