using SemanticSearch.Core.Chunking;

namespace SemanticSearch.Engine.Indexing;

/// <summary>
/// Holds chunked documents until enough chunks are pending, then writes them in one <see cref="SemanticIndex"/> call
/// so the encoder embeds many chunks per batch. Call <see cref="Flush"/> before committing.
/// </summary>
public sealed class BatchedIndexWriter(SemanticIndex index, int chunksPerBatch)
{
    private readonly List<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> _pending = [];
    private int _pendingChunks;

    /// <summary>Chunks written so far.</summary>
    public long ChunksWritten { get; private set; }

    /// <summary>Queues a document; writes the batch once it holds at least the configured number of chunks.</summary>
    /// <returns>True when this call wrote a batch.</returns>
    public bool Add(SourceDocument document, IReadOnlyList<TextChunk> chunks)
    {
        _pending.Add((document, chunks));
        _pendingChunks += chunks.Count;
        if (_pendingChunks < chunksPerBatch)
        {
            return false;
        }
        Flush();
        return true;
    }

    /// <summary>Writes whatever is pending.</summary>
    public void Flush()
    {
        if (_pending.Count > 0)
        {
            ChunksWritten += index.Write(_pending);
            _pending.Clear();
            _pendingChunks = 0;
        }
    }
}
