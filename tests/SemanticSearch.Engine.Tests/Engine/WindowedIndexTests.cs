using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings;
using SemanticSearch.Models;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// A short-context model (the test BERT declared with a 64-token limit, as use-lite has 128): chunks keep the
/// configured 512 tokens and each is embedded as windows; a document's dense score is its best window.
/// </summary>
public sealed class WindowedIndexTests : IDisposable
{
    private const int ModelTokens = 64;
    private readonly OnnxTextEncoder _encoder = OnnxTextEncoder.Open(TestModels.TestBertDirectory,
        ModelCatalog.LocalProfile(TestModels.TestBertDirectory) with { MaxTokens = ModelTokens });
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        _encoder.Dispose();
        _dir.Dispose();
    }

    private SemanticIndex Build()
    {
        using (var index = SemanticIndex.OpenOrCreate(_dir.Path, new IndexSettings(), _encoder))
        {
            new FolderIndexer(index, new IndexSettings()).Run(RepoPaths.SampleDocs);
        }
        return SemanticIndex.OpenReadOnly(_dir.Path, _ => _encoder);
    }

    // The windows the index should have embedded for a chunk, cut by the chunker (tested on its own) with the
    // budget the manifest states: the window limit less the title and its separator.
    private List<string> ExpectedWindows(SemanticIndex index, string title, string chunkText)
    {
        var titleTokens = title.Length == 0 ? 0 : _encoder.TokenCounter.CountTokens(title) + 1;
        var max = index.Manifest.WindowTokens!.Value - titleTokens;
        return new TextChunker(_encoder.TokenCounter, new ChunkingOptions(max, max / 8)).Chunk(chunkText).Select(w => w.Text).ToList();
    }

    [Fact]
    public void Index_ShortContextModel_ChunksStayLongAndEveryWindowHasItsVector()
    {
        using var index = Build();
        Assert.Equal(ModelTokens - _encoder.PassageOverheadTokens, index.Manifest.WindowTokens);
        Assert.Equal(512, index.Manifest.Chunking.MaxTokens);
        var chunks = index.Metadata.AllChunks().ToList();
        Assert.Contains(chunks, c => _encoder.TokenCounter.CountTokens(c.Text) > 2 * ModelTokens); // BM25 sees long passages

        var expectedVectors = 0;
        foreach (var c in chunks)
        {
            var doc = index.Metadata.GetDocument(c.DocumentId)!;
            var windows = ExpectedWindows(index, doc.Title, c.Text);
            expectedVectors += windows.Count;
            for (var w = 0; w < windows.Count; w++)
            {
                var v = new float[_encoder.Info.Dimensions];
                _encoder.Encode([doc.Title.Length == 0 ? windows[w] : doc.Title + "\n\n" + windows[w]], TextRole.Passage, v);
                var top = index.Vectors!.Search(v, 1)[0];
                Assert.Equal((c.Id << SemanticSearch.Engine.Indexing.PassagePolicy.WindowIdBits) | (uint)w, top.Id);
                Assert.Equal(1.0, top.Score, 3);
                Assert.Equal(c.Id, index.Passages.ChunkOfVector(top.Id));
            }
        }
        Assert.Equal(expectedVectors, index.Vectors!.Count);
        Assert.True(expectedVectors > chunks.Count);
    }

    [Fact]
    public void Search_Dense_RanksDocumentsByTheirBestWindowLikeBruteForce()
    {
        using var index = Build();
        var docs = index.Metadata.AllChunks().GroupBy(c => c.DocumentId).ToList();
        var searcher = new Searcher(index);
        foreach (var query in new[] { "how bees find their way home", "sorting numbers quickly", "weather on the coast" })
        {
            var q = new float[_encoder.Info.Dimensions];
            _encoder.Encode([query], TextRole.Query, q);
            var expected = docs.Select(g =>
            {
                var title = index.Metadata.GetDocument(g.Key)!.Title;
                var texts = g.SelectMany(c => ExpectedWindows(index, title, c.Text)).Select(w => title.Length == 0 ? w : title + "\n\n" + w).ToList();
                var vectors = _encoder.Encode(texts, TextRole.Passage);
                var best = Enumerable.Range(0, texts.Count).Max(i => Dot(vectors.AsSpan(i * q.Length, q.Length), q));
                return (Doc: g.Key, Score: best);
            }).OrderByDescending(x => x.Score).Take(5).ToList();

            var hits = searcher.Search(new SearchRequest(query, K: 5, Mode: SearchMode.Dense)).Hits;

            Assert.Equal(expected.Select(e => e.Doc), hits.Select(h => h.DocId));
            for (var i = 0; i < hits.Count; i++)
            {
                Assert.Equal(expected[i].Score, hits[i].Score, 3);
            }
        }
    }

    [Fact]
    public void Delete_Document_RemovesEveryWindowVector()
    {
        Build().Dispose();
        using var writable = SemanticIndex.OpenOrCreate(_dir.Path, new IndexSettings(), _encoder);
        var victim = writable.Metadata.AllChunks().GroupBy(c => c.DocumentId).OrderByDescending(g => g.Count()).First();
        var before = writable.Vectors!.Count;
        var vectorIds = victim.SelectMany(c => writable.Passages.VectorsOfChunk(c.Id)).Where(writable.Vectors.Contains).ToList();
        Assert.True(vectorIds.Count > victim.Count());

        writable.BeginBatch();
        Assert.True(writable.Delete(victim.Key));
        writable.Commit();

        Assert.All(vectorIds, id => Assert.False(writable.Vectors!.Contains(id)));
        Assert.Equal(before - vectorIds.Count, writable.Vectors!.Count);
    }

    [Fact]
    public void VerifyAndRepair_WindowedIndex_CleanThenRebuildsEveryWindow()
    {
        List<(string, double)> Dense()
        {
            using var index = SemanticIndex.OpenReadOnly(_dir.Path, _ => _encoder);
            return new Searcher(index).Search(new SearchRequest("bees and flowers", K: 5, Mode: SearchMode.Dense)).Hits
                .Select(h => (h.DocId, Math.Round(h.Score, 4))).ToList();
        }
        Build().Dispose();
        var clean = IndexVerifier.Verify(_dir.Path);
        Assert.True(clean.Clean, string.Join("\n", clean.Problems));
        var before = Dense();
        var vectorFile = Path.Combine(_dir.Path, IndexManifest.Read(_dir.Path).VectorFile!);
        int count;
        using (var index = SemanticIndex.OpenReadOnly(_dir.Path, _ => _encoder))
        {
            count = index.Vectors!.Count;
        }
        File.Delete(vectorFile);
        Assert.False(IndexVerifier.Verify(_dir.Path).Clean);

        Assert.Equal(["vectors"], SemanticIndex.Repair(_dir.Path, _encoder));

        var after = IndexVerifier.Verify(_dir.Path);
        Assert.True(after.Clean, string.Join("\n", after.Problems));
        using (var index = SemanticIndex.OpenReadOnly(_dir.Path, _ => _encoder))
        {
            Assert.Equal(count, index.Vectors!.Count);
        }
        Assert.Equal(before, Dense());
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }
}

