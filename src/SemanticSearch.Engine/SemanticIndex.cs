// The façade of one index directory. The parts it wires together, each in its own file:
//   Storage/StoreRecovery  opening the stores at the manifest's generation (and a writer's recovery)
//   Storage/IndexStores    the three stores, the commit protocol and its abort path
//   Storage/IndexRepair    rebuilding the derived stores from the metadata (beside Storage/IndexVerifier)
//   Indexing/PassagePolicy what is embedded for a chunk and under which vector ids
//   Search/ChunkDocumentMap the query-side chunk → document map
// Data flows one way: a write embeds the passages the policy names, then hands chunks and vectors to the stores; a
// commit publishes them together.
using System.Diagnostics;
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

    private SemanticIndex(string directory, OpenedStores opened, PassagePolicy passages, bool writable, double compactFraction, IndexWriteLock? writeLock)
    {
        Directory = directory;
        _manifest = opened.Manifest;
        Stores = opened.Stores;
        VectorDamage = opened.VectorDamage;
        Passages = passages;
        _writable = writable;
        _compactFraction = compactFraction;
        _writeLock = writeLock;
    }

    /// <summary>The index directory.</summary>
    public string Directory { get; }

    /// <summary>The manifest as of the last commit (or open).</summary>
    public IndexManifest Manifest => _manifest;

    /// <summary>
    /// The sentence encoder of the index's first vector space (whose tokenizer cuts the chunks), or null for a
    /// lexical-only index (or one opened without that model).
    /// </summary>
    public ITextEncoder? Encoder => Stores.Spaces.Count > 0 ? Stores.Spaces[0].Encoder : null;

    /// <summary>Why a read-only open has no vectors in a space although the index has its model: its vector file is damaged (the first such space).</summary>
    public CorruptDataException? VectorDamage { get; }

    /// <summary>How this index chunks documents, and what its first space embeds for a chunk (each space's own policy is its <c>SpaceStore.Policy</c>).</summary>
    public PassagePolicy Passages { get; }

    /// <summary>The lexical layout this build writes (part of evaluation cache keys).</summary>
    public const int LexicalFormat = LexicalIndex.CurrentFormat;

    internal IndexStores Stores { get; }

    internal MetadataStore Metadata => Stores.Metadata;

    internal LexicalIndex Lexical => Stores.Lexical;

    internal IVectorIndex? Vectors => Stores.Vectors;

    internal IReadOnlyList<SpaceStore> Spaces => Stores.Spaces;

    /// <summary>
    /// Why a vector space of this open index cannot be searched — its vector file is damaged, or its model was not
    /// loaded —, naming the space; null when every space can (a lexical-only index always can). Readiness probes ask.
    /// </summary>
    public string? UnsearchableSpace()
    {
        foreach (var space in Spaces)
        {
            if (space.Damage is { } damage)
            {
                return $"vector space '{space.Name}' is damaged: {damage.Message}";
            }
            if (space.Vectors is null || space.Encoder is null)
            {
                return $"vector space '{space.Name}': its model {space.Manifest.Model.ModelId} is not loaded.";
            }
        }
        return null;
    }

    /// <summary>Test hook: called at each <see cref="CommitStep"/>; throwing there simulates a crash at that point.</summary>
    internal Action<CommitStep>? CommitHook { get; set; }

    /// <summary>
    /// Opens the index at <paramref name="directory"/> for writing, creating it when absent. A new index records
    /// <paramref name="encoder"/>'s model (null: lexical only); an existing one must be opened with the model it was
    /// built with. <paramref name="writer"/> says who is asking (for other writers' messages) and how long to wait
    /// for another writer to finish (default: fail at once with <see cref="IndexLockedException"/>).
    /// </summary>
    public static SemanticIndex OpenOrCreate(string directory, IndexSettings settings, ITextEncoder? encoder = null, WriterOptions? writer = null) =>
        OpenOrCreate(directory, settings, encoder is null ? [] : [encoder], writer);

    /// <summary>
    /// Opens the index at <paramref name="directory"/> for writing, creating it when absent with one vector space per
    /// encoder in <paramref name="encoders"/> (none: lexical only; the first one's tokenizer cuts the chunks). An
    /// existing index must be given exactly the models of its spaces, in any order.
    /// </summary>
    public static SemanticIndex OpenOrCreate(string directory, IndexSettings settings, IReadOnlyList<ITextEncoder> encoders, WriterOptions? writer = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(encoders);
        settings.Validate();
        if (encoders.GroupBy(e => e.Info.ModelId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidSettingException("model", $"{twice.Key} is given {twice.Count()} times; an index has one vector space per model.");
        }
        IndexLocation.CheckDirectory(directory);
        System.IO.Directory.CreateDirectory(directory);
        var writeLock = IndexWriteLock.Acquire(directory, writer);
        try
        {
            if (File.Exists(Path.Combine(directory, IndexManifest.FileName)))
            {
                var manifest = IndexManifest.Read(directory);
                var matched = StoreRecovery.MatchEncoders(directory, manifest, encoders, everySpace: true);
                return Open(directory, manifest, matched, writable: true, settings.CompactDeletedFraction, writeLock, repairing: false);
            }
            return Create(directory, settings, encoders, writeLock);
        }
        catch
        {
            writeLock.Dispose();
            throw;
        }
    }

    private static SemanticIndex Create(string directory, IndexSettings settings, IReadOnlyList<ITextEncoder> encoders, IndexWriteLock writeLock)
    {
        var now = DateTime.UtcNow;
        var first = encoders.Count > 0 ? encoders[0] : null;
        var (chunking, windowTokens) = PassagePolicy.ForNewIndex(settings, first);
        var names = SpaceManifest.NamesFor(encoders.Select(e => e.Info.ModelId));
        var spaces = new List<SpaceManifest>(encoders.Count);
        foreach (var encoder in encoders)
        {
            var name = names[spaces.Count];
            spaces.Add(new SpaceManifest
            {
                Name = name,
                Model = encoder.Info,
                Vectors = settings.Vectors,
                WindowTokens = spaces.Count == 0 ? windowTokens : PassagePolicy.WindowsForAddedSpace(chunking, encoder),
                FileStem = spaces.Count == 0 ? SpaceManifest.FirstStem : SpaceManifest.StemFor(name),
            });
        }
        var manifest = new IndexManifest
        {
            CreatedUtc = now,
            UpdatedUtc = now,
            Chunking = chunking,
            TokenCounter = first is null ? "whitespace" : "model",
            Lexical = settings.Lexical,
            Spaces = spaces,
            Fusion = first is null ? null : settings.Fusion ?? FusionDefaults.For(spaces.Select(s => (s.Name, s.Model)).ToList()),
            MaxFileBytes = settings.MaxFileBytes,
        };
        // the stores exist before the manifest does, so a reader never finds a manifest without them
        var created = Open(directory, manifest, [.. encoders], writable: true, settings.CompactDeletedFraction, null, repairing: false);
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
        var loaded = new Dictionary<string, ITextEncoder>(StringComparer.Ordinal); // by model id and revision, across retries
        for (var attempt = 0; ; attempt++)
        {
            var manifest = IndexManifest.Read(directory);
            var encoders = new List<ITextEncoder>();
            if (encoderFor is not null)
            {
                foreach (var space in manifest.Spaces)
                {
                    var key = space.Model.ModelId + "@" + space.Model.Revision;
                    if (!loaded.TryGetValue(key, out var encoder))
                    {
                        loaded[key] = encoder = encoderFor(space.Model);
                    }
                    encoders.Add(encoder);
                }
            }
            var matched = StoreRecovery.MatchEncoders(directory, manifest, encoders, everySpace: false);
            try
            {
                return Open(directory, manifest, matched, writable: false, 1.0, null, repairing: false);
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
    internal static SemanticIndex OpenForRepair(string directory, IndexManifest manifest, ITextEncoder?[] encoders, IndexWriteLock writeLock) =>
        Open(directory, manifest, encoders, writable: true, 1.0, writeLock, repairing: true);

    // encoders: one per space of the manifest, in its order (null: not loaded).
    private static SemanticIndex Open(string directory, IndexManifest manifest, ITextEncoder?[] encoders, bool writable, double compactFraction, IndexWriteLock? writeLock, bool repairing)
    {
        var first = encoders.Length > 0 ? encoders[0] : null;
        var passages = new PassagePolicy(manifest, first?.TokenCounter ?? WhitespaceTokenCounter.Instance);
        var opened = StoreRecovery.Open(directory, manifest, encoders, writable, repairing);
        return new SemanticIndex(directory, opened, passages, writable, compactFraction, writeLock);
    }

    /// <summary>
    /// Rebuilds the derived stores of the index at <paramref name="directory"/> from its metadata (the source of
    /// truth): the lexical index when it is damaged or disagrees with the metadata, the vectors (re-embedded with
    /// <paramref name="encoder"/>, which must be the index's model) likewise; then commits a new generation.
    /// </summary>
    /// <returns>The stores that were rebuilt (empty when nothing needed it).</returns>
    public static IReadOnlyList<string> Repair(string directory, ITextEncoder? encoder, WriterOptions? writer = null) =>
        IndexRepair.Run(directory, encoder is null ? Array.Empty<ITextEncoder>() : [encoder], writer);

    /// <summary>As <see cref="Repair(string, ITextEncoder?, WriterOptions?)"/> for an index of several vector spaces: <paramref name="encoders"/> are the models of all of them.</summary>
    public static IReadOnlyList<string> Repair(string directory, IReadOnlyList<ITextEncoder> encoders, WriterOptions? writer = null) =>
        IndexRepair.Run(directory, encoders, writer);

    /// <summary>The document of each committed chunk in <paramref name="chunkIds"/> (unknown ids are left out).</summary>
    internal Dictionary<long, string> DocumentsOfChunks(IEnumerable<long> chunkIds) => Stores.ChunkDocuments.DocumentsOf(chunkIds);

    /// <summary>The stored version of a document, or null.</summary>
    public DocumentRecord? GetDocument(string id) => Metadata.GetDocument(id);

    /// <summary>The stored chunks of <paramref name="document"/>, in document order.</summary>
    public IReadOnlyList<ChunkRecord> GetChunks(DocumentRecord document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var chunks = Metadata.GetChunks(document.ChunkIds);
        return document.ChunkIds.Where(chunks.ContainsKey).Select(id => chunks[id]).ToList();
    }

    /// <summary>Ids of every stored document that came from <paramref name="source"/> (a folder, a channel).</summary>
    public IReadOnlyList<string> DocumentIdsFromSource(string source) => Metadata.DocumentIdsFromSource(source);

    /// <summary>The content hash of every stored document from <paramref name="source"/>, by document id.</summary>
    public IReadOnlyDictionary<string, string> HashesFromSource(string source) => Metadata.HashesFromSource(source);

    /// <summary>Every source of the index's documents (recorded folders, API uploads, …), in name order, with their totals.</summary>
    public IReadOnlyList<SourceInfo> Sources() => IndexSources.List(Metadata);

    /// <summary>The source folder <paramref name="root"/> is indexed as (see <see cref="IndexSources"/>): recorded, or new and not yet written.</summary>
    internal SourceRecord FolderSource(string root, string? name) => IndexSources.ForFolder(Metadata, Directory, root, name);

    /// <summary>Records <paramref name="source"/> in the current write batch (it becomes visible at <see cref="Commit"/>).</summary>
    internal void RecordSource(SourceRecord source)
    {
        EnsureWritable();
        Metadata.PutSource(source);
    }

    /// <summary>
    /// Removes the source named <paramref name="name"/> (see <see cref="Sources"/>) and every document of it from every
    /// store, in one commit; the documents of other sources are not touched.
    /// </summary>
    /// <returns>The source as it was before the removal.</returns>
    /// <exception cref="NotFoundException">The index has no source of that name.</exception>
    public SourceInfo RemoveSource(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        EnsureWritable();
        var sources = Sources();
        var source = sources.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new NotFoundException($"index {Directory} has no source '{name}' (its sources: {(sources.Count == 0 ? "none" : string.Join(", ", sources.Select(s => s.Name)))})");
        try
        {
            BeginBatch();
            foreach (var id in DocumentIdsFromSource(source.Key))
            {
                Stores.Delete(id);
            }
            Metadata.RemoveSource(source.Name);
            Commit();
        }
        catch
        {
            Abort();
            throw;
        }
        if (source.Path is { } folder)
        {
            SkipLedger.Forget(Directory, folder); // indexed again later, its skipped files are new ones
        }
        return source;
    }

    /// <summary>Chunks a document for this index (see <see cref="PassagePolicy.Chunk"/>).</summary>
    public IReadOnlyList<TextChunk> Chunk(SourceDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        using var activity = EngineTelemetry.Source.StartActivity("index.chunk");
        var chunks = Passages.Chunk(document.Title, document.Text, document.Path);
        activity?.SetTag("chunks", chunks.Count);
        return chunks;
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
    public EmbeddedPassages? Embed(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, CancellationToken ct = default) =>
        EmbedReporting(documents, null, ct);

    /// <summary>
    /// As <see cref="Embed(IReadOnlyList{ValueTuple{SourceDocument, IReadOnlyList{TextChunk}}}, CancellationToken)"/>,
    /// calling <paramref name="progress"/> with the share (0–1] of the passages of every space embedded so far, slice by
    /// slice, so that the progress of one large document is seen while it is embedded.
    /// </summary>
    public EmbeddedPassages? EmbedReporting(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, Action<double>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(documents);
        EnsureWritable();
        if (Spaces.Count == 0 || documents.All(d => d.Chunks.Count == 0))
        {
            return null;
        }
        using var activity = EngineTelemetry.Source.StartActivity("index.embed");
        // the texts do not depend on chunk ids; the ids are given when the vectors are stored
        var batches = Spaces.Select(s => s.Policy.ForDocuments(documents, firstChunkId: 0)).ToList();
        var total = Math.Max(1, batches.Sum(b => b.Texts.Count));
        var before = 0;
        var vectors = new float[Spaces.Count][];
        var tokens = 0L;
        foreach (var (_, chunks) in documents)
        {
            foreach (var c in chunks)
            {
                tokens += c.TokenCount;
            }
        }
        activity?.SetTag(EngineTelemetry.IndexTag, IndexTag);
        activity?.SetTag("documents", documents.Count);
        activity?.SetTag("tokens", tokens);
        for (var i = 0; i < Spaces.Count; i++)
        {
            var done = before;
            var clock = Stopwatch.StartNew();
            vectors[i] = batches[i].Embed(Spaces[i].Encoder!, progress is null ? null : n => progress((double)(done + n) / total), ct);
            before += batches[i].Texts.Count;
            ObserveEmbedding(Spaces[i].Name, tokens, clock.Elapsed);
        }
        return new EmbeddedPassages(documents, [.. Spaces.Select(s => s.Manifest.Model)], vectors);
    }

    // Tokens embedded by one space for one batch: the counter (whose rate is tokens/s) and the batch's throughput.
    private void ObserveEmbedding(string space, long tokens, TimeSpan took)
    {
        var index = new KeyValuePair<string, object?>(EngineTelemetry.IndexTag, IndexTag);
        var spaceTag = new KeyValuePair<string, object?>(EngineTelemetry.SpaceTag, space);
        EngineTelemetry.EmbeddedTokens.Add(tokens, index, spaceTag);
        if (took > TimeSpan.Zero && EngineTelemetry.EmbedThroughput.Enabled)
        {
            EngineTelemetry.EmbedThroughput.Record(tokens / took.TotalSeconds, index, spaceTag);
        }
    }

    // The index tag of this index's metrics and spans (its directory name), computed once.
    private string IndexTag => _indexTag ??= EngineTelemetry.IndexName(Directory);

    private string? _indexTag;

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
        var passages = Spaces.Select(s => s.Policy.ForDocuments(documents, firstChunkId)).ToList();
        var anyPassage = passages.Any(p => p.Texts.Count > 0);
        if (embedded is null ? anyPassage : !ReferenceEquals(embedded.Documents, documents) || !Matches(embedded, passages))
        {
            throw new ArgumentException($"index {Directory}: the vectors given were not embedded for these documents by this index's models", nameof(embedded));
        }
        using var activity = EngineTelemetry.Source.StartActivity("index.write");
        // The graph insertion (parallel) and the metadata and BM25 writes (one thread) touch disjoint state — the new
        // chunks' vector ids are new, the graph is thread-safe — so they run side by side: a batch of given vectors
        // costs the longer of the two, not their sum.
        var vectors = embedded is null ? null : Task.Run(() =>
        {
            for (var i = 0; i < Spaces.Count; i++)
            {
                IndexStores.AddVectors(Spaces[i], passages[i].VectorIds, embedded.Vectors[i]);
            }
        });
        try
        {
            Stores.Write(documents, firstChunkId);
        }
        finally
        {
            // never return while the insertion runs; the graph's own error (a bad vector) when it failed, else the stores'
            vectors?.GetAwaiter().GetResult();
        }
        var chunks = documents.Sum(d => d.Chunks.Count);
        activity?.SetTag(EngineTelemetry.IndexTag, IndexTag);
        activity?.SetTag("documents", documents.Count);
        activity?.SetTag("chunks", chunks);
        var index = new KeyValuePair<string, object?>(EngineTelemetry.IndexTag, IndexTag);
        EngineTelemetry.IndexedDocuments.Add(documents.Count, index);
        EngineTelemetry.IndexedChunks.Add(chunks, index);
        return chunks;
    }

    /// <summary>
    /// Writes <paramref name="documents"/> with a vector given for each (<paramref name="vectors"/>[i] for document i)
    /// instead of embedding their text: every passage of a document is stored under its document's vector (normalised
    /// here). For an index of one vector space, whose dimension each vector must have; a VectorData record brings its
    /// own embedding this way.
    /// </summary>
    /// <returns>The number of chunks written.</returns>
    /// <exception cref="InvalidSettingException">The index does not have exactly one space, or a vector (named <c>vector</c> with its document) is the wrong size, all zeros or not finite.</exception>
    public int WriteWithVectors(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(vectors);
        EnsureWritable();
        if (Spaces.Count != 1)
        {
            throw new InvalidSettingException("vector", $"index {Directory} has {Spaces.Count} vector spaces; given vectors need an index of exactly one.");
        }
        if (vectors.Count != documents.Count)
        {
            throw new ArgumentException($"{vectors.Count} vectors for {documents.Count} documents", nameof(vectors));
        }
        var model = Spaces[0].Manifest.Model;
        var dims = model.Dimensions;
        var policy = Spaces[0].Policy;
        var rows = new List<float[]>();
        for (var i = 0; i < documents.Count; i++)
        {
            var given = vectors[i];
            var id = documents[i].Document.Id;
            if (given.Length != dims)
            {
                throw new InvalidSettingException("vector", $"document {id}: has {given.Length} dimensions; the index's space ({model.ModelId}) has {dims}.");
            }
            var v = GivenVector.Normalised(given.Span, $"document {id}: ");
            var passages = policy.ForDocuments([documents[i]], firstChunkId: 0).Texts.Count;
            for (var p = 0; p < passages; p++)
            {
                rows.Add(v);
            }
        }
        var block = new float[rows.Count * dims];
        for (var r = 0; r < rows.Count; r++)
        {
            rows[r].CopyTo(block.AsSpan(r * dims, dims));
        }
        var embedded = rows.Count == 0 ? null : new EmbeddedPassages(documents, [model], [block]);
        return Write(documents, embedded);
    }

    /// <summary>
    /// Ids of every committed document that meets <paramref name="filter"/> (null: all of them), in ordinal order; lists
    /// documents by their metadata without a query.
    /// </summary>
    public IReadOnlyList<string> DocumentIdsMatching(SearchFilter? filter) => Lexical.MatchingDocumentIds(Searcher.ToLexical(filter));

    // The vectors are one block per space, in the spaces' order, each from that space's model, one row per passage.
    private bool Matches(EmbeddedPassages embedded, List<PassageBatch> passages)
    {
        if (embedded.Models.Count != Spaces.Count)
        {
            return false;
        }
        for (var i = 0; i < Spaces.Count; i++)
        {
            var model = Spaces[i].Manifest.Model;
            if (embedded.Models[i] != model || embedded.Vectors[i].Length != (long)passages[i].Texts.Count * model.Dimensions)
            {
                return false;
            }
        }
        return true;
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
        _manifest.CheckSpaceWeights(fusion);
        _manifest = _manifest with { Fusion = fusion };
    }

    /// <summary>
    /// Adds a vector space of <paramref name="encoder"/>'s model, named <paramref name="name"/> (default: the model id),
    /// embeds every chunk of the index into it (reporting progress) and commits: the other spaces, BM25 and the
    /// metadata are not touched, and readers see the space from that commit on. A failure or cancellation leaves the
    /// index as it was (the instance then takes no more writes). The default fusion moves to the default of the new
    /// set of spaces unless it was set on purpose (tuned), which is kept.
    /// </summary>
    /// <returns>The space as the manifest now records it.</returns>
    public SpaceManifest AddSpace(ITextEncoder encoder, string? name = null, IProgress<SpaceProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        EnsureWritable();
        if (_manifest.Spaces.Count == 0)
        {
            throw new InvalidSettingException("model", $"index {Directory} is lexical only: its chunks were cut by whitespace words, not by a model's tokenizer. Index the sources into a new index with --model {encoder.Info.ModelId}.");
        }
        if (_manifest.Spaces.FirstOrDefault(s => s.Model.ModelId == encoder.Info.ModelId) is { } same)
        {
            throw new InvalidSettingException("model", $"index {Directory} already has a vector space of {encoder.Info.ModelId} ('{same.Name}').");
        }
        if (name is not null && (!SpaceManifest.IsValidName(name) || _manifest.Space(name) is not null))
        {
            throw new InvalidSettingException("name", _manifest.Space(name) is not null
                ? $"index {Directory} already has a space named '{name}'."
                : $"'{name}' cannot name a space: use a letter, then letters, digits, '.', '_' or '-' (at most {SpaceManifest.MaxNameLength}).");
        }
        var spaceName = name ?? SpaceManifest.NameFor(encoder.Info.ModelId, _manifest.Spaces.Select(s => s.Name));
        var manifest = new SpaceManifest
        {
            Name = spaceName,
            Model = encoder.Info,
            Vectors = _manifest.Vectors ?? new VectorIndex.HnswParameters(),
            WindowTokens = PassagePolicy.WindowsForAddedSpace(_manifest.Chunking, encoder),
            FileStem = SpaceManifest.StemFor(spaceName),
        };
        var space = new SpaceStore(manifest, new PassagePolicy(_manifest, manifest, encoder.TokenCounter), null, encoder, null);
        space.Vectors = space.NewGraph();
        var before = SpaceList();
        Stores.AddSpace(space);
        try
        {
            BeginBatch();
            SpaceFill.Run(Stores, space, progress, ct);
            ct.ThrowIfCancellationRequested();
            KeepFusionDefault(before);
            Commit();
        }
        catch
        {
            Abort();
            throw;
        }
        return _manifest.Space(spaceName)!;
    }

    /// <summary>
    /// Removes the vector space named <paramref name="name"/> and commits; its files are deleted once the manifest
    /// without it is published. The first space (whose tokenizer cut the chunks) cannot be removed.
    /// </summary>
    public void RemoveSpace(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        EnsureWritable();
        var space = Spaces.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new NotFoundException($"index {Directory} has no vector space '{name}' (its spaces: {string.Join(", ", _manifest.Spaces.Select(s => s.Name))})");
        if (ReferenceEquals(space, Spaces[0]))
        {
            throw new InvalidSettingException("space", $"'{space.Name}' is the first space of index {Directory}: its model's tokenizer cut the chunks, so it stays as long as the index does.");
        }
        var before = SpaceList();
        Stores.RemoveSpace(space);
        try
        {
            BeginBatch();
            KeepFusionDefault(before);
            if (_manifest.Fusion?.SpaceWeights is { } weights && weights.Keys.Any(k => string.Equals(k, space.Name, StringComparison.OrdinalIgnoreCase)))
            {
                _manifest = _manifest with { Fusion = _manifest.Fusion with { SpaceWeights = weights.Where(w => !string.Equals(w.Key, space.Name, StringComparison.OrdinalIgnoreCase)).ToDictionary() } };
            }
            Commit();
        }
        catch
        {
            Abort();
            throw;
        }
    }

    private List<(string Name, EncoderInfo Model)> SpaceList() => Spaces.Select(s => (s.Name, s.Manifest.Model)).ToList();

    // A fusion that is the default of the spaces before a change follows the spaces; one set on purpose stays.
    private void KeepFusionDefault(List<(string Name, EncoderInfo Model)> before)
    {
        if (_manifest.Fusion is null || _manifest.Fusion == FusionDefaults.For(before))
        {
            _manifest = _manifest with { Fusion = FusionDefaults.For(SpaceList()) };
        }
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
        using var activity = EngineTelemetry.Source.StartActivity("index.commit");
        var clock = Stopwatch.StartNew();
        _manifest = Stores.Commit(_manifest, _compactFraction, CommitHook);
        activity?.SetTag(EngineTelemetry.IndexTag, IndexTag);
        activity?.SetTag("generation", _manifest.Generation);
        EngineTelemetry.CommitDuration.Record(clock.Elapsed.TotalMilliseconds, new KeyValuePair<string, object?>(EngineTelemetry.IndexTag, IndexTag));
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
        var spaces = _manifest.Spaces.Select(s => new SpaceStats(s.Name, s.Model.ModelId, s.Model.Revision, s.Model.Dimensions, s.WindowTokens, s.VectorCount, s.DeletedFraction,
            s.VectorFile is { } f && File.Exists(Path.Combine(Directory, f)) ? new FileInfo(Path.Combine(Directory, f)).Length : 0)).ToList();
        return new IndexStats(Directory, counts.Documents, counts.Chunks, counts.Bytes, _manifest.Model?.ModelId, _manifest.CreatedUtc, _manifest.UpdatedUtc, _manifest.FormatVersion, spaces)
        {
            Sources = Sources(),
        };
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
/// <param name="Directory">The index directory.</param>
/// <param name="Documents">Documents stored.</param>
/// <param name="Chunks">Chunks stored.</param>
/// <param name="Bytes">Source bytes of the documents.</param>
/// <param name="Model">The first space's model id (null: lexical only).</param>
/// <param name="CreatedUtc">When the index was created.</param>
/// <param name="UpdatedUtc">Its last commit.</param>
/// <param name="FormatVersion">The manifest format it was read in.</param>
/// <param name="Spaces">Every vector space, in the manifest's order.</param>
public sealed record IndexStats(string Directory, long Documents, long Chunks, long Bytes, string? Model, DateTime CreatedUtc, DateTime UpdatedUtc, int FormatVersion, IReadOnlyList<SpaceStats> Spaces)
{
    /// <summary>Every source of the index's documents, in name order (see <see cref="SemanticIndex.Sources"/>).</summary>
    public IReadOnlyList<SourceInfo> Sources { get; init; } = [];
}

/// <summary>One vector space in <see cref="IndexStats"/>.</summary>
/// <param name="Name">The space's name.</param>
/// <param name="Model">Its model id.</param>
/// <param name="Revision">The model revision (with its precision).</param>
/// <param name="Dimensions">Vector dimensions.</param>
/// <param name="WindowTokens">Window size when chunks are embedded as windows.</param>
/// <param name="Vectors">Live vectors at the last commit.</param>
/// <param name="DeletedFraction">Share of graph nodes marked deleted.</param>
/// <param name="FileBytes">Size of the space's vector file.</param>
public sealed record SpaceStats(string Name, string Model, string Revision, int Dimensions, int? WindowTokens, long Vectors, double DeletedFraction, long FileBytes);
