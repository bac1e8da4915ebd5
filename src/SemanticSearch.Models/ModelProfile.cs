using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.Models;

/// <summary>How token states become one sentence vector.</summary>
public enum PoolingMode
{
    /// <summary>Average of the token states, weighted by the attention mask (E5, GTE, MiniLM).</summary>
    Mean,

    /// <summary>The state of the first token, [CLS] (BGE).</summary>
    Cls,

    /// <summary>The graph already outputs the sentence vector <c>[batch, dim]</c>.</summary>
    Graph,
}

/// <summary>How a model's weights are run.</summary>
public enum ModelPrecision
{
    /// <summary>The published float graph.</summary>
    Float32,

    /// <summary>
    /// The published graph with its weight products rewritten to dynamic int8 (per-column int8 weights, activations
    /// quantised at run time), derived once on this machine; its vectors are recorded under their own revision.
    /// </summary>
    Int8,
}

/// <summary>
/// Everything the engine needs to know about an embedding model, as data: where to fetch it, how to tokenize,
/// pool and normalise, which prefixes each role gets, and its licence. Built-in profiles ship as an embedded
/// <c>profiles.json</c>; users add their own with a JSON file of the same schema.
/// </summary>
public sealed record ModelProfile
{
    /// <summary>Name of the profile file a local model directory may carry.</summary>
    public const string LocalFileName = "semsearch-profile.json";

    /// <summary>Profile id, used on the command line and recorded in index manifests.</summary>
    public required string Id { get; init; }

    /// <summary>One line for <c>models list</c>.</summary>
    public string Description { get; init; } = "";

    /// <summary>Where the files come from; null for a model that only exists locally.</summary>
    public ModelSource? Source { get; init; }

    /// <summary>Output vector length; 0 means "read it from the graph" (local models without a profile).</summary>
    public int Dimensions { get; init; }

    /// <summary>Pooling over token states.</summary>
    public PoolingMode Pooling { get; init; } = PoolingMode.Mean;

    /// <summary>Whether vectors are L2-normalised (the engine's similarity is a dot product, so this should be true).</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Prepended to every query.</summary>
    public string QueryPrefix { get; init; } = "";

    /// <summary>Prepended to every indexed passage.</summary>
    public string PassagePrefix { get; init; } = "";

    /// <summary>The most tokens the model takes, prefix and special tokens included.</summary>
    public int MaxTokens { get; init; } = 512;

    /// <summary>Licence of the weights.</summary>
    public string Licence { get; init; } = "unknown";

    /// <summary>
    /// How hybrid search should fuse BM25 with this model's ranking by default; null means reciprocal rank fusion with
    /// k = 60 and equal weights. Recorded in the manifest of every index built with the model.
    /// </summary>
    public ProfileFusion? Fusion { get; init; }

    /// <summary>Graph output to read; null: <c>last_hidden_state</c> when pooling here, else the first output.</summary>
    public string? Output { get; init; }

    /// <summary>
    /// The model a new index gets when none is asked for, wherever it can be had (at most one built-in profile says so;
    /// see the default-model policy).
    /// </summary>
    public bool Preferred { get; init; }

    /// <summary>How new indexes run the model (JSON <c>precision</c>: <c>float32</c> or <c>int8</c>); an existing index
    /// keeps the precision its manifest's revision records.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Float32;

    /// <summary>The revision of the published files, recorded in index manifests (a precision may add a suffix).</summary>
    public string Revision => Source?.Revision ?? "local";

    /// <summary>The lower-case pooling name recorded in manifests (<c>mean</c>, <c>cls</c>, <c>graph</c>).</summary>
    public string PoolingName => Pooling.ToString().ToLowerInvariant();

    /// <summary>What an index records about this model.</summary>
    public EncoderInfo ToEncoderInfo(int dimensions) =>
        new(Id, Revision, dimensions, PoolingName, QueryPrefix, PassagePrefix, MaxTokens);

    /// <summary>The prefix for <paramref name="role"/>.</summary>
    public string PrefixFor(TextRole role) => role == TextRole.Query ? QueryPrefix : PassagePrefix;

