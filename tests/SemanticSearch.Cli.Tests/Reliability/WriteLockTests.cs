using System.Diagnostics;
using System.Text.Json.Nodes;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// Issue 15, finding 1: the write lock is an operating-system lock on an open handle, so a lock file left by a dead
/// process cannot let two writers in, and it dies with its process.
/// </summary>
public sealed class WriteLockTests
{
    private const string StaleLock = "{\"pid\":999999,\"host\":\"HOST\",\"processStartUtc\":\"2020-01-01T00:00:00Z\",\"acquiredUtc\":\"2020-01-01T00:00:00Z\"}";

    /// <summary>
    /// The recipe of the issue, 20 rounds: a copy of an index with a write.lock naming a dead process, two (then
    /// three) 'semsearch index' jobs started at the same moment; never more than one of them writes, every other one
    /// fails with the lock message naming the holder, and the index verifies clean with every document.
    /// </summary>
    [Fact]
    public async Task IndexCommand_StaleLockAndConcurrentJobs_OneWriterPerRound()
    {
        using var root = new TempDir();
        var indexes = Path.Combine(root.Path, "indexes");
        var staging = Path.Combine(root.Path, "staging");
        var all = Path.Combine(root.Path, "all");
        GeneratedCorpus.Write(staging, 120, seed: 15);
        // the index every round starts from holds the first 100 files; each job then finds 20 more
        CopyTree(Path.Combine(staging, "d00"), Path.Combine(all, "d00"));
        var seed = CliRunner.Run(indexes, "index", all, "--index", "seed", "--model", "none");
        Assert.True(seed.ExitCode == 0, seed.Stderr);
        CopyTree(Path.Combine(staging, "d01"), Path.Combine(all, "d01"));

        var violations = new List<string>();
        for (var round = 1; round <= 20; round++)
        {
            var writers = round <= 10 ? 2 : 3;
            var name = $"race{round}";
            var dir = Path.Combine(indexes, name);
            CopyTree(Path.Combine(indexes, "seed"), dir);
            File.WriteAllText(Path.Combine(dir, IndexWriteLock.FileName), StaleLock.Replace("HOST", Environment.MachineName, StringComparison.Ordinal));

            var jobs = new List<(Process P, Task<string> Out, Task<string> Err)>();
            for (var j = 0; j < writers; j++)
            {
                var p = Process.Start(CliRunner.StartInfo(indexes, null, ["index", all, "--index", name, "--commit-every", "10", "--json"]))!;
                jobs.Add((p, p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync()));
            }
            var wrote = 0;
            foreach (var (p, stdout, stderr) in jobs)
            {
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "an index job hung");
                var output = await stdout;
                var errors = await stderr;
                if (p.ExitCode is 0 or 2)
                {
                    // a job that started after the winner finished finds nothing to add: it ran after, not beside
                    var added = JsonNode.Parse(output)!["added"]!.GetValue<int>();
                    var updated = JsonNode.Parse(output)!["updated"]!.GetValue<int>();
                    if (added + updated > 0)
                    {
                        wrote++;
                    }
                }
                else
                {
                    Assert.True(p.ExitCode == 1, errors);
                    Assert.True(errors.Contains("locked by another writer", StringComparison.Ordinal), errors);
                    Assert.True(errors.Contains("(semsearch index)", StringComparison.Ordinal), errors); // the live holder, not the dead pid
                    Assert.DoesNotContain("999999", errors);
                }
                p.Dispose();
            }
            if (wrote > 1)
            {
                violations.Add($"round {round}: {wrote} of {writers} jobs wrote");
            }
            var report = IndexVerifier.Verify(dir);
            Assert.True(report.Clean, $"round {round}: " + string.Join("; ", report.Problems.Select(x => x.Message)));
            Assert.Equal(120, report.Documents);
            Directory.Delete(dir, recursive: true);
        }
        Assert.Empty(violations);
    }

    [Fact]
    public void Acquire_HolderProcessKilled_LockIsFreeAtOnce()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        GeneratedCorpus.Write(src.Path, 400, seed: 5);
        var dir = Path.Combine(root.Path, "k");
        using var job = Process.Start(CliRunner.StartInfo(root.Path, null, ["index", src.Path, "--index", "k", "--model", "none", "--commit-every", "5"]))!;
        var clock = Stopwatch.StartNew();
        while (IndexWriteLock.Holder(dir) is null && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(20);
        }
        var holder = IndexWriteLock.Holder(dir);
        Assert.NotNull(holder);
        Assert.Equal(job.Id, holder.Pid);
        Assert.Equal("semsearch index", holder.Role);
        job.Kill();
        job.WaitForExit();
        // no staleness to judge: the kernel dropped the lock with the process
        Assert.Null(IndexWriteLock.Holder(dir));
        using var again = SemanticIndex.OpenOrCreate(dir, new IndexSettings());
        Assert.Equal(Environment.ProcessId, IndexWriteLock.Holder(dir)!.Pid);
    }

    [Fact]
    public async Task Acquire_WithWait_GetsTheLockWhenTheHolderReleasesIt()
    {
        using var dir = new TempDir();
        var first = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings());
        var release = Task.Run(() =>
        {
            Thread.Sleep(500);
            first.Dispose();
        });
        var clock = Stopwatch.StartNew();
        using var second = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings(), writer: new WriterOptions("test", TimeSpan.FromSeconds(30)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(400), $"took the lock after {clock.ElapsedMilliseconds} ms, while it was held");
        await release;
    }

    [Fact]
    public void Acquire_WaitRunsOut_ThrowsIndexLockedNamingTheRole()
    {
        using var dir = new TempDir();
        using var first = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings(), writer: new WriterOptions("semsearch repair"));
        var e = Assert.Throws<IndexLockedException>(() => SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings(), writer: new WriterOptions("test", TimeSpan.FromMilliseconds(300))));
        Assert.Equal("semsearch repair", e.Holder!.Role);
        Assert.Contains("(semsearch repair)", e.Message);
    }

    [Fact]
    public async Task IndexCommand_WaitOption_WaitsForTheOtherWriter()
    {
        using var root = new TempDir();
        using var src = new TempDir();
        src.File("a.txt", "words to index while another writer holds the lock");
        var dir = Path.Combine(root.Path, "w");
        var held = SemanticIndex.OpenOrCreate(dir, new IndexSettings());
        var release = Task.Run(() =>
        {
            Thread.Sleep(3000);
            held.Dispose();
        });
        var result = CliRunner.Run(root.Path, "index", src.Path, "--index", "w", "--model", "none", "--wait", "120");
        Assert.True(result.ExitCode == 0, result.Stderr);
        await release;
        Assert.Equal(1, IndexVerifier.Verify(dir).Documents);
    }

    [Fact]
    public void Commit_LockFileDeletedByHand_RefusesToPublish()
    {
        using var dir = new TempDir();
        using var index = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings());
        index.BeginBatch();
        index.Write(new SourceDocument("a", "a", "a.txt", "A", "some text", ".txt", 9, DateTime.UtcNow, "h", new Dictionary<string, string>()));
        File.Delete(Path.Combine(dir.Path, IndexWriteLock.FileName));
        // a second writer could now create and lock a new write.lock; the first must not publish beside it
        Assert.Throws<IndexLockedException>(index.Commit);
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
        foreach (var d in Directory.GetDirectories(from))
        {
            CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
        }
    }
}
