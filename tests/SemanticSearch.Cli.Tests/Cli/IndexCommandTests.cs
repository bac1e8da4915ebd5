using System.Text;
using System.Text.Json;

namespace SemanticSearch.Tests.Cli;

/// <summary>
/// <c>semsearch index</c> (issue 19): exit codes a CI job can live with, include/exclude globs, and a summary and
/// --json that account for every entry left out and every file read by the fallback encoding.
/// </summary>
public sealed class IndexCommandTests
{
    private static CliRunner.Result Index(string indexes, string folder, params string[] more) =>
        CliRunner.Run(indexes, ["index", folder, "--index", "t", "--model", "none", .. more]);

    [Fact]
    public void Index_SameUnreadableFileEveryRun_ExitsTwoOnlyWhenItIsNew()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("fine.md", "# Fine\nall good here");
        var bad = src.Bytes("corrupt.pdf", [0x25, 0x50, 0x44, 0x46, 0x00, 0x01]);

        var first = Index(root.Path, src.Path);
        var second = Index(root.Path, src.Path);
        File.WriteAllBytes(bad, [0x25, 0x50, 0x44, 0x46, 0x00, 0x02, 0x03]);
        File.SetLastWriteTimeUtc(bad, DateTime.UtcNow.AddMinutes(1));
        var changed = Index(root.Path, src.Path);

        Assert.Equal(2, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("corrupt.pdf", second.Stderr); // still reported every run
        Assert.Contains("(as on the last run)", second.Stderr);
        Assert.Equal(2, changed.ExitCode);             // changed and still broken: new breakage
    }

    [Fact]
    public void Index_Strict_ExitsTwoWheneverAFileIsSkipped()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("fine.md", "# Fine\nall good here");
        src.Bytes("corrupt.pdf", [0x25, 0x50, 0x44, 0x46, 0x00, 0x01]);

        Assert.Equal(2, Index(root.Path, src.Path).ExitCode);
        Assert.Equal(2, Index(root.Path, src.Path, "--strict").ExitCode);
    }

    [Fact]
    public void Index_Json_ListsIgnoredEntriesWithReasonsAndFallbackDecodedFiles()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("README.md", "# Readme\nthe project");
        src.File("node_modules/pkg/README.md", "# pkg\nvendored");
        src.Bytes("tool.exe", [1, 2, 3]);
        src.Bytes("menu.txt", Encoding.Latin1.GetBytes("Caf\u00e9 menu"));
        File.CreateSymbolicLink(Path.Combine(src.Path, "alias.md"), "README.md");

        var run = Index(root.Path, src.Path, "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        var r = json.RootElement;
        var ignored = r.GetProperty("ignored").EnumerateArray().ToDictionary(e => e.GetProperty("path").GetString()!, e => e.GetProperty("reason").GetString()!);
        Assert.Equal("default exclusion", ignored["node_modules/"]);
        Assert.Equal("unsupported type", ignored["tool.exe"]);
        Assert.Equal("symbolic link", ignored["alias.md"]);
        var counts = r.GetProperty("ignoredCounts");
        Assert.Equal(1, counts.GetProperty("default exclusion").GetInt32());
        Assert.Equal(1, counts.GetProperty("symbolic link").GetInt32());
        var decoded = Assert.Single(r.GetProperty("fallbackDecoded").EnumerateArray());
        Assert.Equal("menu.txt", decoded.GetProperty("path").GetString());
        Assert.Equal("windows-1252", decoded.GetProperty("encoding").GetString());
        // the fields that were there before are still there
        foreach (var field in new[] { "index", "folder", "filesSeen", "added", "updated", "unchanged", "removed", "chunksWritten", "skipped", "elapsedSeconds" })
        {
            Assert.True(r.TryGetProperty(field, out _), $"--json lost '{field}'");
        }
    }

    [Fact]
    public void Index_TextSummary_CountsIgnoredByReasonAndNamesFallbackFiles()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("README.md", "# Readme\nthe project");
        src.File(".git/HEAD.txt", "ref");
        src.Bytes("a.exe", [1]);
        src.Bytes("b.exe", [2]);
        src.Bytes("menu.txt", Encoding.Latin1.GetBytes("Caf\u00e9 menu"));

        var run = Index(root.Path, src.Path);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("ignored: 1 default exclusion, 2 unsupported type", run.Stdout);
        Assert.Contains("read as windows-1252: menu.txt", run.Stdout);
    }

    [Fact]
    public void Index_IncludeAndExclude_SelectWhatIsIndexed()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("docs/a.md", "# A\nalpha");
        src.File("docs/drafts/b.md", "# B\nbeta");
        src.File("notes.txt", "gamma");

        var run = Index(root.Path, src.Path, "--include", "*.md", "--exclude", "drafts/", "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(1, json.RootElement.GetProperty("added").GetInt32());
        var ignored = json.RootElement.GetProperty("ignored").EnumerateArray().ToDictionary(e => e.GetProperty("path").GetString()!, e => e.GetProperty("reason").GetString()!);
        Assert.Equal("not included", ignored["notes.txt"]);
        Assert.Equal("ignored by pattern", ignored["docs/drafts/"]);
    }

    [Fact]
    public void Index_RedirectedStderr_ProgressLineCountsFilesChunksTokensAndNamesTheFile()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("only.md", "# Only\nthe one file of this folder");

        var run = Index(root.Path, src.Path);

        Assert.Equal(0, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n'), l => l.StartsWith("indexing: ", StringComparison.Ordinal));
        Assert.Contains("files 1/1", line);
        Assert.Contains("chunks ", line);
        Assert.Matches(@"tokens \d+/~\d+", line);
        Assert.Contains("eta ", line);
        Assert.EndsWith("only.md", line.TrimEnd());
    }

    [Fact]
    public void Index_NegatedExclude_ExitsOneNamingTheOption()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        var run = Index(root.Path, src.Path, "--exclude", "!keep");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--exclude", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }
}
