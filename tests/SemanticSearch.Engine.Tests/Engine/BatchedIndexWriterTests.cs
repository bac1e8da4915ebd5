using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// The writer that embeds one batch while the previous one goes into the stores: over many batches, every chunk must
/// be stored with its own vector, under the ids a plain one-document-at-a-time write gives it.
/// </summary>
public sealed class BatchedIndexWriterTests : IDisposable
{
    private static readonly IndexSettings Settings = new() { Chunking = new(MaxTokens: 24, OverlapTokens: 4) };
    private static readonly string[] Words =
        ["tide", "pool", "coral", "reef", "kelp", "forest", "urchin", "crab", "anemone", "starfish", "barnacle", "mussel", "limpet", "shore", "wave", "salt"];

    private readonly ITextEncoder _encoder = TestModels.OpenTestBert();

    public void Dispose() => _encoder.Dispose();

    private static SourceDocument Document(int i)
    {
        var rng = new Random(i);
        var text = string.Join(' ', Enumerable.Range(0, 10 + rng.Next(60)).Select(_ => Words[rng.Next(Words.Length)])) + $" note{i}.";
        return new SourceDocument($"doc-{i:D3}", "test", string.Empty, $"Field note {i}", text, string.Empty, text.Length, DateTime.UnixEpoch, $"hash-{i}",
            new Dictionary<string, string>());
    }

    [Fact]
    public void Add_ManyBatches_EveryChunkStoredWithItsOwnVectorUnderThePlainWritesIds()
    {
        using var piped = new TempDir();
        using var plain = new TempDir();
        var documents = Enumerable.Range(0, 40).Select(Document).ToList();
        long written;
        using (var index = SemanticIndex.OpenOrCreate(piped.Path, Settings, _encoder))
        {
            index.BeginBatch();
            using (var writer = new BatchedIndexWriter(index, chunksPerBatch: 5))
            {
                var handedOn = documents.Count(d => writer.Add(d, index.Chunk(d)));
                Assert.True(handedOn >= 8, $"only {handedOn} batches: the overlap of embedding and writing was hardly exercised");
                writer.Flush();
                written = writer.ChunksWritten;
            }
            index.Commit();
        }
        using (var index = SemanticIndex.OpenOrCreate(plain.Path, Settings, _encoder))
        {
            index.BeginBatch();
            foreach (var d in documents)
            {
                index.Write(d);
            }
            index.Commit();
        }

        using var a = SemanticIndex.OpenReadOnly(piped.Path, _ => _encoder);
        using var b = SemanticIndex.OpenReadOnly(plain.Path, _ => _encoder);
        var chunks = a.Metadata.AllChunks().OrderBy(c => c.Id).ToList();
        Assert.Equal(written, chunks.Count);
        Assert.Equal(
            b.Metadata.AllChunks().OrderBy(c => c.Id).Select(c => (c.Id, c.DocumentId, c.Text)),
            chunks.Select(c => (c.Id, c.DocumentId, c.Text)));
        Assert.Equal(chunks.Count, a.Vectors!.Count);
        // each stored vector is the passage embedding of its own chunk (title + text): searching with that exact
        // vector finds the chunk itself, similarity 1
        var dim = _encoder.Info.Dimensions;
        foreach (var c in chunks)
        {
            var v = new float[dim];
            _encoder.Encode([a.Metadata.GetDocument(c.DocumentId)!.Title + "\n\n" + c.Text], TextRole.Passage, v);
            var top = a.Vectors.Search(v, 1)[0];
            Assert.Equal(c.Id, top.Id);
            Assert.Equal(1.0, top.Score, 3);
        }
    }

    [Fact]
    public void Dispose_WithoutFlush_WritesNothingMore()
    {
        using var dir = new TempDir();
        using var index = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder);
        index.BeginBatch();
        var writer = new BatchedIndexWriter(index, chunksPerBatch: 1);
        Assert.True(writer.Add(Document(1), index.Chunk(Document(1)))); // embedding in the background, not yet stored
        writer.Dispose(); // waits for it, stores nothing

        Assert.Equal(0, writer.ChunksWritten);
        Assert.Null(index.GetDocument("doc-001"));
    }

    [Fact]
    public void Write_VectorsEmbeddedForOtherDocuments_RefusedAndNothingWritten()
    {
        using var dir = new TempDir();
        using var index = SemanticIndex.OpenOrCreate(dir.Path, Settings, _encoder);
        index.BeginBatch();
        List<(SourceDocument, IReadOnlyList<TextChunk>)> first = [(Document(1), index.Chunk(Document(1)))];
        List<(SourceDocument, IReadOnlyList<TextChunk>)> second = [(Document(2), index.Chunk(Document(2)))];
        var embedded = index.Embed(first);

        Assert.Throws<ArgumentException>(() => index.Write(second, embedded));
        Assert.Throws<ArgumentException>(() => index.Write(first, null));
        Assert.Null(index.GetDocument("doc-002"));
        Assert.Null(index.GetDocument("doc-001"));
        Assert.Equal(first.Sum(d => d.Item2.Count), index.Write(first, embedded));
        Assert.NotNull(index.GetDocument("doc-001"));
    }
}
