using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.Models;

/// <summary>A model ready to open: its profile, the directory that holds its files, and the format that opens them.</summary>
/// <param name="Profile">The profile (a registered one, or a local directory's).</param>
/// <param name="Directory">The model directory.</param>
/// <param name="Format">The format of <paramref name="Directory"/>.</param>
public sealed record ResolvedModel(ModelProfile Profile, string Directory, IModelFormat Format)
{
    /// <summary>Opens the encoder; <paramref name="recorded"/> is what an existing index recorded about the model.</summary>
    public ITextEncoder OpenEncoder(EncoderInfo? recorded = null) => Format.OpenEncoder(Profile, Directory, recorded);
}

/// <summary>
/// The known model profiles — those the registered sources ship, plus any the user or a test registers — and the
/// cache they live in. Resolves what a user typed after <c>--model</c>: a profile id, or the path of a local model
/// directory in one of the registered sources' formats. Knows no model and no format by name: the sources do.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelProfile> _profiles = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IModelSource> _sources = [];

    /// <summary>A catalog over <paramref name="cache"/> of the profiles <paramref name="sources"/> ship.</summary>
    /// <param name="cache">Where pulled models live.</param>
    /// <param name="sources">Where models come from, in order of preference for a profile several serve.</param>
    public ModelCatalog(ModelCache cache, IEnumerable<IModelSource> sources)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(sources);
        Cache = cache;
        foreach (var source in sources)
        {
            _sources.Add(source);
            Register(source);
        }
    }

    /// <summary>The model cache this catalog resolves ids against.</summary>
    public ModelCache Cache { get; }

    /// <summary>The registered model sources.</summary>
    public IReadOnlyList<IModelSource> Sources => _sources;

    /// <summary>Every registered profile, in registration order.</summary>
    public IReadOnlyCollection<ModelProfile> Profiles => _profiles.Values;

    /// <summary>The default model's fallback, as the first source that offers one declares it; null when none does.</summary>
    public ModelProfile? Fallback => _sources.Select(s => s.Fallback).FirstOrDefault(p => p is not null);

    /// <summary>The profile that says it is the default model wherever it can be had (<see cref="ModelProfile.Preferred"/>), or null.</summary>
    public ModelProfile? Preferred => _profiles.Values.FirstOrDefault(p => p.Preferred);

    /// <summary>Registers another model source and the profiles it ships; it wins for a profile an earlier source also serves.</summary>
    public void AddSource(IModelSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _sources.Insert(0, source);
        Register(source);
    }

    /// <summary>The source that fetches <paramref name="profile"/>, or null for a local-only profile.</summary>
    public IModelSource? SourceFor(ModelProfile profile) => _sources.FirstOrDefault(s => s.Serves(profile));

    /// <summary>Registers (or replaces) a profile.</summary>
    public void Add(ModelProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _profiles[profile.Id] = profile;
    }

    /// <summary>Reads a user profile file (same schema as the built-ins) and registers it.</summary>
    public ModelProfile AddFile(string path)
    {
        var profile = ModelProfile.LoadFile(path);
        Add(profile);
        return profile;
    }

    /// <summary>The profile with id <paramref name="id"/> (ids compare case-insensitively), or null.</summary>
    public ModelProfile? Find(string id) => _profiles.GetValueOrDefault(id);

    /// <summary>The profile with id <paramref name="id"/>; an unknown id is an error that lists the known ones.</summary>
    public ModelProfile Get(string id) => Find(id)
        ?? throw new NotFoundException($"unknown model '{id}'; known models: {string.Join(", ", _profiles.Keys)} (or give the path of a directory holding {LayoutText()})");

    /// <summary>
    /// The format of <paramref name="profile"/>'s directory: its source's, or for a local-only profile the first
    /// registered format that recognises the folder; null when there is none.
    /// </summary>
    public IModelFormat? FormatFor(ModelProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return SourceFor(profile)?.Format ?? FormatOf(Cache.DirectoryFor(profile.Id));
    }

    /// <summary>Whether the files of <paramref name="profile"/> are in the cache, complete.</summary>
    public bool IsPresent(ModelProfile profile) =>
        FormatFor(profile) is { } format && format.IsModelDirectory(Cache.DirectoryFor(profile.Id));

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
    /// returns the model directory. A source finds a model already in the cache and does not fetch it again.
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

    /// <summary>
    /// Resolves a profile id or a local model directory to something <see cref="ResolvedModel.OpenEncoder"/> can open.
    /// A missing model is one clear error naming the pull command.
    /// </summary>
    public ResolvedModel Resolve(string idOrDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrDirectory);
        if (Find(idOrDirectory) is { } profile)
        {
            var directory = Cache.DirectoryFor(profile.Id);
            if (FormatFor(profile) is not { } format || !format.IsModelDirectory(directory))
            {
                throw NotDownloaded(profile, directory);
            }

            return new ResolvedModel(profile, directory, format);
        }

        if (Directory.Exists(idOrDirectory))
        {
            var directory = Path.GetFullPath(idOrDirectory);
            var format = FormatOf(directory)
                ?? throw new NotFoundException($"{directory}: not a model directory (it needs {LayoutText()})");
            return new ResolvedModel(LocalProfile(directory), directory, format);
        }

        Get(idOrDirectory); // throws the unknown-model message
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// The tokenizer of a profile id (from the cache) or of a directory holding only a format's tokenizer definition
    /// — all <c>models tokenize</c> needs.
    /// </summary>
    public IModelTokenizer OpenTokenizer(string idOrDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrDirectory);
        if (Find(idOrDirectory) is { } profile)
        {
            var directory = Cache.DirectoryFor(profile.Id);
            var format = SourceFor(profile)?.Format ?? _sources.Select(s => s.Format).FirstOrDefault(f => f.HasTokenizer(directory));
            if (format is null || !format.HasTokenizer(directory))
            {
                throw NotDownloaded(profile, directory);
            }

            return format.OpenTokenizer(directory);
        }

        if (Directory.Exists(idOrDirectory))
        {
            var formats = Formats();
            var format = formats.FirstOrDefault(f => f.HasTokenizer(idOrDirectory)) ?? formats.FirstOrDefault()
                ?? throw new NotFoundException($"{Path.GetFullPath(idOrDirectory)}: no model format is registered to read it");
            return format.OpenTokenizer(idOrDirectory); // without a tokenizer file: the format's own error names it
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

    private void Register(IModelSource source)
    {
        foreach (var profile in source.Profiles)
        {
            _profiles.TryAdd(profile.Id, profile);
        }
        if (source.Fallback is { } fallback)
        {
            _profiles.TryAdd(fallback.Id, fallback);
        }
    }

    private List<IModelFormat> Formats()
    {
        var formats = new List<IModelFormat>();
        foreach (var source in _sources)
        {
            if (!formats.Contains(source.Format))
            {
                formats.Add(source.Format);
            }
        }
        return formats;
    }

    private IModelFormat? FormatOf(string directory) => Formats().FirstOrDefault(f => f.IsModelDirectory(directory));

    private string LayoutText()
    {
        var layouts = Formats().Select(f => f.Layout).ToList();
        return layouts.Count == 0 ? "the files of a registered model format" : string.Join("; or ", layouts);
    }

    private static NotFoundException NotDownloaded(ModelProfile profile, string directory) =>
        new($"model '{profile.Id}' is not downloaded (looked in {directory}); run: semsearch models pull {profile.Id}");
}
