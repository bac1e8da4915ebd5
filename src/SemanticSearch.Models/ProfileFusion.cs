using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core;

namespace SemanticSearch.Models;

/// <summary>How a profile's default fusion combines the BM25 and the dense ranking.</summary>
public enum ProfileFusionMethod
{
    /// <summary>Reciprocal rank fusion (<c>"rrf"</c> in profile files).</summary>
    Rrf,

    /// <summary>A weighted sum of normalised scores (<c>"convex"</c> in profile files).</summary>
    Convex,
}

/// <summary>A profile's default fusion of hybrid search (see <c>FusionOptions</c> in the engine).</summary>
/// <param name="Method">RRF or convex combination.</param>
/// <param name="K">RRF's rank constant.</param>
/// <param name="LexicalWeight">Weight of the BM25 ranking.</param>
/// <param name="DenseWeight">Weight of this model's ranking.</param>
/// <param name="Depth">Candidates per retriever; null: the engine's page-size rule.</param>
public sealed record ProfileFusion(ProfileFusionMethod Method, double K, double LexicalWeight, double DenseWeight, int? Depth = null)
{
    /// <summary>The method as profile files write it: <c>rrf</c> or <c>convex</c>.</summary>
    public string MethodName => Method == ProfileFusionMethod.Convex ? "convex" : "rrf";

    internal JsonObject ToJson()
    {
        var f = new JsonObject { ["method"] = MethodName, ["k"] = K, ["lexicalWeight"] = LexicalWeight, ["denseWeight"] = DenseWeight };
        if (Depth is { } depth)
        {
            f["depth"] = depth;
        }
        return f;
    }

    internal static ProfileFusion Parse(JsonElement e, string origin)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException($"{origin}: fusion", "must be an object with method, k, lexicalWeight, denseWeight and optionally depth");
        }
        var name = ProfileJson.OptionalString(e, "method", origin, "fusion.") ?? "rrf";
        var method = name switch
        {
            "rrf" => ProfileFusionMethod.Rrf,
            "convex" => ProfileFusionMethod.Convex,
            _ => throw new InvalidSettingException($"{origin}: fusion.method", $"'{name}' is not one of rrf, convex"),
        };
        double Number(string field, double fallback)
        {
            if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return fallback;
            }
            return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d >= 0 && d <= 10_000
                ? d
                : throw new InvalidSettingException($"{origin}: fusion.{field}", "must be a number from 0 to 10000");
        }
        var depth = ProfileJson.OptionalInt(e, "depth", origin);
        if (depth is < 1 or > 10_000)
        {
            throw new InvalidSettingException($"{origin}: fusion.depth", $"must be from 1 to 10000, was {depth}");
        }
        var fusion = new ProfileFusion(method, Number("k", 60), Number("lexicalWeight", 1), Number("denseWeight", 1), depth);
        if (fusion.LexicalWeight + fusion.DenseWeight <= 0)
        {
            throw new InvalidSettingException($"{origin}: fusion", "lexicalWeight and denseWeight must not both be 0");
        }
        return fusion;
    }
}