/// <summary>Which fusion a new index records: the model profile's (issue #9), unless the settings name one.</summary>
public sealed class FusionDefaultsTests
{
    [Fact]
    public void For_UseLite_IsTheProfilesTunedConvexSetting()
    {
        var f = FusionDefaults.For(new EncoderInfo("use-lite", "x", 512, "graph", "", "", 128));
        Assert.Equal(new FusionOptions(FusionMethod.Convex, 60, 0.9, 0.1, 200), f);
    }

    [Fact]
    public void For_ArcticEmbedXs_IsTheSettingTunedOnSciFactAndNfCorpusTrain()
    {
        // docs/eval/models.md: tuned on SciFact train + NFCorpus train (3,399 queries), convex 0.5 : 0.5 over 200 candidates
        var f = FusionDefaults.For(new EncoderInfo("arctic-embed-xs", "24.9.52193", 384, "cls", "Represent this sentence for searching relevant passages: ", "", 512));
        Assert.Equal(new FusionOptions(FusionMethod.Convex, 60, 0.5, 0.5, 200), f);
    }

    [Theory]
    [InlineData("e5-small-v2")]
    [InlineData("gte-small")]
    [InlineData("someone-elses-model")]
    public void For_OtherModels_IsPlainRrf(string model) =>
        Assert.Equal(new FusionOptions(FusionMethod.Rrf, 60, 1, 1, null), FusionDefaults.For(new EncoderInfo(model, "x", 384, "mean", "", "", 512)));

    [Fact]
    public void OpenOrCreate_RecordsTheSettingsFusionOverTheProfiles()
    {
        using var dir = new TempDir();
        using var encoder = TestModels.OpenTestBert();
        var mine = new FusionOptions(FusionMethod.Rrf, 20, 1, 0.3, 50);
        using (var index = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings { Fusion = mine }, encoder))
        {
            Assert.Equal(mine, index.Manifest.Fusion);
        }
        using var reopened = SemanticIndex.OpenReadOnly(dir.Path, _ => encoder);
        Assert.Equal(mine, reopened.Manifest.Fusion);
    }
}
