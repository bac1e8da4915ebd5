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
        return SemanticIndex.OpenReadOnly(directory, info => (modelOverride is null ? OpenRecorded(resolver, info, ct) : OpenEncoder(resolver, modelOverride, quiet: true, ct))
            ?? throw new Core.ModelMismatchException($"the index needs the model {info.ModelId}"));
    }

    /// <summary>Whether the index at <paramref name="directory"/> was built with an embedding model.</summary>
    public static bool HasModel(string directory) =>
        File.Exists(Path.Combine(directory, IndexManifest.FileName)) && IndexManifest.Read(directory).Model is not null;

    private sealed class Progress(Action<ModelProgress> report) : IProgress<ModelProgress>
    {
        public void Report(ModelProgress value) => report(value);
    }
}
