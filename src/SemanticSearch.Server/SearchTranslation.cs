using SemanticSearch.Core;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Server;

/// <summary>Turns request bodies into engine requests, checking every field the engine does not check itself.</summary>
internal static class SearchTranslation
{
    /// <summary>The longest document id accepted.</summary>
    public const int MaxIdLength = 512;

    /// <summary>
    /// The engine request for <paramref name="body"/>. An omitted mode means hybrid on an index built with a model and
    /// lexical on one without, so a plain query works on every index; an explicit mode is passed through and the
    /// engine refuses what the index cannot do.
    /// </summary>
    public static SearchRequest ToRequest(SearchBody body, int maxK, bool indexHasModel)
    {
        if (body.Query is null && body.Vector is null)
        {
            throw new InvalidSettingException("query", "is required (or a vector to search by).");
        }
        var k = body.K ?? 10;
        if (k < 1 || k > maxK)
        {
            throw new InvalidSettingException("k", $"must be between 1 and {maxK} (got {k}).");
        }
        var mode = body.Mode switch
        {
            // a vector alone is a dense search; a vector with a query, hybrid (the query ranks BM25, the vector the dense side)
            null when body.Vector is not null => string.IsNullOrEmpty(body.Query) ? SearchMode.Dense : SearchMode.Hybrid,
            null => indexHasModel ? SearchMode.Hybrid : SearchMode.Lexical,
            _ when body.Mode.Equals("hybrid", StringComparison.OrdinalIgnoreCase) => SearchMode.Hybrid,
            _ when body.Mode.Equals("dense", StringComparison.OrdinalIgnoreCase) => SearchMode.Dense,
            _ when body.Mode.Equals("lexical", StringComparison.OrdinalIgnoreCase) => SearchMode.Lexical,
            _ => throw new InvalidSettingException("mode", $"must be hybrid, dense or lexical (got '{Clip(body.Mode)}')."),
        };
        if (body.Spaces is { } spaces && spaces.Any(string.IsNullOrWhiteSpace))
        {
            throw new InvalidSettingException("spaces", "each entry must name a vector space of the index.");
        }
        if (body.Vector is not null)
        {
            CheckVectorMode(mode, body.Query);
        }
        var request = new SearchRequest(body.Query ?? string.Empty, k, body.Offset ?? 0, mode, ToFilter(body.Filter), body.PerChunk ?? false, ToFusion(body.Fusion), body.Spaces)
        {
            CollapseDuplicates = body.CollapseDuplicates ?? true,
            RelevanceFloor = body.RelevanceFloor ?? true,
            Facets = body.Facets ?? false,
            QueryVector = body.Vector is { } vector ? (ReadOnlyMemory<float>?)vector.ToArray() : null, // a null array would convert to an empty vector, not to none
        };
        request.Validate();
        return request;
    }

    // What a vector search may be: dense by the vector alone, or hybrid with a query for BM25; never lexical, and
    // never dense with a query that nothing would rank.
    private static void CheckVectorMode(SearchMode mode, string? query)
    {
        if (mode == SearchMode.Lexical)
        {
            throw new InvalidSettingException("vector", "is for dense and hybrid searches; a lexical search ranks text only (leave the vector out, or the mode).");
        }
        if (mode == SearchMode.Dense && !string.IsNullOrEmpty(query))
        {
            throw new InvalidSettingException("query", "a dense search by vector takes no query (it would be ignored); leave the query out, or ask for mode hybrid to rank it by BM25.");
        }
        if (mode == SearchMode.Hybrid && string.IsNullOrWhiteSpace(query))
        {
            throw new InvalidSettingException("query", "a hybrid search by vector needs a query for BM25; leave the mode out for a dense search by the vector alone.");
        }
    }

    private static SearchFilter? ToFilter(FilterBody? f)
    {
        if (f is null)
        {
            return null;
        }
        if (f.FileTypes is { } types)
        {
            foreach (var t in types)
            {
                if (string.IsNullOrWhiteSpace(t) || t.Length > 32)
                {
                    throw new InvalidSettingException("filter.fileTypes", "each entry must be an extension such as \".pdf\".");
                }
            }
        }
        if (f.PathPrefix is { } prefix && (prefix.Length > MaxPathPrefixLength || prefix.Any(char.IsControl)))
        {
            throw new InvalidSettingException("filter.pathPrefix", $"must be at most {MaxPathPrefixLength} characters without control characters.");
        }
        // ".PDF", "pdf" and ".pdf" all mean the same file type; the index stores lower-case extensions with the dot.
        var normalised = f.FileTypes?.Select(t => (t.StartsWith('.') ? t : "." + t).ToLowerInvariant()).ToList();
        return new SearchFilter(string.IsNullOrEmpty(f.PathPrefix) ? null : f.PathPrefix, normalised,
            f.ModifiedAfter?.ToUniversalTime(), null, f.ModifiedBefore?.ToUniversalTime(), ToMetadata(f.Metadata));
    }

    /// <summary>The longest path prefix accepted.</summary>
    public const int MaxPathPrefixLength = 4096;

