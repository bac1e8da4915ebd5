using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Models;
using SemanticSearch.Models;

namespace SemanticSearch.Engine.Search;

/// <summary>
/// The default fusion for an index of a given model: what the model's profile in the catalog ships (each source
/// declares its models' tuned fusion; see docs/eval), else reciprocal rank fusion with k = 60 and equal weights, the
/// setting of the RRF paper that strong encoders do well with.
/// </summary>
public static class FusionDefaults
{
    /// <summary>The default for <paramref name="model"/>, looked up in <paramref name="catalog"/> (null: the default catalog).</summary>
    public static FusionOptions For(EncoderInfo model, ModelCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var profile = (catalog ?? DefaultModelCatalog.Instance).Find(model.ModelId);
        return profile?.Fusion is { } f ? From(f) : new FusionOptions();
    }

    /// <summary>
    /// The default for an index with the vector spaces <paramref name="spaces"/> (name and model, in order): one space
    /// takes its model's default; several take <see cref="SeveralSpaces"/>; none (lexical only) has no fusion.
    /// </summary>
    public static FusionOptions? For(IReadOnlyList<(string Name, EncoderInfo Model)> spaces, ModelCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(spaces);
        return spaces.Count switch
        {
            0 => null,
            1 => For(spaces[0].Model, catalog),
            _ => SeveralSpaces,
        };
    }

    /// <summary>
    /// The default of an index with several vector spaces: reciprocal rank fusion of BM25 and every space, equal weights,
    /// rank constant 10, 100 candidates from each. Chosen on the train splits of SciFact and NFCorpus (docs/eval/spaces.md);
    /// a model profile's own fusion was tuned for it beside BM25 alone, so none of them speaks for the set.
    /// </summary>
    public static FusionOptions SeveralSpaces { get; } = new(FusionMethod.Rrf, 10, 1, 1, 100);

    /// <summary>A profile's fusion as engine options.</summary>
    public static FusionOptions From(ProfileFusion fusion)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        var method = fusion.Method == ProfileFusionMethod.Convex ? FusionMethod.Convex : FusionMethod.Rrf;
        return new FusionOptions(method, fusion.K, fusion.LexicalWeight, fusion.DenseWeight, fusion.Depth);
    }
}
