// Batches chunked documents for the index and overlaps the two halves of a write: while one batch is embedded (the
// encoder, on every core), the batch before it goes into the stores (LiteDB, Lucene, the graph) and the caller goes
// on preparing the next. Invariants: batches reach the stores in the order they were added, each with the vectors
// embedded for it; the stores are only ever written from the caller's thread; at most two batches are held (one
// embedding, one being filled); and no embedding is left running once Flush or Dispose returns, so the index and its
// encoder can be closed after either.
using SemanticSearch.Core.Chunking;

namespace SemanticSearch.Engine.Indexing;

/// <summary>
/// Holds chunked documents until enough chunks are pending, then embeds them in the background while the previous
/// batch is written (<see cref="SemanticIndex.Embed"/>, then <see cref="SemanticIndex.Write(IReadOnlyList{ValueTuple{SourceDocument, IReadOnlyList{TextChunk}}}, EmbeddedPassages?)"/>).
/// Call <see cref="Flush"/> before committing; dispose it before closing the index.
/// </summary>
public sealed class BatchedIndexWriter(SemanticIndex index, int chunksPerBatch) : IDisposable
{
    private List<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> _pending = [];
    private int _pendingChunks;
    private long _tokensHandedOn;
    private long _chunksHandedOn;
    private (List<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> Documents, Task<EmbeddedPassages?> Embedding)? _embedding;

    /// <summary>Chunks written to the stores so far.</summary>
    public long ChunksWritten { get; private set; }

    /// <summary>
    /// Called from the embedding task as a batch is embedded (slice by slice, and when it is done); see
    /// <see cref="EmbeddingProgress"/>. Null: the batch is embedded in one call, as fast as it goes.
    /// </summary>
    public Action<EmbeddingProgress>? Progress { get; init; }

    /// <summary>Checked between embedding slices: a cancelled job stops inside a large document, not after it.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>
    /// Queues a document; once the queue holds at least the configured number of chunks, starts embedding it and
    /// writes the batch embedded before it.
    /// </summary>
    /// <returns>True when this call handed a batch on.</returns>
    public bool Add(SourceDocument document, IReadOnlyList<TextChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(chunks);
        _pending.Add((document, chunks));
        _pendingChunks += chunks.Count;
        if (_pendingChunks < chunksPerBatch)
        {
            return false;
        }
        HandOn();
        return true;
    }

    /// <summary>Writes everything added so far, waiting for its embedding.</summary>
    public void Flush()
    {
        if (_pending.Count > 0)
        {
            HandOn();
        }
        WriteEmbedded();
    }

    /// <summary>Waits for a batch still being embedded and drops it (what was not flushed is not written).</summary>
    public void Dispose()
    {
        if (_embedding is { } running)
        {
            _embedding = null;
            try
            {
                running.Embedding.Wait();
            }
            catch (AggregateException)
            {
                // the write this batch belonged to is abandoned; the error that led here is the one reported
            }
        }
        _pending.Clear();
    }

    // Starts embedding the pending batch, then stores the one embedded before it while this one runs.
    private void HandOn()
    {
        var batch = _pending;
        _pending = [];
        _pendingChunks = 0;
        var previous = _embedding;
        _embedding = null;
        // the previous batch's vectors come first: waiting for them keeps one embedding at a time on the cores
        var embedded = previous?.Embedding.GetAwaiter().GetResult();
        var (tokensBefore, chunksBefore) = (_tokensHandedOn, _chunksHandedOn);
        _embedding = (batch, Task.Run(() => Embed(batch, tokensBefore, chunksBefore)));
        foreach (var (_, chunks) in batch)
        {
            _chunksHandedOn += chunks.Count;
            foreach (var c in chunks)
            {
                _tokensHandedOn += c.TokenCount;
            }
        }
        if (previous is { } p)
        {
            ChunksWritten += index.Write(p.Documents, embedded);
        }
    }

    // Embeds one batch, reporting the tokens and chunks embedded in all (those of earlier batches, then this one's
    // share) and the document the share has reached.
    private EmbeddedPassages? Embed(List<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> batch, long tokensBefore, long chunksBefore)
    {
        if (Progress is not { } report)
        {
            return index.Embed(batch, Cancellation);
        }
        var tokens = new long[batch.Count + 1]; // tokens[i]: tokens of the documents before document i
        var chunks = new long[batch.Count + 1];
        for (var i = 0; i < batch.Count; i++)
        {
            tokens[i + 1] = tokens[i] + batch[i].Chunks.Sum(c => (long)c.TokenCount);
            chunks[i + 1] = chunks[i] + batch[i].Chunks.Count;
        }
        void Share(double share)
        {
            var doneTokens = (long)Math.Round(share * tokens[^1]);
            var doc = 0;
            while (doc < batch.Count - 1 && tokens[doc + 1] <= doneTokens)
            {
                doc++;
            }
            report(new EmbeddingProgress(tokensBefore + doneTokens, chunksBefore + (long)Math.Round(share * chunks[^1]), batch[doc].Document.Id));
        }
        var embedded = index.EmbedReporting(batch, Share, Cancellation);
        Share(1);
        return embedded;
    }

    private void WriteEmbedded()
    {
        if (_embedding is { } e)
        {
            _embedding = null;
            ChunksWritten += index.Write(e.Documents, e.Embedding.GetAwaiter().GetResult());
        }
    }
}

/// <summary>How far a <see cref="BatchedIndexWriter"/>'s embedding has come.</summary>
/// <param name="TokensEmbedded">Tokens (of chunks, as the chunker counted them) embedded since the writer was made.</param>
/// <param name="ChunksEmbedded">Chunks embedded since the writer was made.</param>
/// <param name="CurrentDocument">The id of the document being embedded.</param>
public sealed record EmbeddingProgress(long TokensEmbedded, long ChunksEmbedded, string CurrentDocument);
