// The façade of one index directory. The parts it wires together, each in its own file:
//   Storage/StoreRecovery  opening the stores at the manifest's generation (and a writer's recovery)
//   Storage/IndexStores    the three stores, the commit protocol and its abort path
//   Storage/IndexRepair    rebuilding the derived stores from the metadata (beside Storage/IndexVerifier)
//   Indexing/PassagePolicy what is embedded for a chunk and under which vector ids
//   Search/ChunkDocumentMap the query-side chunk → document map
// Data flows one way: a write embeds the passages the policy names, then hands chunks and vectors to the stores; a
// commit publishes them together.
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
/// and, when the index has an embedding model, <c>vectors.&lt;generation&gt;.hnsw</c> (our HNSW graph). Writes go through <c>Write</c>
/// and <see cref="Delete"/> and become visible together at <see cref="Commit"/> (or vanish at <see cref="Abort"/>).
/// One instance may serve any number of concurrent searches; writes must come from one thread at a time.
/// </summary>
public sealed class SemanticIndex : IDisposable
{
    private readonly bool _writable;
    private IndexWriteLock? _writeLock; // set at open; a new index gets it once its manifest is written
    private readonly double _compactFraction;
    private IndexManifest _manifest;
    private bool _aborted;

    private SemanticIndex(string directory, OpenedStores opened, PassagePolicy passages, ITextEncoder? encoder, bool writable, double compactFraction, IndexWriteLock? writeLock)
    {
        Directory = directory;
        _manifest = opened.Manifest;
        Stores = opened.Stores;
        VectorDamage = opened.VectorDamage;
        Passages = passages;
        Encoder = encoder;
        _writable = writable;
        _compactFraction = compactFraction;
        _writeLock = writeLock;
    }

    /// <summary>The index directory.</summary>
    public string Directory { get; }

    /// <summary>The manifest as of the last commit (or open).</summary>
    public IndexManifest Manifest => _manifest;

    /// <summary>The sentence encoder of this index, or null for a lexical-only index (or one opened without its model).</summary>
    public ITextEncoder? Encoder { get; }

    /// <summary>Why a read-only open has no vectors although the index has a model: its vector file is damaged.</summary>
    public CorruptDataException? VectorDamage { get; }

    /// <summary>What this index embeds for a chunk, and how vector ids map to chunks.</summary>
    public PassagePolicy Passages { get; }

    /// <summary>The lexical layout this build writes (part of evaluation cache keys).</summary>
    public const int LexicalFormat = LexicalIndex.CurrentFormat;

    internal IndexStores Stores { get; }

    internal MetadataStore Metadata => Stores.Metadata;

    internal LexicalIndex Lexical => Stores.Lexical;

    internal IVectorIndex? Vectors => Stores.Vectors;

    /// <summary>Test hook: called at each <see cref="CommitStep"/>; throwing there simulates a crash at that point.</summary>
    internal Action<CommitStep>? CommitHook { get; set; }

    /// <summary>
    /// Opens the index at <paramref name="directory"/> for writing, creating it when absent. A new index records
    /// <paramref name="encoder"/>'s model (null: lexical only); an existing one must be opened with the model it was
    /// built with. <paramref name="writer"/> says who is asking (for other writers' messages) and how long to wait
    /// for another writer to finish (default: fail at once with <see cref="IndexLockedException"/>).
    /// </summary>
    public static SemanticIndex OpenOrCreate(string directory, IndexSettings settings, ITextEncoder? encoder = null, WriterOptions? writer = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        IndexLocation.CheckDirectory(directory);
        System.IO.Directory.CreateDirectory(directory);
        var writeLock = IndexWriteLock.Acquire(directory, writer);
        try
        {
            if (File.Exists(Path.Combine(directory, IndexManifest.FileName)))
            {
                var manifest = IndexManifest.Read(directory);
                StoreRecovery.CheckModel(directory, manifest, encoder);
                return Open(directory, manifest, encoder, writable: true, settings.CompactDeletedFraction, writeLock, repairing: false);
            }
            return Create(directory, settings, encoder, writeLock);
        }
        catch
        {
            writeLock.Dispose();
            throw;
        }
    }

