namespace SemanticSearch.Onnx.Bert;

/// <summary>How token vectors become one sentence vector inside the graph.</summary>
public enum BertPooling
{
    /// <summary>No <c>sentence_embedding</c> output; only <c>last_hidden_state</c>.</summary>
    None,
    /// <summary>Mean of the token vectors where attention_mask is 1 (e5, gte, most sentence-transformers).</summary>
    Mean,
    /// <summary>The first ([CLS]) token's vector (bge and friends).</summary>
    Cls,
}

/// <summary>Weight precision of the linear layers in the written graph.</summary>
public enum BertQuantization
{
    /// <summary>Float32 everywhere.</summary>
    None,
    /// <summary>
    /// Dynamic int8: each linear layer's weight quantised per output column (symmetric int8), activations quantised
    /// per tensor at run time with DynamicQuantizeLinear, products by MatMulInteger (u8×s8, the VNNI path).
    /// Embeddings, attention products, LayerNorm and pooling stay float32.
    /// </summary>
    Int8,
}

/// <summary>Choices for <see cref="BertOnnxConverter"/>.</summary>
public sealed record BertExportOptions
{
    /// <summary>The engine's default: mean pooling, L2-normalised, float32, opset 17.</summary>
    public static BertExportOptions Default { get; } = new();

    /// <summary>Pooling for the <c>sentence_embedding</c> output (None leaves the output out).</summary>
    public BertPooling Pooling { get; init; } = BertPooling.Mean;

    /// <summary>L2-normalise <c>sentence_embedding</c> (ignored without pooling).</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Linear-layer precision.</summary>
    public BertQuantization Quantization { get; init; } = BertQuantization.None;

    /// <summary>Default-domain opset; at least 17 (LayerNormalization).</summary>
    public int Opset { get; init; } = 17;

    /// <summary>Extra <c>metadata_props</c> written into the model (e.g. the model id).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
