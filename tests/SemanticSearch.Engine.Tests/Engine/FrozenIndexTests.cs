using System.Security.Cryptography;
using System.Text.Json;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// The frozen whole index of Fixtures/index-v1 (manifest 1, vector file 1, Lucene 4.8 lexical, LiteDB 5 metadata;
/// see its README): written once by tests/tools/IndexFixtureWriter, never regenerated. Every later build must open it,
/// verify it and answer its recorded queries as it did at freeze time, and keep writing to it.
/// </summary>
public sealed class FrozenIndexTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(RepoPaths.Tests, "SemanticSearch.Engine.Tests", "Fixtures", "index-v1");
    private readonly ITextEncoder _encoder = TestModels.OpenStableTestBert();
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        _encoder.Dispose();
        _dir.Dispose();
    }

    private sealed record ExpectedHit(int Rank, string DocId, long ChunkId, double Score);

    private sealed record ExpectedQuery(string Query, string Mode, int K, List<ExpectedHit> Hits);

    private sealed record ExpectedSettings(int ChunkMaxTokens, int ChunkOverlapTokens, int? WindowTokens);

    private sealed record Expected(string Model, long Documents, long Chunks, long Vectors, ExpectedSettings Settings, List<ExpectedQuery> Queries);

    private static Expected ReadExpected() =>
        JsonSerializer.Deserialize<Expected>(File.ReadAllText(Path.Combine(Fixture, "expected.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

    /// <summary>A copy of the fixture in a temp folder, so no test can change the committed files.</summary>
    private string Copy()
    {
        var target = Path.Combine(_dir.Path, "index-v1");
        foreach (var file in Directory.EnumerateFiles(Fixture, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(Fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    private static Dictionary<string, string> Hashes(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void OpenReadOnly_FrozenIndex_VerifiesCleanWithItsRecordedCountsAndChangesNoFile()
    {
        var expected = ReadExpected();
        var dir = Copy();
        var before = Hashes(dir);

        var report = IndexVerifier.Verify(dir);
        Assert.True(report.Clean, string.Join("; ", report.Problems.Select(p => $"{p.Store} {p.Path}: {p.Message}")));
        Assert.Equal(expected.Documents, report.Documents);
        Assert.Equal(expected.Chunks, report.Chunks);
        using (var index = SemanticIndex.OpenReadOnly(dir, _ => _encoder))
        {
            Assert.Equal(expected.Model, index.Manifest.Model!.ModelId);
            Assert.Equal(expected.Settings.ChunkMaxTokens, index.Manifest.Chunking.MaxTokens);
            Assert.Equal(expected.Settings.WindowTokens, index.Manifest.WindowTokens);
            Assert.Equal(expected.Vectors, index.Vectors!.Count);
            new Searcher(index).Search(new SearchRequest(expected.Queries[0].Query, Mode: SearchMode.Hybrid));
        }

        var after = Hashes(dir);
        foreach (var (file, hash) in before)
        {
            Assert.True(after.TryGetValue(file, out var now) && now == hash, $"reading the frozen index changed or removed {file}");
        }
    }

    [Fact]
    public void Search_EveryRecordedQuery_SameDocumentsInTheSameOrderAndScoresWithin1e4()
    {
        var expected = ReadExpected();
        Assert.Contains(expected.Queries, q => q.Mode == "lexical");
        Assert.Contains(expected.Queries, q => q.Mode == "dense");
        Assert.Contains(expected.Queries, q => q.Mode == "hybrid");
        using var index = SemanticIndex.OpenReadOnly(Copy(), _ => _encoder);
        var searcher = new Searcher(index);
        foreach (var q in expected.Queries)
        {
            var mode = Enum.Parse<SearchMode>(q.Mode, ignoreCase: true);
            // recorded before the relevance floor (which only drops candidates; RelevanceFloorTests hold it)
            var hits = searcher.Search(new SearchRequest(q.Query, K: q.K, Mode: mode) { RelevanceFloor = false }).Hits;
            Assert.True(q.Hits.Count == hits.Count, $"{q.Mode} '{q.Query}': {hits.Count} hits, {q.Hits.Count} recorded");
            for (var i = 0; i < hits.Count; i++)
            {
                var want = q.Hits[i];
                Assert.True(Math.Abs(want.Score - hits[i].Score) <= 1e-4,
                    $"{q.Mode} '{q.Query}' rank {want.Rank}: score {hits[i].Score}, recorded {want.Score}");
                // Documents with equal recorded scores may come in either order (the tie-break is not part of the
                // format); everywhere else the document at each rank is the recorded one.
                var tied = q.Hits.Where(h => Math.Abs(h.Score - want.Score) <= 1e-6).Select(h => h.DocId).ToList();
                if (tied.Count == 1)
                    Assert.True(want.DocId == hits[i].DocId, $"{q.Mode} '{q.Query}' rank {want.Rank}: {hits[i].DocId}, recorded {want.DocId}");
                else
                    Assert.True(tied.Contains(hits[i].DocId), $"{q.Mode} '{q.Query}' rank {want.Rank}: {hits[i].DocId}, recorded one of {string.Join(", ", tied)}");
            }
        }
    }

    [Fact]
    public void OpenOrCreate_CopyOfFrozenIndex_TakesANewDocumentAndStaysSearchable()
    {
        var expected = ReadExpected();
        var dir = Copy();
        var settings = new IndexSettings
        {
            Chunking = new ChunkingOptions(expected.Settings.ChunkMaxTokens, expected.Settings.ChunkOverlapTokens),
            WindowTokens = expected.Settings.WindowTokens,
        };
        const string text = "Axolotls regrow whole limbs. The axolotl is a salamander that keeps its larval gills for life.";
        using (var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder))
        {
            index.Write(new SourceDocument("notes/axolotl.txt", dir, Path.Combine(dir, "notes", "axolotl.txt"), "Axolotl", text, ".txt",
                text.Length, new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), "frozen-fixture-new-document", new Dictionary<string, string>()));
            index.Commit();
        }

        var report = IndexVerifier.Verify(dir);
        Assert.True(report.Clean, string.Join("; ", report.Problems.Select(p => $"{p.Store} {p.Path}: {p.Message}")));
        Assert.Equal(expected.Documents + 1, report.Documents);
        using var reopened = SemanticIndex.OpenReadOnly(dir, _ => _encoder);
        var searcher = new Searcher(reopened);
        Assert.Equal("notes/axolotl.txt", searcher.Search(new SearchRequest("axolotl salamander", K: 3)).Hits[0].DocId);
        Assert.Equal("notes/axolotl.txt", searcher.Search(new SearchRequest(text, K: 1, Mode: SearchMode.Dense)).Hits[0].DocId);
        // the old documents are still there and still found
        var first = expected.Queries.First(q => q.Mode == "lexical");
        Assert.Equal(first.Hits[0].DocId, searcher.Search(new SearchRequest(first.Query, K: 1)).Hits[0].DocId);
    }

    [Fact]
    public void Sources_CopyOfFrozenIndex_ListsItsFolderAndASecondFolderLeavesItsDocumentsAlone()
    {
        // written before sources existed: one folder, no source record, ids relative to the folder
        var expected = ReadExpected();
        var dir = Copy();
        var settings = new IndexSettings
        {
            Chunking = new ChunkingOptions(expected.Settings.ChunkMaxTokens, expected.Settings.ChunkOverlapTokens),
            WindowTokens = expected.Settings.WindowTokens,
        };
        List<string> frozenIds;
        using (var frozen = SemanticIndex.OpenReadOnly(dir, _ => _encoder))
        {
            var listed = Assert.Single(frozen.Sources());
            Assert.Equal(("folder", "", expected.Documents, expected.Chunks), (listed.Kind, listed.IdPrefix, listed.Documents, listed.Chunks));
            Assert.Equal("docs", listed.Name); // after the folder it came from, samples/docs on the machine that froze it
            frozenIds = frozen.Metadata.AllDocuments().Select(d => d.Id).ToList();
        }

        // the same files from another path are another folder: a source of their own, beside the frozen documents
        IndexingReport report;
        using (var index = SemanticIndex.OpenOrCreate(dir, settings, _encoder))
        {
            report = new FolderIndexer(index, settings).Run(RepoPaths.SampleDocs);
        }

        Assert.Equal(("docs-2", "docs-2/", 0), (report.Source, report.IdPrefix, report.Updated));
        Assert.True(report.Added > 0);
        Assert.True(IndexVerifier.Verify(dir).Clean);
        using var reopened = SemanticIndex.OpenReadOnly(dir, _ => _encoder);
        Assert.Equal(expected.Documents + report.Added, reopened.Stats().Documents);
        Assert.All(frozenIds, id => Assert.NotNull(reopened.GetDocument(id)));
        Assert.Equal([expected.Documents, report.Added], reopened.Sources().Select(s => s.Documents));
        var first = expected.Queries.First(q => q.Mode == "lexical");
        Assert.Contains(new Searcher(reopened).Search(new SearchRequest(first.Query, K: 10)).Hits, h => h.DocId == first.Hits[0].DocId);
    }
}