    private static SemanticIndex Create(string directory, IndexSettings settings, ITextEncoder? encoder, IndexWriteLock writeLock)
    {
        var now = DateTime.UtcNow;
        var (chunking, windowTokens) = PassagePolicy.ForNewIndex(settings, encoder);
        var manifest = new IndexManifest
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
        // the stores exist before the manifest does, so a reader never finds a manifest without them
        var created = Open(directory, manifest, encoder, writable: true, settings.CompactDeletedFraction, null, repairing: false);
        try
        {
            manifest.Write(directory);
        }
        catch
        {
            created.Dispose();
            throw;
        }
        created._writeLock = writeLock;
        return created;
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
        ITextEncoder? encoder = null;
        for (var attempt = 0; ; attempt++)
        {
            var manifest = IndexManifest.Read(directory);
            if (encoder is null && manifest.Model is { } info && encoderFor is not null)
            {
                encoder = encoderFor(info);
            }
            if (encoder is not null)
            {
                StoreRecovery.CheckModel(directory, manifest, encoder);
            }
            try
            {
                return Open(directory, manifest, encoder, writable: false, 1.0, null, repairing: false);
            }
            catch (Exception e) when (attempt < 10 && StoreRecovery.IsStale(e) && IndexManifest.Read(directory).Generation != manifest.Generation)
            {
                // A writer committed (and dropped this generation's files) while we opened: take the new manifest.
            }
            catch (Exception e) when (StoreRecovery.IsStale(e))
            {
                // The manifest did not move on, so no writer removed these files: they are missing.
                throw StoreRecovery.MissingFiles(directory, manifest, e);
            }
        }
    }

    /// <summary>Opens the stores for a repair (damaged derived stores start empty); the caller holds the write lock.</summary>
    internal static SemanticIndex OpenForRepair(string directory, IndexManifest manifest, ITextEncoder? encoder, IndexWriteLock writeLock) =>
        Open(directory, manifest, encoder, writable: true, 1.0, writeLock, repairing: true);

    private static SemanticIndex Open(string directory, IndexManifest manifest, ITextEncoder? encoder, bool writable, double compactFraction, IndexWriteLock? writeLock, bool repairing)
    {
        var passages = new PassagePolicy(manifest, encoder?.TokenCounter ?? WhitespaceTokenCounter.Instance);
        var opened = StoreRecovery.Open(directory, manifest, passages, writable, repairing);
        return new SemanticIndex(directory, opened, passages, encoder, writable, compactFraction, writeLock);
    }

    /// <summary>
    /// Rebuilds the derived stores of the index at <paramref name="directory"/> from its metadata (the source of
    /// truth): the lexical index when it is damaged or disagrees with the metadata, the vectors (re-embedded with
    /// <paramref name="encoder"/>, which must be the index's model) likewise; then commits a new generation.
    /// </summary>
    /// <returns>The stores that were rebuilt (empty when nothing needed it).</returns>
    public static IReadOnlyList<string> Repair(string directory, ITextEncoder? encoder, WriterOptions? writer = null) =>
        IndexRepair.Run(directory, encoder, writer);

    /// <summary>The document of each committed chunk in <paramref name="chunkIds"/> (unknown ids are left out).</summary>
    internal Dictionary<long, string> DocumentsOfChunks(IEnumerable<long> chunkIds) => Stores.ChunkDocuments.DocumentsOf(chunkIds);

    /// <summary>The stored version of a document, or null.</summary>
    public DocumentRecord? GetDocument(string id) => Metadata.GetDocument(id);

    /// <summary>Ids of every stored document that came from <paramref name="source"/> (a folder, a channel).</summary>
    public IReadOnlyList<string> DocumentIdsFromSource(string source) => Metadata.DocumentIdsFromSource(source);

    /// <summary>The content hash of every stored document from <paramref name="source"/>, by document id.</summary>
    public IReadOnlyDictionary<string, string> HashesFromSource(string source) => Metadata.HashesFromSource(source);

    /// <summary>Chunks a document for this index (see <see cref="PassagePolicy.Chunk"/>).</summary>
    public IReadOnlyList<TextChunk> Chunk(SourceDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return Passages.Chunk(document.Title, document.Text, document.Path);
    }

    /// <summary>Chunks <paramref name="document"/> and replaces any earlier version of it in every store.</summary>
    /// <returns>The number of chunks written (0 when the text holds no tokens).</returns>
    public int Write(SourceDocument document) => Write([(document, Chunk(document))]);

