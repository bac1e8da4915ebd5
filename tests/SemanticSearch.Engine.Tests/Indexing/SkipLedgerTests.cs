using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Tests.Indexing;

/// <summary>A skipped file is new on the run that first skips it, known on the runs after while it stays the same.</summary>
public sealed class SkipLedgerTests
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 32, OverlapTokens: 4) };

    private static IndexingReport Run(string indexDir, string folder)
    {
        using var index = SemanticIndex.OpenOrCreate(indexDir, Settings);
        return new FolderIndexer(index, Settings).Run(folder);
    }

    [Fact]
    public void Run_SameBadFileTwice_IsNewThenKnown()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File("fine.md", "# Fine\nok");
        var bad = src.Bytes("corrupt.pdf", [0x25, 0x50, 0x44, 0x46, 0x00, 0x01]);

        var first = Run(idx.Path, src.Path);
        var second = Run(idx.Path, src.Path);

        var s1 = Assert.Single(first.Skipped);
        Assert.Equal(SkippedFile.Unextractable, s1.Kind);
        Assert.False(s1.Known);
        Assert.Equal(1, first.NewlySkipped);
        var s2 = Assert.Single(second.Skipped);
        Assert.Equal(bad, s2.Path);
        Assert.True(s2.Known);
        Assert.Equal(0, second.NewlySkipped);
    }

    [Fact]
    public void Run_BadFileChangedAndStillBad_IsNewAgain()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        var bad = src.Bytes("corrupt.pdf", [0x25, 0x50, 0x44, 0x46, 0x00, 0x01]);
        Run(idx.Path, src.Path);
        File.WriteAllBytes(bad, [0x25, 0x50, 0x44, 0x46, 0x00, 0x01, 0x02]);
        File.SetLastWriteTimeUtc(bad, DateTime.UtcNow.AddMinutes(1));

        var again = Run(idx.Path, src.Path);

        Assert.False(Assert.Single(again.Skipped).Known);
    }

    [Fact]
    public void Run_AnotherFileBreaks_OnlyItIsNew()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        src.File("fine.md", "# Fine\nok");
        src.Bytes("old.pdf", [0x25, 0x50, 0x44, 0x46, 0x00]);
        Run(idx.Path, src.Path);
        src.File("empty.txt", "");

        var again = Run(idx.Path, src.Path);

        Assert.Equal(1, again.NewlySkipped);
        Assert.Equal("empty.txt", Path.GetFileName(again.Skipped.Single(s => !s.Known).Path));
        Assert.Equal(SkippedFile.Empty, again.Skipped.Single(s => !s.Known).Kind);
    }

    [Fact]
    public void Run_FixedFile_LeavesTheLedger()
    {
        using var src = new TempDir();
        using var idx = new TempDir();
        var path = src.File("was-empty.txt", "");
        Run(idx.Path, src.Path);
        File.WriteAllText(path, "now it has words");
        Assert.Empty(Run(idx.Path, src.Path).Skipped);
        File.WriteAllText(path, "");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(2));

        // broken again after a clean run: new, not remembered from two runs ago
        Assert.False(Assert.Single(Run(idx.Path, src.Path).Skipped).Known);
    }
}
