using LiteDB;
using LiteDB.Engine;
using System.Diagnostics;
using SemanticSearch.Core;
using SemanticSearch.Core.Text;

namespace SemanticSearch.Metadata;

/// <summary>
/// Document and chunk metadata in one LiteDB file. Documents are keyed by id, chunks by their numeric id with an index
/// on the owning document. A document and its chunks are replaced together inside one LiteDB transaction, so a reader
/// never sees a document without its chunks. Mapping is explicit (no reflection mapper) to keep the on-disk shape a
/// deliberate contract.
/// </summary>
public sealed class MetadataStore : IDisposable
{
    private const string Documents = "documents";
    private const string Chunks = "chunks";
    private const string State = "state";
    private const string SourcesCollection = "sources";

    // The LiteDB database a read uses: the store's current view, or the one a read in progress on this thread holds.
    private View _view;
    private readonly object _viewLock = new();
    private readonly object _reopenLock = new();
    [ThreadStatic] private static View? t_reading;
    [ThreadStatic] private static MetadataStore? t_readingStore;

    private View Current => ReferenceEquals(t_readingStore, this) ? t_reading! : _view;
    private LiteDatabase Db => Current.Db;
    private ILiteCollection<BsonDocument> DocRows => Current.Docs;
    private ILiteCollection<BsonDocument> ChunkRows => Current.Chunks;
    private ILiteCollection<BsonDocument> StateRows => Current.State;
    private ILiteCollection<BsonDocument> SourceRows => Current.Sources;
    private readonly bool _readOnly;

    private readonly string _path;

    // The writer's checkpoint sequence (it brackets every write of the data file), or a reader's view of it.
    private readonly CheckpointSequence? _sequence;

    // Times a read may find that a checkpoint overlapped it before the reader gives up on lazy reads and copies.
    private const int LazyAttempts = 20;

    private MetadataStore(View view, bool readOnly, string path, CheckpointSequence? sequence)
    {
        _path = path;
        _sequence = sequence;
        _readOnly = readOnly;
        _view = view;
        if (!readOnly)
        {
            ChunkRows.EnsureIndex("doc");
            DocRows.EnsureIndex("source");
            // Nothing searches by content hash, and an index on a random key costs every commit most of its pages
            // (a thousand new documents touch nearly every page of an index of a million): older stores lose it here.
            DocRows.DropIndex("hash");
            var counts = RecordCounts;
            if (counts is null)
            {
                counts = (DocRows.LongCount(), ChunkRows.LongCount()); // once, for a store written before they were kept
                RecordCounts = counts;
            }
            if (counts.Value.Documents == 0 && StateRows.FindById("contentSum") is null)
            {
                ContentSum = 0; // a new store keeps a content checksum from the start
                // ...and leaves text hashes to the lexical index, for the same reason as above
                StateRows.Upsert(new BsonDocument { ["_id"] = TextHashesKey, ["value"] = "lexical" });
            }
            if (IndexesTextHashes)
            {
                DocRows.EnsureIndex("thash");
            }
        }
    }

    private const string TextHashesKey = "textHashes";

    /// <summary>
    /// True when this store indexes its documents' text hashes (<see cref="DocumentsWithTextHash"/>): a store made
    /// before text hashes moved to the lexical index keeps doing so; a newer one does not, and the lexical index
    /// finds documents by text hash instead.
    /// </summary>
    public bool IndexesTextHashes => _indexesTextHashes ??= Guard(() => StateRows.FindById(TextHashesKey) is null);

    private bool? _indexesTextHashes;

    // One opened LiteDB database and the sequence value it is consistent at (null: a writer's, or a private copy).
    // Reads hold a reference while they use it, so a reader that moves to a newer view closes the old one only when
    // the last read on it ends (a server runs searches on one store from many threads).
    private sealed class View(LiteDatabase db, long? at, bool lazy)
    {
        public LiteDatabase Db { get; } = db;

        // A reader's: the sequence value it was opened at (null: a writer's, or a snapshot pinned by OpenSnapshot).
        public long? At { get; } = at;

        // Reads the files in place, so a read counts only if the sequence is still at At after it; else a private copy.
        public bool Lazy { get; } = lazy;

        public ILiteCollection<BsonDocument> Docs { get; } = db.GetCollection(Documents);
        public ILiteCollection<BsonDocument> Chunks { get; } = db.GetCollection(MetadataStore.Chunks);
        public ILiteCollection<BsonDocument> State { get; } = db.GetCollection(MetadataStore.State);
        public ILiteCollection<BsonDocument> Sources { get; } = db.GetCollection(SourcesCollection);
        public int References { get; set; } = 1;
    }

    private View Acquire()
    {
        lock (_viewLock)
        {
            _view.References++;
            return _view;
        }
    }