    /// <summary>Writes several chunked documents; their chunks are embedded in one call so the encoder can batch them.</summary>
    /// <returns>The number of chunks written.</returns>
    public int Write(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents) => Write(documents, CancellationToken.None);

    /// <summary>
    /// As <see cref="Write(IReadOnlyList{ValueTuple{SourceDocument, IReadOnlyList{TextChunk}}})"/>, checking
    /// <paramref name="ct"/> between embedding batches: a cancelled write has changed nothing yet (it throws before
    /// any store is touched).
    /// </summary>
    public int Write(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, CancellationToken ct)
    {
        var embedded = Embed(documents, ct);
        ct.ThrowIfCancellationRequested();
        return Write(documents, embedded);
    }

    /// <summary>
    /// Embeds what <see cref="Write(IReadOnlyList{ValueTuple{SourceDocument, IReadOnlyList{TextChunk}}}, EmbeddedPassages?)"/>
    /// stores for <paramref name="documents"/>, touching no store, so it may run on another thread beside a write of
    /// other documents (<see cref="BatchedIndexWriter"/> overlaps the two). Null when the index has no model or the
    /// documents have no chunks.
    /// </summary>
    public EmbeddedPassages? Embed(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        EnsureWritable();
        if (Encoder is null)
        {
            return null;
        }
        // the texts do not depend on chunk ids; the ids are given when the vectors are stored
        var passages = Passages.ForDocuments(documents, firstChunkId: 0);
        return passages.Texts.Count == 0 ? null : new EmbeddedPassages(documents, Encoder.Info, passages.Embed(Encoder, ct));
    }

    /// <summary>
    /// Writes <paramref name="documents"/> with the vectors <see cref="Embed"/> computed for exactly this list (the same
    /// instance, unchanged since).
    /// </summary>
    /// <returns>The number of chunks written.</returns>
    /// <exception cref="ArgumentException">The vectors were embedded for other documents, or by another model.</exception>
    public int Write(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, EmbeddedPassages? embedded)
    {
        ArgumentNullException.ThrowIfNull(documents);
        EnsureWritable();
        var firstChunkId = Metadata.NextChunkId;
        var passages = Encoder is null ? null : Passages.ForDocuments(documents, firstChunkId);
        var expected = passages?.Texts.Count ?? 0;
        if (embedded is null ? expected > 0 : !ReferenceEquals(embedded.Documents, documents) || embedded.Model != Encoder?.Info
            || embedded.Vectors.Length != (long)expected * embedded.Model.Dimensions)
        {
            throw new ArgumentException($"index {Directory}: the vectors given were not embedded for these documents by this index's model", nameof(embedded));
        }
        Stores.Write(documents, firstChunkId);
        if (embedded is not null)
        {
            Stores.AddVectors(passages!.VectorIds, embedded.Vectors);
        }
        return documents.Sum(d => d.Chunks.Count);
    }

    /// <summary>Removes a document from every store; false when it was not there.</summary>
    public bool Delete(string documentId)
    {
        EnsureWritable();
        return Stores.Delete(documentId);
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
        Stores.BeginBatch();
    }

    /// <summary>
    /// Makes every write since the last commit durable and visible, compacting the vector index first when too much
    /// of it is deleted, then records counts in the manifest (the steps are written out in <see cref="IndexStores"/>).
    /// </summary>
    public void Commit()
    {
        EnsureWritable();
        _writeLock?.EnsureHeld(); // I5: a writer whose lock file was deleted or replaced must not publish
        _manifest = Stores.Commit(_manifest, _compactFraction, CommitHook);
    }

    /// <summary>
    /// Discards every write since the last commit in all three stores; the index on disk stays at its last commit.
    /// The instance takes no more writes afterwards (reopen the index to go on). Never throws, so the error that led
    /// here is the one reported.
    /// </summary>
    public void Abort()
    {
        if (!_writable || _aborted)
        {
            return;
        }
        _aborted = true;
        Stores.Abort(_manifest);
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
        if (_aborted)
        {
            throw new InvalidOperationException($"{Directory}: a write batch of this instance was aborted; reopen the index to write again");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stores.Dispose();
        _writeLock?.Dispose();
    }
}

/// <summary>What <c>semsearch stats</c> shows.</summary>
public sealed record IndexStats(string Directory, long Documents, long Chunks, long Bytes, string? Model, DateTime CreatedUtc, DateTime UpdatedUtc, int FormatVersion);
