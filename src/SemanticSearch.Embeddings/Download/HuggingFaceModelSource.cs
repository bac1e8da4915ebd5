using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.Models;

namespace SemanticSearch.Embeddings.Download;

/// <summary>Models on a Hugging Face host (<c>HF_ENDPOINT</c>, else huggingface.co), fetched by <see cref="ModelPuller"/>.</summary>
/// <param name="endpoint">The host; null: <c>HF_ENDPOINT</c>, else huggingface.co.</param>
public sealed class HuggingFaceModelSource(string? endpoint = null) : IModelSource
{
    /// <summary>The host this source asks.</summary>
    public string Endpoint { get; } = endpoint ?? HuggingFaceDownloader.EndpointFromEnvironment();

    /// <inheritdoc />
    public string Kind => "huggingface";

    /// <inheritdoc />
    public IReadOnlyList<ModelProfile> Profiles { get; } = BuiltInProfiles.All.Where(p => p.Source is HuggingFaceSource).ToList();

    /// <inheritdoc />
    public ModelProfile? Fallback => null;

    /// <inheritdoc />
    public IModelFormat Format => OnnxEncoderFormat.Instance;

    /// <inheritdoc />
    public bool Serves(ModelProfile profile) => profile?.Source is HuggingFaceSource;

    /// <inheritdoc />
    public async Task<ModelAvailability> ProbeAsync(ModelProfile profile, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") == "1" || Environment.GetEnvironmentVariable("SEMSEARCH_OFFLINE") == "1")
        {
            return new ModelAvailability(false, "HF_HUB_OFFLINE/SEMSEARCH_OFFLINE is set");
        }
        using var downloader = new HuggingFaceDownloader(Endpoint);
        return await downloader.IsReachableAsync(timeout, cancellationToken).ConfigureAwait(false)
            ? new ModelAvailability(true, $"{Endpoint} answers")
            : new ModelAvailability(false, $"{Endpoint} did not answer within {timeout.TotalSeconds:0} s");
    }

    /// <inheritdoc />
    public async Task PullAsync(ModelProfile profile, string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var downloader = new HuggingFaceDownloader(Endpoint);
        await new ModelPuller(downloader, new ModelCache(Path.GetDirectoryName(Path.GetFullPath(directory))!)).PullIntoAsync(profile, directory, progress, cancellationToken).ConfigureAwait(false);
    }
}
