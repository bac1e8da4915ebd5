using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Cli;

/// <summary>Opens indexes and models for commands, showing progress while a model is pulled or converted.</summary>
internal static class ModelLoading
{
    /// <summary>The encoder for <paramref name="model"/> (null = default, "none" = no model), with a progress display.</summary>
    public static ITextEncoder? OpenEncoder(ModelResolver resolver, string? model, bool quiet, CancellationToken ct)
    {
        if (string.Equals(model, ModelResolver.NoModel, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(model))
        {
            var (id, reason) = resolver.DefaultModel();
            if (!quiet)
            {
                Console.Error.WriteLine($"model: {id} — {reason}");
            }
            model = id;
        }
        return new ProgressDisplay().Run($"model {model}", report =>
            resolver.Open(model, new Progress(p => report(p.Stage, p.Done, p.Total ?? 0)), ct));
    }

    /// <summary>
    /// The encoders for <paramref name="models"/>: comma-separated profile ids or model directories, one vector space
    /// each (null = the default model, "none" = no model, an empty list).
    /// </summary>
    public static EncoderSet OpenEncoders(ModelResolver resolver, string? models, bool quiet, CancellationToken ct)
    {
        var names = models?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (names.Length <= 1)
        {
            var one = OpenEncoder(resolver, names.Length == 0 ? null : names[0], quiet, ct);
            return new EncoderSet(one is null ? [] : [one]);
        }
        if (names.Any(n => string.Equals(n, ModelResolver.NoModel, StringComparison.OrdinalIgnoreCase)))
        {
            throw new UsageException("--model", $"'{ModelResolver.NoModel}' cannot be one of several models (got '{models}').");
        }
        var opened = new List<ITextEncoder>();
        try
        {
            foreach (var name in names)
            {
                opened.Add(OpenEncoder(resolver, name, quiet, ct)!);
            }
            return new EncoderSet(opened);
        }
        catch
        {
            opened.ForEach(e => e.Dispose());
            throw;
        }
    }

    /// <summary>
    /// The encoders of every space an existing index records, with a progress display: a space whose model is among
    /// <paramref name="where"/> (model directories or ids, comma-separated: where a model not in the cache is) takes
    /// that one, any other its recorded model.
    /// </summary>
    public static EncoderSet OpenRecordedSpaces(ModelResolver resolver, IndexManifest manifest, CancellationToken ct, string? where = null)
    {
        var opened = new List<ITextEncoder>();
        try
        {
            var given = OpenEncoders(resolver, where ?? ModelResolver.NoModel, quiet: true, ct).Encoders.ToList();
            var single = given.Count == 1 && manifest.Spaces.Count == 1;
            foreach (var space in manifest.Spaces)
            {
                var match = given.FirstOrDefault(e => e.Info.ModelId == space.Model.ModelId) ?? (single ? given[0] : null);
                if (match is not null)
                {
                    given.Remove(match);
                }
                opened.Add(match ?? OpenRecorded(resolver, space.Model, ct) ?? throw new Core.ModelMismatchException($"the index needs the model {space.Model.ModelId}"));
            }
            given.ForEach(e => e.Dispose()); // where a model is; one of no space of this index is not needed
            return new EncoderSet(opened);
        }
        catch
        {
            opened.ForEach(e => e.Dispose());
            throw;
        }
    }

    /// <summary>The encoder an existing index records (its model, in the variant it was built with), with a progress display.</summary>
    public static ITextEncoder? OpenRecorded(ModelResolver resolver, Core.Encoding.EncoderInfo recorded, CancellationToken ct) =>
        new ProgressDisplay().Run($"model {recorded.ModelId}", report =>
            resolver.OpenRecorded(recorded, new Progress(p => report(p.Stage, p.Done, p.Total ?? 0)), ct));

    /// <summary>Opens an index for searching; its model is loaded only when <paramref name="needModel"/>.</summary>
    public static SemanticIndex OpenIndexForSearch(string directory, bool needModel, string? modelOverride, CancellationToken ct)
    {
        if (!needModel)
        {
            return SemanticIndex.OpenReadOnly(directory);
        }
        var resolver = new ModelResolver();
        // --model names where to find models (directories, comma-separated); a space whose model is not among them loads its recorded one
        var given = modelOverride?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        var overrides = given.Select(g => OpenEncoder(resolver, g, quiet: true, ct)!).ToList();
        return SemanticIndex.OpenReadOnly(directory, info => overrides.FirstOrDefault(e => e.Info.ModelId == info.ModelId)
            ?? (overrides.Count == 1 && given.Length == 1 && IndexManifest.Read(directory).Spaces.Count == 1 ? overrides[0] : null)
            ?? OpenRecorded(resolver, info, ct)
            ?? throw new Core.ModelMismatchException($"the index needs the model {info.ModelId}"));
    }

    /// <summary>Whether the index at <paramref name="directory"/> was built with an embedding model.</summary>
    public static bool HasModel(string directory) =>
        File.Exists(Path.Combine(directory, IndexManifest.FileName)) && IndexManifest.Read(directory).Model is not null;

    /// <summary>Encoders opened together and disposed together.</summary>
    internal sealed class EncoderSet(IReadOnlyList<ITextEncoder> encoders) : IDisposable
    {
        public IReadOnlyList<ITextEncoder> Encoders { get; } = encoders;

        public ITextEncoder? First => Encoders.Count > 0 ? Encoders[0] : null;

        public void Dispose()
        {
            foreach (var e in Encoders)
            {
                e.Dispose();
            }
        }
    }

    private sealed class Progress(Action<ModelProgress> report) : IProgress<ModelProgress>
    {
        public void Report(ModelProgress value) => report(value);
    }
}
