// Readers beside the writer (issue 15). Each index name has one OpenIndex for the life of the server, holding
//  - a read-only view of the last published generation (SemanticIndex.OpenReadOnly: it never takes the write lock),
//    reopened when manifest.json changes: before each search the manifest's size and time are compared with those of
//    the view (one stat), so a commit by any process - a CLI job, this server - is served by the next search;
//  - a writer (SemanticIndex.OpenOrCreate, which takes the index's kernel write lock) only while there are writes:
//    writes (upserts, deletes, folder jobs) queue on a per-index SemaphoreSlim with a timeout, and the writer is
//    closed, releasing the lock, once the queue has been idle for a short grace period. So 'semsearch index' beside a
//    running server works, and the server's searches never wait for a writer.
// A view in use by a search is retired only when its last search ends (reference counts).
// Deleting an index (DELETE /indexes/{name}) takes its write queue and its write lock without waiting (409 when a
// write holds either), renames the directory out of the catalog (one atomic step: the name is gone for every later
// request) and then removes the files. A search already running keeps its view to the end: on POSIX systems its open
// files stay readable after they are unlinked, so it answers from the generation it started with.
using System.Collections.Concurrent;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server;

/// <summary>The index is held by another writer, or its write queue is full (HTTP 409).</summary>
internal sealed class IndexBusyException : SemanticSearchException
{
    public IndexBusyException(string message) : base(message) { }
    public IndexBusyException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>An upsert ran past its time budget and was cancelled (HTTP 503).</summary>
internal sealed class UpsertBudgetException(string message) : SemanticSearchException(message);

/// <summary>An upload names the id of a document another source (a folder) holds; <see cref="Field"/> names the id's place in the body.</summary>
internal sealed class DocumentIdTakenException(string field, string message) : SemanticSearchException(message)
{
    public string Field { get; } = field;
}

/// <summary>One published generation, open read-only, shared by searches until a newer one replaces it.</summary>
internal sealed class ReaderView
{
    private int _refs = 1; // the OpenIndex's own reference

    public ReaderView(SemanticIndex index, (long Length, DateTime Time) stamp)
    {
        Index = index;
        Searcher = new Searcher(index);
        Stamp = stamp;
    }

    public SemanticIndex Index { get; }
    public Searcher Searcher { get; }
    public (long Length, DateTime Time) Stamp { get; }

    public bool TryAcquire()
    {
        while (true)
        {
            var n = Volatile.Read(ref _refs);
            if (n == 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _refs, n + 1, n) == n)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            Index.Dispose();
        }
    }
}

/// <summary>A search's hold on a <see cref="ReaderView"/>; dispose when the search is done.</summary>
internal readonly struct ReaderLease(ReaderView view) : IDisposable
{
    public SemanticIndex Index => view.Index;
    public Searcher Searcher => view.Searcher;
    public void Dispose() => view.Release();
}

/// <summary>An index of the catalog: its current read view and, while there are writes, its writer.</summary>
internal sealed class OpenIndex : IDisposable
{
    private readonly IndexCatalog _catalog;
    private readonly Lock _viewLock = new();
    private readonly SemaphoreSlim _writeQueue = new(1, 1);
    private ReaderView? _view;
    private SemanticIndex? _writer;
    private long _writes; // bumped by every write; an idle close only happens if none came after it was scheduled
    private bool _disposed;
    private volatile bool _deleted;

    public OpenIndex(IndexCatalog catalog, string name, string directory)
    {
        _catalog = catalog;
        Name = name;
        Directory = directory;
    }

    public string Name { get; }
    public string Directory { get; }

    /// <summary>True while this server holds the index's write lock.</summary>
    public bool Writing => Volatile.Read(ref _writer) is not null;

