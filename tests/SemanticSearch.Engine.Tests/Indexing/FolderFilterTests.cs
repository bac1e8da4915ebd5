using System.Text;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Tests.Indexing;

/// <summary>
/// What a folder job walks: default exclusions, .semsearchignore files (nested, negated), --include/--exclude, and
/// every entry left out reported with its reason.
/// </summary>
public sealed class FolderFilterTests
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 32, OverlapTokens: 4) };

    private static IndexingReport Run(string indexDir, string folder, FolderFilter? filter = null)
    {
        using var index = SemanticIndex.OpenOrCreate(indexDir, Settings);
        return new FolderIndexer(index, Settings) { Filter = filter ?? FolderFilter.None }.Run(folder);
    }

    private static List<string> Documents(string indexDir, string folder)
    {
        using var index = SemanticIndex.OpenReadOnly(indexDir);
        return [.. index.Metadata.DocumentIdsFromSource(Path.GetFullPath(folder)).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void Run_NodeModulesAndGitAndBuildOutput_AreExcludedByDefaultAndReported()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File("README.md", "# Readme\nthe project");
        src.File("node_modules/left-pad/README.md", "# left-pad\npads strings");
        src.File(".git/description.txt", "unnamed repository");
        src.File("bin/Release/notes.txt", "build output");
        src.File("docs/guide.md", "# Guide\nhow to");

        var report = Run(idx.Path, src.Path);

        Assert.Equal(["README.md", "docs/guide.md"], Documents(idx.Path, src.Path));
        var byPath = report.Ignored.ToDictionary(i => i.Path);
        Assert.Equal(IgnoredEntry.DefaultExclusion, byPath["node_modules/"].Reason);
        Assert.Contains("dependencies", byPath["node_modules/"].Detail);
        Assert.Equal(IgnoredEntry.DefaultExclusion, byPath[".git/"].Reason);
        Assert.Contains("version control", byPath[".git/"].Detail);
        Assert.Equal(IgnoredEntry.DefaultExclusion, byPath["bin/"].Reason);
        Assert.Empty(report.Skipped);
    }

    [Fact]
    public void Run_NegationInIgnoreFile_IncludesADefaultExclusion()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File(".semsearchignore", "# we do want the vendored docs\n!node_modules/\nnode_modules/**/*.js\n");
        src.File("node_modules/lib/README.md", "# lib\nvendored docs");
        src.File("node_modules/lib/index.json", "{\"title\":\"x\"}");

        var report = Run(idx.Path, src.Path);

        Assert.Equal(["node_modules/lib/README.md", "node_modules/lib/index.json"], Documents(idx.Path, src.Path));
        Assert.DoesNotContain(report.Ignored, i => i.Path.StartsWith("node_modules", StringComparison.Ordinal) && i.Reason != IgnoredEntry.UnsupportedType);
    }

    [Fact]
    public void Run_NestedIgnoreFile_AppliesBelowItsFolderOnly()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File(".semsearchignore", "*.csv\n/drafts/\n");
        src.File("a.csv", "x,y");
        src.File("a.md", "# A\ntext");
        src.File("drafts/d.md", "# D\ndraft");
        src.File("sub/drafts/kept.md", "# K\nnot the root's drafts");   // '/drafts/' is anchored to the root
        src.File("sub/.semsearchignore", "secret.md\n!keep.csv\n");
        src.File("sub/secret.md", "# S\nsecret");
        src.File("sub/keep.csv", "k,v");
        src.File("other/secret.md", "# O\nnot under sub");

        var report = Run(idx.Path, src.Path);

        Assert.Equal(["a.md", "other/secret.md", "sub/drafts/kept.md", "sub/keep.csv"], Documents(idx.Path, src.Path));
        var byPath = report.Ignored.ToDictionary(i => i.Path);
        Assert.Equal(IgnoredEntry.ByPattern, byPath["a.csv"].Reason);
        Assert.Equal(".semsearchignore:1: *.csv", byPath["a.csv"].Detail);
        Assert.Equal(".semsearchignore:2: /drafts/", byPath["drafts/"].Detail);
        Assert.Equal("sub/.semsearchignore:1: secret.md", byPath["sub/secret.md"].Detail);
    }

    [Fact]
    public void Run_IncludeAndExcludeGlobs_SelectFilesAndExcludeWins()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File("docs/a.md", "# A\na");
        src.File("docs/old/b.md", "# B\nb");
        src.File("docs/c.txt", "c words");
        src.File("top.md", "# Top\ntop");

        var report = Run(idx.Path, src.Path, new FolderFilter(["docs/**/*.md", "top.md"], ["old/"]));

        Assert.Equal(["docs/a.md", "top.md"], Documents(idx.Path, src.Path));
        var byPath = report.Ignored.ToDictionary(i => i.Path);
        Assert.Equal(IgnoredEntry.NotIncluded, byPath["docs/c.txt"].Reason);
        Assert.Equal(IgnoredEntry.ByPattern, byPath["docs/old/"].Reason);
        Assert.Equal("--exclude old/", byPath["docs/old/"].Detail);
    }

    [Fact]
    public void Run_IncludeOfAFolder_IncludesEverythingInIt()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File("docs/a.md", "# A\na");
        src.File("docs/deep/b.txt", "b words");
        src.File("other/c.md", "# C\nc");

        Run(idx.Path, src.Path, new FolderFilter(["docs/"], []));

        Assert.Equal(["docs/a.md", "docs/deep/b.txt"], Documents(idx.Path, src.Path));
    }

    [Fact]
    public void Run_NewlyExcludedFile_IsRemovedFromTheIndex()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File("keep.md", "# Keep\nk");
        src.File("later.md", "# Later\nl");
        Run(idx.Path, src.Path);
        src.File(".semsearchignore", "later.md\n");

        var report = Run(idx.Path, src.Path);

        Assert.Equal(1, report.Removed);
        Assert.Equal(["keep.md"], Documents(idx.Path, src.Path));
    }

    [Fact]
    public void Run_SymlinksAndUnsupportedTypes_AreCountedAsIgnoredWithTheirReason()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File("real.md", "# Real\nr");
        src.Bytes("tool.exe", [1, 2, 3]);
        src.File("Makefile", "all:");
        File.CreateSymbolicLink(Path.Combine(src.Path, "link.md"), "real.md");
        Directory.CreateSymbolicLink(Path.Combine(src.Path, "loop"), ".");

        var report = Run(idx.Path, src.Path);

        Assert.Equal(["real.md"], Documents(idx.Path, src.Path));
        var byPath = report.Ignored.ToDictionary(i => i.Path);
        Assert.Equal(IgnoredEntry.SymbolicLink, byPath["link.md"].Reason);
        Assert.Contains("real.md", byPath["link.md"].Detail);
        Assert.Equal(IgnoredEntry.SymbolicLink, byPath["loop"].Reason);
        Assert.Equal(IgnoredEntry.UnsupportedType, byPath["tool.exe"].Reason);
        Assert.Equal(".exe", byPath["tool.exe"].Detail);
        Assert.Equal(IgnoredEntry.UnsupportedType, byPath["Makefile"].Reason);
        Assert.Empty(report.Skipped);
    }

    [Fact]
    public void Run_NegatedExcludeGlob_IsRefusedNamingTheOption()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        var e = Assert.Throws<InvalidSettingException>(() => Run(idx.Path, src.Path, new FolderFilter([], ["!x"])));
        Assert.Contains("--exclude", e.Message);
    }

    [Fact]
    public void Run_Latin1File_IsNamedAsDecodedByTheFallback()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.Bytes("menu.txt", Encoding.Latin1.GetBytes("Caf\u00e9 menu\n\ncr\u00e8me"));
        src.File("plain.txt", "ascii only");

        var report = Run(idx.Path, src.Path);

        var decoded = Assert.Single(report.FallbackDecoded);
        Assert.Equal(new FallbackDecodedFile("menu.txt", "windows-1252"), decoded);
        using var index = SemanticIndex.OpenReadOnly(idx.Path);
        Assert.Equal("Caf\u00e9 menu", index.GetDocument("menu.txt")!.Title);
    }
}
