using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.VectorData;
using SemanticSearch.Core;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.VectorData;

/// <summary>
/// A VectorData store over SemanticSearch: every collection is an engine index folder under one root (HNSW vectors,
/// BM25, metadata, committed together), searched in process by vector or hybrid. Collections are created with the
/// engine's default model (or <see cref="SemanticSearchVectorStoreOptions.Model"/>, or an embedding generator) when
/// their records embed text, and keep the vectors records bring otherwise.
/// </summary>
public sealed class SemanticSearchVectorStore : VectorStore
{
    /// <summary>The <see cref="VectorStoreMetadata.VectorStoreSystemName"/> of this provider.</summary>
    public const string SystemName = "semanticsearch";

    private readonly Dictionary<string, CollectionIndex> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly VectorStoreMetadata _metadata;
    private bool _disposed;

    /// <summary>A store whose collections live under <paramref name="indexesRoot"/> (created when missing), with default options.</summary>
    public SemanticSearchVectorStore(string indexesRoot)
        : this(indexesRoot, null)
    {
    }

    /// <summary>A store whose collections live under <paramref name="indexesRoot"/>, created and opened as <paramref name="options"/> say.</summary>
    /// <exception cref="InvalidSettingException">A setting is unusable; the message names it.</exception>
    public SemanticSearchVectorStore(string indexesRoot, SemanticSearchVectorStoreOptions? options)
    {
        SemanticSearchVectorStoreOptions.ValidateRoot(indexesRoot);
        Options = options ?? new SemanticSearchVectorStoreOptions();
        Options.Validate();
        Root = Path.GetFullPath(indexesRoot);
        System.IO.Directory.CreateDirectory(Root);
        _metadata = new VectorStoreMetadata { VectorStoreSystemName = SystemName, VectorStoreName = Root };
    }

    /// <summary>The folder holding the collections.</summary>
    public string Root { get; }

    internal SemanticSearchVectorStoreOptions Options { get; }

    /// <inheritdoc />
    [RequiresDynamicCode("The POCO record mapping reads the record type by reflection; use GetDynamicCollection where that is not possible.")]
    [RequiresUnreferencedCode("The POCO record mapping reads the record type by reflection; use GetDynamicCollection where that is not possible.")]
    public override SemanticSearchCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null) =>
        GetCollection<TKey, TRecord>(name, new SemanticSearchCollectionOptions { Definition = definition });

    /// <summary>As <see cref="GetCollection{TKey, TRecord}(string, VectorStoreCollectionDefinition?)"/>, with the collection's own options.</summary>
    [RequiresDynamicCode("The POCO record mapping reads the record type by reflection; use GetDynamicCollection where that is not possible.")]
    [RequiresUnreferencedCode("The POCO record mapping reads the record type by reflection; use GetDynamicCollection where that is not possible.")]
    public SemanticSearchCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, SemanticSearchCollectionOptions options)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(options);
        if (typeof(TRecord) == typeof(Dictionary<string, object?>))
        {
            throw new NotSupportedException("Dictionary<string, object?> records are dynamic: use GetDynamicCollection.");
        }
        var generator = options.EmbeddingGenerator ?? Options.EmbeddingGenerator;
        return new SemanticSearchCollection<TKey, TRecord>(this, name, options, b => b.Build(typeof(TRecord), typeof(TKey), options.Definition, generator));
    }

    /// <inheritdoc />
    public override SemanticSearchCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition) =>
        GetDynamicCollection(name, new SemanticSearchCollectionOptions { Definition = definition });

    /// <summary>As <see cref="GetDynamicCollection(string, VectorStoreCollectionDefinition)"/>, with the collection's own options (its <c>Definition</c> is required).</summary>
    public SemanticSearchCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, SemanticSearchCollectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var definition = options.Definition ?? throw new ArgumentException("a dynamic collection needs a VectorStoreCollectionDefinition.", nameof(options));
        var generator = options.EmbeddingGenerator ?? definition.EmbeddingGenerator ?? Options.EmbeddingGenerator;
        return new SemanticSearchCollection<object, Dictionary<string, object?>>(this, name, options, b => b.BuildDynamic(definition, generator));
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.Exists(Path.Combine(dir, IndexManifest.FileName)))
            {
                yield return Path.GetFileName(dir);
            }
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(CollectionIndex.Exists(Path.Combine(Root, CheckName(name))));

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        var directory = Path.Combine(Root, CheckName(name));
        lock (_gate)
        {
            if (_open.Remove(name, out var index))
            {
                index.Gate.Wait(cancellationToken); // a write in progress finishes first
                index.Dispose();
            }
        }
        if (System.IO.Directory.Exists(directory))
        {
            // the manifest first: from then on the folder is not a collection, whatever a crash leaves of the rest
            File.Delete(Path.Combine(directory, IndexManifest.FileName));
            System.IO.Directory.Delete(directory, recursive: true);
        }
        return Task.CompletedTask;
    }

    /// <summary>The open index of collection <paramref name="name"/>, opening (or creating) it with <paramref name="open"/> the first time.</summary>
    internal CollectionIndex Acquire(string name, Func<CollectionIndex> open)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_open.TryGetValue(name, out var index))
            {
                _open[name] = index = open();
            }
            return index;
        }
    }

    /// <summary>Closes <paramref name="index"/> (an aborted writer) so that the next use reopens the collection.</summary>
    internal void Forget(string name, CollectionIndex index)
    {
        lock (_gate)
        {
            if (_open.TryGetValue(name, out var current) && ReferenceEquals(current, index))
            {
                _open.Remove(name);
            }
        }
        index.Index.Dispose();
        index.Encoder?.Dispose();
    }

    /// <summary>A collection name is one folder name: 1 to 128 letters, digits, '-', '_' or '.', not starting with '.'.</summary>
    internal static string CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > 128 || name[0] == '.' || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"collection name '{name}': must be 1 to 128 ASCII letters, digits, '-', '_' or '.', not starting with '.'.", nameof(name));
        }
        return name;
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate)
            {
                _disposed = true;
                foreach (var index in _open.Values)
                {
                    index.Dispose();
                }
                _open.Clear();
            }
        }
        base.Dispose(disposing);
    }
}
