namespace SemanticSearch.Engine.Search;

/// <summary>
/// The fusion fields one query sets; every field left null keeps the index's value. This is the one override rule of
/// hybrid search: <see cref="Over"/> merges it over the index's fusion (its manifest's) once, field by field, and both
/// hosts only parse into it — the HTTP <c>fusion</c> object (the same shape as a response's <c>fusion</c>) and the
/// CLI's <c>--fusion/--rrf-k/--weights/--depth</c>.
/// </summary>
/// <param name="Method">RRF or convex combination.</param>
/// <param name="K">RRF's rank constant.</param>
/// <param name="LexicalWeight">Weight of the BM25 ranking.</param>
/// <param name="DenseWeight">Weight of the vector ranking.</param>
/// <param name="Depth">Candidates taken from each retriever.</param>
/// <param name="SpaceWeights">Weights of named vector spaces, each merged over the index's weight of that space.</param>
public sealed record FusionOverride(
    FusionMethod? Method = null,
    double? K = null,
    double? LexicalWeight = null,
    double? DenseWeight = null,
    int? Depth = null,
    IReadOnlyDictionary<string, double>? SpaceWeights = null)
{
    /// <summary>True when no field is set: the index's fusion as it is.</summary>
    public bool IsEmpty => Method is null && K is null && LexicalWeight is null && DenseWeight is null && Depth is null && SpaceWeights is null;

    /// <summary>Every field of <paramref name="fusion"/>: an override that reproduces it on any index.</summary>
    public static FusionOverride Of(FusionOptions fusion)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        return new FusionOverride(fusion.Method, fusion.K, fusion.LexicalWeight, fusion.DenseWeight, fusion.Depth, fusion.SpaceWeights);
    }

    /// <summary>
    /// This override over <paramref name="baseline"/> (the index's fusion), field by field, validated: throws
    /// <see cref="Core.InvalidSettingException"/> naming the field (<c>fusion.k</c>) when the result is unusable.
    /// </summary>
    public FusionOptions Over(FusionOptions baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        var merged = new FusionOptions(
            Method ?? baseline.Method,
            K ?? baseline.K,
            LexicalWeight ?? baseline.LexicalWeight,
            DenseWeight ?? baseline.DenseWeight,
            Depth ?? baseline.Depth,
            MergeWeights(baseline.SpaceWeights, SpaceWeights));
        merged.Validate();
        return merged;
    }

    // The override's space weights over the baseline's, name by name (case-insensitively).
    private static Dictionary<string, double>? MergeWeights(IReadOnlyDictionary<string, double>? baseline, IReadOnlyDictionary<string, double>? over)
    {
        if (over is null)
        {
            return baseline?.ToDictionary(StringComparer.OrdinalIgnoreCase);
        }
        var merged = new Dictionary<string, double>(baseline ?? new Dictionary<string, double>(), StringComparer.OrdinalIgnoreCase);
        foreach (var (name, weight) in over)
        {
            merged[name] = weight;
        }
        return merged;
    }
}
