using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// Issue 15, finding 5: a file (or a folder on its path) replaced by a symbolic link after the folder was listed is
/// not followed out of the folder when it is opened: it is skipped with a reason.
/// </summary>
public sealed class ContainmentTests
{
    [Theory]
    [InlineData(false)] // the file itself becomes a link
    [InlineData(true)] // the folder holding it becomes a link
    public void Run_EntrySwappedForOutsideLinkAfterListing_SkippedWithReasonAndNotIndexed(bool swapFolder)
    {
        using var root = new TempDir();
        var folder = Path.Combine(root.Path, "allowed");
        var outside = Path.Combine(root.Path, "outside");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(folder, "a.txt"), "ordinary words about owls");
        File.WriteAllText(Path.Combine(folder, "sub", "b.txt"), "ordinary words about otters");
        File.WriteAllText(Path.Combine(outside, "b.txt"), "classified launch codes");
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), new IndexSettings());
        var indexer = new FolderIndexer(index, new IndexSettings())
        {
            AfterListing = files =>
            {
                Assert.Contains(files, f => f.EndsWith("b.txt", StringComparison.Ordinal));
                if (swapFolder)
                {
                    Directory.Delete(Path.Combine(folder, "sub"), recursive: true);
                    Directory.CreateSymbolicLink(Path.Combine(folder, "sub"), outside);
                }
                else
                {
                    File.Delete(Path.Combine(folder, "sub", "b.txt"));
                    File.CreateSymbolicLink(Path.Combine(folder, "sub", "b.txt"), Path.Combine(outside, "b.txt"));
                }
            },
        };
        var report = indexer.Run(folder);
        var skipped = Assert.Single(report.Skipped);
        Assert.Equal(Path.Combine(folder, "sub", "b.txt"), skipped.Path);
        Assert.Contains("outside the folder", skipped.Reason);
        Assert.Equal(1, report.Added);
        var hits = new Searcher(index).Search(new SearchRequest("classified launch codes", Mode: SearchMode.Lexical));
        Assert.Empty(hits.Hits);
    }

    [Fact]
    public void Run_PathLongerThanPathMax_SkippedWithReasonAndTheJobGoesOn()
    {
        using var root = new TempDir();
        var folder = Path.Combine(root.Path, "deep");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "ok.txt"), "an ordinary file beside a very deep one");
        // Deeper than PATH_MAX: built one relative step at a time (no single system call sees the whole path).
        var segment = new string('d', 250);
        var script = $"cd '{folder}' && for i in $(seq 18); do mkdir {segment} && cd {segment} || exit 1; done && echo 'deep words' > deep.txt";
        using (var p = System.Diagnostics.Process.Start("bash", ["-c", script]))
        {
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        using var index = SemanticIndex.OpenOrCreate(Path.Combine(root.Path, "idx"), new IndexSettings());
        var report = new FolderIndexer(index, new IndexSettings()).Run(folder);
        Assert.Equal(1, report.Added);
        var skipped = Assert.Single(report.Skipped);
        Assert.Contains("longer than 4,096 characters", skipped.Reason);
        Assert.True(skipped.Path.Length < 400);
        // the deep tree is removed with a relative walk too (TempDir's recursive delete cannot see that deep)
        using var rm = System.Diagnostics.Process.Start("bash", ["-c", $"cd '{folder}' && rm -rf {segment}"]);
        rm.WaitForExit();
    }
}
