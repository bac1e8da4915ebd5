using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine;

/// <summary>
/// One index directory, opened: its manifest and its stores — <c>metadata.db</c> (LiteDB), <c>lexical/</c> (Lucene)
/// and, when the index has an embedding model, <c>vectors.hnsw</c> (our HNSW graph). Writes go through <c>Write</c>
/// and <see cref="Delete"/> and become visible together at <see cref="Commit"/>. One instance may serve any number of
/// concurrent searches; writes must come from one thread at a time.
/// </summary>
public sealed class SemanticIndex : IDisposable
{
    private const string MetadataFile = "metadata.db";
    private const string LexicalDirectory = "lexical";
    private const string VectorFile = "vectors.hnsw";

    private readonly bool _writable;
    private readonly ChunkingOptions _chunking;
    private readonly double _compactFraction;
    private IndexManifest _manifest;
    private IVectorIndex? _vectors;

    // Chunk id → document id of every committed chunk, built on first use from the lexical store, so that vector hits
    // are collapsed to documents without a metadata lookup per hit. Writes are applied at Commit, when they become
    // visible everywhere else too.
    private readonly Lock _chunkDocsLock = new();
    private Dictionary<long, string>? _chunkDocs;
    private readonly List<(long ChunkId, string DocumentId)> _pendingChunkDocs = [];
    private readonly List<long> _pendingRemovedChunks = [];

    private SemanticIndex(string directory, IndexManifest manifest, MetadataStore metadata, LexicalIndex lexical, ITextEncoder? encoder, IVectorIndex? vectors, bool writable, double compactFraction)
    {
        Directory = directory;
        _manifest = manifest;
        Metadata = metadata;
        Lexical = lexical;
        Encoder = encoder;
        _vectors = vectors;
        _writable = writable;
        _compactFraction = compactFraction;
        _chunking = manifest.Chunking;
        Chunker = new TextChunker(TokenCounter, _chunking);
    }

    /// <summary>The index directory.</summary>
    public string Directory { get; }

    /// <summary>The manifest as of the last commit (or open).</summary>
    public IndexManifest Manifest => _manifest;

    /// <summary>Document and chunk metadata.</summary>
    public MetadataStore Metadata { get; }

    /// <summary>The BM25 store.</summary>
    public LexicalIndex Lexical { get; }

    /// <summary>The sentence encoder of this index, or null for a lexical-only index (or one opened without its model).</summary>
    public ITextEncoder? Encoder { get; }

    /// <summary>The chunk vectors, or null for a lexical-only index.</summary>
    public IVectorIndex? Vectors => _vectors;

    /// <summary>Cuts documents into chunks as the manifest says (without a title budget).</summary>
    public IChunker Chunker { get; }

    private ITokenCounter TokenCounter => Encoder?.TokenCounter ?? WhitespaceTokenCounter.Instance;