    private void Release(View view)
    {
        lock (_viewLock)
        {
            if (--view.References > 0)
            {
                return;
            }
        }
        view.Db.Dispose();
    }

    /// <summary>
    /// Opens (creating when writable and absent) the store at <paramref name="path"/>. A read-only store reads the
    /// files in place (nothing is copied into memory) and each read sees one committed state; when the writer
    /// checkpoints, the next read moves to the newer committed state, so successive reads may see later commits.
    /// </summary>
    public static MetadataStore Open(string path, bool readOnly) => OpenCore(path, readOnly, copy: false);

    /// <summary>
    /// Opens the store read-only on a private in-memory copy of its files: every read sees the one committed state
    /// of the moment it opened, whatever the writer does since. Costs memory and time proportional to the store; for
    /// whole-store checks (verify) whose reads must agree with each other.
    /// </summary>
    public static MetadataStore OpenSnapshot(string path) => OpenCore(path, readOnly: true, copy: true);

    private static MetadataStore OpenCore(string path, bool readOnly, bool copy)
    {
        if (readOnly && !File.Exists(path))
        {
            throw new NotFoundException($"metadata store not found: {path}");
        }
        CheckpointSequence? sequence = null;
        try
        {
            if (readOnly)
            {
                if (copy)
                {
                    return new MetadataStore(new View(SnapshotOf(path), null, lazy: false), readOnly, path, null);
                }
                sequence = CheckpointSequence.ForReader(path);
                return new MetadataStore(OpenView(path, sequence, copy: false), readOnly, path, sequence);
            }
            // Every write of the data file happens between Odd and Even: LiteDB's open (it may restore the log), each
            // commit's checkpoint and the close. Automatic checkpoints are off, so none happens anywhere else.
            sequence = CheckpointSequence.ForWriter(path);
            var cs = new ConnectionString
            {
                Filename = path,
                Connection = ConnectionType.Direct,
                ReadOnly = false,
                Upgrade = false,
            };
            try
            {
                var store = new MetadataStore(new View(new LiteDatabase(cs), null, lazy: false), readOnly, path, sequence);
                if (store.Db.Pragma("CHECKPOINT").AsInt32 != 0)
                {
                    store.Db.Pragma("CHECKPOINT", 0);
                    store.Db.Checkpoint();
                }
                return store;
            }
            finally
            {
                sequence.Even(); // also when the open failed: readers need not wait for a writer that is not there
            }
        }
        catch (Exception e) when (e is not SemanticSearchException and not IOException and not UnauthorizedAccessException and not OutOfMemoryException)
        {
            sequence?.Dispose();
            // LiteDB reports a foreign or damaged file with several exception types (LiteException, InvalidCastException,
            // ArgumentOutOfRangeException…); at this edge any of them is the engine's CorruptDataException.
            throw new CorruptDataException(path, $"cannot open metadata store: {e.Message}", e);
        }
        catch
        {
            sequence?.Dispose();
            throw;
        }
    }

    // A lazy view: LiteDB over read-only windows of the data file and the log as they are now. Consistent while the
    // sequence stays at the (even) value read before it opened. A sequence that stays odd (a writer killed during a
    // checkpoint), or one that keeps moving while the view opens, gets a private copy instead, which is correct beside
    // a half-done checkpoint; the next read after the sequence moves on tries a lazy view again.
    private static View OpenView(string path, CheckpointSequence sequence, bool copy)
    {
        var waitedFor = Stopwatch.StartNew();
        for (var attempt = 0; !copy && attempt < LazyAttempts;)
        {
            var at = sequence.Read();
            if ((at & 1) == 1)
            {
                if (waitedFor.ElapsedMilliseconds > OddWaitMs)
                {
                    break;
                }
                Thread.Sleep(5); // a checkpoint is running
                continue;
            }
            attempt++;
            FileWindow? data = null, log = null;
            LiteDatabase? db = null;
            try
            {
                data = FileWindow.Open(path, PageSize) ?? throw new NotFoundException($"metadata store not found: {path}");
                log = FileWindow.Open(LogOf(path), PageSize);
                var engine = new LiteEngine(new EngineSettings { DataStream = data, LogStream = (Stream?)log ?? new MemoryStream(), ReadOnly = true });
                db = new LiteDatabase(engine, disposeOnClose: true);
                if (sequence.Read() == at)
                {
                    return new View(db, at, lazy: true);
                }
            }
            catch (Exception) when (sequence.Read() != at)
            {
                // the view opened across a checkpoint: open again
            }
            db?.Dispose();
            data?.Dispose();
            log?.Dispose();
        }
        var before = sequence.Read();
        return new View(SnapshotOf(path), before, lazy: false);
    }

