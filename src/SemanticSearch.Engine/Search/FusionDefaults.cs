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

    /// <summary>A profile's fusion as engine options.</summary>
    public static FusionOptions From(ProfileFusion fusion)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        var method = fusion.Method == ProfileFusionMethod.Convex ? FusionMethod.Convex : FusionMethod.Rrf;
        return new FusionOptions(method, fusion.K, fusion.LexicalWeight, fusion.DenseWeight, fusion.Depth);
    }
}
