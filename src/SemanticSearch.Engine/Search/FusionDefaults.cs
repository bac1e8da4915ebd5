using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Models;
using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.UseLite;

namespace SemanticSearch.Engine.Search;

/// <summary>
/// The default fusion for an index of a given model: what the model's profile ships (built-in profiles, and use-lite's
/// own, which was tuned on SciFact's train split — see docs/eval/use-lite-fusion.md), else reciprocal rank fusion with
/// k = 60 and equal weights, the setting of the RRF paper that strong encoders do well with.
/// </summary>
public static class FusionDefaults
{
    /// <summary>The default for <paramref name="model"/>.</summary>
    public static FusionOptions For(EncoderInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var profile = string.Equals(model.ModelId, UseLiteModel.ModelId, StringComparison.OrdinalIgnoreCase)
            ? UseLiteModel.Profile
            : ModelCatalog.BuiltInProfiles.FirstOrDefault(p => string.Equals(p.Id, model.ModelId, StringComparison.OrdinalIgnoreCase));
        return profile?.Fusion is { } f ? From(f) : new FusionOptions();
    }

    /// <summary>A profile's fusion as engine options.</summary>
    public static FusionOptions From(ProfileFusion fusion)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        var method = fusion.Method == "convex" ? FusionMethod.Convex : FusionMethod.Rrf;
        return new FusionOptions(method, fusion.K, fusion.LexicalWeight, fusion.DenseWeight, fusion.Depth);
    }
}
