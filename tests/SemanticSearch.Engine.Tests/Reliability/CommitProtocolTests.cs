using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Tests.Reliability;

/// <summary>The commit protocol's recovery rules, with a failure injected at each step of a commit, and the writer lock.</summary>
public sealed class CommitProtocolTests : IDisposable
{
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 64, OverlapTokens: 8) };

    private static SourceDocument Doc(string id, string text) =>
        new(id, "api", "", "", text, ".txt", text.Length, DateTime.UtcNow, id + text.Length, new Dictionary<string, string>());

    // Builds an index with two committed documents (generation 2 after create + commit 1 + commit 2).
    private SemanticIndex TwoCommits(string dir)
    {
        var index = SemanticIndex.OpenOrCreate(dir, Settings, _encoder);
        index.BeginBatch();
        index.Write(Doc("a", "the river flows past the mountain"));
        index.Commit();
        index.BeginBatch();
        index.Write(Doc("b", "honey from the garden hives"));
        index.Commit();
        return index;
    }

    [Fact]
    public void Abort_AfterWritesAndDeletes_DiscardsThemInEveryStoreIncludingTheInMemoryVectors()
    {
        using var dir = new TempDir();
        using (var index = TwoCommits(dir.Path))
        {
            var committedCount = index.Vectors!.Count;
            var aChunk = index.GetDocument("a")!.ChunkIds[0];
            index.BeginBatch();
            index.Write(Doc("c", "copper circuit in the engine"));
            index.Delete("a");
            var cChunk = index.GetDocument("c")!.ChunkIds[0];
            Assert.True(index.Vectors!.Contains(cChunk));
            Assert.False(index.Vectors.Contains(aChunk));
            index.Abort();
            // the writer's own view is back at the last commit: the vector of "c" is gone, that of "a" lives again
            Assert.False(index.Vectors!.Contains(cChunk));
            Assert.True(index.Vectors.Contains(aChunk));
            Assert.Equal(committedCount, index.Vectors.Count);
            Assert.Null(index.GetDocument("c"));
            // and the instance takes no more writes
            Assert.Throws<InvalidOperationException>(() => index.Write(Doc("d", "violin and glacier")));
        }
        using (var reopened = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder))
        {
            Assert.Equal(2, reopened.Manifest.Generation);
            Assert.NotNull(reopened.GetDocument("a"));
            Assert.Null(reopened.GetDocument("c"));
        }
        Assert.Equal(2, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void Commit_CrashBeforeMetadataCommit_ReopensAtPreviousGenerationAndDropsNewerFiles()
    {
        using var dir = new TempDir();
        using (var index = TwoCommits(dir.Path))
        {
            index.BeginBatch();
            index.Write(Doc("c", "copper circuit in the engine"));
            index.Delete("a");
            index.CommitHook = step => { if (step == SemanticSearch.Engine.Storage.CommitStep.BeforeMetadata) throw new IOException("simulated crash"); };
            Assert.Throws<IOException>(index.Commit);
        }
        Assert.True(File.Exists(Path.Combine(dir.Path, "vectors.3.hnsw")), "the interrupted commit should have left its vector file");

        using (var reopened = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder))
        {
            Assert.Equal(2, reopened.Manifest.Generation);
            Assert.NotNull(reopened.GetDocument("a"));
            Assert.Null(reopened.GetDocument("c"));
            Assert.Equal(2, reopened.Lexical.Count);
        }
        Assert.False(File.Exists(Path.Combine(dir.Path, "vectors.3.hnsw")), "a vector file newer than the manifest must be discarded on open");
        Assert.Equal(2, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);

        // the next commit after recovery works and is generation 3 again
        using (var again = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder))
        {
            again.BeginBatch();
            again.Write(Doc("d", "violin and glacier"));
            again.Commit();
            Assert.Equal(3, again.Manifest.Generation);
        }
        Assert.Equal(3, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
    }

    [Fact]
    public void Commit_CrashAfterMetadataCommit_ReadersSeePreviousGenerationAndWriterRollsForward()
    {
        using var dir = new TempDir();
        using (var index = TwoCommits(dir.Path))
        {
            index.BeginBatch();
            index.Write(Doc("c", "copper circuit in the engine"));
            index.CommitHook = step => { if (step == SemanticSearch.Engine.Storage.CommitStep.BeforeManifest) throw new IOException("simulated crash"); };
            Assert.Throws<IOException>(index.Commit);
        }

        // a reader follows the manifest: generation 2, whose Lucene commit and vector file are still there
        using (var reader = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder))
        {
            Assert.Equal(2, reader.Manifest.Generation);
            Assert.Equal(2, reader.Lexical.Count);
            Assert.Equal(2, reader.Vectors!.Count);
        }
        var pending = IndexVerifier.Verify(dir.Path);
        Assert.Contains(pending.Problems, p => p.Store == "agreement" && p.Message.Contains("interrupted"));

        // the decision point (LiteDB) was passed, so the writer completes the commit
        using (var writer = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder))
        {
            Assert.Equal(3, writer.Manifest.Generation);
            Assert.NotNull(writer.GetDocument("c"));
        }
        Assert.Equal(3, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void Dispose_UncommittedWrites_AreDiscardedInEveryStore()
    {
        using var dir = new TempDir();
        using (var index = TwoCommits(dir.Path))
        {
            index.BeginBatch();
            index.Write(Doc("c", "copper circuit in the engine"));
        }
        Assert.Equal(2, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void FolderIndexer_RerunAfterFailedJob_ResumesFromCommittedByContentHash()
    {
        using var root = new TempDir();
        var corpus = Path.Combine(root.Path, "corpus");
        GeneratedCorpus.Write(corpus, 50, seed: 13);
        var dir = Path.Combine(root.Path, "index");
        var settings = Settings with { CommitEveryDocuments = 10, CommitInterval = TimeSpan.FromHours(1) };
        using (var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder))
        {
            var commits = 0;
            index.CommitHook = step =>
            {
                if (step == SemanticSearch.Engine.Storage.CommitStep.BeforeMetadata && ++commits == 3)
                {
                    throw new IOException("simulated failure in the third commit");
                }
            };
            Assert.ThrowsAny<Exception>(() => new FolderIndexer(index, settings).Run(corpus));
        }
        long committedChunks;
        using (var reader = SemanticIndex.OpenReadOnly(dir, _ => _encoder))
        {
            Assert.Equal(20, reader.Manifest.Counts.Documents); // two commits of 10 documents each
            committedChunks = reader.Manifest.Counts.Chunks;
        }

        IndexingReport report;
        using (var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder))
        {
            report = new FolderIndexer(index, settings).Run(corpus);
        }
        Assert.Equal(20, report.Unchanged);
        Assert.Equal(30, report.Added);
        using var done = SemanticIndex.OpenReadOnly(dir, _ => _encoder);
        Assert.Equal(50, done.Manifest.Counts.Documents);
        // only the chunks of the 30 uncommitted documents were chunked, embedded and written again
        Assert.Equal(done.Manifest.Counts.Chunks - committedChunks, report.ChunksWritten);
        Assert.Equal(50, ReliabilityKit.AssertStoresAgree(dir, _encoder));
    }

    [Fact]
    public void OpenOrCreate_SecondWriter_ThrowsIndexLockedNamingHolder()
    {
        using var dir = new TempDir();
        using var first = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings());
        var e = Assert.Throws<IndexLockedException>(() => SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings()));
        Assert.Equal(Environment.ProcessId, e.HolderPid);
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains($"pid {Environment.ProcessId}", e.Message);
    }

    [Fact]
    public void OpenOrCreate_StaleLockOfDeadProcess_IsRecovered()
    {
        using var dir = new TempDir();
        using (SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings()))
        {
        }
        // a lock left by a process that has exited (its pid no longer runs, or runs with another start time)
        using var dead = System.Diagnostics.Process.Start("true")!;
        dead.WaitForExit();
        File.WriteAllText(Path.Combine(dir.Path, IndexWriteLock.FileName),
            $"{{\"pid\":{dead.Id},\"host\":\"{Environment.MachineName}\",\"processStartUtc\":\"2020-01-01T00:00:00Z\",\"acquiredUtc\":\"2020-01-01T00:00:00Z\"}}");
        using var index = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings());
        Assert.Equal(Environment.ProcessId, IndexWriteLock.Holder(dir.Path)!.Pid);
    }

    [Fact]
    public void Dispose_Writer_ReleasesLock()
    {
        using var dir = new TempDir();
        using (SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings()))
        {
            Assert.True(IndexWriteLock.IsHeld(dir.Path));
        }
        // the file stays (a waiter may have it open); the kernel lock on it is what was released
        Assert.False(IndexWriteLock.IsHeld(dir.Path));
        Assert.Null(IndexWriteLock.Holder(dir.Path));
        using var again = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings());
    }
}
