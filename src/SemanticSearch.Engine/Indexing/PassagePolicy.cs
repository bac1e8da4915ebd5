// What an index embeds for a document, and under which vector ids. Writing, repair, search and verify all ask this one
// class, so a rebuilt vector store equals the original and a vector hit always maps back to its chunk.
//
// Rules, fixed per index by its manifest:
// - A chunk is embedded with the document's title in front ("title\n\nchunk"), the title cut to a quarter of the
//   passage budget (whole words). A title-only chunk (Length 0, made for a document that is only a title) is embedded
//   as the title alone.
// - Without windows, a chunk has one vector whose id is the chunk id. With windows (manifest windowTokens, chosen for a
//   model that reads far fewer tokens than a chunk holds), a chunk is embedded as up to 2^WindowIdBits overlapping
//   windows, vector id = chunk id << WindowIdBits | window; a longer chunk's tail is left to BM25.
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Engine.Indexing;

/// <summary>The texts embedded for a batch of chunks, with the vector id of each, in order.</summary>
/// <param name="Texts">Passage texts, title in front.</param>
/// <param name="VectorIds">The vector id of each text.</param>
public sealed record PassageBatch(List<string> Texts, List<long> VectorIds)
{
    /// <summary>An empty batch.</summary>
    public PassageBatch()
        : this([], [])
    {
    }

    /// <summary>
    /// Embeds the passages as passages (row i is <see cref="Texts"/>[i]); with a cancellable token in slices, so that
    /// a cancellation is noticed between them.
    /// </summary>
    public float[] Embed(ITextEncoder encoder, CancellationToken ct = default) => Embed(encoder, null, ct);

    /// <summary>
    /// As <see cref="Embed(ITextEncoder, CancellationToken)"/>; with <paramref name="embedded"/> in slices too, calling
    /// it with the number of passages embedded so far after each slice (a large document reports as it goes).
    /// </summary>
    public float[] Embed(ITextEncoder encoder, Action<int>? embedded, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var dims = encoder.Info.Dimensions;
        var embeddings = new float[Texts.Count * dims];
        if (!ct.CanBeCanceled && embedded is null)
        {
            encoder.Encode(Texts, TextRole.Passage, embeddings);
            return embeddings;
        }
        const int slice = 64;
        for (var from = 0; from < Texts.Count; from += slice)
        {
            ct.ThrowIfCancellationRequested();
            var n = Math.Min(slice, Texts.Count - from);
            encoder.Encode(Texts.GetRange(from, n), TextRole.Passage, embeddings.AsSpan(from * dims, n * dims));
            embedded?.Invoke(from + n);
        }
        return embeddings;
    }

    /// <summary>Empties the batch for reuse.</summary>
    public void Clear()
    {
        Texts.Clear();
        VectorIds.Clear();
    }
}

/// <summary>
/// The passage-embedding policy of one index: how documents are chunked for it, what is embedded for each chunk, and
/// how vector ids relate to chunk ids.
/// </summary>
public sealed class PassagePolicy
{
    /// <summary>
    /// Vectors per chunk are at most 2^<see cref="WindowIdBits"/> windows; vector id = chunk id &lt;&lt; WindowIdBits | window
    /// on a windowed index (the manifest's <c>windowTokens</c> is set), and the chunk id itself otherwise.
    /// </summary>
    public const int WindowIdBits = 4;

    private const int MaxWindows = 1 << WindowIdBits;

    private readonly int? _windowTokens;
    private readonly ChunkingOptions _chunking;
    private readonly bool _embeds;

    /// <summary>
    /// The policy of an index described by <paramref name="manifest"/>, counting tokens with <paramref name="tokens"/>
    /// (its first space's tokenizer, which cuts the chunks; whitespace words on a lexical-only index).
    /// </summary>
    public PassagePolicy(IndexManifest manifest, ITokenCounter tokens)
        : this(manifest?.Chunking ?? throw new ArgumentNullException(nameof(manifest)), manifest.WindowTokens, manifest.Model is not null, tokens)
    {
    }

    /// <summary>The policy of one vector space of an index (its windows, counted with its own model's <paramref name="tokens"/>).</summary>
    public PassagePolicy(IndexManifest manifest, SpaceManifest space, ITokenCounter tokens)
        : this(manifest?.Chunking ?? throw new ArgumentNullException(nameof(manifest)), (space ?? throw new ArgumentNullException(nameof(space))).WindowTokens, embeds: true, tokens)
    {
    }

