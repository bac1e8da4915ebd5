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
/// and <see cref="Delete"/> and become visible together at <see cref="Commit"/>. One instance may serve any number of
/// concurrent searches; writes must come from one thread at a time.
/// </summary>
public sealed class SemanticIndex : IDisposable
{
    private const string MetadataFile = "metadata.db";
    private const string LexicalDirectory = "lexical";
    private const string LegacyVectorFile = "vectors.hnsw";

    private readonly bool _writable;
    private IndexWriteLock? _writeLock; // set at open; a new index gets it once its manifest is written
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

    private SemanticIndex(string directory, IndexManifest manifest, MetadataStore metadata, LexicalIndex lexical, ITextEncoder? encoder, IVectorIndex? vectors, bool writable, double compactFraction, IndexWriteLock? writeLock)
    {
        _writeLock = writeLock;
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

    /// <summary>The chunk vectors, or null for a lexical-only index (or a reader whose vector file is damaged).</summary>
    public IVectorIndex? Vectors => _vectors;

    /// <summary>Why a read-only open has no vectors although the index has a model: its vector file is damaged.</summary>
    public CorruptDataException? VectorDamage { get; private init; }

    private static string WithoutPath(string message, string path) =>
        message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;

    /// <summary>Cuts documents into chunks as the manifest says (without a title budget).</summary>
    public IChunker Chunker { get; }

    private ITokenCounter TokenCounter => Encoder?.TokenCounter ?? WhitespaceTokenCounter.Instance;

    /// <summary>
    /// Opens the index at <paramref name="directory"/> for writing, creating it when absent. A new index records
    /// <paramref name="encoder"/>'s model (null: lexical only); an existing one must be opened with the model it was
    /// built with. <paramref name="writer"/> says who is asking (for other writers' messages) and how long to wait
    /// for another writer to finish (default: fail at once with <see cref="IndexLockedException"/>).
    /// </summary>
    public static SemanticIndex OpenOrCreate(string directory, IndexSettings settings, ITextEncoder? encoder = null, WriterOptions? writer = null)
    {
        settings.Validate();
        IndexLocation.CheckDirectory(directory);
        System.IO.Directory.CreateDirectory(directory);
        var writeLock = IndexWriteLock.Acquire(directory, writer);
        try
        {
            return OpenOrCreateLocked(directory, settings, encoder, writeLock);
        }
        catch
        {
            writeLock.Dispose();
            throw;
        }
    }

    private static SemanticIndex OpenOrCreateLocked(string directory, IndexSettings settings, ITextEncoder? encoder, IndexWriteLock writeLock)
    {
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
                    // A short-context model (one that reads 128 tokens): chunks keep the configured size, counted
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
        return Open(directory, manifest, encoder, writable: true, settings.CompactDeletedFraction, writeLock, repairing: false);
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
                CheckModel(directory, manifest, encoder);
            }
            try
            {
                return Open(directory, manifest, encoder, writable: false, 1.0, null, repairing: false);
            }
            catch (Exception e) when (attempt < 10 && IsStale(e) && IndexManifest.Read(directory).Generation != manifest.Generation)
            {
                // A writer committed (and dropped this generation's files) while we opened: take the new manifest.
            }
            catch (Exception e) when (IsStale(e))
            {
                // The manifest did not move on, so no writer removed these files: they are missing.
                throw MissingFiles(directory, manifest, e);
            }
        }
    }

    private static bool IsStale(Exception e) => e is StaleGenerationException || e is NotFoundException || e is FileNotFoundException;

    private static CorruptDataException MissingFiles(string directory, IndexManifest manifest, Exception e)
    {
        var repair = $"run 'semsearch repair --index {directory}' to rebuild it from the metadata";
        if (e is StaleGenerationException)
        {
            var lexical = Path.Combine(directory, LexicalDirectory);
            return new CorruptDataException(lexical, $"the lexical store is damaged: files of its commit of generation {manifest.Generation} are missing; {repair}", e);
        }
        var file = e is FileNotFoundException f && f.FileName is { } name ? name : Path.Combine(directory, manifest.VectorFile ?? LegacyVectorFile);
        var store = Path.GetFileName(file).StartsWith("vectors", StringComparison.Ordinal) ? "vector" : "index";
        return new CorruptDataException(file, $"the {store} file of generation {manifest.Generation} is missing; {repair}", e);
    }

    /// <summary>The vector file name of generation <paramref name="generation"/>.</summary>
    internal static string VectorFileName(long generation) => $"vectors.{generation.ToString(System.Globalization.CultureInfo.InvariantCulture)}.hnsw";

    /// <summary>The generation in a vector file name, or null when the name is not one.</summary>
    internal static long? VectorFileGeneration(string fileName)
    {
        if (!fileName.StartsWith("vectors.", StringComparison.Ordinal) || !fileName.EndsWith(".hnsw", StringComparison.Ordinal))
        {
            return null;
        }
        var middle = fileName["vectors.".Length..^".hnsw".Length];
        return middle.Length > 0 && long.TryParse(middle, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : null;
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

    // Opens the stores at the manifest's generation. A writer first reconciles them (see "Commit protocol" in
    // docs/architecture.md): metadata one generation ahead of the manifest means the last commit reached its decision
    // point (the LiteDB commit) and only the manifest rename was lost, so the manifest is rolled forward; anything else
    // newer than the manifest (a Lucene commit, a vector file) belongs to an interrupted commit and is discarded.
    private static SemanticIndex Open(string directory, IndexManifest manifest, ITextEncoder? encoder, bool writable, double compactFraction, IndexWriteLock? writeLock, bool repairing)
    {
        RequireMetadataFile(directory, manifest);
        var metadata = MetadataStore.Open(Path.Combine(directory, MetadataFile), readOnly: !writable);
        LexicalIndex? lexical = null;
        try
        {
            if (metadata.Generation == 0 && manifest.Counts.Documents > 0 && metadata.Counts().Documents == 0)
            {
                throw MetadataLost(directory, manifest, "holds no documents");
            }
            var generation = manifest.Generation;
            var rollForward = false;
            if (writable)
            {
                var stored = metadata.Generation;
                if (stored == generation + 1)
                {
                    generation = stored;
                    rollForward = true;
                }
                else if (stored > generation + 1 || (stored != 0 && stored < generation))
                {
                    throw new CorruptDataException(Path.Combine(directory, MetadataFile),
                        $"metadata is at generation {stored} but the manifest at {manifest.Generation}; run 'semsearch repair --index {directory}'");
                }
            }
            var lexicalPath = Path.Combine(directory, LexicalDirectory);
            if (repairing && System.IO.Directory.Exists(lexicalPath) && (LexicalIndex.Check(lexicalPath) is not null || !HasLexicalCommit(lexicalPath, generation)))
            {
                // damaged: start it empty (the damaged one kept aside until the rebuild is published); Repair rebuilds
                // it from the metadata
                System.IO.Directory.Move(lexicalPath, lexicalPath + AsideSuffix);
            }
            lexical = writable
                ? LexicalIndex.OpenWritable(lexicalPath, manifest.Lexical, generation)
                : LexicalIndex.OpenReadOnly(lexicalPath, manifest.Lexical, generation);
            IVectorIndex? vectors = null;
            CorruptDataException? vectorDamage = null;
            string? vectorFile = null;
            if (manifest.Model is { } model)
            {
                vectorFile = rollForward ? VectorFileName(generation) : manifest.VectorFile;
                var path = Path.Combine(directory, vectorFile ?? LegacyVectorFile);
                if (repairing)
                {
                    try
                    {
                        vectors = HnswIndex.Open(path);
                    }
                    catch (SemanticSearchException)
                    {
                        vectors = new HnswIndex(model.Dimensions, manifest.Vectors ?? new HnswParameters()); // rebuilt by Repair
                    }
                }
                else if (vectorFile is not null || File.Exists(path))
                {
                    try
                    {
                        vectors = HnswIndex.Open(path); // NotFoundException when a writer has dropped it: a reader retries
                    }
                    catch (CorruptDataException e) when (!writable)
                    {
                        // A reader keeps lexical search: dense and hybrid queries report the damage (VectorDamage).
                        vectorDamage = new CorruptDataException(e.Path,
                            $"the vector file is damaged ({WithoutPath(e.Message, e.Path)}); lexical search still works (--mode lexical); run 'semsearch repair --index {directory}' to rebuild the vectors from the metadata", e);
                    }
                }
                else
                {
                    vectors = new HnswIndex(model.Dimensions, manifest.Vectors ?? new HnswParameters());
                }
                if (vectors is not null && vectors.Dimensions != model.Dimensions)
                {
                    throw new CorruptDataException(path, $"vector index has {vectors.Dimensions} dimensions, the manifest's model {model.Dimensions}");
                }
            }
            if (rollForward)
            {
                manifest = Published(manifest, generation, vectorFile, lexical.CommitNumber, metadata, vectors);
                manifest.Write(directory);
            }
            if (writable)
            {
                DeleteUnusedVectorFiles(directory, generation);
            }
            return new SemanticIndex(directory, manifest, metadata, lexical, encoder, vectors, writable, compactFraction, writeLock) { VectorDamage = vectorDamage };
        }
        catch
        {
            lexical?.Dispose();
            metadata.Dispose();
            throw;
        }
    }

    // The metadata store is the source of truth: nothing can rebuild it, so a missing one is never recreated empty
    // under a manifest that says the index holds documents.
    private static void RequireMetadataFile(string directory, IndexManifest manifest)
    {
        if ((manifest.Counts.Documents > 0 || manifest.Counts.Chunks > 0) && !File.Exists(Path.Combine(directory, MetadataFile)))
        {
            throw MetadataLost(directory, manifest, "is missing");
        }
    }

    private static CorruptDataException MetadataLost(string directory, IndexManifest manifest, string what) =>
        new(Path.Combine(directory, MetadataFile),
            $"the metadata store {what}, but the manifest (generation {manifest.Generation}) records {manifest.Counts.Documents} documents. It is the index's source of truth and cannot be rebuilt from the other stores: restore it from a backup, or index the sources again into a new index.");

    // Repair reads the whole metadata store from a private snapshot before it opens anything for writing: a store
    // that cannot be read, fails its content checksum, or holds fewer documents than the manifest published is
    // reported, and no file is touched.
    private static void CheckMetadataForRepair(string directory, IndexManifest manifest)
    {
        RequireMetadataFile(directory, manifest);
        var path = Path.Combine(directory, MetadataFile);
        if (!File.Exists(path))
        {
            return;
        }
        try
        {
            using var metadata = MetadataStore.Open(path, readOnly: true);
            var counts = metadata.Counts();
            if (metadata.VerifyContent() is { } damage)
            {
                throw new CorruptDataException(path, $"the metadata store is damaged ({damage}); repair rebuilds the other stores from it, so it cannot run: restore metadata.db from a backup, or index the sources again into a new index.");
            }
            if (metadata.Generation <= manifest.Generation && counts.Documents < manifest.Counts.Documents)
            {
                throw MetadataLost(directory, manifest, $"holds {counts.Documents} documents");
            }
        }
        catch (Exception e) when (e is not SemanticSearchException and not OutOfMemoryException)
        {
            throw new CorruptDataException(path, $"the metadata store cannot be read ({e.Message}); repair rebuilds the other stores from it, so it cannot run: restore metadata.db from a backup, or index the sources again into a new index.", e);
        }
        catch (NotFoundException e)
        {
            throw new CorruptDataException(path, e.Message, e);
        }
    }

    private static bool HasLexicalCommit(string path, long generation)
    {
        var gens = System.IO.Directory.Exists(path) ? LexicalIndex.CommitGenerations(path) : [];
        return gens.Count > 0 && (gens.Contains(generation) || gens[^1] is null);
    }

    /// <summary>
    /// Rebuilds the derived stores of the index at <paramref name="directory"/> from its metadata (the source of
    /// truth): the lexical index when it is damaged or disagrees with the metadata, the vectors (re-embedded with
    /// <paramref name="encoder"/>, which must be the index's model) likewise; then commits a new generation.
    /// </summary>
    /// <returns>The stores that were rebuilt (empty when nothing needed it).</returns>
    public static IReadOnlyList<string> Repair(string directory, ITextEncoder? encoder, WriterOptions? writer = null)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new NotFoundException($"index not found: {directory}");
        }
        var writeLock = IndexWriteLock.Acquire(directory, writer);
        var aside = Path.Combine(directory, LexicalDirectory + AsideSuffix);
        var lexicalPath = Path.Combine(directory, LexicalDirectory);
        SemanticIndex? index = null;
        try
        {
            var manifest = IndexManifest.Read(directory);
            CheckModel(directory, manifest, encoder);
            CheckMetadataForRepair(directory, manifest);
            if (System.IO.Directory.Exists(aside))
            {
                System.IO.Directory.Delete(aside, recursive: true); // left by a repair that was killed
            }
            index = Open(directory, manifest, encoder, writable: true, 1.0, writeLock, repairing: true);
            var rebuilt = index.RebuildDerivedStores();
            index.Dispose();
            index = null;
            if (System.IO.Directory.Exists(aside))
            {
                System.IO.Directory.Delete(aside, recursive: true); // the rebuilt store is published
            }
            return rebuilt;
        }
        catch
        {
            if (index is not null)
            {
                index.Dispose(); // rolls back the uncommitted rebuild (I6)
            }
            else
            {
                writeLock.Dispose();
            }
            // put the damaged lexical store back: a failed repair leaves the files as they were
            if (System.IO.Directory.Exists(aside))
            {
                if (System.IO.Directory.Exists(lexicalPath))
                {
                    System.IO.Directory.Delete(lexicalPath, recursive: true);
                }
                System.IO.Directory.Move(aside, lexicalPath);
            }
            throw;
        }
    }

    private const string AsideSuffix = ".before-repair";

    private List<string> RebuildDerivedStores()
    {
        var rebuilt = new List<string>();
        var chunkIds = new HashSet<long>();
        foreach (var c in Metadata.AllChunks())
        {
            chunkIds.Add(c.Id);
        }
        var lexicalIds = Lexical.AllChunkIds();
        var lexicalOk = lexicalIds.Count == chunkIds.Count && chunkIds.SetEquals(lexicalIds)
            && Lexical.Format == LexicalIndex.CurrentFormat && DocumentEntriesAgree();
        var vectorsOk = true;
        if (_vectors is HnswIndex hnsw)
        {
            var live = hnsw.LiveIds();
            var liveChunks = live.Select(ChunkOfVector).ToHashSet();
            vectorsOk = (_manifest.WindowTokens is not null || live.Count == chunkIds.Count) && chunkIds.SetEquals(liveChunks);
        }
        if (lexicalOk && vectorsOk)
        {
            return rebuilt;
        }
        BeginBatch();
        if (!lexicalOk)
        {
            // rebuilt whole, in the current lexical format: an index of an older layout gets its document entries
            Lexical.Clear();
        }
        if (!vectorsOk)
        {
            _vectors = new HnswIndex(_manifest.Model!.Dimensions, _manifest.Vectors ?? new HnswParameters());
        }
        var batch = new List<(DocumentRecord Doc, ChunkRecord Chunk)>();
        foreach (var doc in Metadata.AllDocuments())
        {
            var chunks = Metadata.GetChunks(doc.ChunkIds);
            var lexicalChunks = new List<LexicalChunk>();
            var records = new List<ChunkRecord>();
            foreach (var id in doc.ChunkIds)
            {
                if (!chunks.TryGetValue(id, out var chunk))
                {
                    continue;
                }
                lexicalChunks.Add(new LexicalChunk(chunk.Id, doc.Id, doc.Title, IsTitleChunk(chunk.Length) ? string.Empty : chunk.Text, doc.Path, doc.FileType, doc.ModifiedUtc, doc.Metadata));
                records.Add(chunk);
                batch.Add((doc, chunk));
            }
            if (!lexicalOk)
            {
                Lexical.AddDocument(TextOfChunks(records), lexicalChunks);
            }
            if (!vectorsOk && batch.Count >= 64)
            {
                EmbedForRepair(batch);
            }
            if (vectorsOk)
            {
                batch.Clear();
            }
        }
        if (!vectorsOk)
        {
            EmbedForRepair(batch);
            rebuilt.Add("vectors");
        }
        if (!lexicalOk)
        {
            rebuilt.Add("lexical");
        }
        lock (_chunkDocsLock)
        {
            _chunkDocs = null;
        }
        Commit();
        return rebuilt;
    }

    // Whether the lexical store holds one document entry for each document with chunks, and no other (format 2).
    private bool DocumentEntriesAgree()
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var doc in Metadata.AllDocuments())
        {
            if (doc.ChunkIds.Count > 0)
            {
                expected.Add(doc.Id);
            }
        }
        var entries = Lexical.AllDocumentEntryIds();
        return entries.Count == expected.Count && expected.SetEquals(entries);
    }

    // A document's text rebuilt from its chunks (the metadata keeps chunks, not the text): the chunks are spans of the
    // text in order, overlapping, and cover all of it but whitespace, so taking each span once and a space for each gap
    // gives the text's words exactly as the analyzer sees them (the same terms and length as the document entry Write
    // made from the original).
    private static string TextOfChunks(List<ChunkRecord> chunks)
    {
        var sb = new System.Text.StringBuilder();
        var end = 0;
        foreach (var c in chunks.Where(c => !IsTitleChunk(c.Length)).OrderBy(c => c.Start))
        {
            var stop = c.Start + c.Length;
            if (stop <= end)
            {
                continue;
            }
            if (c.Start >= end)
            {
                if (sb.Length > 0 && c.Start > end)
                {
                    sb.Append(' ');
                }
                sb.Append(c.Text);
            }
            else
            {
                sb.Append(c.Text, end - c.Start, stop - end);
            }
            end = stop;
        }
        return sb.ToString();
    }

    // Embeds chunks exactly as Write does (title, blank line, chunk text or each of its windows) so a rebuilt vector
    // store equals the original.
    private void EmbedForRepair(List<(DocumentRecord Doc, ChunkRecord Chunk)> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }
        var encoder = Encoder ?? throw new ModelMismatchException($"index {Directory} needs its model to rebuild the vectors");
        var texts = new List<string>(batch.Count);
        var ids = new List<long>(batch.Count);
        foreach (var (doc, chunk) in batch)
        {
            var title = IsTitleChunk(chunk.Length) ? string.Empty : EmbeddingTitle(doc.Title);
            var windows = Windows(chunk.Text, title);
            for (var w = 0; w < windows.Count; w++)
            {
                texts.Add(title.Length == 0 ? windows[w] : title + "\n\n" + windows[w]);
                ids.Add(VectorId(chunk.Id, w));
            }
        }
        var embeddings = new float[texts.Count * encoder.Info.Dimensions];
        encoder.Encode(texts, TextRole.Passage, embeddings);
        _vectors!.AddMany(ids.ToArray(), embeddings, Environment.ProcessorCount);
        batch.Clear();
    }

    // Keeps the vector files of this generation and the one before (readers that opened it may still be loading it);
    // deletes older ones, newer ones (an interrupted commit) and temporary files.
    private static void DeleteUnusedVectorFiles(string directory, long generation)
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "vectors.*"))
        {
            var name = Path.GetFileName(file);
            var g = VectorFileGeneration(name);
            var drop = name.EndsWith(".tmp", StringComparison.Ordinal) || (g is { } n && (n > generation || n < generation - 1));
            if (drop)
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                    // harmless: retried at the next commit
                }
            }
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
        IReadOnlyList<TextChunk> chunks;
        if (Encoder is null || document.Title.Length == 0 || _manifest.WindowTokens is not null)
        {
            chunks = Chunker.Chunk(document.Text);
        }
        else
        {
            var titleTokens = Math.Min(TokenCounter.CountTokens(document.Title) + 1, _chunking.MaxTokens / 4);
            var max = _chunking.MaxTokens - titleTokens;
            chunks = new TextChunker(TokenCounter, new ChunkingOptions(max, Math.Min(_chunking.OverlapTokens, max / 8))).Chunk(document.Text);
        }
        if (chunks.Count == 0 && HasOwnTitle(document))
        {
            // A document that is only a title (a BEIR record with an empty text, an HTML page with a title and no body)
            // is still findable by its title: one chunk holding it. Its Length is 0 because it is no span of the text;
            // that marks a title chunk for Write and Repair (see IsTitleChunk).
            return [new TextChunk(0, 0, 0, document.Title, TokenCounter.CountTokens(document.Title))];
        }
        return chunks;
    }

    // A title that is the document's own. A file's title falls back to its file name when it has none (see
    // Extraction's Titles); a file holding nothing besides that stays "no text found", as a whitespace-only file must.
    private static bool HasOwnTitle(SourceDocument document) =>
        document.Title.Trim().Length > 0
        && (document.Path.Length == 0 || !string.Equals(document.Title, Path.GetFileNameWithoutExtension(document.Path), StringComparison.Ordinal));

    // A chunk that holds the title of a title-only document (made by Chunk): it is embedded and indexed as the title alone,
    // not as the title twice.
    private static bool IsTitleChunk(int length) => length == 0;

    /// <summary>Chunks <paramref name="document"/> and replaces any earlier version of it in every store.</summary>
    /// <returns>The number of chunks written (0 when the text holds no tokens).</returns>
    public int Write(SourceDocument document) => Write([(document, Chunk(document))]);

    /// <summary>
    /// Writes several chunked documents; their chunks are embedded in one call so the encoder can batch them.
    /// </summary>
    /// <returns>The number of chunks written.</returns>
    public int Write(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents) => Write(documents, CancellationToken.None);

    /// <summary>
    /// As <see cref="Write(IReadOnlyList{ValueTuple{SourceDocument, IReadOnlyList{TextChunk}}})"/>, checking
    /// <paramref name="ct"/> between embedding batches: a cancelled write has changed nothing yet (it throws before
    /// any store is touched).
    /// </summary>
    public int Write(IReadOnlyList<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)> documents, CancellationToken ct)
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
                var docTitle = EmbeddingTitle(doc.Title);
                foreach (var c in chunks)
                {
                    var title = IsTitleChunk(c.Length) ? string.Empty : docTitle;
                    var windows = Windows(c.Text, title);
                    windowCounts[at++] = windows.Count;
                    foreach (var w in windows)
                    {
                        texts.Add(title.Length == 0 ? w : title + "\n\n" + w);
                    }
                }
            }
            embeddings = new float[texts.Count * Encoder.Info.Dimensions];
            if (!ct.CanBeCanceled)
            {
                Encoder.Encode(texts, TextRole.Passage, embeddings);
            }
            else
            {
                const int slice = 64;
                var dims = Encoder.Info.Dimensions;
                for (var from = 0; from < texts.Count; from += slice)
                {
                    ct.ThrowIfCancellationRequested();
                    var n = Math.Min(slice, texts.Count - from);
                    Encoder.Encode(texts.GetRange(from, n), TextRole.Passage, embeddings.AsSpan(from * dims, n * dims));
                }
            }
        }
        ct.ThrowIfCancellationRequested();

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
                lexical[i] = new LexicalChunk(ids[i], document.Id, document.Title, IsTitleChunk(c.Length) ? string.Empty : c.Text, document.Path, document.FileType, document.ModifiedUtc, document.Metadata);
            }
            Lexical.DeleteDocument(document.Id);
            Lexical.AddDocument(document.Text, lexical);
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
    public long ChunkOfVector(long vectorId) => ChunkOfVector(_manifest, vectorId);

    /// <summary>The chunk a vector id belongs to in an index described by <paramref name="manifest"/>.</summary>
    public static long ChunkOfVector(IndexManifest manifest, long vectorId) =>
        manifest.WindowTokens is null ? vectorId : vectorId >> WindowIdBits;

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
        _writeLock?.EnsureHeld(); // I5: a writer whose lock file was deleted or replaced must not publish
        var next = _manifest.Generation + 1;
        string? vectorFile = null;
        // 1. the vector file of the new generation (temp file, fsync, rename; then the directory entry)
        if (_vectors is not null)
        {
            var stored = _vectors.Count + _vectors.DeletedCount;
            if (stored > 0 && (double)_vectors.DeletedCount / stored > _compactFraction)
            {
                _vectors = _vectors.Compact();
            }
            vectorFile = VectorFileName(next);
            _vectors.Save(Path.Combine(Directory, vectorFile));
            DurableDirectory.Flush(Directory);
        }
        // 2. the Lucene commit, labelled with the generation (Lucene fsyncs its files)
        Lexical.Commit(next);
        DurableDirectory.Flush(Path.Combine(Directory, LexicalDirectory));
        // 3. the decision point: the LiteDB transaction that records the generation
        CommitHook?.Invoke(CommitStep.BeforeMetadata);
        Metadata.Generation = next;
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
        // 4. publication: the manifest naming the generation, renamed atomically (readers switch here)
        _manifest = Published(_manifest, next, vectorFile, Lexical.CommitNumber, Metadata, _vectors);
        CommitHook?.Invoke(CommitStep.BeforeManifest);
        _manifest.Write(Directory);
        // 5. files of generations before the previous one are no longer needed by anyone
        DeleteUnusedVectorFiles(Directory, next);
    }

    /// <summary>Points inside <see cref="Commit"/> where tests inject a failure.</summary>
    internal enum CommitStep
    {
        /// <summary>The vector file and the Lucene commit of the new generation are written; LiteDB is not.</summary>
        BeforeMetadata,

        /// <summary>LiteDB has committed the new generation (the decision point); the manifest is not renamed yet.</summary>
        BeforeManifest,
    }

    /// <summary>Test hook: called at each <see cref="CommitStep"/>; throwing there simulates a crash at that point.</summary>
    internal Action<CommitStep>? CommitHook { get; set; }

    // The manifest that publishes a generation: which files hold it, and the counts committed with it.
    private static IndexManifest Published(IndexManifest manifest, long generation, string? vectorFile, long lexicalCommit, MetadataStore metadata, IVectorIndex? vectors)
    {
        var counts = metadata.Counts();
        var stored = vectors is null ? 0 : vectors.Count + vectors.DeletedCount;
        return manifest with
        {
            UpdatedUtc = DateTime.UtcNow,
            Generation = generation,
            VectorFile = vectorFile,
            LexicalCommit = lexicalCommit,
            Counts = new ManifestCounts(counts.Documents, counts.Chunks, counts.Bytes, vectors?.Count ?? 0),
            VectorDeletedFraction = stored == 0 ? 0 : Math.Round((double)vectors!.DeletedCount / stored, 4),
        };
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
        if (_writable)
        {
            // Lucene's IndexWriter would commit pending changes on close, under the last commit's generation label;
            // uncommitted writes must vanish instead, as they do from LiteDB.
            Lexical.Rollback();
        }
        Lexical.Dispose();
        Metadata.Dispose();
        _writeLock?.Dispose();
    }
}

/// <summary>What <c>semsearch stats</c> shows.</summary>
public sealed record IndexStats(string Directory, long Documents, long Chunks, long Bytes, string? Model, DateTime CreatedUtc, DateTime UpdatedUtc, int FormatVersion);
