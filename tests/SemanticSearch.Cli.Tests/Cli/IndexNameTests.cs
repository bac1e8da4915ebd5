namespace SemanticSearch.Tests.Cli;

/// <summary>
/// Issue 15, finding 6: the CLI applies the engine's one index-name rule (the HTTP API's too), and an index folder
/// whose name ends with '.' or a space is refused, so no store lands beside the index folder.
/// </summary>
public sealed class IndexNameTests
{
    [Theory]
    [InlineData("tdot.")]
    [InlineData("NUL")]
    [InlineData("com1.idx")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123456")]
    public void Index_InvalidName_Exit1NamingTheOptionAndCreatesNothing(string name)
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("a.txt", "words to index");
        var r = CliRunner.Run(root.Path, "index", src.Path, "--index", name, "--model", "none");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--index", r.Stderr);
        Assert.Contains("not a valid index name", r.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(root.Path));
    }

    [Fact]
    public void Index_PathEndingWithDot_RefusedAndNothingBesideIt()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("a.txt", "words to index");
        var r = CliRunner.Run(root.Path, "index", src.Path, "--index", Path.Combine(root.Path, "tdot."), "--model", "none");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("must not end with '.'", r.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(root.Path));
    }
}
