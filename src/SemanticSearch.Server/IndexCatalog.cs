// One writable SemanticIndex per index name for the life of the server. Searches and writes share that instance:
// Lucene's SearcherManager and LiteDB let readers run beside a writer in-process, and readers see the last commit.
// Writes (document upserts, deletes, folder jobs) are serialised by a per-index SemaphoreSlim, because the stores
// take one writer at a time. Only one *process* can write an index (the index's own write.lock, IndexLockedException),
// so an index held by another process is reported as busy (409) rather than opened read-only behind its back.
using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server;

/// <summary>The index is held by another process (HTTP 409).</summary>
internal sealed class IndexBusyException(string message, Exception inner) : SemanticSearchException(message, inner);

/// <summary>An open index, its searcher and the lock its writers take turns on.</summary>
internal sealed class OpenIndex(string name, SemanticIndex index) : IDisposable
{
    public string Name { get; } = name;
    public SemanticIndex Index { get; } = index;
    public Searcher Searcher { get; } = new(index);
    public SemaphoreSlim WriteLock { get; } = new(1, 1);

    public void Dispose()
    {
        Index.Dispose();
        WriteLock.Dispose();
    }
}

/// <summary>Finds, opens and creates indexes under one root directory.</summary>
internal sealed partial class IndexCatalog : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<OpenIndex>> _open = new(StringComparer.Ordinal);
    private readonly IndexSettings _newIndexSettings;
    private readonly Lock _createLock = new();

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

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    /// <summary>Throws <see cref="InvalidSettingException"/> on a name that could leave the root or is not portable.</summary>
    public static void ValidateName(string name)
    {
        if (!NamePattern().IsMatch(name) || name.Contains(".."))
        {
            throw new InvalidSettingException("name", $"'{Truncate(name)}' is not a valid index name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }
    }

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
            .Where(n => NamePattern().IsMatch(n))
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
        if (!_open.ContainsKey(name) && !File.Exists(Path.Combine(dir, IndexManifest.FileName)))
        {
            throw new NotFoundException($"index '{name}' not found under {Root}.");
        }
        return Open(name, dir);
    }

    /// <summary>The open index <paramref name="name"/>, created with the default settings when absent.</summary>
    public OpenIndex GetOrCreate(string name)
    {
        var dir = DirectoryOf(name);
        lock (_createLock)
        {
            // Creating writes the manifest; two first writers racing on a new name must not both create it.
            return Open(name, dir);
        }
    }

    private OpenIndex Open(string name, string dir)
    {
        var lazy = _open.GetOrAdd(name, n => new Lazy<OpenIndex>(() => OpenCore(n, dir), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed open (busy, damaged) must not stick: the next request tries again.
            _open.TryRemove(new KeyValuePair<string, Lazy<OpenIndex>>(name, lazy));
            throw;
        }
    }

    private OpenIndex OpenCore(string name, string dir)
    {
        try
        {
            // an existing index opens with the model its manifest names; a new one gets the configured model
            var manifestPath = Path.Combine(dir, IndexManifest.FileName);
            var model = File.Exists(manifestPath)
                ? IndexManifest.Read(dir).Model?.ModelId ?? ModelResolver.NoModel
                : _newIndexModel;
            return new OpenIndex(name, SemanticIndex.OpenOrCreate(dir, _newIndexSettings, Encoder(model)));
        }
        catch (Exception e) when (IsLockConflict(e))
        {
            throw new IndexBusyException($"index '{name}' is being written by another process (for example 'semsearch index'); try again when it has finished.", e);
        }
    }

    // The index's write lock throws IndexLockedException; below it Lucene (LockObtainFailedException) and LiteDB (an
    // IOException on its exclusive open) can still refuse. Match on the chain, not on one layer's wrapping.
    private static bool IsLockConflict(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is IndexLockedException || x.GetType().Name == "LockObtainFailedException" || x is IOException and not FileNotFoundException and not DirectoryNotFoundException
                || x.Message.Contains("locked by another", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";

    public void Dispose()
    {
        foreach (var lazy in _open.Values)
        {
            if (lazy.IsValueCreated)
            {
                // Wait for a running writer to finish its batch so the last commit is whole.
                lazy.Value.WriteLock.Wait(TimeSpan.FromSeconds(30));
                lazy.Value.Dispose();
            }
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