    /// <summary>
    /// Opens the index at <paramref name="directory"/> for writing, creating it when absent. A new index records
    /// <paramref name="encoder"/>'s model (null: lexical only); an existing one must be opened with the model it was
    /// built with.
    /// </summary>
    public static SemanticIndex OpenOrCreate(string directory, IndexSettings settings, ITextEncoder? encoder = null)
    {
        settings.Validate();
        System.IO.Directory.CreateDirectory(directory);
        IndexManifest manifest;
        if (File.Exists(Path.Combine(directory, IndexManifest.FileName)))
        {
            manifest = IndexManifest.Read(directory);
            CheckModel(directory, manifest, encoder);
        }
        else
        {
            var now = DateTime.UtcNow;
            var chunking = settings.Chunking;
            int? windowTokens = null;
            if (encoder is not null)
            {
                var modelBudget = encoder.Info.MaxTokens - encoder.PassageOverheadTokens;
                if (modelBudget < 8)
                {
                    throw new InvalidSettingException("model", $"{encoder.Info.ModelId} leaves only {modelBudget} tokens per passage.");
                }
                if (settings.WindowTokens is { } asked && asked < Math.Min(modelBudget, chunking.MaxTokens))
                {
                    windowTokens = asked; // windows shorter than the model reads, as asked
                }
                else if (modelBudget * 2 <= chunking.MaxTokens)
                {
                    // A short-context model (use-lite reads 128 tokens): chunks keep the configured size, counted
                    // with the model's tokenizer, so BM25 sees passages as long as with any other model, and each
                    // chunk is embedded as overlapping windows the model can read whole (see docs/eval).
                    windowTokens = modelBudget;
                }
                else
                {
                    var max = Math.Min(chunking.MaxTokens, modelBudget);
                    chunking = new ChunkingOptions(max, Math.Min(chunking.OverlapTokens, max / 8));
                }
            }
            manifest = new IndexManifest
            {
                CreatedUtc = now,
                UpdatedUtc = now,
                Chunking = chunking,
                TokenCounter = encoder is null ? "whitespace" : "model",
                Lexical = settings.Lexical,
                Model = encoder?.Info,
                Vectors = encoder is null ? null : settings.Vectors,
                Fusion = encoder is null ? null : settings.Fusion ?? FusionDefaults.For(encoder.Info),
                WindowTokens = windowTokens,
                MaxFileBytes = settings.MaxFileBytes,
            };
            manifest.Write(directory);
        }
        return Open(directory, manifest, encoder, writable: true, settings.CompactDeletedFraction);
    }

