using System.Text.Json;

namespace SemanticSearch.Tests.Cli;

public sealed class CliTests
{
    [Fact]
    public void IndexThenSearch_Samples_JsonHitsHaveTheDocumentedShape()
    {
        using var root = new TempDir();
        var index = CliRunner.Run(root.Path, "index", "samples", "--index", "samples", "--model", "none");
        Assert.True(index.ExitCode == 0, index.Stderr);
        Assert.True(Directory.Exists(Path.Combine(root.Path, "samples", "lexical")));
        Assert.True(File.Exists(Path.Combine(root.Path, "samples", "metadata.db")));

        var search = CliRunner.Run(root.Path, "search", "how do bees tell each other where flowers are", "--index", "samples", "-k", "3", "--json");
        Assert.True(search.ExitCode == 0, search.Stderr);
        using var json = JsonDocument.Parse(search.Stdout);
        var hits = json.RootElement.GetProperty("hits");
        Assert.InRange(hits.GetArrayLength(), 1, 3);
        var first = hits[0];
        foreach (var field in new[] { "docId", "chunkId", "path", "title", "score", "text" })
        {
            Assert.True(first.TryGetProperty(field, out _), $"hit lacks '{field}'");
        }
        Assert.Equal("docs/honeybees.txt", first.GetProperty("docId").GetString());
    }

    [Fact]
    public void Index_FolderWithABadFile_ExitsTwoAndNamesTheFile()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("fine.md", "# Fine\nall good here");
        src.Bytes("corrupt.pdf", [0x25, 0x50, 0x44, 0x46, 0x00, 0x01]);
        var result = CliRunner.Run(root.Path, "index", src.Path, "--index", "t", "--model", "none");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("corrupt.pdf", result.Stderr);
        Assert.Contains("1 added", result.Stdout);
    }

    [Fact]
    public void Index_MissingFolder_ExitsOneWithOneLineAndNoStackTrace()
    {
        using var root = new TempDir();
        var result = CliRunner.Run(root.Path, "index", "/no/such/folder", "--index", "t");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: folder not found: /no/such/folder", result.Stderr.Trim());
    }

    [Fact]
    public void Search_MissingIndex_ExitsOneAndNamesIt()
    {
        using var root = new TempDir();
        var result = CliRunner.Run(root.Path, "search", "anything", "--index", "nothing-here");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("nothing-here", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void Stats_Json_ReportsCountsAndNoModel()
    {
        using var root = new TempDir();
        Assert.Equal(0, CliRunner.Run(root.Path, "index", "samples/docs", "--index", "s", "--model", "none").ExitCode);
        var stats = CliRunner.Run(root.Path, "stats", "--index", "s", "--json");
        Assert.Equal(0, stats.ExitCode);
        using var json = JsonDocument.Parse(stats.Stdout);
        var files = Directory.GetFiles(RepoPaths.SampleDocs, "*", SearchOption.AllDirectories);
        Assert.Equal(files.Length, json.RootElement.GetProperty("documents").GetInt64());
        Assert.Equal(files.Sum(f => new FileInfo(f).Length), json.RootElement.GetProperty("bytes").GetInt64());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("model").ValueKind);
    }

    [Fact]
    public void Help_ListsEveryCommand()
    {
        using var root = new TempDir();
        var result = CliRunner.Run(root.Path, "--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "index", "search", "stats", "eval" })
        {
            Assert.Contains(command, result.Stdout);
        }
    }
}
