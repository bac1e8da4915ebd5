using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core;

namespace SemanticSearch.Onnx.Bert;

/// <summary>
/// The architecture fields of a Hugging Face BertModel <c>config.json</c> that decide the encoder graph.
/// Field names follow the JSON keys (vocab_size, hidden_size, ...).
/// </summary>
public sealed record BertConfig
{
    /// <summary>Activations the converter can write: exact erf GELU, the tanh approximation, ReLU and SiLU.</summary>
    public static IReadOnlyList<string> SupportedActivations { get; } = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish"];

    /// <summary>Word-piece vocabulary size (rows of the word embedding).</summary>
    public required int VocabSize { get; init; }
    /// <summary>Hidden size (embedding dimension).</summary>
    public required int HiddenSize { get; init; }
    /// <summary>Number of transformer layers.</summary>
    public required int NumHiddenLayers { get; init; }
    /// <summary>Attention heads per layer; must divide <see cref="HiddenSize"/>.</summary>
    public required int NumAttentionHeads { get; init; }
    /// <summary>Feed-forward inner size.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>Rows of the absolute position embedding: the longest input in tokens.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;
    /// <summary>Rows of the token-type (segment) embedding.</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary>Feed-forward activation (HF "hidden_act").</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Size of one attention head.</summary>
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>Reads and validates a config.json.</summary>
    /// <exception cref="NotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptDataException">The file is not a JSON object.</exception>
    /// <exception cref="InvalidSettingException">A field is missing, has the wrong type or an unsupported value; names the field.</exception>
    public static BertConfig Load(string path)
    {
        if (!File.Exists(path)) throw new NotFoundException($"{path}: config.json not found.");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CorruptDataException(path, "config.json is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"config.json is not valid JSON: {e.Message}", e);
        }
        return FromJson(root, path);
    }

    /// <summary>Builds a config from parsed JSON; <paramref name="source"/> names the file in errors.</summary>
    public static BertConfig FromJson(JsonObject root, string source)
    {
        var modelType = OptionalString(root, "model_type", source);
        if (modelType is not null && modelType is not ("bert" or "BertModel"))
            throw new InvalidSettingException("model_type", $"'{modelType}' in {source} is not a BERT model; only BertModel checkpoints convert.");
        var positionType = OptionalString(root, "position_embedding_type", source);
        if (positionType is not null && positionType != "absolute")
            throw new InvalidSettingException("position_embedding_type", $"'{positionType}' in {source} is not supported; only \"absolute\".");

        var config = new BertConfig
        {
            VocabSize = RequiredInt(root, "vocab_size", source),
            HiddenSize = RequiredInt(root, "hidden_size", source),
            NumHiddenLayers = RequiredInt(root, "num_hidden_layers", source),
            NumAttentionHeads = RequiredInt(root, "num_attention_heads", source),
            IntermediateSize = RequiredInt(root, "intermediate_size", source),
            MaxPositionEmbeddings = OptionalInt(root, "max_position_embeddings", source) ?? 512,
            TypeVocabSize = OptionalInt(root, "type_vocab_size", source) ?? 2,
            LayerNormEps = OptionalDouble(root, "layer_norm_eps", source) ?? 1e-12,
            HiddenAct = OptionalString(root, "hidden_act", source) ?? "gelu",
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Checks every field; throws <see cref="InvalidSettingException"/> naming the first bad one.</summary>
    public void Validate(string source = "config.json")
    {
        Positive(VocabSize, "vocab_size", source);
        Positive(HiddenSize, "hidden_size", source);
        Positive(NumHiddenLayers, "num_hidden_layers", source);
        Positive(NumAttentionHeads, "num_attention_heads", source);
        Positive(IntermediateSize, "intermediate_size", source);
        Positive(MaxPositionEmbeddings, "max_position_embeddings", source);
        Positive(TypeVocabSize, "type_vocab_size", source);
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidSettingException("num_attention_heads", $"{NumAttentionHeads} does not divide hidden_size {HiddenSize} in {source}.");
        if (!(LayerNormEps > 0 && LayerNormEps < 1))
            throw new InvalidSettingException("layer_norm_eps", $"{LayerNormEps} in {source} must lie in (0, 1).");
        if (!SupportedActivations.Contains(HiddenAct))
            throw new InvalidSettingException("hidden_act", $"'{HiddenAct}' in {source} is not supported; use one of {string.Join(", ", SupportedActivations)}.");
    }

    /// <summary>Writes the config as a HF-style config.json.</summary>
    public void Save(string path)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"),
            ["model_type"] = "bert",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["hidden_act"] = HiddenAct,
            ["position_embedding_type"] = "absolute",
            ["pad_token_id"] = 0,
        };
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void Positive(int value, string field, string source)
    {
        if (value <= 0) throw new InvalidSettingException(field, $"{value} in {source} must be positive.");
    }

    private static int RequiredInt(JsonObject root, string field, string source) =>
        OptionalInt(root, field, source) ?? throw new InvalidSettingException(field, $"missing from {source}.");

    private static int? OptionalInt(JsonObject root, string field, string source)
    {
        if (!root.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.TryGetValue<int>(out var i)) return i;
        if (node is JsonValue d && d.TryGetValue<double>(out var x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue) return (int)x;
        throw new InvalidSettingException(field, $"must be an integer in {source}, got {node.ToJsonString()}.");
    }

    private static double? OptionalDouble(JsonObject root, string field, string source)
    {
        if (!root.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.TryGetValue<double>(out var x)) return x;
        throw new InvalidSettingException(field, $"must be a number in {source}, got {node.ToJsonString()}.");
    }

    private static string? OptionalString(JsonObject root, string field, string source)
    {
        if (!root.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw new InvalidSettingException(field, $"must be a string in {source}, got {node.ToJsonString()}.");
    }
}