    private PassagePolicy(ChunkingOptions chunking, int? windowTokens, bool embeds, ITokenCounter tokens)
    {
        _windowTokens = windowTokens;
        _chunking = chunking;
        _embeds = embeds;
        Tokens = tokens;
        Chunker = new TextChunker(tokens, _chunking);
    }

    /// <summary>The token counter chunk sizes are measured with (the model's tokenizer, or whitespace words).</summary>
    public ITokenCounter Tokens { get; }

    /// <summary>Cuts text into chunks as the manifest says (without a title budget).</summary>
    public IChunker Chunker { get; }

    /// <summary>True when chunks are embedded as several windows.</summary>
    public bool Windowed => _windowTokens is not null;

    /// <summary>
    /// The chunking and windows of a new index for <paramref name="encoder"/>: chunks as configured but no longer than
    /// the model reads; or, for a model that reads at most half a chunk, chunks as configured (so BM25 sees passages as
    /// long as with any other model) embedded as windows the model reads whole; or windows as
    /// <paramref name="settings"/> ask.
    /// </summary>
    public static (ChunkingOptions Chunking, int? WindowTokens) ForNewIndex(IndexSettings settings, ITextEncoder? encoder)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var chunking = settings.Chunking;
        if (encoder is null)
        {
            return (chunking, null);
        }
        var modelBudget = encoder.Info.MaxTokens - encoder.PassageOverheadTokens;
        if (modelBudget < 8)
        {
            throw new InvalidSettingException("model", $"{encoder.Info.ModelId} leaves only {modelBudget} tokens per passage.");
        }
        if (settings.WindowTokens is { } asked && asked < Math.Min(modelBudget, chunking.MaxTokens))
        {
            return (chunking, asked);
        }
        if (modelBudget * 2 <= chunking.MaxTokens)
        {
            return (chunking, modelBudget);
        }
        var max = Math.Min(chunking.MaxTokens, modelBudget);
        return (new ChunkingOptions(max, Math.Min(chunking.OverlapTokens, max / 8)), null);
    }

    /// <summary>
    /// The windows of a space added after the first, on chunks already cut (by another model's tokenizer): every chunk
    /// is embedded as windows of at most what this model reads (one window when the chunk fits), so no text of a chunk
    /// is cut off by the model whatever its tokenizer counts.
    /// </summary>
    public static int WindowsForAddedSpace(ChunkingOptions chunking, ITextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(chunking);
        ArgumentNullException.ThrowIfNull(encoder);
        var modelBudget = encoder.Info.MaxTokens - encoder.PassageOverheadTokens;
        if (modelBudget < 8)
        {
            throw new InvalidSettingException("model", $"{encoder.Info.ModelId} leaves only {modelBudget} tokens per passage.");
        }
        return Math.Min(modelBudget, chunking.MaxTokens);
    }

    /// <summary>
    /// Chunks a document: on an index with a model and no windows the chunk budget leaves room for the title, which
    /// is embedded with every chunk. A document that is only a title gets one title chunk (Length 0).
    /// </summary>
    public IReadOnlyList<TextChunk> Chunk(string title, string text, string path)
    {
        IReadOnlyList<TextChunk> chunks;
        if (!_embeds || title.Length == 0 || _windowTokens is not null)
        {
            chunks = Chunker.Chunk(text);
        }
        else
        {
            var titleTokens = Math.Min(Tokens.CountTokens(title) + 1, _chunking.MaxTokens / 4);
            var max = _chunking.MaxTokens - titleTokens;
            chunks = new TextChunker(Tokens, new ChunkingOptions(max, Math.Min(_chunking.OverlapTokens, max / 8))).Chunk(text);
        }
        if (chunks.Count == 0 && HasOwnTitle(title, path))
        {
            // Findable by its title (a BEIR record with an empty text, an HTML page with a title and no body). Its
            // Length is 0 because it is no span of the text; that marks a title chunk (see IsTitleChunk).
            return [new TextChunk(0, 0, 0, title, Tokens.CountTokens(title))];
        }
        return chunks;
    }

    // A title that is the document's own: a file's title falls back to its file name when it has none (Extraction's
    // Titles), and a file holding nothing besides that stays "no text found", as a whitespace-only file must.
    private static bool HasOwnTitle(string title, string path) =>
        title.Trim().Length > 0
        && (path.Length == 0 || !string.Equals(title, Path.GetFileNameWithoutExtension(path), StringComparison.Ordinal));

    /// <summary>Whether a chunk of this <paramref name="length"/> is a title chunk: indexed and embedded as the title alone.</summary>
    public static bool IsTitleChunk(int length) => length == 0;

    /// <summary>The text a chunk gives BM25: empty for a title chunk (the title is indexed on its own field).</summary>
    public static string LexicalText(int chunkLength, string chunkText) => IsTitleChunk(chunkLength) ? string.Empty : chunkText;

    /// <summary>The title as it is embedded with every chunk (or window): at most a quarter of its budget, whole words.</summary>
    public string EmbeddingTitle(string title)
    {
        if (title.Length == 0)
        {
            return title;
        }
        var budget = (_windowTokens ?? _chunking.MaxTokens) / 4;
        if (Tokens.CountTokens(title) < budget)
        {
            return title;
        }
        var words = title.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var n = words.Length;
        while (n > 1 && Tokens.CountTokens(string.Join(' ', words, 0, n)) >= budget)
        {
            n--;
        }
        return string.Join(' ', words, 0, n);
    }

    /// <summary>
    /// Appends to <paramref name="batch"/> what is embedded for one chunk and the vector ids it is stored under.
    /// </summary>
    /// <param name="batch">Where the passages go.</param>
    /// <param name="embeddingTitle">The document's <see cref="EmbeddingTitle"/>.</param>
    /// <param name="chunkId">The chunk's id.</param>
    /// <param name="chunkLength">The chunk's length in the text (0: a title chunk).</param>
    /// <param name="chunkText">The chunk's text.</param>
    public void AddPassages(PassageBatch batch, string embeddingTitle, long chunkId, int chunkLength, string chunkText)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var title = IsTitleChunk(chunkLength) ? string.Empty : embeddingTitle;
        var windows = Windows(chunkText, title);
        for (var w = 0; w < windows.Count; w++)
        {
            batch.Texts.Add(title.Length == 0 ? windows[w] : title + "\n\n" + windows[w]);
            batch.VectorIds.Add(VectorId(chunkId, w));
        }
    }

    /// <summary>
    /// The passages of chunked documents whose chunks get consecutive ids from <paramref name="firstChunkId"/>, in
    /// order (as the stores assign them).
    /// </summary>
    public PassageBatch ForDocuments(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, long firstChunkId)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var batch = new PassageBatch();
        var id = firstChunkId;
        foreach (var (document, chunks) in documents)
        {
            var title = chunks.Count == 0 ? string.Empty : EmbeddingTitle(document.Title);
            foreach (var c in chunks)
            {
                AddPassages(batch, title, id++, c.Length, c.Text);
            }
        }
        return batch;
    }

    /// <summary>The chunk a vector id belongs to.</summary>
    public long ChunkOfVector(long vectorId) => _windowTokens is null ? vectorId : vectorId >> WindowIdBits;

    /// <summary>The chunk a vector id belongs to in an index described by <paramref name="manifest"/> (its first space).</summary>
    public static long ChunkOfVector(IndexManifest manifest, long vectorId)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.WindowTokens is null ? vectorId : vectorId >> WindowIdBits;
    }

    /// <summary>The chunk a vector id of <paramref name="space"/> belongs to.</summary>
    public static long ChunkOfVector(SpaceManifest space, long vectorId)
    {
        ArgumentNullException.ThrowIfNull(space);
        return space.WindowTokens is null ? vectorId : vectorId >> WindowIdBits;
    }

    /// <summary>Every vector id a chunk may have.</summary>
    public IEnumerable<long> VectorsOfChunk(long chunkId)
    {
        if (_windowTokens is null)
        {
            yield return chunkId;
            yield break;
        }
        for (var w = 0; w < MaxWindows; w++)
        {
            yield return VectorId(chunkId, w);
        }
    }

    private long VectorId(long chunkId, int window) => _windowTokens is null ? chunkId : (chunkId << WindowIdBits) | (uint)window;

    // The chunk whole, or on a windowed index overlapping windows of it that fit the model with the title in front.
    private List<string> Windows(string chunkText, string title)
    {
        if (_windowTokens is not { } windowTokens)
        {
            return [chunkText];
        }
        var titleTokens = title.Length == 0 ? 0 : Tokens.CountTokens(title) + 1;
        var max = Math.Max(windowTokens - titleTokens, 8);
        var windows = new TextChunker(Tokens, new ChunkingOptions(max, max / 8)).Chunk(chunkText);
        var result = new List<string>(Math.Min(windows.Count, MaxWindows));
        foreach (var w in windows)
        {
            if (result.Count == MaxWindows)
            {
                break;
            }
            result.Add(w.Text);
        }
        if (result.Count == 0)
        {
            result.Add(chunkText);
        }
        return result;
    }
}