    // Per key: one string (that value) or a non-empty array of strings (any of them); anything else names the key.
    private static Dictionary<string, IReadOnlyList<string>>? ToMetadata(IReadOnlyDictionary<string, System.Text.Json.JsonElement>? meta)
    {
        if (meta is null)
        {
            return null;
        }
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, value) in meta)
        {
            if (key.Length is 0 or > 128)
            {
                throw new InvalidSettingException("filter.metadata", "keys must be 1 to 128 characters.");
            }
            var field = $"filter.metadata.{Clip(key)}";
            switch (value.ValueKind)
            {
                case System.Text.Json.JsonValueKind.String:
                    result[key] = [Text(value, field)];
                    break;
                case System.Text.Json.JsonValueKind.Array:
                    var values = new List<string>();
                    foreach (var item in value.EnumerateArray())
                    {
                        if (item.ValueKind != System.Text.Json.JsonValueKind.String)
                        {
                            throw new InvalidSettingException(field, $"each value of the list must be a string (got {item.ValueKind.ToString().ToLowerInvariant()}).");
                        }
                        values.Add(Text(item, field));
                    }
                    if (values.Count == 0)
                    {
                        throw new InvalidSettingException(field, "lists no value; give a string or a non-empty array of strings.");
                    }
                    result[key] = values;
                    break;
                default:
                    throw new InvalidSettingException(field, $"must be a string or an array of strings (got {value.ValueKind.ToString().ToLowerInvariant()}).");
            }
        }
        return result;
    }

    // Parsing only: the fields are merged over the index's fusion, and checked, by the engine (FusionOverride.Over).
    private static FusionOverride? ToFusion(FusionBody? f)
    {
        if (f is null)
        {
            return null;
        }
        var method = f.Method switch
        {
            null => (FusionMethod?)null,
            _ when f.Method.Equals("rrf", StringComparison.OrdinalIgnoreCase) => FusionMethod.Rrf,
            _ when f.Method.Equals("convex", StringComparison.OrdinalIgnoreCase) => FusionMethod.Convex,
            _ => throw new InvalidSettingException("fusion.method", $"must be rrf or convex (got '{Clip(f.Method)}')."),
        };
        if (f.Weights is not null && (f.LexicalWeight is not null || f.DenseWeight is not null))
        {
            throw new InvalidSettingException("fusion.weights", "give lexicalWeight/denseWeight or the older weights: {lexical, dense}, not both.");
        }
        return new FusionOverride(method, f.K, f.LexicalWeight ?? f.Weights?.Lexical, f.DenseWeight ?? f.Weights?.Dense, f.Depth, f.SpaceWeights);
    }

    /// <summary>The documents of an upsert, each checked; throws naming the first bad field (<c>documents[3].id</c>).</summary>
    public static IReadOnlyList<DocumentBody> ValidateDocuments(DocumentsBody body, int maxDocuments)
    {
        if (body.Documents is null)
        {
            throw new InvalidSettingException("documents", "is required: an array of {id, title, text, metadata}.");
        }
        if (body.Documents.Count == 0)
        {
            throw new InvalidSettingException("documents", "must hold at least one document.");
        }
        if (body.Documents.Count > maxDocuments)
        {
            throw new InvalidSettingException("documents", $"holds {body.Documents.Count} documents; the limit per request is {maxDocuments}.");
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<DocumentBody>(body.Documents.Count);
        for (var i = 0; i < body.Documents.Count; i++)
        {
            var d = body.Documents[i] ?? throw new InvalidSettingException($"documents[{i}]", "must be an object.");
            if (string.IsNullOrWhiteSpace(d.Id))
            {
                throw new InvalidSettingException($"documents[{i}].id", "is required.");
            }
            if (d.Id.Length > MaxIdLength || d.Id.Any(char.IsControl))
            {
                throw new InvalidSettingException($"documents[{i}].id", $"must be at most {MaxIdLength} characters without control characters.");
            }
            if (!ids.Add(d.Id))
            {
                throw new InvalidSettingException($"documents[{i}].id", $"'{Clip(d.Id)}' appears twice in this request.");
            }
            if (d.Text is null)
            {
                throw new InvalidSettingException($"documents[{i}].text", "is required.");
            }
            if (d.Metadata is { } meta && meta.Any(kv => kv.Key.Length is 0 or > 128 || kv.Value is null))
            {
                throw new InvalidSettingException($"documents[{i}].metadata", "keys must be 1 to 128 characters and values strings.");
            }
            if (d.Metadata is { } reserved && reserved.Keys.FirstOrDefault(k => k.StartsWith('$')) is { } stored)
            {
                // '$' keys are stored but never indexed (the VectorData provider's record payload): a filter could not find them
                throw new InvalidSettingException($"documents[{i}].metadata", $"key '{Clip(stored)}' starts with '$', which is reserved for stored-only data.");
            }
            result.Add(d);
        }
        return result;
    }

    // A JSON string's text; one that holds a lone surrogate has none and is refused naming the field.
    private static string Text(System.Text.Json.JsonElement value, string field)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new InvalidSettingException(field, "holds a string that is not valid Unicode (a lone surrogate).");
        }
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