    // How long a reader waits for a running checkpoint before it copies the store instead.
    private const int OddWaitMs = 2000;

    private const int PageSize = 8192; // LiteDB's page

    // A private copy of the data file and the log, taken while the writer wrote neither: the checkpoint sequence reads
    // the same even value before the log is copied and after the data file is. (An odd value covers the writer's whole
    // commit: its log pages, their confirmation and the checkpoint; a copy of the log taken before the confirmation
    // beside a data file the checkpoint already rewrote is a state no commit wrote.) The log may grow during an even
    // period (a transaction's pages written before it commits); LiteDB ignores unconfirmed pages. A value that stays odd
    // longer than OddWaitMs is a writer killed during a commit: its files no longer change, and the copy of both
    // (LiteDB replays the log's confirmed pages over the data file) is its last commit; that copy is taken only while
    // neither file's length or time changes across it.
    private static LiteDatabase SnapshotOf(string path)
    {
        using var sequence = CheckpointSequence.ForReader(path);
        var patience = Stopwatch.StartNew();
        var oddSince = (Stopwatch?)null;
        while (true)
        {
            if (patience.Elapsed > SnapshotPatience)
            {
                throw new StoreBusyException(path, $"the metadata writer committed during every copy for {SnapshotPatience.TotalSeconds:0} s; try again");
            }
            var before = sequence.Read();
            var odd = (before & 1) == 1;
            if (odd)
            {
                oddSince ??= Stopwatch.StartNew();
                if (oddSince.ElapsedMilliseconds < OddWaitMs)
                {
                    Thread.Sleep(5); // a commit is running
                    continue;
                }
            }
            else
            {
                oddSince = null;
            }
            var files = odd ? FilesNow(path) : default;
            var log = CopyOfLog(path);
            var data = new MemoryStream();
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                fs.CopyTo(data);
            }
            if (sequence.Read() != before || (odd && FilesNow(path) != files))
            {
                continue;
            }
            data.Position = 0;
            return new LiteDatabase(data, null, log);
        }
    }

    private static (long, DateTime, long, DateTime) FilesNow(string path)
    {
        var data = new FileInfo(path);
        var log = new FileInfo(LogOf(path));
        return (data.Length, data.LastWriteTimeUtc, log.Exists ? log.Length : -1, log.Exists ? log.LastWriteTimeUtc : default);
    }

    // How long a snapshot keeps copying while checkpoints keep overlapping its copies.
    private static readonly TimeSpan SnapshotPatience = TimeSpan.FromSeconds(60);

    private static MemoryStream CopyOfLog(string path)
    {
        var copy = new MemoryStream();
        try
        {
            using var fs = new FileStream(LogOf(path), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            fs.CopyTo(copy);
            copy.Position = 0;
        }
        catch (FileNotFoundException)
        {
            // no log: everything is in the data file
        }
        // LiteDB reads the log in whole pages; a page the writer was still appending is cut off
        copy.SetLength(copy.Length - copy.Length % PageSize);
        return copy;
    }

    private static string LogOf(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + "-log" + Path.GetExtension(path));

    // A reader whose view the writer's checkpoints have left behind moves to the newer committed state (once,
    // whichever of the reads that saw it asks first); one that failed to read lazily too often copies.
    private void Reopen(View stale, bool copy)
    {
        lock (_reopenLock)
        {
            if (!ReferenceEquals(_view, stale))
            {
                return;
            }
            var view = OpenView(_path, _sequence!, copy);
            lock (_viewLock)
            {
                _view = view;
            }
            Release(stale); // the store's own reference
        }
    }

    /// <summary>Whether reads go to the files in place (a read-only open that found no checkpoint in its way), not to a private copy.</summary>
    internal bool ReadsInPlace => _view.Lazy;

    private bool Moved(View view) => view.At is { } at && _sequence!.Read() != at;

    // A read's view: the current one, first renewed when it is a reader's copy that a newer commit has left behind.
    private View AcquireForRead()
    {
        var view = Acquire();
        if (!view.Lazy && Moved(view))
        {
            Release(view);
            Reopen(view, copy: false);
            view = Acquire();
        }
        return view;
    }

    /// <summary>The next chunk id to hand out; persisted with each commit.</summary>
    public long NextChunkId
    {
        get => Guard(() => StateRows.FindById("nextChunkId")?["value"].AsInt64 ?? 1);
        set => Write(() => StateRows.Upsert(new BsonDocument { ["_id"] = "nextChunkId", ["value"] = value }));
    }

    // Sum of document sizes, kept up to date by Upsert and Delete in the same transaction as the documents.
    private long TotalBytes
    {
        get => Guard(() => StateRows.FindById("totalBytes")?["value"].AsInt64 ?? 0);
        set => Write(() => StateRows.Upsert(new BsonDocument { ["_id"] = "totalBytes", ["value"] = value }));
    }

    // How many documents and chunks the store holds, kept up to date by Upsert and Delete in the same transaction as
    // the records (LiteDB counts a collection by loading every record: at a million chunks, seconds at every commit,
    // which publishes the counts in the manifest). Null in a store written before they were kept, until its next
    // writer counts once at open.
    private (long Documents, long Chunks)? RecordCounts
    {
        get => Guard(() => StateRows.FindById("recordCounts") is { } row ? (row["documents"].AsInt64, row["chunks"].AsInt64) : ((long, long)?)null);
        set => Write(() => StateRows.Upsert(new BsonDocument { ["_id"] = "recordCounts", ["documents"] = value!.Value.Documents, ["chunks"] = value.Value.Chunks }));
    }

    private void AddToCounts(long documents, long chunks)
    {
        if (documents != 0 || chunks != 0)
        {
            var (d, c) = RecordCounts ?? throw new InvalidOperationException("the record counts were not set up at open");
            RecordCounts = (d + documents, c + chunks);
        }
    }

    /// <summary>
    /// The index generation this store's last commit belongs to (0 for a store written before generations were
    /// recorded). Set inside the transaction that the index commit then commits, so it is exact.
    /// </summary>
    public long Generation
    {
        get => Guard(() => StateRows.FindById("generation")?["value"].AsInt64 ?? 0);
        set => Write(() => StateRows.Upsert(new BsonDocument { ["_id"] = "generation", ["value"] = value }));
    }

    // Order-independent checksum of every document and chunk record (a wrapping sum of per-record XxHash64 values),
    // kept up to date in the same transaction as the records, so that 'verify' can detect a damaged record that LiteDB
    // itself would read back without complaint. Null for a store written before the checksum existed.
    private ulong? ContentSum
    {
        get => Guard(() => StateRows.FindById("contentSum")?["value"] is { IsInt64: true } v ? unchecked((ulong)v.AsInt64) : (ulong?)null);
        set => Write(() => StateRows.Upsert(new BsonDocument { ["_id"] = "contentSum", ["value"] = unchecked((long)value!.Value) }));
    }

    private void AddToSum(ulong add, ulong remove)
    {
        if (ContentSum is { } sum)
        {
            ContentSum = unchecked(sum + add - remove);
        }
    }

    /// <summary>
    /// Reads every record back and compares the checksum of their content with the one maintained at each write;
    /// returns null when they agree (or the store predates the checksum), else what differs.
    /// </summary>
    public string? VerifyContent() => Guard(VerifyContentCore);

    private string? VerifyContentCore()
    {
        var stored = ContentSum;
        ulong sum = 0;
        foreach (var d in DocRows.FindAll())
        {
            sum = unchecked(sum + RecordHash.Of(d));
        }
        foreach (var c in ChunkRows.FindAll())
        {
            sum = unchecked(sum + RecordHash.Of(c));
        }
        // every secondary index read end to end too: a damaged index page is invisible to the scans above (they walk
        // the primary key) until a search or a write meets it
        var documents = DocRows.Count();
        foreach (var field in IndexesTextHashes ? new[] { "source", "thash" } : ["source"])
        {
            var entries = DocRows.Find(Query.All(field)).Count();
            if (entries != documents && !(field == "thash" && entries < documents))
            {
                return $"the documents' index on '{field}' lists {entries} documents, the collection holds {documents}: an index page is damaged";
            }
        }
        if (ChunkRows.Find(Query.All("doc")).Count() != ChunkRows.Count())
        {
            return "the chunks' index on their document lists another number of chunks than the collection holds: an index page is damaged";
        }
        if (stored is null || stored == sum)
        {
            return null;
        }
        return $"content checksum mismatch (stored {stored:x16}, computed {sum:x16}): a document or chunk record is damaged";
    }

    /// <summary>Starts a transaction; <see cref="Commit"/> makes everything since visible at once.</summary>
    public void BeginTransaction() => Write(() => Db.BeginTrans());

    /// <summary>
    /// Commits the open transaction and checkpoints, so the commit is in the data file (flushed to disk) before the
    /// index's manifest names it: LiteDB writes its log from a background queue, which a killed process would lose.
    /// </summary>
    public void Commit() => Write(() =>
    {
        _sequence!.Odd(); // lazy readers must not read the data file while the checkpoint rewrites it
        try
        {
            Db.Commit();
            Db.Checkpoint();
        }
        finally
        {
            _sequence.Even();
        }
        return true;
    });

    /// <summary>Rolls the open transaction back.</summary>
    public void Rollback() => Write(() => Db.Rollback());

    /// <summary>The document with <paramref name="id"/>, or null.</summary>
    public DocumentRecord? GetDocument(string id) => Guard(() =>
    {
        var d = DocRows.FindById(id);
        return d is null ? null : ToDocument(d);
    });

    /// <summary>Ids of all documents that came from <paramref name="source"/>.</summary>
    public IReadOnlyList<string> DocumentIdsFromSource(string source) => Guard(() =>
    {
        var ids = new List<string>();
        foreach (var d in DocRows.Find(Where("source = @0", source)))
        {
            ids.Add(d["_id"].AsString);
        }
        return (IReadOnlyList<string>)ids;
    });

    /// <summary>Content hash of every document that came from <paramref name="source"/>, by document id.</summary>
    public IReadOnlyDictionary<string, string> HashesFromSource(string source) => Guard(() =>
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in DocRows.Find(Where("source = @0", source)))
        {
            result[d["_id"].AsString] = d["hash"].AsString;
        }
        return (IReadOnlyDictionary<string, string>)result;
    });

    /// <summary>Documents, chunks, bytes and the latest write of every <see cref="DocumentRecord.Source"/> value, by that value.</summary>
    public IReadOnlyDictionary<string, SourceTotals> TotalsBySource() => Guard(() =>
    {
        var totals = new Dictionary<string, SourceTotals>(StringComparer.Ordinal);
        foreach (var d in DocRows.FindAll())
        {
            var source = d["source"].AsString;
            var indexed = DateTime.SpecifyKind(d["indexed"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc);
            var chunks = d["chunks"].AsArray.Count;
            totals[source] = totals.TryGetValue(source, out var t)
                ? new SourceTotals(t.Documents + 1, t.Chunks + chunks, t.Bytes + d["size"].AsInt64, indexed > t.LastIndexedUtc ? indexed : t.LastIndexedUtc)
                : new SourceTotals(1, chunks, d["size"].AsInt64, indexed);
        }
        return (IReadOnlyDictionary<string, SourceTotals>)totals;
    });

    /// <summary>
    /// The id of a document whose id starts with <paramref name="prefix"/> and whose source is not
    /// <paramref name="exceptSource"/>, or null when there is none.
    /// </summary>
    public string? DocumentIdWithPrefix(string prefix, string exceptSource) => Guard(() =>
    {
        foreach (var d in DocRows.Find(Where("_id LIKE @0", prefix + "%")))
        {
            if (d["source"].AsString != exceptSource)
            {
                return d["_id"].AsString;
            }
        }
        return null;
    });

    /// <summary>Every recorded source, in name order.</summary>
    public IReadOnlyList<SourceRecord> Sources() => Guard(() =>
        (IReadOnlyList<SourceRecord>)SourceRows.FindAll().Select(ToSource).OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).ToList());

    /// <summary>Records <paramref name="source"/> (replacing the record of the same name), in the open transaction.</summary>
    public void PutSource(SourceRecord source)
    {
        ArgumentNullException.ThrowIfNull(source);
        EnsureWritable();
        Write(() => SourceRows.Upsert(FromSource(source)));
    }

    /// <summary>Removes the record of the source named <paramref name="name"/>; false when there is none.</summary>
    public bool RemoveSource(string name)
    {
        EnsureWritable();
        return Write(() => SourceRows.Delete(name));
    }

    /// <summary>
    /// Every document whose extracted text has <paramref name="textHash"/> (its duplicates and itself), in id order;
    /// only for a store that <see cref="IndexesTextHashes"/> (another would read every record).
    /// </summary>
    public IReadOnlyList<DocumentRecord> DocumentsWithTextHash(string textHash) => !IndexesTextHashes
        ? throw new InvalidOperationException($"{_path}: this store does not index text hashes; the lexical index finds documents by text hash")
        : Guard(() => (IReadOnlyList<DocumentRecord>)DocRows.Find(Where("thash = @0", textHash)).Select(ToDocument).OrderBy(d => d.Id, StringComparer.Ordinal).ToList());

    /// <summary>Every document, in id order.</summary>
    public IEnumerable<DocumentRecord> AllDocuments() => Guarded(v => v.Docs, ToDocument);

    /// <summary>Replaces the document and all its chunks (old chunks are removed).</summary>
    /// <returns>Ids of the chunks that were removed.</returns>
    public IReadOnlyList<long> Upsert(DocumentRecord document, IReadOnlyList<ChunkRecord> chunks) => UpsertMany([(document, chunks)])[0];

    /// <summary>
    /// Replaces several documents and their chunks, in order, as <see cref="Upsert"/> would one after another; the
    /// running totals (size, content checksum) are read and written once for all of them.
    /// </summary>
    /// <returns>For each document, the ids of its chunks that were removed.</returns>
    public IReadOnlyList<IReadOnlyList<long>> UpsertMany(IReadOnlyList<(DocumentRecord Document, IReadOnlyList<ChunkRecord> Chunks)> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        EnsureWritable();
        return Write(() => UpsertCore(documents));
    }

    private List<IReadOnlyList<long>> UpsertCore(IReadOnlyList<(DocumentRecord Document, IReadOnlyList<ChunkRecord> Chunks)> documents)
    {
        var removedByDocument = new List<IReadOnlyList<long>>(documents.Count);
        var totalBytes = TotalBytes;
        ulong added = 0, removedSum = 0;
        long documentDelta = 0, chunkDelta = 0;
        foreach (var (document, chunks) in documents)
        {
            // chunk by chunk as a single upsert does: a document named twice finds its first version's chunks here
            // (a document not held yet has no chunks: a bulk import of new documents skips the search for them)
            var previous = DocRows.FindById(document.Id);
            var (removed, sumOfRemoved) = previous is null ? ([], 0UL) : DeleteChunksOf(document.Id);
            totalBytes += document.SizeBytes - (previous?["size"].AsInt64 ?? 0);
            var bsonDoc = FromDocument(document);
            DocRows.Upsert(bsonDoc);
            added = unchecked(added + RecordHash.Of(bsonDoc));
            if (chunks.Count > 0)
            {
                var bson = new List<BsonDocument>(chunks.Count);
                foreach (var c in chunks)
                {
                    var b = FromChunk(c);
                    added = unchecked(added + RecordHash.Of(b));
                    bson.Add(b);
                }
                ChunkRows.InsertBulk(bson);
            }
            removedSum = unchecked(removedSum + sumOfRemoved + (previous is null ? 0 : RecordHash.Of(previous)));
            removedByDocument.Add(removed);
            documentDelta += previous is null ? 1 : 0;
            chunkDelta += chunks.Count - removed.Count;
        }
        TotalBytes = totalBytes;
        AddToCounts(documentDelta, chunkDelta);
        AddToSum(added, removedSum);
        return removedByDocument;
    }

    /// <summary>Deletes a document and its chunks.</summary>
    /// <returns>Ids of the removed chunks (empty when the document did not exist).</returns>
    public IReadOnlyList<long> Delete(string documentId)
    {
        EnsureWritable();
        return Write(() => DeleteCore(documentId));
    }

    private IReadOnlyList<long> DeleteCore(string documentId)
    {
        var (removed, removedSum) = DeleteChunksOf(documentId);
        var previous = DocRows.FindById(documentId);
        if (previous is not null)
        {
            TotalBytes -= previous["size"].AsInt64;
            DocRows.Delete(documentId);
        }
        AddToCounts(previous is null ? 0 : -1, -removed.Count);
        AddToSum(0, unchecked(removedSum + (previous is null ? 0 : RecordHash.Of(previous))));
        return removed;
    }

    /// <summary>The chunks with the given ids that exist, keyed by id.</summary>
    public IReadOnlyDictionary<long, ChunkRecord> GetChunks(IEnumerable<long> ids) => Guard(() => GetChunksCore(ids));

    private IReadOnlyDictionary<long, ChunkRecord> GetChunksCore(IEnumerable<long> ids)
    {
        var result = new Dictionary<long, ChunkRecord>();
        foreach (var id in ids)
        {
            if (result.ContainsKey(id))
            {
                continue;
            }
            var c = ChunkRows.FindById(id);
            if (c is not null)
            {
                result[id] = ToChunk(c);
            }
        }
        return result;
    }

    /// <summary>Every chunk, in id order.</summary>
    public IEnumerable<ChunkRecord> AllChunks() => Guarded(v => v.Chunks, ToChunk);

    /// <summary>Totals: documents, chunks, source bytes.</summary>
    public MetadataCounts Counts() => Guard(() => RecordCounts is { } kept
        ? new MetadataCounts(kept.Documents, kept.Chunks, TotalBytes)
        : new MetadataCounts(DocRows.LongCount(), ChunkRows.LongCount(), TotalBytes)); // a store no writer of this build has opened

    // LiteDB reports structural damage found while reading (a page of the wrong type, a broken link) as LiteException;
    // at this edge it becomes the engine's CorruptDataException naming the file and what can be done.
    // A lazy reader's read counts only when no checkpoint overlapped it (the sequence did not move); one that did, or
    // that failed while one did (pages from two states can look damaged), is read again in the newer state. A read
    // inside another (a total inside Counts) runs on the outer read's view, which the outer one checks.
    private T Guard<T>(Func<T> read)
    {
        if (ReferenceEquals(t_readingStore, this))
        {
            return read();
        }
        for (var attempt = 0; ; attempt++)
        {
            var view = AcquireForRead();
            var (outerView, outerStore) = (t_reading, t_readingStore);
            (t_reading, t_readingStore) = (view, this);
            try
            {
                var result = read();
                if (!view.Lazy || !Moved(view))
                {
                    return result;
                }
            }
            catch (Exception) when (view.Lazy && Moved(view))
            {
            }
            catch (LiteException e)
            {
                throw Damaged(e);
            }
            finally
            {
                (t_reading, t_readingStore) = (outerView, outerStore);
                Release(view);
            }
            Reopen(view, copy: attempt + 1 >= LazyAttempts); // a read that never fits between two checkpoints copies
        }
    }

    // Records in key order. A lazy reader checks after each record that no checkpoint overlapped it; when one did, it
    // moves to the newer state and goes on after the last key it returned, so every record comes from a committed
    // state (a long enumeration beside a writer may see later commits for later keys; OpenSnapshot pins one).
    private IEnumerable<TOut> Guarded<TOut>(Func<View, ILiteCollection<BsonDocument>> collection, Func<BsonDocument, TOut> map)
    {
        BsonValue? last = null;
        for (var attempt = 0; ; attempt++)
        {
            var view = AcquireForRead();
            var moved = false;
            try
            {
                var source = last is null ? collection(view).FindAll() : collection(view).Find(Where("_id > @0", last));
                using var e = source.GetEnumerator();
                while (true)
                {
                    BsonDocument current;
                    try
                    {
                        var more = e.MoveNext();
                        if (view.Lazy && Moved(view))
                        {
                            moved = true; // this record, or the end, may be a checkpoint's: look again in the newer state
                            break;
                        }
                        if (!more)
                        {
                            yield break;
                        }
                        current = e.Current;
                    }
                    catch (Exception) when (view.Lazy && Moved(view))
                    {
                        moved = true;
                        break;
                    }
                    catch (LiteException x)
                    {
                        throw Damaged(x);
                    }
                    last = current["_id"];
                    yield return map(current);
                }
            }
            finally
            {
                Release(view);
            }
            if (moved)
            {
                Reopen(view, copy: attempt + 1 >= LazyAttempts);
            }
        }
    }

    // A write LiteDB or the disk refused (a full disk, an I/O error, a damaged page met while writing): the store keeps
    // its last commit, and the caller learns it as the engine's StoreWriteException.
    private T Write<T>(Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is LiteException or IOException)
        {
            throw new StoreWriteException(_path, $"writing the metadata store failed ({e.Message}); it keeps its last commit", e);
        }
    }

    private CorruptDataException Damaged(LiteException e) =>
        new(_path, $"the metadata store is damaged ({e.Message}); it is the index's source of truth and 'repair' cannot rebuild it: restore it from a backup, or index the sources again into a new index", e);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_readOnly)
        {
            Release(_view);
            _sequence?.Dispose();
            return;
        }
        _sequence!.Odd(); // LiteDB's close may write the data file
        try
        {
            Db.Dispose();
        }
        finally
        {
            _sequence.Even();
            _sequence.Dispose();
        }
    }

    // A query whose value is a parameter: LiteDB compiles an expression once per distinct source text and never
    // evicts it, so Query.EQ("doc", id) — the value written into the text — compiled and kept a delegate per document
    // (at a million chunks, most of a bulk import's metadata time and a heap that only grew).
    private static BsonExpression Where(string predicate, BsonValue value) => BsonExpression.Create(predicate, value);

    private (List<long> Ids, ulong Sum) DeleteChunksOf(string documentId)
    {
        var removed = new List<long>();
        ulong sum = 0;
        foreach (var c in ChunkRows.Find(Where("doc = @0", documentId)))
        {
            removed.Add(c["_id"].AsInt64);
            sum = unchecked(sum + RecordHash.Of(c));
        }
        if (removed.Count > 0)
        {
            ChunkRows.DeleteMany(Where("doc = @0", documentId));
        }
        return (removed, sum);
    }

    private void EnsureWritable()
    {
        if (_readOnly)
        {
            throw new InvalidOperationException("metadata store was opened read-only");
        }
    }

    private static BsonDocument FromDocument(DocumentRecord d)
    {
        var chunkIds = new BsonArray();
        foreach (var id in d.ChunkIds)
        {
            chunkIds.Add(id);
        }
        var meta = new BsonDocument();
        foreach (var (k, v) in d.Metadata)
        {
            meta[k] = v;
        }
        var doc = new BsonDocument
        {
            ["_id"] = d.Id,
            ["source"] = d.Source,
            ["path"] = d.Path,
            ["title"] = d.Title,
            ["type"] = d.FileType,
            ["size"] = d.SizeBytes,
            ["modified"] = d.ModifiedUtc,
            ["hash"] = d.ContentHash,
            ["indexed"] = d.IndexedUtc,
            ["chunks"] = chunkIds,
            ["meta"] = meta,
        };
        if (d.TextHash is { } textHash)
        {
            doc["thash"] = textHash;
        }
        if (d.Outline is { IsEmpty: false } outline)
        {
            doc["outline"] = FromOutline(outline);
        }
        return doc;
    }

    // An outline as { pages: [offset, number, offset, number, …], heads: [{ o, l, t, a? }, …] }: flat pairs keep a
    // long PDF's page list small.
    private static BsonDocument FromOutline(DocumentOutline outline)
    {
        var pages = new BsonArray();
        foreach (var p in outline.Pages)
        {
            pages.Add(p.Offset);
            pages.Add(p.Number);
        }
        var heads = new BsonArray();
        foreach (var h in outline.Headings)
        {
            var head = new BsonDocument { ["o"] = h.Offset, ["l"] = h.Level, ["t"] = h.Text };
            if (h.Anchor is { } anchor)
            {
                head["a"] = anchor;
            }
            heads.Add(head);
        }
        return new BsonDocument { ["pages"] = pages, ["heads"] = heads };
    }

    private static DocumentOutline? ToOutline(BsonDocument d)
    {
        if (!d.TryGetValue("outline", out var value) || !value.IsDocument)
        {
            return null;
        }
        var o = value.AsDocument;
        var pages = new List<PageStart>();
        if (o.TryGetValue("pages", out var p) && p.IsArray)
        {
            var flat = p.AsArray;
            for (var i = 0; i + 1 < flat.Count; i += 2)
            {
                pages.Add(new PageStart(flat[i].AsInt32, flat[i + 1].AsInt32));
            }
        }
        var heads = new List<SectionHeading>();
        if (o.TryGetValue("heads", out var h) && h.IsArray)
        {
            foreach (var item in h.AsArray)
            {
                var head = item.AsDocument;
                heads.Add(new SectionHeading(head["o"].AsInt32, head["l"].AsInt32, head["t"].AsString,
                    head.TryGetValue("a", out var a) && a.IsString ? a.AsString : null));
            }
        }
        return new DocumentOutline(pages, heads);
    }

    private static DocumentRecord ToDocument(BsonDocument d)
    {
        var ids = new List<long>();
        foreach (var v in d["chunks"].AsArray)
        {
            ids.Add(v.AsInt64);
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (d["meta"].IsDocument)
        {
            foreach (var (k, v) in d["meta"].AsDocument)
            {
                meta[k] = v.AsString;
            }
        }
        return new DocumentRecord(
            d["_id"].AsString,
            d["source"].AsString,
            d["path"].AsString,
            d["title"].AsString,
            d["type"].AsString,
            d["size"].AsInt64,
            DateTime.SpecifyKind(d["modified"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc),
            d["hash"].AsString,
            DateTime.SpecifyKind(d["indexed"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc),
            ids,
            meta)
        {
            TextHash = d.TryGetValue("thash", out var textHash) && textHash.IsString ? textHash.AsString : null,
            Outline = ToOutline(d),
        };
    }

    private static BsonDocument FromSource(SourceRecord s)
    {
        var doc = new BsonDocument
        {
            ["_id"] = s.Name,
            ["kind"] = s.Kind,
            ["key"] = s.Key,
            ["prefix"] = s.IdPrefix,
            ["created"] = s.CreatedUtc,
        };
        if (s.IndexedUtc is { } indexed)
        {
            doc["indexed"] = indexed;
        }
        return doc;
    }

    private static SourceRecord ToSource(BsonDocument d) => new(
        d["_id"].AsString,
        d["kind"].AsString,
        d["key"].AsString,
        d["prefix"].AsString,
        DateTime.SpecifyKind(d["created"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc),
        d.TryGetValue("indexed", out var indexed) && indexed.IsDateTime ? DateTime.SpecifyKind(indexed.AsDateTime.ToUniversalTime(), DateTimeKind.Utc) : null);

    private static BsonDocument FromChunk(ChunkRecord c) => new()
    {
        ["_id"] = c.Id,
        ["doc"] = c.DocumentId,
        ["ord"] = c.Ordinal,
        ["start"] = c.Start,
        ["len"] = c.Length,
        ["text"] = c.Text,
    };

    private static ChunkRecord ToChunk(BsonDocument c) =>
        new(c["_id"].AsInt64, c["doc"].AsString, c["ord"].AsInt32, c["start"].AsInt32, c["len"].AsInt32, c["text"].AsString);
}
