using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// Commits that cost the change: a small batch is appended to the vector file's change log, one generation of vector
/// files stays on disk, a grown log is folded into a new whole file, and a commit interrupted at each step of the
/// protocol recovers on the log as it does on whole files.
/// </summary>
public sealed class VectorLogCommitTests : IDisposable
{
    private const int BaseDocuments = 240;
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 64, OverlapTokens: 8) };

    private static readonly string[] Words =
        "river mountain honey engine signal garden protein harbour violin glacier lantern orbit copper meadow circuit falcon pepper canyon ledger quartz turbine willow compass bakery thunder saddle vaccine pixel marble ember".Split(' ');

    private static SourceDocument Doc(string id)
    {
        var seed = id.Aggregate(2166136261u, (h, c) => (h ^ c) * 16777619u); // FNV-1a: the same words in every run
        var text = string.Join(' ', Enumerable.Range(0, 12).Select(i => Words[(int)(((seed >> (i % 24)) + (uint)i * 7u) % (uint)Words.Length)])) + " " + id;
        return new(id, "api", "", "", text, ".txt", text.Length, DateTime.UtcNow, id + text.Length, new Dictionary<string, string>());
    }

    // One commit of BaseDocuments documents: a whole vector file, no log yet.
    private SemanticIndex Built(string dir)
    {
        var index = SemanticIndex.OpenOrCreate(dir, Settings, _encoder);
        index.BeginBatch();
        for (var i = 0; i < BaseDocuments; i++)
        {
            index.Write(Doc($"d{i}"));
        }
        index.Commit();
        return index;
    }

    private static void CommitOne(SemanticIndex index, string id)
    {
        index.BeginBatch();
        index.Write(Doc(id));
        index.Commit();
    }

    private static string[] VectorFilesIn(string dir) =>
        [.. Directory.GetFiles(dir, "vectors.*").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    private void AssertFindsFirst(string dir, string id)
    {
        using var reader = SemanticIndex.OpenReadOnly(dir, _ => _encoder);
        var hits = new Searcher(reader).Search(new SearchRequest(Doc(id).Text, K: 3, Mode: SearchMode.Dense)).Hits;
        Assert.Equal(id, hits[0].DocId);
    }

    [Fact]
    public void Commit_SmallBatches_AppendToTheLogAndKeepOneGenerationOnDisk()
    {
        using var dir = new TempDir();
        using var index = Built(dir.Path);
        var file = index.Manifest.Spaces[0].VectorFile!;
        var fileBytes = File.ReadAllBytes(Path.Combine(dir.Path, file));
        long previous = 0;
        for (var i = 0; i < 5; i++)
        {
            CommitOne(index, $"new{i}");
            var space = index.Manifest.Spaces[0];
            Assert.Equal(file, space.VectorFile); // the whole file is not written again...
            Assert.True(space.VectorLogLength > previous, "each commit appends a record");
            Assert.True(space.VectorLogLength - previous < fileBytes.Length / 10, $"a one-document commit appended {space.VectorLogLength - previous} bytes beside a {fileBytes.Length}-byte file");
            previous = space.VectorLogLength;
            Assert.Equal([VectorFiles.LogOf(file), file], VectorFilesIn(dir.Path)); // ...and one generation is on disk
        }
        Assert.Equal(fileBytes, File.ReadAllBytes(Path.Combine(dir.Path, file))); // not even touched
        AssertFindsFirst(dir.Path, "new4");
        Assert.Equal(BaseDocuments + 5, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void Commit_LogPastItsShareOfTheFile_WritesTheWholeFileAndDropsTheOldOnes()
    {
        using var dir = new TempDir();
        using var index = Built(dir.Path);
        var first = index.Manifest.Spaces[0].VectorFile!;
        var fileLength = new FileInfo(Path.Combine(dir.Path, first)).Length;
        var commits = 0;
        while (index.Manifest.Spaces[0].VectorFile == first)
        {
            Assert.True(index.Manifest.Spaces[0].VectorLogLength <= IndexStores.MaxLogShare * fileLength, "the log outgrew its share");
            CommitOne(index, $"more{commits++}");
            Assert.True(commits < 500, "the log never folded into a new file");
        }
        var space = index.Manifest.Spaces[0];
        Assert.Equal(VectorFiles.NameOf(index.Manifest.Generation), space.VectorFile);
        Assert.Equal(0, space.VectorLogLength);
        Assert.Equal([space.VectorFile!], VectorFilesIn(dir.Path));
        CommitOne(index, "after");
        Assert.Equal([VectorFiles.LogOf(space.VectorFile!), space.VectorFile!], VectorFilesIn(dir.Path)); // in name order
        AssertFindsFirst(dir.Path, "after");
        Assert.Equal(BaseDocuments + commits + 1, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void Commit_CrashBeforeMetadata_CutsTheUnpublishedRecordOnReopen()
    {
        using var dir = new TempDir();
        long committed;
        using (var index = Built(dir.Path))
        {
            CommitOne(index, "kept");
            committed = index.Manifest.Spaces[0].VectorLogLength;
            index.BeginBatch();
            index.Write(Doc("lost"));
            index.Delete("d1");
            index.CommitHook = step => { if (step == CommitStep.BeforeMetadata) throw new IOException("simulated crash"); };
            Assert.Throws<IOException>(index.Commit);
        }
        var log = Path.Combine(dir.Path, VectorFiles.LogOf(IndexManifest.Read(dir.Path).Spaces[0].VectorFile!));
        Assert.True(new FileInfo(log).Length > committed, "the interrupted commit should have appended its record");
        AssertFindsFirst(dir.Path, "kept"); // a reader reads the committed records only

        using (var reopened = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder))
        {
            Assert.Equal(committed, new FileInfo(log).Length);
            Assert.Null(reopened.GetDocument("lost"));
            Assert.NotNull(reopened.GetDocument("d1"));
            CommitOne(reopened, "next");
        }
        AssertFindsFirst(dir.Path, "next");
        Assert.Equal(BaseDocuments + 2, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void Commit_CrashBeforeManifest_RollsTheRecordForward()
    {
        using var dir = new TempDir();
        long generation;
        using (var index = Built(dir.Path))
        {
            CommitOne(index, "kept");
            generation = index.Manifest.Generation;
            index.BeginBatch();
            index.Write(Doc("decided"));
            index.Delete("d1");
            index.CommitHook = step => { if (step == CommitStep.BeforeManifest) throw new IOException("simulated crash"); };
            Assert.Throws<IOException>(index.Commit);
        }
        using (var reopened = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder))
        {
            Assert.Equal(generation + 1, reopened.Manifest.Generation);
            Assert.NotNull(reopened.GetDocument("decided"));
            Assert.Null(reopened.GetDocument("d1"));
            var space = reopened.Manifest.Spaces[0];
            Assert.Equal(new FileInfo(Path.Combine(dir.Path, VectorFiles.LogOf(space.VectorFile!))).Length, space.VectorLogLength);
        }
        AssertFindsFirst(dir.Path, "decided");
        Assert.Equal(BaseDocuments + 1, ReliabilityKit.AssertStoresAgree(dir.Path, _encoder));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void Reader_OpenedBeforeAppends_KeepsItsGenerationAndANewReaderSeesThem()
    {
        using var dir = new TempDir();
        using var index = Built(dir.Path);
        CommitOne(index, "first");
        using var early = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        var earlyCount = early.Vectors!.Count;
        for (var i = 0; i < 3; i++)
        {
            CommitOne(index, $"later{i}");
        }
        Assert.Equal(earlyCount, early.Vectors!.Count);
        var hits = new Searcher(early).Search(new SearchRequest(Doc("first").Text, K: 3, Mode: SearchMode.Dense)).Hits;
        Assert.Equal("first", hits[0].DocId);
        AssertFindsFirst(dir.Path, "later2");
        using var late = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        Assert.Equal(earlyCount + 3, ((HnswIndex)late.Vectors!).Count);
    }
}