    /// <summary>
    /// Opens an existing index for searching. <paramref name="encoderFor"/> supplies the index's model (from its
    /// manifest) when it has one; without it, only lexical search is available.
    /// </summary>
    public static SemanticIndex OpenReadOnly(string directory, Func<EncoderInfo, ITextEncoder>? encoderFor = null)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new NotFoundException($"index not found: {directory}");
        }
        var manifest = IndexManifest.Read(directory);
        var encoder = manifest.Model is { } info && encoderFor is not null ? encoderFor(info) : null;
        if (encoder is not null)
        {
            CheckModel(directory, manifest, encoder);
        }
        return Open(directory, manifest, encoder, writable: false, 1.0);
    }

    private static void CheckModel(string directory, IndexManifest manifest, ITextEncoder? encoder)
    {
        var need = manifest.Model;
        if (need is null && encoder is not null)
        {
            throw new ModelMismatchException($"index {directory} was built without an embedding model (lexical only); index into a new index to use {encoder.Info.ModelId}.");
        }
        if (need is not null && encoder is null)
        {
            throw new ModelMismatchException($"index {directory} needs the model {need.ModelId} (revision {need.Revision}); open it with --model {need.ModelId}.");
        }
        if (need is not null && encoder is not null
            && (need.ModelId != encoder.Info.ModelId || need.Dimensions != encoder.Info.Dimensions || need.Revision != encoder.Info.Revision))
        {
            throw new ModelMismatchException(
                $"index {directory} was built with {need.ModelId} (revision {need.Revision}, {need.Dimensions} dimensions), not {encoder.Info.ModelId} (revision {encoder.Info.Revision}, {encoder.Info.Dimensions}); use --model {need.ModelId} or a new index.");
        }
    }

    private static SemanticIndex Open(string directory, IndexManifest manifest, ITextEncoder? encoder, bool writable, double compactFraction)
    {
        var metadata = MetadataStore.Open(Path.Combine(directory, MetadataFile), readOnly: !writable);
        LexicalIndex? lexical = null;
        try
        {
            var lexicalPath = Path.Combine(directory, LexicalDirectory);
            lexical = writable
                ? LexicalIndex.OpenWritable(lexicalPath, manifest.Lexical)
                : LexicalIndex.OpenReadOnly(lexicalPath, manifest.Lexical);
            IVectorIndex? vectors = null;
            if (manifest.Model is { } model)
            {
                var path = Path.Combine(directory, VectorFile);
                vectors = File.Exists(path)
                    ? HnswIndex.Open(path)
                    : new HnswIndex(model.Dimensions, manifest.Vectors ?? new HnswParameters());
                if (vectors.Dimensions != model.Dimensions)
                {
                    throw new CorruptDataException(path, $"vector index has {vectors.Dimensions} dimensions, the manifest's model {model.Dimensions}");
                }
            }
            return new SemanticIndex(directory, manifest, metadata, lexical, encoder, vectors, writable, compactFraction);
        }
        catch
        {
            lexical?.Dispose();
            metadata.Dispose();
            throw;
        }
    }

    /// <summary>The document of each committed chunk in <paramref name="chunkIds"/> (unknown ids are left out).</summary>
    public Dictionary<long, string> DocumentsOfChunks(IEnumerable<long> chunkIds)
    {
        var result = new Dictionary<long, string>();
        lock (_chunkDocsLock)
        {
            if (_chunkDocs is null)
            {
                _chunkDocs = [];
                foreach (var (id, doc) in Lexical.AllChunkDocuments())
                {
                    _chunkDocs[id] = doc;
                }
            }
            foreach (var id in chunkIds)
            {
                if (_chunkDocs.TryGetValue(id, out var doc))
                {
                    result[id] = doc;
                }
            }
        }
        return result;
    }

    /// <summary>The stored version of a document, or null.</summary>
    public DocumentRecord? GetDocument(string id) => Metadata.GetDocument(id);

    /// <summary>
    /// Chunks a document for this index: the chunk budget leaves room for the title, which is embedded with every
    /// chunk (titles longer than a quarter of the budget are cut when embedded).
    /// </summary>
    public IReadOnlyList<TextChunk> Chunk(SourceDocument document)
    {
        if (Encoder is null || document.Title.Length == 0 || _manifest.WindowTokens is not null)
        {
            return Chunker.Chunk(document.Text);
        }
        var titleTokens = Math.Min(TokenCounter.CountTokens(document.Title) + 1, _chunking.MaxTokens / 4);
        var max = _chunking.MaxTokens - titleTokens;
        return new TextChunker(TokenCounter, new ChunkingOptions(max, Math.Min(_chunking.OverlapTokens, max / 8))).Chunk(document.Text);
    }

    /// <summary>Chunks <paramref name="document"/> and replaces any earlier version of it in every store.</summary>
    /// <returns>The number of chunks written (0 when the text holds no tokens).</returns>
    public int Write(SourceDocument document) => Write([(document, Chunk(document))]);

    /// <summary>
    /// Writes several chunked documents; their chunks are embedded in one call so the encoder can batch them.
    /// </summary>
    /// <returns>The number of chunks written.</returns>
    public int Write(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents)
    {
        EnsureWritable();
        float[]? embeddings = null;
        var total = 0;
        foreach (var (_, chunks) in documents)
        {
            total += chunks.Count;
        }
        // The texts embedded for each chunk, in order: the chunk itself, or its windows on a short-context model;
        // each with the document's title in front.
        var windowCounts = new int[total];
        var texts = new List<string>(total);
        if (Encoder is not null && total > 0)
        {
            var at = 0;
            foreach (var (doc, chunks) in documents)
            {
                var title = EmbeddingTitle(doc.Title);
                foreach (var c in chunks)
                {
                    var windows = Windows(c.Text, title);
                    windowCounts[at++] = windows.Count;
                    foreach (var w in windows)
                    {
                        texts.Add(title.Length == 0 ? w : title + "\n\n" + w);
                    }
                }
            }
            embeddings = new float[texts.Count * Encoder.Info.Dimensions];
            Encoder.Encode(texts, TextRole.Passage, embeddings);
        }

        var row = 0;
        var allIds = new long[total];
        foreach (var (document, chunks) in documents)
        {
            var nextId = Metadata.NextChunkId;
            var ids = new long[chunks.Count];
            var records = new ChunkRecord[chunks.Count];
            var lexical = new LexicalChunk[chunks.Count];
            for (var i = 0; i < chunks.Count; i++)
            {
                var c = chunks[i];
                ids[i] = nextId++;
                records[i] = new ChunkRecord(ids[i], document.Id, c.Ordinal, c.Start, c.Length, c.Text);
                lexical[i] = new LexicalChunk(ids[i], document.Id, document.Title, c.Text, document.Path, document.FileType, document.ModifiedUtc, document.Metadata);
            }
            Lexical.DeleteDocument(document.Id);
            Lexical.Add(lexical);
            var removed = Metadata.Upsert(
                new DocumentRecord(document.Id, document.Source, document.Path, document.Title, document.FileType, document.SizeBytes,
                    document.ModifiedUtc, document.ContentHash, DateTime.UtcNow, ids, document.Metadata),
                records);
            Metadata.NextChunkId = nextId;
            foreach (var id in removed)
            {
                MarkVectorsDeleted(id);
            }
            _pendingRemovedChunks.AddRange(removed);
            foreach (var id in ids)
            {
                _pendingChunkDocs.Add((id, document.Id));
            }
            ids.CopyTo(allIds, row);
            row += chunks.Count;
        }
        if (_vectors is not null && embeddings is not null && total > 0)
        {
            var vectorIds = new long[texts.Count];
            var v = 0;
            for (var i = 0; i < total; i++)
            {
                for (var w = 0; w < windowCounts[i]; w++)
                {
                    vectorIds[v++] = VectorId(allIds[i], w);
                }
            }
            // one parallel graph insertion for the whole batch
            _vectors.AddMany(vectorIds, embeddings, Environment.ProcessorCount);
        }
        return total;
    }

    /// <summary>
    /// Vectors per chunk are at most this many windows; vector id = chunk id &lt;&lt; <see cref="WindowIdBits"/> | window
    /// on a windowed index (the manifest's <c>windowTokens</c> is set), and the chunk id itself otherwise.
    /// </summary>
    public const int WindowIdBits = 4;

    /// <summary>The chunk a vector id belongs to.</summary>
    public long ChunkOfVector(long vectorId) => _manifest.WindowTokens is null ? vectorId : vectorId >> WindowIdBits;

    /// <summary>Every vector id a chunk may have.</summary>
    public IEnumerable<long> VectorsOfChunk(long chunkId)
    {
        if (_manifest.WindowTokens is null)
        {
            yield return chunkId;
            yield break;
        }
        for (var w = 0; w < 1 << WindowIdBits; w++)
        {
            yield return VectorId(chunkId, w);
        }
    }

    private long VectorId(long chunkId, int window) => _manifest.WindowTokens is null ? chunkId : (chunkId << WindowIdBits) | (uint)window;

    // What is embedded for one chunk: the chunk whole, or on a windowed index overlapping windows of it that fit the
    // model with the title in front (at most 2^WindowIdBits; a longer chunk's tail is left to BM25).
    private List<string> Windows(string chunkText, string title)
    {
        if (_manifest.WindowTokens is not { } windowTokens)
        {
            return [chunkText];
        }
        var titleTokens = title.Length == 0 ? 0 : TokenCounter.CountTokens(title) + 1;
        var max = Math.Max(windowTokens - titleTokens, 8);
        var windows = new TextChunker(TokenCounter, new ChunkingOptions(max, max / 8)).Chunk(chunkText);
        var result = new List<string>(Math.Min(windows.Count, 1 << WindowIdBits));
        foreach (var w in windows)
        {
            if (result.Count == 1 << WindowIdBits)
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

    // The title as it is embedded with every chunk (or window): at most a quarter of its budget (whole words).
    private string EmbeddingTitle(string title)
    {
        if (title.Length == 0)
        {
            return title;
        }
        var budget = (_manifest.WindowTokens ?? _chunking.MaxTokens) / 4;
        if (TokenCounter.CountTokens(title) < budget)
        {
            return title;
        }
        var words = title.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var n = words.Length;
        while (n > 1 && TokenCounter.CountTokens(string.Join(' ', words, 0, n)) >= budget)
        {
            n--;
        }
        return string.Join(' ', words, 0, n);
    }

    /// <summary>Removes a document from every store; false when it was not there.</summary>
    public bool Delete(string documentId)
    {
        EnsureWritable();
        if (Metadata.GetDocument(documentId) is null)
        {
            return false;
        }
        Lexical.DeleteDocument(documentId);
        foreach (var id in Metadata.Delete(documentId))
        {
            MarkVectorsDeleted(id);
            _pendingRemovedChunks.Add(id);
        }
        return true;
    }

    private void MarkVectorsDeleted(long chunkId)
    {
        if (_vectors is null)
        {
            return;
        }
        foreach (var v in VectorsOfChunk(chunkId))
        {
            _vectors.MarkDeleted(v);
        }
    }

    /// <summary>
    /// Makes <paramref name="fusion"/> the default of hybrid queries on this index (e.g. a setting tuned on labelled
    /// queries); it is recorded in the manifest at the next <see cref="Commit"/>.
    /// </summary>
    public void SetDefaultFusion(FusionOptions fusion)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        EnsureWritable();
        if (_manifest.Model is null)
        {
            throw new InvalidSettingException("fusion", $"index {Directory} is lexical only; fusion applies to indexes with an embedding model.");
        }
        fusion.Validate();
        _manifest = _manifest with { Fusion = fusion };
    }

    /// <summary>Starts a write batch; everything up to <see cref="Commit"/> becomes visible at once.</summary>
    public void BeginBatch()
    {
        EnsureWritable();
        Metadata.BeginTransaction();
    }

    /// <summary>
    /// Makes every write since the last commit durable and visible, compacting the vector index first when too much
    /// of it is deleted, then records counts in the manifest.
    /// </summary>
    public void Commit()
    {
        EnsureWritable();
        if (_vectors is not null)
        {
            var stored = _vectors.Count + _vectors.DeletedCount;
            if (stored > 0 && (double)_vectors.DeletedCount / stored > _compactFraction)
            {
                _vectors = _vectors.Compact();
            }
            _vectors.Save(Path.Combine(Directory, VectorFile));
        }
        Lexical.Commit();
        Metadata.Commit();
        lock (_chunkDocsLock)
        {
            if (_chunkDocs is not null)
            {
                foreach (var id in _pendingRemovedChunks)
                {
                    _chunkDocs.Remove(id);
                }
                foreach (var (id, doc) in _pendingChunkDocs)
                {
                    _chunkDocs[id] = doc;
                }
            }
            _pendingRemovedChunks.Clear();
            _pendingChunkDocs.Clear();
        }
        var counts = Metadata.Counts();
        var storedNow = _vectors is null ? 0 : _vectors.Count + _vectors.DeletedCount;
        _manifest = _manifest with
        {
            UpdatedUtc = DateTime.UtcNow,
            Generation = _manifest.Generation + 1,
            Counts = new ManifestCounts(counts.Documents, counts.Chunks, counts.Bytes, _vectors?.Count ?? 0),
            VectorDeletedFraction = storedNow == 0 ? 0 : Math.Round((double)_vectors!.DeletedCount / storedNow, 4),
        };
        _manifest.Write(Directory);
    }

    /// <summary>Statistics for display.</summary>
    public IndexStats Stats()
    {
        var counts = Metadata.Counts();
        return new IndexStats(Directory, counts.Documents, counts.Chunks, counts.Bytes, _manifest.Model?.ModelId, _manifest.CreatedUtc, _manifest.UpdatedUtc, _manifest.FormatVersion);
    }

    private void EnsureWritable()
    {
        if (!_writable)
        {
            throw new InvalidOperationException($"{Directory}: index was opened read-only");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Lexical.Dispose();
        Metadata.Dispose();
    }
}

/// <summary>What <c>semsearch stats</c> shows.</summary>
public sealed record IndexStats(string Directory, long Documents, long Chunks, long Bytes, string? Model, DateTime CreatedUtc, DateTime UpdatedUtc, int FormatVersion);