    /// <summary>Reads and validates a profile file; errors name the file and the field.</summary>
    public static ModelProfile LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new NotFoundException($"{path}: cannot read the model profile ({e.Message})");
        }

        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return Parse(document.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Validates one profile object; <paramref name="origin"/> (a file name) prefixes every error.</summary>
    public static ModelProfile Parse(JsonElement element, string origin)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException(origin, "a model profile must be a JSON object");
        }

        var id = ProfileJson.RequiredString(element, "id", origin);
        if (id.Length == 0 || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id is "." or "..")
        {
            throw new InvalidSettingException($"{origin}: id", $"'{id}' is not usable as a model id (it names the cache folder)");
        }

        ModelSource? source = null;
        if (element.TryGetProperty("source", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            source = ProfileSourceJson.Parse(s, origin);
        }

        var poolingName = ProfileJson.OptionalString(element, "pooling", origin) ?? "mean";
        var pooling = poolingName switch
        {
            "mean" => PoolingMode.Mean,
            "cls" => PoolingMode.Cls,
            "graph" => PoolingMode.Graph,
            _ => throw new InvalidSettingException($"{origin}: pooling", $"'{poolingName}' is not one of mean, cls, graph"),
        };

        var dimensions = ProfileJson.OptionalInt(element, "dimensions", origin) ?? 0;
        if (dimensions < 0 || (source is not null && dimensions == 0))
        {
            throw new InvalidSettingException($"{origin}: dimensions", $"must be a positive integer, was {dimensions}");
        }

        var maxTokens = ProfileJson.OptionalInt(element, "maxTokens", origin) ?? 512;
        if (maxTokens < 3)
        {
            throw new InvalidSettingException($"{origin}: maxTokens", $"must be at least 3, was {maxTokens}");
        }

        bool normalize = true;
        if (element.TryGetProperty("normalize", out var n))
        {
            normalize = n.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new InvalidSettingException($"{origin}: normalize", "must be true or false"),
            };
        }

        ProfileFusion? fusion = null;
        if (element.TryGetProperty("fusion", out var fu) && fu.ValueKind != JsonValueKind.Null)
        {
            fusion = ProfileFusion.Parse(fu, origin);
        }

        var precisionName = ProfileJson.OptionalString(element, "precision", origin) ?? "float32";
        var precision = precisionName switch
        {
            "float32" => ModelPrecision.Float32,
            "int8" => ModelPrecision.Int8,
            _ => throw new InvalidSettingException($"{origin}: precision", $"'{precisionName}' is not one of float32, int8"),
        };
        var preferred = false;
        if (element.TryGetProperty("preferred", out var pr))
        {
            preferred = pr.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new InvalidSettingException($"{origin}: preferred", "must be true or false"),
            };
        }

        return new ModelProfile
        {
            Id = id,
            Fusion = fusion,
            Precision = precision,
            Preferred = preferred,
            Description = ProfileJson.OptionalString(element, "description", origin) ?? "",
            Source = source,
            Dimensions = dimensions,
            Pooling = pooling,
            Normalize = normalize,
            QueryPrefix = ProfileJson.OptionalString(element, "queryPrefix", origin) ?? "",
            PassagePrefix = ProfileJson.OptionalString(element, "passagePrefix", origin) ?? "",
            MaxTokens = maxTokens,
            Licence = ProfileJson.OptionalString(element, "licence", origin) ?? "unknown",
            Output = ProfileJson.OptionalString(element, "output", origin),
        };
    }

    /// <summary>The profile in the file schema (what <c>models info</c> prints and a model directory stores).</summary>
    public string ToJson()
    {
        var node = new JsonObject
        {
            ["id"] = Id,
            ["description"] = Description,
        };
        if (Source is not null)
        {
            node["source"] = ProfileSourceJson.ToJson(Source);
        }

        node["dimensions"] = Dimensions;
        node["pooling"] = PoolingName;
        node["normalize"] = Normalize;
        node["queryPrefix"] = QueryPrefix;
        node["passagePrefix"] = PassagePrefix;
        node["maxTokens"] = MaxTokens;
        node["licence"] = Licence;
        ProfileJson.AddIf(node, "output", Output);
        if (Precision != ModelPrecision.Float32)
        {
            node["precision"] = "int8";
        }
        if (Preferred)
        {
            node["preferred"] = true;
        }
        if (Fusion is { } fusion)
        {
            node["fusion"] = fusion.ToJson();
        }
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
