using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// Indexes of several named vector spaces (two seeded test models of different weights and sizes): what each space
/// stores, how a query fuses BM25 with every space, and adding, removing, verifying and repairing one space.
/// </summary>
public sealed class VectorSpacesTests : IDisposable
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 64, OverlapTokens: 8) };
    private static readonly string[] Queries = ["tide pools at low tide", "how do I restart the server", "recipes with lentils", "coral reef animals", "password reset"];
    private readonly ITextEncoder _a = TestModels.OpenTestBert();
    private readonly ITextEncoder _b = TestModels.OpenSecondTestBert();

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private string Name(ITextEncoder e) => e.Info.ModelId;

    private void Build(TempDir dir, params ITextEncoder[] encoders)
    {
        using var index = SemanticIndex.OpenOrCreate(dir.Path, Settings, encoders);
        new FolderIndexer(index, Settings).Run(RepoPaths.SampleDocs);
    }

    private SemanticIndex Reader(TempDir dir) => SemanticIndex.OpenReadOnly(dir.Path, info => info.ModelId == _a.Info.ModelId ? _a : _b);

    [Fact]
    public void Create_TwoModels_EverySpaceEmbedsEveryChunkWithItsOwnModel()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        using var index = Reader(dir);
        var m = index.Manifest;
        Assert.Equal(2, m.Spaces.Count);
        Assert.Equal([Name(_a), "other-bert"], m.Spaces.Select(s => s.Name));
        Assert.Equal("vectors", m.Spaces[0].FileStem);
        Assert.Equal("vectors.other-bert", m.Spaces[1].FileStem);
        Assert.True(File.Exists(Path.Combine(dir.Path, $"vectors.{m.Generation}.hnsw")));
        Assert.True(File.Exists(Path.Combine(dir.Path, $"vectors.other-bert.{m.Generation}.hnsw")));
        Assert.Equal(48, m.Spaces[1].Model.Dimensions);
        Assert.NotNull(m.Spaces[1].WindowTokens); // a later space embeds windows of what its own model reads

        var chunks = index.Metadata.AllChunks().ToList();
        var chunkIds = chunks.Select(c => c.Id).ToHashSet();
        foreach (var space in index.Spaces)
        {
            var live = ((HnswIndex)space.Vectors!).LiveIds();
            Assert.True(chunkIds.SetEquals(live.Select(space.Policy.ChunkOfVector)), $"space {space.Name} does not hold exactly the metadata's chunks");
            Assert.Equal(space.Manifest.VectorCount, live.Count);
        }
        Assert.Equal(index.Spaces.Sum(s => s.Vectors!.Count), m.Counts.Vectors);

        // each space's vector of a chunk is that model's own embedding of title + text (one window: the chunk fits)
        var second = index.Spaces[1];
        foreach (var c in chunks.Where(c => c.Length > 0).Take(8))
        {
            var doc = index.Metadata.GetDocument(c.DocumentId)!;
            var v = new float[48];
            _b.Encode([second.Policy.EmbeddingTitle(doc.Title) + "\n\n" + c.Text], TextRole.Passage, v);
            var top = second.Vectors!.Search(v, 1)[0];
            Assert.Equal(c.Id, second.Policy.ChunkOfVector(top.Id));
            Assert.Equal(1.0, top.Score, 3);
        }
    }

    // Reciprocal rank fusion written out for the test: Σ w / (k + rank) over the lists that hold the document.
    private static Dictionary<string, double> ByHand(double k, params (IReadOnlyList<RankedDocument> List, double Weight)[] lists)
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (list, weight) in lists)
        {
            for (var i = 0; i < list.Count; i++)
            {
                scores[list[i].DocId] = scores.GetValueOrDefault(list[i].DocId) + weight / (k + i + 1);
            }
        }
        return scores;
    }

    private static void AssertSameRanking(Dictionary<string, double> expected, IReadOnlyList<RankedDocument> actual, int top)
    {
        var want = expected.Values.OrderByDescending(v => v).Take(top).ToList();
        Assert.Equal(want.Count, Math.Min(top, actual.Count));
        for (var i = 0; i < want.Count; i++)
        {
            Assert.Equal(want[i], actual[i].Score, 12); // the score at each position
            Assert.Equal(expected[actual[i].DocId], actual[i].Score, 12); // and each document's own score
        }
    }

    [Fact]
    public void Search_Hybrid_FusesBm25AndEverySpaceWithTheirWeights()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        using var index = Reader(dir);
        var searcher = new Searcher(index);
        var fusion = new FusionOptions(FusionMethod.Rrf, 10, 1, 1, 30, new Dictionary<string, double> { ["OTHER-bert"] = 0.5 });
        foreach (var q in Queries)
        {
            var lexical = searcher.RankDocuments(q, SearchMode.Lexical, 30);
            var a = searcher.RankDocuments(q, SearchMode.Dense, 30, spaces: [Name(_a)]);
            var b = searcher.RankDocuments(q, SearchMode.Dense, 30, spaces: ["other-bert"]);
            // the fusion by hand, before the relevance floor (RelevanceFloorTests hold the floor)
            var hybrid = searcher.RankDocuments(q, SearchMode.Hybrid, 10, fusion: fusion, relevanceFloor: false);
            AssertSameRanking(ByHand(10, (lexical, 1), (a, 1), (b, 0.5)), hybrid, 10);
        }
    }

    [Fact]
    public void Search_DenseOverSeveralSpaces_FusesTheSpacesOnly_AndExplainsEachRank()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        using var index = Reader(dir);
        var searcher = new Searcher(index);
        var q = Queries[0];
        var a = searcher.RankDocuments(q, SearchMode.Dense, 100, spaces: [Name(_a)]);
        var b = searcher.RankDocuments(q, SearchMode.Dense, 100, spaces: ["other-bert"]);
        var fusion = new FusionOptions(FusionMethod.Rrf, 60, 1, 1, 100);
        AssertSameRanking(ByHand(60, (a, 1), (b, 1)), searcher.RankDocuments(q, SearchMode.Dense, 10, fusion: fusion), 10);

        var response = searcher.Search(new SearchRequest(q, K: 5, Mode: SearchMode.Dense, Fusion: FusionOverride.Of(fusion)));
        Assert.Equal([Name(_a), "other-bert"], response.Spaces);
        Assert.NotNull(response.Fusion);
        foreach (var hit in response.Hits)
        {
            Assert.Null(hit.Lexical);
            var ranks = hit.Spaces!;
            var inA = a.Select((r, i) => (r.DocId, Rank: i + 1)).FirstOrDefault(x => x.DocId == hit.DocId).Rank;
            var inB = b.Select((r, i) => (r.DocId, Rank: i + 1)).FirstOrDefault(x => x.DocId == hit.DocId).Rank;
            Assert.Equal(inA == 0 ? null : inA, ranks.GetValueOrDefault(Name(_a))?.Rank);
            Assert.Equal(inB == 0 ? null : inB, ranks.GetValueOrDefault("other-bert")?.Rank);
            Assert.Equal(ranks.GetValueOrDefault(Name(_a)), hit.Dense); // dense: the first queried space
        }
    }

    [Fact]
    public void Search_UnknownSpaceOrWeight_IsRefusedNamingTheField()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        using var index = Reader(dir);
        var searcher = new Searcher(index);
        var e = Assert.Throws<InvalidSettingException>(() => searcher.Search(new SearchRequest("x", Mode: SearchMode.Hybrid, Spaces: ["nope"])));
        Assert.Equal("spaces", e.Setting);
        Assert.Contains("other-bert", e.Message);
        var w = Assert.Throws<InvalidSettingException>(() => searcher.Search(new SearchRequest("x", Mode: SearchMode.Hybrid,
            Fusion: new FusionOverride(SpaceWeights: new Dictionary<string, double> { ["nope"] = 1 }))));
        Assert.Equal("fusion.spaceWeights.nope", w.Setting);
        var zero = Assert.Throws<InvalidSettingException>(() => searcher.Search(new SearchRequest("x", Mode: SearchMode.Dense,
            Fusion: new FusionOverride(DenseWeight: 0))));
        Assert.Equal("fusion.weights", zero.Setting);
    }

    [Fact]
    public void AddSpace_EmbedsEveryChunk_LeavesTheOtherStores_AndEqualsBuildingWithBoth()
    {
        using var added = new TempDir();
        using var both = new TempDir();
        Build(added, _a);
        Build(both, _a, _b);
        List<IReadOnlyList<RankedDocument>> lexicalBefore, denseBefore;
        long generation;
        using (var before = Reader(added))
        {
            var s = new Searcher(before);
            lexicalBefore = Queries.Select(q => s.RankDocuments(q, SearchMode.Lexical, 20)).ToList();
            denseBefore = Queries.Select(q => s.RankDocuments(q, SearchMode.Dense, 20)).ToList();
            generation = before.Manifest.Generation;
        }
        var progress = new List<SpaceProgress>();
        using (var writer = SemanticIndex.OpenOrCreate(added.Path, Settings, [_a]))
        {
            var space = writer.AddSpace(_b, progress: new SyncProgress<SpaceProgress>(progress.Add));
            Assert.Equal("other-bert", space.Name);
        }
        using var index = Reader(added);
        Assert.Equal(generation + 1, index.Manifest.Generation);
        Assert.Equal(2, index.Manifest.Spaces.Count);
        var chunks = index.Metadata.AllChunks().Select(c => c.Id).ToHashSet();
        Assert.Equal(chunks.Count, progress[^1].Done);
        Assert.Equal(chunks.Count, progress[^1].Total);
        var bSpace = index.Spaces[1];
        Assert.True(chunks.SetEquals(((HnswIndex)bSpace.Vectors!).LiveIds().Select(bSpace.Policy.ChunkOfVector)));

        var searcher = new Searcher(index);
        using var reference = Reader(both);
        var referenceSearcher = new Searcher(reference);
        for (var i = 0; i < Queries.Length; i++)
        {
            // BM25 and the first space answer as before
            Assert.Equal(lexicalBefore[i], searcher.RankDocuments(Queries[i], SearchMode.Lexical, 20));
            Assert.Equal(denseBefore[i], searcher.RankDocuments(Queries[i], SearchMode.Dense, 20, spaces: [Name(_a)]));
            // the added space holds what building with both models from the start stores
            Assert.Equal(referenceSearcher.RankDocuments(Queries[i], SearchMode.Dense, 10, spaces: ["other-bert"]).Select(r => r.DocId),
                searcher.RankDocuments(Queries[i], SearchMode.Dense, 10, spaces: ["other-bert"]).Select(r => r.DocId));
        }
        // the default fusion follows the spaces: several spaces take the several-spaces default
        Assert.Equal(FusionDefaults.SeveralSpaces, index.Manifest.Fusion);
        Assert.True(IndexVerifier.Verify(added.Path).Clean);
    }

    [Fact]
    public void AddSpace_Cancelled_LeavesTheIndexAsItWas()
    {
        using var dir = new TempDir();
        Build(dir, _a);
        var before = IndexManifest.Read(dir.Path);
        using var cts = new CancellationTokenSource();
        using (var writer = SemanticIndex.OpenOrCreate(dir.Path, Settings, [_a]))
        {
            Assert.ThrowsAny<OperationCanceledException>(() =>
                writer.AddSpace(_b, progress: new SyncProgress<SpaceProgress>(p => { if (p.Done > 0) cts.Cancel(); }), ct: cts.Token));
        }
        var after = IndexManifest.Read(dir.Path);
        Assert.Equal(before.Generation, after.Generation);
        Assert.Single(after.Spaces);
        Assert.Empty(Directory.GetFiles(dir.Path, "vectors.other-bert.*"));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    // A change of spaces killed after its commit's decision point (LiteDB) and before the manifest rename: the writer's
    // recovery rolls the metadata's generation forward, and what that commit published has one space.
    private void CrashBeforeManifest_RecoversWithOneSpace(TempDir dir, ITextEncoder[] models, Action<SemanticIndex> change)
    {
        var before = IndexManifest.Read(dir.Path);
        using (var writer = SemanticIndex.OpenOrCreate(dir.Path, Settings, models))
        {
            writer.CommitHook = step => { if (step == CommitStep.BeforeManifest) throw new IOException("simulated crash"); };
            Assert.Throws<IOException>(() => change(writer));
        }
        Assert.Equal(before.Spaces.Count, IndexManifest.Read(dir.Path).Spaces.Count); // the rename was lost
        Assert.NotEmpty(Directory.GetFiles(dir.Path, "vectors.other-bert.*.hnsw"));
        using (SemanticIndex.OpenOrCreate(dir.Path, Settings, models))
        {
        }
        var after = IndexManifest.Read(dir.Path);
        Assert.Equal(before.Generation + 1, after.Generation);
        Assert.Single(after.Spaces);
        Assert.Empty(Directory.GetFiles(dir.Path, "vectors.other-bert.*"));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
    }

    [Fact]
    public void AddSpace_CrashBeforeItsManifest_RecoveryPublishesTheIndexWithoutIt()
    {
        using var dir = new TempDir();
        Build(dir, _a);
        // the added space's file is written at step 1 and never published; recovery deletes it (a stem no space has)
        CrashBeforeManifest_RecoversWithOneSpace(dir, [_a], writer => writer.AddSpace(_b));
    }

    [Fact]
    public void RemoveSpace_CrashBeforeItsManifest_RecoveryPublishesTheIndexWithoutIt()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        // the removal's commit saved no file of the second space for its generation: recovery leaves that space out
        CrashBeforeManifest_RecoversWithOneSpace(dir, [_a, _b], writer => writer.RemoveSpace("other-bert"));
    }

    [Fact]
    public void RemoveSpace_DeletesItsFiles_AndTheFirstSpaceStays()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        using (var writer = SemanticIndex.OpenOrCreate(dir.Path, Settings, [_b, _a])) // any order
        {
            var first = Assert.Throws<InvalidSettingException>(() => writer.RemoveSpace(Name(_a)));
            Assert.Contains("first space", first.Message);
        }
        using (var writer = SemanticIndex.OpenOrCreate(dir.Path, Settings, [_a, _b]))
        {
            Assert.Throws<NotFoundException>(() => writer.RemoveSpace("nope"));
        }
        using (var writer = SemanticIndex.OpenOrCreate(dir.Path, Settings, [_a, _b]))
        {
            writer.RemoveSpace("other-bert");
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "vectors.other-bert.*"));
        var m = IndexManifest.Read(dir.Path);
        Assert.Single(m.Spaces);
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
        using var reader = SemanticIndex.OpenReadOnly(dir.Path, _ => _a);
        Assert.NotEmpty(new Searcher(reader).RankDocuments(Queries[0], SearchMode.Hybrid, 5));
        // the one space left has its model's default fusion again
        Assert.Equal(FusionDefaults.For(_a.Info), m.Fusion);
    }

    [Fact]
    public void OpenForWriting_WithoutEverySpacesModel_IsRefusedNamingTheMissingOne()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        var e = Assert.Throws<ModelMismatchException>(() => SemanticIndex.OpenOrCreate(dir.Path, Settings, [_a]));
        Assert.Contains("other-bert", e.Message);
        using var fresh = new TempDir();
        var twice = Assert.Throws<InvalidSettingException>(() => SemanticIndex.OpenOrCreate(Path.Combine(fresh.Path, "x"), Settings, [_a, _b, _a]));
        Assert.Equal("model", twice.Setting);
        Assert.False(Directory.Exists(Path.Combine(fresh.Path, "x"))); // refused before anything is written
        using var third = TestModels.OpenStableTestBert();
        var extra = Assert.Throws<ModelMismatchException>(() => SemanticIndex.OpenOrCreate(dir.Path, Settings, [_a, _b, third]));
        Assert.Contains("spaces add", extra.Message);
    }

    [Fact]
    public void Verify_DamagedSecondSpace_IsNamed_AndRepairRebuildsOnlyThatSpace()
    {
        using var dir = new TempDir();
        Build(dir, _a, _b);
        var m = IndexManifest.Read(dir.Path);
        var firstFile = Path.Combine(dir.Path, m.Spaces[0].VectorFile!);
        var firstBytes = File.ReadAllBytes(firstFile);
        var file = Path.Combine(dir.Path, m.Spaces[1].VectorFile!);
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(file, bytes);

        var report = IndexVerifier.Verify(dir.Path);
        Assert.Contains(report.Problems, p => p.Store == "vectors (other-bert)" && p.Path == file);
        Assert.DoesNotContain(report.Problems, p => p.Path == firstFile);

        Assert.Equal(["vectors (other-bert)"], SemanticIndex.Repair(dir.Path, [_a, _b]));
        Assert.True(IndexVerifier.Verify(dir.Path).Clean);
        var repaired = IndexManifest.Read(dir.Path);
        Assert.Equal(firstBytes, File.ReadAllBytes(Path.Combine(dir.Path, repaired.Spaces[0].VectorFile!))); // the first space's graph, untouched
        using var reader = Reader(dir);
        var chunks = reader.Metadata.AllChunks().Select(c => c.Id).ToHashSet();
        var space = reader.Spaces[1];
        Assert.True(chunks.SetEquals(((HnswIndex)space.Vectors!).LiveIds().Select(space.Policy.ChunkOfVector)));
    }

    [Fact]
    public void Reader_OpenedBeforeASpaceIsAdded_KeepsAnswering()
    {
        using var dir = new TempDir();
        Build(dir, _a);
        using var early = SemanticIndex.OpenReadOnly(dir.Path, _ => _a);
        var before = new Searcher(early).RankDocuments(Queries[0], SearchMode.Hybrid, 10);
        using (var writer = SemanticIndex.OpenOrCreate(dir.Path, Settings, [_a]))
        {
            writer.AddSpace(_b);
        }
        Assert.Equal(before, new Searcher(early).RankDocuments(Queries[0], SearchMode.Hybrid, 10));
        using var late = Reader(dir);
        Assert.Equal(2, late.Spaces.Count);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
