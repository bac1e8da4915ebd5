// A VectorData collection over one engine index. Upserts embed (or take) each record's vector and write its documents
// in one engine commit; searches are the engine's: dense by the query vector, hybrid by BM25 over the chosen full-text
// property fused with the vector ranking (the index's fusion, RRF by default). Engine errors come out as
// VectorStoreException with the collection and operation named; misuse of the abstraction as the argument,
// NotSupported or InvalidOperation exceptions its conformance behaviour expects.
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Core.Filtering;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.VectorData;

/// <summary>
/// A collection of <typeparamref name="TRecord"/> keyed by <typeparamref name="TKey"/> (Guid, string, int or long),
/// stored as the engine index <c>&lt;indexesRoot&gt;/&lt;name&gt;</c>. Get it from <see cref="SemanticSearchVectorStore"/>.
/// </summary>
public class SemanticSearchCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>, IKeywordHybridSearchable<TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly SemanticSearchVectorStore _store;
    private readonly SemanticSearchCollectionOptions _options;
    private readonly CollectionModel _model;
    private readonly RecordMapper _mapper;
    private readonly VectorStoreCollectionMetadata _metadata;

    internal SemanticSearchCollection(SemanticSearchVectorStore store, string name, SemanticSearchCollectionOptions? options, Func<RecordModelBuilder, CollectionModel> build)
    {
        _store = store;
        Name = SemanticSearchVectorStore.CheckName(name);
        _options = options ?? new SemanticSearchCollectionOptions();
        _model = build(new RecordModelBuilder());
        _mapper = new RecordMapper(_model);
        _metadata = new VectorStoreCollectionMetadata { VectorStoreSystemName = SemanticSearchVectorStore.SystemName, VectorStoreName = store.Root, CollectionName = Name };
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <summary>The index folder of this collection.</summary>
    public string Directory => Path.Combine(_store.Root, Name);

    private IEmbeddingGenerator<string, Embedding<float>>? Generator =>
        _mapper.Vector?.EmbeddingGenerator as IEmbeddingGenerator<string, Embedding<float>>;

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(CollectionIndex.Exists(Directory));

    /// <inheritdoc />
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        Run("EnsureCollectionExists", () => _store.Acquire(Name, () => OpenIndex(_store.Options.WriterWait)));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) =>
        _store.EnsureCollectionDeletedAsync(Name, cancellationToken);

    /// <inheritdoc />
    public override Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        var id = _mapper.KeyString(key);
        return Task.FromResult(Run("Get", () =>
        {
            using var lease = ReadLease();
            if (lease.Index is not { } index)
            {
                return null;
            }
            return index.Index.GetDocument(id) is { } doc ? _mapper.ToRecord<TRecord>(id, doc.Metadata, options?.IncludeVectors ?? false) : null;
        }));
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<TRecord> GetAsync(IEnumerable<TKey> keys, RecordRetrievalOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await GetAsync(key, options, cancellationToken).ConfigureAwait(false) is { } record)
            {
                yield return record;
            }
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<TRecord> GetAsync(Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        var where = Translate(filter);
        var records = Run("Get", () =>
        {
            using var lease = ReadLease();
            if (lease.Index is not { } index)
            {
                return [];
            }
            var found = new List<TRecord>();
            foreach (var id in index.Index.DocumentIdsMatching(new SearchFilter { Where = where }))
            {
                if (!id.Contains(RecordMapper.SiblingSeparator, StringComparison.Ordinal) && index.Index.GetDocument(id) is { } doc)
                {
                    found.Add(_mapper.ToRecord<TRecord>(id, doc.Metadata, options.IncludeVectors));
                }
            }
            return found;
        });
        IEnumerable<TRecord> ordered = records;
        if (options.OrderBy is { } orderBy)
        {
            var sorts = orderBy(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values;
            IOrderedEnumerable<TRecord>? sorted = null;
            foreach (var sort in sorts)
            {
                var key = sort.PropertySelector.Compile();
                sorted = sorted is null
                    ? (sort.Ascending ? records.OrderBy(key, OrderComparer.Instance) : records.OrderByDescending(key, OrderComparer.Instance))
                    : (sort.Ascending ? sorted.ThenBy(key, OrderComparer.Instance) : sorted.ThenByDescending(key, OrderComparer.Instance));
            }
            ordered = sorted ?? ordered;
        }
        foreach (var record in ordered.Skip(options.Skip).Take(top))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return record;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default) => DeleteAsync([key], cancellationToken);

    /// <inheritdoc />
    public override async Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ids = keys.Select(k => _mapper.KeyString(k)).ToList();
        if (ids.Count == 0 || !CollectionIndex.Exists(Directory))
        {
            return;
        }
        await WriteAsync("Delete", index =>
        {
            foreach (var id in ids)
            {
                foreach (var doc in _mapper.DocumentIds(id))
                {
                    index.Index.Delete(doc);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default) => UpsertAsync([record], cancellationToken);

    /// <inheritdoc />
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = records.ToList();
        if (list.Count == 0)
        {
            return;
        }
        // Each record once, the last of a key winning, as a batch upsert of one key twice would store it.
        var byKey = new Dictionary<string, TRecord>(StringComparer.Ordinal);
        foreach (var record in list)
        {
            ArgumentNullException.ThrowIfNull(record, nameof(records));
            byKey[_mapper.KeyString(_mapper.KeyOf(record))] = record;
        }
        var now = DateTime.UtcNow;
        await WriteAsync("Upsert", index =>
        {
            var documents = new List<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)>();
            var owners = new List<int>();
            var records = byKey.ToList();
            for (var r = 0; r < records.Count; r++)
            {
                foreach (var doc in _mapper.Documents(records[r].Value, records[r].Key, now))
                {
                    var chunks = index.Index.Chunk(doc);
                    documents.Add((doc, chunks.Count > 0 ? chunks : [new TextChunk(0, 0, 0, string.Empty, 0)]));
                    owners.Add(r);
                }
            }
            if (index.Encoder is null)
            {
                index.Index.Write(documents);
                return;
            }
            var vectors = RecordVectors(index, records.Select(r => r.Value).ToList());
            index.Index.WriteWithVectors(documents, owners.Select(o => vectors[o]).ToList());
        }, cancellationToken).ConfigureAwait(false);
    }

    // One vector per record: the one it brings, or its vector text embedded by the collection's model as a passage.
    private ReadOnlyMemory<float>[] RecordVectors(CollectionIndex index, List<TRecord> records)
    {
        var vectors = new ReadOnlyMemory<float>[records.Count];
        if (_mapper.EmbedsText)
        {
            if (!index.CanEmbedText)
            {
                throw new InvalidOperationException($"collection {Name}: vector '{_mapper.Vector!.ModelName}' is a string to embed, and the collection has no model to embed it with.");
            }
            var texts = records.Select(r => _mapper.TextToEmbed(r)!).ToList();
            var dims = index.Encoder!.Info.Dimensions;
            var block = new float[texts.Count * dims];
            index.Encoder.Encode(texts, TextRole.Passage, block);
            for (var i = 0; i < records.Count; i++)
            {
                vectors[i] = block.AsMemory(i * dims, dims);
            }
            return vectors;
        }
        for (var i = 0; i < records.Count; i++)
        {
            vectors[i] = _mapper.GivenVector(records[i])
                ?? throw new ArgumentException($"record {_mapper.KeyString(_mapper.KeyOf(records[i]))}: vector '{_mapper.Vector!.ModelName}' is not set.", nameof(records));
        }
        return vectors;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        _ = _model.GetVectorPropertyOrSingle(options);
        var where = options.Filter is null ? null : Translate(options.Filter);
        if (_mapper.FullText.Count > 1)
        {
            where = And(where, new MetadataCondition.Equal(RecordMapper.TextFieldKey, _mapper.FullText[0].StorageName));
        }
        var results = Search("Search", searchValue, keywords: null, top, options.Skip, where, options.IncludeVectors, options.ScoreThreshold);
        foreach (var r in results)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return r;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<VectorSearchResult<TRecord>> HybridSearchAsync<TInput>(TInput searchValue, ICollection<string> keywords, int top, HybridSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TInput : notnull
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentNullException.ThrowIfNull(keywords);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new HybridSearchOptions<TRecord>();
        var text = _model.GetFullTextDataPropertyOrSingle(options.AdditionalProperty);
        var where = options.Filter is null ? null : Translate(options.Filter);
        if (_mapper.FullText.Count > 1)
        {
            where = And(where, new MetadataCondition.Equal(RecordMapper.TextFieldKey, text.StorageName));
        }
        var results = Search("HybridSearch", searchValue, keywords, top, options.Skip, where, options.IncludeVectors, options.ScoreThreshold);
        foreach (var r in results)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return r;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private List<VectorSearchResult<TRecord>> Search<TInput>(string operation, TInput searchValue, ICollection<string>? keywords, int top, int skip, MetadataCondition? where, bool includeVectors, double? threshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        if (top > SearchRequest.MaxK || skip > SearchRequest.MaxOffset)
        {
            throw new ArgumentOutOfRangeException(nameof(top), $"top may be at most {SearchRequest.MaxK} and Skip at most {SearchRequest.MaxOffset}.");
        }
        if (_mapper.Vector is null)
        {
            throw new InvalidOperationException($"collection {Name}: its records have no vector property to search by.");
        }
        return Run(operation, () =>
        {
            using var lease = ReadLease();
            if (lease.Index is not { } index)
            {
                return [];
            }
            var vector = QueryVector(index, searchValue);
            var words = keywords is null ? string.Empty : string.Join(' ', keywords.Select(Plain).Where(k => k.Length > 0));
            var request = new SearchRequest(words, K: top, Offset: skip, Mode: words.Length > 0 ? SearchMode.Hybrid : SearchMode.Dense,
                Filter: where is null ? null : new SearchFilter { Where = where })
            {
                QueryVector = vector,
                CollapseDuplicates = false, // two records of equal text are two records
                RelevanceFloor = false,     // the abstraction asks for the top k, near or not
            };
            var response = index.Searcher.Search(request);
            var results = new List<VectorSearchResult<TRecord>>(response.Hits.Count);
            foreach (var hit in response.Hits)
            {
                if (threshold is { } min && hit.Score < min)
                {
                    continue;
                }
                var sep = hit.DocId.IndexOf(RecordMapper.SiblingSeparator, StringComparison.Ordinal);
                var id = sep < 0 ? hit.DocId : hit.DocId[..sep];
                var metadata = sep < 0 ? hit.Metadata : index.Index.GetDocument(id)?.Metadata;
                if (metadata is not null)
                {
                    results.Add(new VectorSearchResult<TRecord>(_mapper.ToRecord<TRecord>(id, metadata, includeVectors), hit.Score));
                }
            }
            return results;
        });
    }

    // Keywords are words, never query syntax: quotes and leading +/- are dropped.
    private static string Plain(string keyword) => keyword.Replace("\"", " ", StringComparison.Ordinal).Trim().TrimStart('+', '-').Trim();

    private ReadOnlyMemory<float> QueryVector<TInput>(CollectionIndex index, TInput searchValue)
    {
        switch (searchValue)
        {
            case ReadOnlyMemory<float> m:
                return m;
            case float[] a:
                return a;
            case Embedding<float> e:
                return e.Vector;
            case string text when index.CanEmbedText:
                var q = new float[index.Encoder!.Info.Dimensions];
                index.Encoder.Encode([text], TextRole.Query, q);
                return q;
            case string text when Generator is { } g:
                // the generator itself: the engine checks the vector's size and normalises it
                return Task.Run(() => g.GenerateVectorAsync(text)).GetAwaiter().GetResult();
            case string:
                throw new InvalidOperationException($"collection {Name}: it has no model to embed a text query with; search with a vector, or configure an EmbeddingGenerator.");
            default:
                throw new NotSupportedException($"collection {Name}: search input of type {typeof(TInput).Name} is not supported (string, ReadOnlyMemory<float>, float[], Embedding<float>).");
        }
    }

    private MetadataCondition Translate(Expression<Func<TRecord, bool>> filter) =>
        new FilterTranslator(RecordMapper.FieldOf).Translate(filter, _model);

    private static MetadataCondition And(MetadataCondition? a, MetadataCondition b) => a is null ? b : new MetadataCondition.All([a, b]);

    // The index to read: this store's own (opening it for writing, without waiting, the first time), or, when another
    // process holds the collection's writer, a read-only snapshot of its last commit for this one call; none when the
    // collection does not exist.
    private ReadLease ReadLease()
    {
        if (!CollectionIndex.Exists(Directory))
        {
            return default;
        }
        try
        {
            return new ReadLease(_store.Acquire(Name, () => OpenIndex(TimeSpan.Zero)), transient: false);
        }
        catch (Engine.Storage.IndexLockedException)
        {
            var encoder = Encoder(Directory);
            try
            {
                return new ReadLease(new CollectionIndex(SemanticIndex.OpenReadOnly(Directory, encoder is null ? null : _ => encoder), encoder), transient: true);
            }
            catch
            {
                encoder?.Dispose();
                throw;
            }
        }
    }

    private async Task WriteAsync(string operation, Action<CollectionIndex> write, CancellationToken cancellationToken)
    {
        var index = Run(operation, () => _store.Acquire(Name, () => OpenIndex(_store.Options.WriterWait)));
        await index.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Run(operation, () =>
            {
                index.Index.BeginBatch();
                try
                {
                    write(index);
                    index.Index.Commit();
                }
                catch
                {
                    index.Index.Abort();
                    _store.Forget(Name, index); // an aborted index takes no more writes: the next one reopens it
                    throw;
                }
                return 0;
            });
        }
        finally
        {
            index.Gate.Release();
        }
    }

    // Opens (or creates) the index for writing, waiting up to `wait` for another process's writer.
    private CollectionIndex OpenIndex(TimeSpan wait)
    {
        var encoder = Encoder(Directory);
        try
        {
            var settings = _store.Options.IndexSettings ?? new IndexSettings();
            var index = SemanticIndex.OpenOrCreate(Directory, settings, encoder, new Engine.Storage.WriterOptions("VectorData collection " + Name, wait));
            return new CollectionIndex(index, encoder);
        }
        catch
        {
            encoder?.Dispose();
            throw;
        }
    }

    // The model the records and the options call for, or the one an existing index records (see docs/vectordata.md).
    private ITextEncoder? Encoder(string directory)
    {
        var vector = _mapper.Vector;
        var generator = Generator;
        var models = _store.Options.Models ?? new Engine.Models.ModelResolver();
        var named = _options.Model ?? _store.Options.Model;
        ITextEncoder? encoder;
        if (CollectionIndex.Exists(directory))
        {
            var recorded = CollectionIndex.RecordedModel(directory);
            encoder = recorded switch
            {
                null when vector is not null => throw new InvalidOperationException($"collection {Name}: its index ({directory}) holds no vectors, and the record type has vector '{vector.ModelName}'."),
                null => null,
                { ModelId: GivenVectorsEncoder.ModelId } => new GivenVectorsEncoder(recorded.Dimensions),
                { ModelId: var id } when id.StartsWith(EmbeddingGeneratorEncoder.ModelIdPrefix, StringComparison.Ordinal) =>
                    generator is null
                        ? throw new InvalidOperationException($"collection {Name}: its index was embedded by {id}; configure that EmbeddingGenerator to open it.")
                        : new EmbeddingGeneratorEncoder(generator, recorded.Dimensions),
                _ => named is not null ? models.Open(named) : models.OpenRecorded(recorded),
            };
        }
        else if (vector is null)
        {
            encoder = null;
        }
        else if (generator is not null)
        {
            encoder = new EmbeddingGeneratorEncoder(generator);
        }
        else if (_mapper.EmbedsText || named is not null)
        {
            encoder = models.Open(named) ?? throw new InvalidSettingException("SemanticSearch:Model", $"'{named}' names no model; vector '{vector.ModelName}' needs one.");
        }
        else
        {
            encoder = new GivenVectorsEncoder(vector.Dimensions);
        }
        if (vector is not null && encoder is not null && vector.Dimensions > 0 && encoder.Info.Dimensions != vector.Dimensions)
        {
            var model = encoder.Info.ModelId;
            encoder.Dispose();
            throw new InvalidOperationException($"collection {Name}: vector '{vector.ModelName}' declares {vector.Dimensions} dimensions, and its model {model} has {encoder.Info.Dimensions}.");
        }
        return encoder;
    }

    private T Run<T>(string operation, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (SemanticSearchException e)
        {
            throw new VectorStoreException($"{operation} on collection {Name}: {e.Message}", e)
            {
                VectorStoreSystemName = SemanticSearchVectorStore.SystemName,
                VectorStoreName = _store.Root,
                CollectionName = Name,
                OperationName = operation,
            };
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    // Orders property values of one type, nulls first, as the abstraction's OrderBy expects.
    private sealed class OrderComparer : IComparer<object?>
    {
        public static readonly OrderComparer Instance = new();

        public int Compare(object? x, object? y) => (x, y) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            (string a, string b) => string.CompareOrdinal(a, b),
            (IComparable a, _) => a.CompareTo(y),
            _ => 0,
        };
    }
}
