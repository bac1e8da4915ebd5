using System.Diagnostics;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Tests.Cli;
using Xunit.Abstractions;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// Disk full: indexing into a 3 MB tmpfs must end with one clear error naming the index (exit 1) and leave the index
/// openable at its last commit. Where mounting is not permitted, the same outcome is checked with an I/O fault injected
/// into a commit; the test output says which path ran.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output) : IDisposable
{
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    private static bool Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [Fact]
    public void IndexJob_DiskFull_EndsWithClearErrorAndIndexStaysOpenable()
    {
        using var root = new TempDir();
        var corpus = Path.Combine(root.Path, "corpus");
        GeneratedCorpus.Write(corpus, 40, seed: 9);
        var big = string.Join(' ', Enumerable.Repeat("harbour lantern quartz meadow", 2000));
        for (var i = 0; i < 60; i++)
        {
            File.WriteAllText(Path.Combine(corpus, $"zbig{i:D3}.txt"), $"Big {i} {big}");
        }
        var mount = Path.Combine(root.Path, "small");
        Directory.CreateDirectory(mount);
        if (OperatingSystem.IsLinux() && Run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount))
        {
            try
            {
                output.WriteLine("path: tmpfs of 3 MB");
                var result = CliRunner.Run(mount, "index", corpus, "--index", "full", "--model", TestModels.TestBertDirectory,
                    "--chunk-tokens", "64", "--chunk-overlap", "8", "--commit-every", "10");
                output.WriteLine(result.Stderr);
                Assert.Equal(1, result.ExitCode);
                var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("indexing", StringComparison.Ordinal)).ToList();
                Assert.Single(lines);
                Assert.StartsWith("error: ", lines[0]);
                Assert.Contains(Path.Combine(mount, "full"), lines[0]);
                AssertOpenableAtLastCommit(Path.Combine(mount, "full"));

                // with space again, a writer reopens it (completing or discarding the cut-off commit) and it verifies clean
                Assert.True(Run("mount", "-o", "remount,size=64m", mount), "remount with more space");
                using (SemanticIndex.OpenOrCreate(Path.Combine(mount, "full"), new IndexSettings(), _encoder))
                {
                }
                var verify = SemanticSearch.Engine.Storage.IndexVerifier.Verify(Path.Combine(mount, "full"));
                Assert.True(verify.Clean, string.Join("\n", verify.Problems));
                ReliabilityKit.AssertStoresAgree(Path.Combine(mount, "full"), _encoder);
            }
            finally
            {
                Run("umount", mount);
            }
        }
        else
        {
            output.WriteLine("path: injected I/O fault (mounting a tmpfs is not permitted here)");
            var dir = Path.Combine(root.Path, "full");
            var settings = new IndexSettings { Chunking = new(64, 8), CommitEveryDocuments = 10 };
            using (var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder))
            {
                var commits = 0;
                index.CommitHook = step =>
                {
                    if (step == SemanticSearch.Engine.Storage.CommitStep.BeforeMetadata && ++commits == 3)
                    {
                        throw new IOException("No space left on device : 'metadata.db'");
                    }
                };
                var e = Assert.Throws<SemanticSearchException>(() => new FolderIndexer(index, settings).Run(corpus));
                Assert.Contains(dir, e.Message);
            }
            AssertOpenableAtLastCommit(dir);
        }
    }

    private void AssertOpenableAtLastCommit(string dir)
    {
        using var reader = SemanticIndex.OpenReadOnly(dir, _ => _encoder);
        Assert.True(reader.Manifest.Counts.Documents > 0, "some commits should have succeeded before the disk filled");
        Assert.Equal(reader.Manifest.Counts.Chunks, reader.Lexical.Count);
        Assert.Equal(reader.Manifest.Counts.Vectors, reader.Vectors!.Count);
        var hits = new Searcher(reader).Search(new SearchRequest("harbour lantern", K: 5, Mode: SearchMode.Hybrid)).Hits;
        Assert.NotEmpty(hits);
        Assert.All(hits, h => Assert.NotNull(reader.Metadata.GetDocument(h.DocId)));
    }
}