    private static (long, DateTime) StampOf(string directory)
    {
        var info = new FileInfo(Path.Combine(directory, IndexManifest.FileName));
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, default);
    }

    /// <summary>The last published generation for one search; reopened first when the manifest has changed.</summary>
    public ReaderLease Read()
    {
        for (var attempt = 0; ; attempt++)
        {
            var view = CurrentView();
            if (view.TryAcquire())
            {
                return new ReaderLease(view);
            }
            if (attempt > 100)
            {
                throw new IndexBusyException($"index '{Name}' is being reopened; try again.");
            }
        }
    }

    private ReaderView CurrentView()
    {
        var stamp = StampOf(Directory);
        var view = Volatile.Read(ref _view);
        if (view is not null && view.Stamp == stamp)
        {
            return view;
        }
        lock (_viewLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            view = _view;
            stamp = StampOf(Directory);
            if (view is not null && view.Stamp == stamp)
            {
                return view;
            }
            if (stamp.Item1 < 0)
            {
                throw new NotFoundException($"index '{Name}' not found.");
            }
            SemanticIndex opened;
            try
            {
                opened = SemanticIndex.OpenReadOnly(Directory, _catalog.EncoderFor);
            }
            catch (Exception e) when (view is not null && e is not OutOfMemoryException)
            {
                // A newer generation that cannot be opened (yet): keep serving the one we have.
                _catalog.Log?.Invoke($"index '{Name}': keeping generation {view.Index.Manifest.Generation}, the newer one did not open: {e.Message}");
                return view;
            }
            var next = new ReaderView(opened, stamp);
            Volatile.Write(ref _view, next);
            view?.Release();
            return next;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> with this server's writer of the index, after the writes queued before it. Waits
    /// at most the catalog's write-queue timeout for its turn, and opens the writer (taking the write lock) when none
    /// is open; when another process holds the lock, <see cref="IndexBusyException"/> names it. The caller's next
    /// search sees the write: it finds the new manifest and reopens the view (lazily, so a burst of writes without
    /// searches costs one reopen).
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<SemanticIndex, CancellationToken, T> work, bool waitForLock, CancellationToken ct, IReadOnlyList<string>? createWith = null)
    {
        if (!await _writeQueue.WaitAsync(waitForLock ? Timeout.InfiniteTimeSpan : _catalog.WriteQueueTimeout, ct).ConfigureAwait(false))
        {
            throw new IndexBusyException($"index '{Name}' has other writes queued for longer than {_catalog.WriteQueueTimeout.TotalSeconds:0.#} s; try again later.");
        }
        try
        {
            if (_deleted)
            {
                throw new NotFoundException($"index '{Name}' was deleted while this write waited; send it again to write into a new index.");
            }
            ObjectDisposedException.ThrowIf(_disposed, this);
            Interlocked.Increment(ref _writes);
            var writer = _writer ?? await Task.Run(() => OpenWriter(waitForLock, createWith, ct), ct).ConfigureAwait(false);
            Volatile.Write(ref _writer, writer);
            try
            {
                return await Task.Run(() => work(writer, ct), CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                // A failed or cancelled write leaves a half batch: closing the writer rolls it back (I6), and the
                // next write opens a clean one.
                Volatile.Write(ref _writer, null);
                writer.Dispose();
                throw;
            }
        }
        finally
        {
            var stamp = Interlocked.Read(ref _writes);
            _writeQueue.Release();
            _ = CloseWriterWhenIdleAsync(stamp);
        }
    }

    private SemanticIndex OpenWriter(bool waitForLock, IReadOnlyList<string>? createWith, CancellationToken ct)
    {
        var options = new WriterOptions(WriteLockOwner.ServerRole, waitForLock ? Timeout.InfiniteTimeSpan : _catalog.WriteLockWait, _catalog.ServerUrl) { Cancellation = ct };
        try
        {
            return _catalog.OpenWriter(Directory, options, createWith);
        }
        catch (IndexLockedException e)
        {
            var who = e.Holder is { } h ? h.Describe() : "another writer";
            throw new IndexBusyException($"index '{Name}' is being written by another process ({who}); try again when it has finished.", e);
        }
    }

    // The write lock is given back once no write has come for the grace period, so other processes can write.
    private async Task CloseWriterWhenIdleAsync(long stamp)
    {
        try
        {
            await Task.Delay(_catalog.WriterIdleRelease).ConfigureAwait(false);
            if (!await _writeQueue.WaitAsync(0).ConfigureAwait(false))
            {
                return; // a write is running; it schedules its own close
            }
            try
            {
                if (Interlocked.Read(ref _writes) == stamp && _writer is { } writer)
                {
                    Volatile.Write(ref _writer, null);
                    writer.Dispose();
                }
            }
            finally
            {
                _writeQueue.Release();
            }
        }
        catch (ObjectDisposedException)
        {
            // the server stopped meanwhile
        }
    }

    /// <summary>
    /// Deletes the index: moves its directory to <paramref name="tombstone"/> (outside the catalog's names) and then
    /// removes it. Throws <see cref="IndexBusyException"/>, changing nothing, while a write of this server runs or
    /// another process holds the write lock. <paramref name="forget"/> runs once the name is gone, before a queued
    /// write can go on (it then finds the index deleted).
    /// </summary>
    public void Delete(string tombstone, Action forget)
    {
        if (!_writeQueue.Wait(0))
        {
            throw new IndexBusyException($"index '{Name}' is being written; try again when the write has finished.");
        }
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // Our own idle writer holds the write lock: close it, then take the lock as the deletion's own.
            if (Volatile.Read(ref _writer) is { } writer)
            {
                Volatile.Write(ref _writer, null);
                writer.Dispose();
            }
            IndexWriteLock held;
            try
            {
                held = IndexWriteLock.Acquire(Directory, new WriterOptions(WriteLockOwner.ServerRole, TimeSpan.Zero, _catalog.ServerUrl));
            }
            catch (IndexLockedException e)
            {
                var who = e.Holder is { } h ? h.Describe() : "another writer";
                throw new IndexBusyException($"index '{Name}' is being written by another process ({who}); try again when it has finished.", e);
            }
            using (held)
            {
                System.IO.Directory.Move(Directory, tombstone);
            }
            _deleted = true;
            lock (_viewLock)
            {
                _view?.Release(); // searches holding it finish first; the last one closes it
                _view = null;
            }
            forget();
        }
        finally
        {
            _writeQueue.Release();
        }
        try
        {
            System.IO.Directory.Delete(tombstone, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The index is gone from the catalog already; what is left has a name no index can have.
            _catalog.Log?.Invoke($"index '{Name}' deleted, but {Path.GetFileName(tombstone)} could not be removed: {e.Message}");
        }
    }

    /// <summary>Waits (up to 30 s) for a running write, then closes the writer and the view.</summary>
    public void Dispose()
    {
        var entered = _writeQueue.Wait(TimeSpan.FromSeconds(30));
        lock (_viewLock)
        {
            _disposed = true;
            _writer?.Dispose();
            _writer = null;
            _view?.Release();
            _view = null;
        }
        if (entered)
        {
            _writeQueue.Release();
        }
    }
}

/// <summary>Finds, opens and creates indexes under one root directory.</summary>
internal sealed class IndexCatalog : IDisposable
{
    private readonly ConcurrentDictionary<string, OpenIndex> _open = new(StringComparer.Ordinal);
    private readonly IndexSettings _newIndexSettings;

    public IndexCatalog(string root, IndexSettings newIndexSettings, string? newIndexModel = null)
    {
        Root = Path.GetFullPath(root);
        _newIndexSettings = newIndexSettings;
        _newIndexModel = newIndexModel;
    }

    private readonly string? _newIndexModel;
    private readonly ModelResolver _models = new();

    // One encoder per model, shared by every index that uses it (an ONNX Runtime session is thread-safe).
    private readonly ConcurrentDictionary<string, Lazy<ITextEncoder?>> _encoders = new(StringComparer.Ordinal);

    private ITextEncoder? Encoder(string? model)
    {
        var key = model ?? "(default)";
        var lazy = _encoders.GetOrAdd(key, _ => new Lazy<ITextEncoder?>(() => _models.Open(model), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _encoders.TryRemove(new KeyValuePair<string, Lazy<ITextEncoder?>>(key, lazy));
            throw;
        }
    }

    /// <summary>The directory that holds the indexes.</summary>
    public string Root { get; }

    /// <summary>Throws <see cref="InvalidSettingException"/> on a name that could leave the root or is not portable (the engine's one rule).</summary>
    public static void ValidateName(string name) => IndexLocation.ValidateName(name);

    /// <summary>Names of the indexes under the root (directories that hold a manifest), in ordinal order.</summary>
    public IReadOnlyList<string> Names()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }
        return Directory.EnumerateDirectories(Root)
            .Where(d => File.Exists(Path.Combine(d, IndexManifest.FileName)))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(IndexLocation.IsValidName)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The directory of index <paramref name="name"/>.</summary>
    public string DirectoryOf(string name)
    {
        ValidateName(name);
        return Path.Combine(Root, name);
    }

    /// <summary>The open index <paramref name="name"/>; throws <see cref="NotFoundException"/> when it does not exist.</summary>
    public OpenIndex Get(string name)
    {
        var dir = DirectoryOf(name);
        if (!File.Exists(Path.Combine(dir, IndexManifest.FileName)))
        {
            throw new NotFoundException($"index '{name}' not found.");
        }
        return Open(name, dir);
    }

    /// <summary>The open index <paramref name="name"/>, created with the default settings when absent.</summary>
    public OpenIndex GetOrCreate(string name)
    {
        // Creating happens in the writer, under the index's write lock.
        return Open(name, DirectoryOf(name));
    }

    private OpenIndex Open(string name, string dir) => _open.GetOrAdd(name, n => new OpenIndex(this, n, dir));

    /// <summary>
    /// Deletes index <paramref name="name"/> and its files (<see cref="OpenIndex.Delete"/>); throws
    /// <see cref="NotFoundException"/> when it does not exist and <see cref="IndexBusyException"/> while it is written.
    /// </summary>
    public void Delete(string name)
    {
        var open = Get(name);
        // A name starting with '.' is no valid index name: the tombstone is never listed or opened.
        var tombstone = Path.Combine(Root, $".deleted-{name}-{Guid.NewGuid():N}");
        open.Delete(tombstone, () => _open.TryRemove(new KeyValuePair<string, OpenIndex>(name, open)));
    }

    /// <summary>How long a write waits for the writes queued before it (then 409).</summary>
    public TimeSpan WriteQueueTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a request's write waits for another process's write lock (then 409). Folder jobs wait until it is free.</summary>
    public TimeSpan WriteLockWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the writer stays open after the last write before the write lock is given back.</summary>
    public TimeSpan WriterIdleRelease { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The server's address, written into the lock file for other writers' messages.</summary>
    public string? ServerUrl { get; init; }

    /// <summary>Where reopen failures are reported (the server log).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>The encoder of an index's model (from its manifest, in the variant it was built with), for read views and writers.</summary>
    internal ITextEncoder EncoderFor(EncoderInfo info)
    {
        var configured = ModelOf(info.ModelId);
        if (!string.Equals(configured, info.ModelId, StringComparison.Ordinal))
        {
            return Encoder(configured) ?? throw new ModelMismatchException($"model {info.ModelId} is not available to this server.");
        }
        var key = $"{info.ModelId}@{info.Revision}";
        var lazy = _encoders.GetOrAdd(key, _ => new Lazy<ITextEncoder?>(() => _models.OpenRecorded(info), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value ?? throw new ModelMismatchException($"model {info.ModelId} is not available to this server.");
        }
        catch
        {
            _encoders.TryRemove(new KeyValuePair<string, Lazy<ITextEncoder?>>(key, lazy));
            throw;
        }
    }

    // An index this server created with a local model directory (serve --model <dir>[,<dir>]) records the directory's model id
    // (its name), which names no profile: the configured directory is where that model is.
    private string ModelOf(string modelId) =>
        NewIndexModels.FirstOrDefault(configured => Directory.Exists(configured) && Encoder(configured)?.Info.ModelId == modelId) ?? modelId;

    /// <summary>
    /// Opens the writer of the index at <paramref name="dir"/>: an existing one with the model of each of its spaces; a
    /// new one with <paramref name="models"/> (one vector space each, "none" for BM25 only), or else the configured
    /// model(s) (<c>serve --model a,b</c>).
    /// </summary>
    internal SemanticIndex OpenWriter(string dir, WriterOptions writer, IReadOnlyList<string>? models = null)
    {
        var manifestPath = Path.Combine(dir, IndexManifest.FileName);
        List<ITextEncoder> encoders;
        if (File.Exists(manifestPath))
        {
            encoders = IndexManifest.Read(dir).Spaces.Select(s => EncoderFor(s.Model)).ToList();
        }
        else
        {
            var names = models ?? NewIndexModels;
            encoders = names.Count == 0 ? (Encoder(null) is { } fallback ? [fallback] : [])
                : names.Count == 1 && string.Equals(names[0], ModelResolver.NoModel, StringComparison.OrdinalIgnoreCase) ? []
                : names.Select(n => Encoder(n) ?? throw new InvalidSettingException("models", $"'{n}' cannot be one of several models")).ToList();
        }
        return SemanticIndex.OpenOrCreate(dir, _newIndexSettings, encoders, writer);
    }

    /// <summary>The models a new index gets unless its creation names others (empty: the default model).</summary>
    internal IReadOnlyList<string> NewIndexModels =>
        _newIndexModel?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>
    /// Whether a client may create an index with <paramref name="model"/>: a profile of the model catalog, "none", or a
    /// model this server was configured with (never an arbitrary directory of the server's disk).
    /// </summary>
    internal bool MayCreateWith(string model) =>
        string.Equals(model, ModelResolver.NoModel, StringComparison.OrdinalIgnoreCase)
        || NewIndexModels.Contains(model, StringComparer.Ordinal)
        || (!model.Contains('/', StringComparison.Ordinal) && !model.Contains('\\', StringComparison.Ordinal) && _models.Catalog.Find(model) is not null);

    /// <summary>
    /// The model id a space of <paramref name="model"/> records: a profile id is its own; a configured model directory's
    /// is what its (already loaded) encoder reports.
    /// </summary>
    internal string ModelIdOf(string model) => Directory.Exists(model) ? Encoder(model)?.Info.ModelId ?? model : model;


    public void Dispose()
    {
        foreach (var open in _open.Values)
        {
            open.Dispose(); // waits for a running writer to finish its batch, so the last commit is whole
        }
        _open.Clear();
        foreach (var lazy in _encoders.Values)
        {
            if (lazy.IsValueCreated)
            {
                lazy.Value?.Dispose();
            }
        }
        _encoders.Clear();
    }
}
