using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Engine;

/// <summary>Indexes with an embedding model (the seeded test BERT): vectors per chunk, dense and hybrid search.</summary>
public sealed class DenseIndexTests : IDisposable
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 64, OverlapTokens: 8) };
    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    private string BuildSamples(TempDir dir)
    {
        using var index = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder);
        new FolderIndexer(index, Settings).Run(RepoPaths.SampleDocs);
        return dir.Path;
    }

    [Fact]
    public void Index_Samples_StoresOneNormalisedVectorPerChunk()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var index = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        var chunks = index.Metadata.AllChunks().ToList();
        Assert.NotEmpty(chunks);
        Assert.Equal(chunks.Count, index.Vectors!.Count);
        Assert.Equal(0, index.Vectors.DeletedCount);
        Assert.Equal(_encoder.Info, index.Manifest.Model);
        Assert.All(chunks, c => Assert.True(index.Vectors.Contains(c.Id), $"chunk {c.Id} has no vector"));

        // every chunk's stored vector is the passage embedding of its title + text: searching with that exact
        // vector returns the chunk itself first, with similarity 1
        foreach (var c in chunks.Take(10))
        {
            var doc = index.Metadata.GetDocument(c.DocumentId)!;
            var v = new float[_encoder.Info.Dimensions];
            _encoder.Encode([doc.Title + "\n\n" + c.Text], TextRole.Passage, v);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4);
            var top = index.Vectors.Search(v, 1)[0];
            Assert.Equal(c.Id, top.Id);
            Assert.Equal(1.0, top.Score, 3);
        }
    }

    [Fact]
    public void Index_ChunksFitTheModelBudget()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var index = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        Assert.Equal("model", index.Manifest.TokenCounter);
        foreach (var c in index.Metadata.AllChunks())
        {
            var doc = index.Metadata.GetDocument(c.DocumentId)!;
            var tokens = _encoder.TokenCounter.CountTokens(doc.Title) + _encoder.TokenCounter.CountTokens(c.Text) + _encoder.PassageOverheadTokens + 1;
            Assert.True(tokens <= _encoder.Info.MaxTokens, $"chunk {c.Id}: {tokens} tokens");
            Assert.True(_encoder.TokenCounter.CountTokens(c.Text) <= index.Manifest.Chunking.MaxTokens);
        }
    }

    [Fact]
    public void Search_Dense_ExactChunkTextFindsItsDocumentFirst()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var index = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        var searcher = new Searcher(index);
        var chunk = index.Metadata.AllChunks().First(c => c.DocumentId == "honeybees.txt");
        var hits = searcher.Search(new SearchRequest(chunk.Text, K: 3, Mode: SearchMode.Dense)).Hits;
        Assert.Equal("honeybees.txt", hits[0].DocId);
        Assert.NotNull(hits[0].Dense);
        Assert.Null(hits[0].Lexical);
    }

    [Fact]
    public void Search_Hybrid_ExplainsBothRanksAndReportsFusion()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var index = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        var response = new Searcher(index).Search(new SearchRequest("waggle dance of honeybee foragers", K: 5, Mode: SearchMode.Hybrid));
        Assert.Equal(new FusionOptions(), response.Fusion);
        var top = response.Hits[0];
        Assert.Equal("honeybees.txt", top.DocId);
        Assert.NotNull(top.Lexical);
        Assert.NotNull(top.Dense);
        var expected = (1.0 / (60 + top.Lexical!.Rank)) + (1.0 / (60 + top.Dense!.Rank));
        Assert.Equal(expected, top.Score, 12);
    }

    [Fact]
    public void Search_DenseWithFilter_OnlyMatchingDocumentsAndAFullPage()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var index = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        var guides = Path.Combine(RepoPaths.SampleDocs, "guides");
        var filter = new SearchFilter(PathPrefix: guides);
        var hits = new Searcher(index).Search(new SearchRequest("anything at all", K: 10, Mode: SearchMode.Dense, Filter: filter)).Hits;
        var expected = Directory.GetFiles(guides).Select(f => "guides/" + Path.GetFileName(f)).Order().ToList();
        Assert.Equal(expected, hits.Select(h => h.DocId).Order().ToList());

        var md = new Searcher(index).Search(new SearchRequest("anything", K: 3, Mode: SearchMode.Hybrid, Filter: new SearchFilter(FileTypes: [".md"])) { RelevanceFloor = false }).Hits;
        Assert.Equal(3, md.Count);
        Assert.All(md, h => Assert.EndsWith(".md", h.Path));
    }

    [Fact]
    public void Search_HybridPages_ConcatenateToTheFullList()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var index = SemanticIndex.OpenReadOnly(dir.Path, _ => _encoder);
        var searcher = new Searcher(index);
        var all = searcher.Search(new SearchRequest("water and light for plants and bees", K: 12, Mode: SearchMode.Hybrid) { RelevanceFloor = false }).Hits;
        Assert.Equal(12, all.Count);
        var pages = Enumerable.Range(0, 4).SelectMany(p => searcher.Search(new SearchRequest("water and light for plants and bees", K: 3, Offset: p * 3, Mode: SearchMode.Hybrid) { RelevanceFloor = false }).Hits).ToList();
        Assert.Equal(all.Select(h => h.DocId), pages.Select(h => h.DocId));
        Assert.Equal(all.Count, all.Select(h => h.DocId).Distinct().Count());
    }

    [Fact]
    public void Delete_MarksTheDocumentsVectorsDeleted()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var index = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder);
        var doc = index.GetDocument("honeybees.txt")!;
        var before = index.Vectors!.Count;
        index.BeginBatch();
        Assert.True(index.Delete(doc.Id));
        index.Commit();
        Assert.Equal(before - doc.ChunkIds.Count, index.Vectors!.Count);
        Assert.All(doc.ChunkIds, id => Assert.False(index.Vectors.Contains(id)));
        Assert.Equal(index.Vectors.Count, index.Manifest.Counts.Vectors);
    }

    [Fact]
    public void Open_WithAnotherModel_IsRefusedNamingTheNeededModel()
    {
        using var dir = new TempDir();
        BuildSamples(dir);
        using var other = new RenamedEncoder(_encoder, "another-model");
        var e = Assert.Throws<ModelMismatchException>(() => SemanticIndex.OpenOrCreate(dir.Path, Settings, other));
        Assert.Contains(_encoder.Info.ModelId, e.Message);
        Assert.Throws<ModelMismatchException>(() => SemanticIndex.OpenOrCreate(dir.Path, Settings, encoder: null));

        using var lexicalOnly = new TempDir();
        using (SemanticIndex.OpenOrCreate(lexicalOnly.Path, Settings))
        {
        }
        Assert.Throws<ModelMismatchException>(() => SemanticIndex.OpenOrCreate(lexicalOnly.Path, Settings, _encoder));
    }

    [Fact]
    public void Search_DenseOnLexicalOnlyIndex_ThrowsNamingMode()
    {
        using var dir = new TempDir();
        using (var index = SemanticIndex.OpenOrCreate(dir.Path, Settings))
        {
            new FolderIndexer(index, Settings).Run(RepoPaths.SampleDocs);
        }
        using var ro = SemanticIndex.OpenReadOnly(dir.Path);
        Assert.Equal("mode", Assert.Throws<InvalidSettingException>(() => new Searcher(ro).Search(new SearchRequest("x", Mode: SearchMode.Dense))).Setting);
    }

    private sealed class RenamedEncoder(ITextEncoder inner, string id) : ITextEncoder
    {
        public EncoderInfo Info { get; } = inner.Info with { ModelId = id };
        public Core.Chunking.ITokenCounter TokenCounter => inner.TokenCounter;
        public int PassageOverheadTokens => inner.PassageOverheadTokens;
        public void Encode(IReadOnlyList<string> texts, TextRole role, Span<float> output) => inner.Encode(texts, role, output);
        public void Dispose()
        {
        }
    }
}
