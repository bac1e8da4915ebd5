using SemanticSearch.Core.Encoding;
using SemanticSearch.Core;
using SemanticSearch.Models;

namespace SemanticSearch.Engine.Models;

/// <summary>Progress of getting a model ready: a stage and bytes (or steps) done out of a total when known.</summary>
public sealed record ModelProgress(string Stage, long Done, long? Total);

/// <summary>One row of <c>models list</c>.</summary>
/// <param name="Id">Profile id.</param>
/// <param name="Dimensions">Vector length.</param>
/// <param name="Pooling">Pooling name as manifests record it.</param>
/// <param name="MaxTokens">Tokens the model reads.</param>
/// <param name="Present">Whether the model is in the cache, complete.</param>
/// <param name="Source">Where it comes from, in one line (<c>local</c> for none).</param>
/// <param name="Licence">Licence of the weights.</param>
public sealed record ModelListing(string Id, int Dimensions, string Pooling, int MaxTokens, bool Present, string Source, string Licence);

/// <summary>
/// Turns what a user asked for (<c>--model</c>, or nothing) into a ready <see cref="ITextEncoder"/>: a profile id of
/// the catalog (pulled through its source when absent), a local model directory, or the default-model policy's
/// choice. Everything the hosts' model commands need goes through here; no host opens a model component itself.
/// </summary>
public sealed class ModelResolver
{
    /// <summary>The value of <c>--model</c> that means "no embedding model, BM25 only".</summary>
    public const string NoModel = "none";

    /// <summary>How long the default-model policy waits for the preferred model's source.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly ModelCatalog _catalog;
    private readonly Lazy<(string ModelId, string Reason)> _default;

    /// <summary>A resolver over the cache at <c>SEMSEARCH_MODELS</c> (or the user's cache directory) and the default sources.</summary>
    public ModelResolver()
        : this(DefaultModelCatalog.Create(ModelCache.FromEnvironment()))
    {
    }

    /// <summary>A resolver over a given catalog (tests point it at a temporary cache and local sources).</summary>
    public ModelResolver(ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _default = new Lazy<(string, string)>(ChooseDefault);
    }

    /// <summary>The model catalog (profiles, sources and the cache).</summary>
    public ModelCatalog Catalog => _catalog;

    /// <summary>The folder of the model cache.</summary>
    public string CacheRoot => _catalog.Cache.Root;

    /// <summary>
    /// The model used when none is configured, and why: the catalog's preferred profile when it is cached or its
    /// source has it (the global packages folder counts, without any network); only when no source answers, the
    /// catalog's fallback (a source declares it), with a reason naming the preferred model. Asked once per resolver;
    /// no other host is probed.
    /// </summary>
    public (string ModelId, string Reason) DefaultModel() => _default.Value;

    private (string ModelId, string Reason) ChooseDefault()
    {
        var fallback = _catalog.Fallback;
        if (_catalog.Preferred is not { } preferred)
        {
            return fallback is null
                ? throw new NotFoundException("no model profile is marked preferred and no source offers a fallback; name one with --model")
                : (fallback.Id, "no profile is marked as the preferred model");
        }
        var id = preferred.Id;
        var availability = _catalog.ProbeAsync(preferred, ProbeTimeout).GetAwaiter().GetResult();
        if (availability.Available)
        {
            return (id, _catalog.IsPresent(preferred) ? availability.Reason : $"{availability.Reason}: it is fetched on first use");
        }
        var advice = $"get it with 'semsearch models pull {id}' where its source is reachable ({preferred.Source?.Describe() ?? "local"})";
        return fallback is null
            ? (id, $"{id} is not cached and {availability.Reason}, and no source offers a fallback; {advice}")
            : (fallback.Id, $"the offline fallback: {id} (the preferred model, far stronger) is not cached and {availability.Reason}; {advice}");
    }

    /// <summary>
    /// The encoder for <paramref name="model"/> (an id, a directory, <see cref="NoModel"/>, or null for the default).
    /// Returns null for <see cref="NoModel"/>.
    /// </summary>
    public ITextEncoder? Open(string? model, IProgress<ModelProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (string.Equals(model, NoModel, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var id = string.IsNullOrWhiteSpace(model) ? DefaultModel().ModelId : model;
        return Resolve(id, progress, cancellationToken).OpenEncoder();
    }

    /// <summary>
    /// The encoder an existing index records (<paramref name="recorded"/>): its model, in the variant its revision
    /// names, so an index keeps being embedded the way it was built.
    /// </summary>
    public ITextEncoder? OpenRecorded(EncoderInfo recorded, IProgress<ModelProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        return Resolve(recorded.ModelId, progress, cancellationToken).OpenEncoder(recorded);
    }

    /// <summary>Downloads a profile's files into the cache through its source; returns the model directory.</summary>
    public string Pull(string id, IProgress<ModelProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var profile = _catalog.Get(id);
        return _catalog.PullAsync(profile,
            progress is null ? null : new ForwardProgress<DownloadProgress>(p => progress.Report(new ModelProgress(p.File, p.BytesReceived, p.TotalBytes))),
            cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Every profile of the catalog for <c>models list</c>: the fallback model first (the one that is always there
    /// to be had), then the others by id.
    /// </summary>
    public IReadOnlyList<ModelListing> List()
    {
        var fallback = _catalog.Fallback?.Id;
        return _catalog.Profiles
            .OrderBy(p => string.Equals(p.Id, fallback, StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .Select(p => new ModelListing(p.Id, p.Dimensions, p.PoolingName, p.MaxTokens, _catalog.IsPresent(p), p.Source?.Describe() ?? "local", p.Licence))
            .ToList();
    }

    /// <summary>The profile of <paramref name="id"/> in the profile-file schema (<c>models info</c>).</summary>
    public string Describe(string id) => _catalog.Get(id).ToJson();

    /// <summary>
    /// The token ids the tokenizer of <paramref name="idOrDirectory"/> (a cached profile, or a directory holding a
    /// tokenizer definition) gives <paramref name="text"/>, special tokens included, at most <paramref name="maxTokens"/>.
    /// </summary>
    public int[] Tokenize(string idOrDirectory, string text, int maxTokens) =>
        _catalog.OpenTokenizer(idOrDirectory).Encode(text, maxTokens);

    private ResolvedModel Resolve(string id, IProgress<ModelProgress>? progress, CancellationToken cancellationToken)
    {
        if (_catalog.Find(id) is { } profile && !_catalog.IsPresent(profile))
        {
            Pull(profile.Id, progress, cancellationToken);
        }
        return _catalog.Resolve(id);
    }

    private sealed class ForwardProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
