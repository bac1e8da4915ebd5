// BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers") encoder → ONNX graph.
// The graph reproduces Hugging Face BertModel's forward pass in eval mode:
//   emb = LayerNorm(word[input_ids] + position[0..S-1] + token_type[token_type_ids])
//   per layer: h1 = LayerNorm(h + Wo·softmax(QKᵀ/√d + maskBias)·V + bo);  h = LayerNorm(h1 + W2·act(W1·h1 + b1) + b2)
// with maskBias = (1 − attention_mask)·(−10000) broadcast over heads and queries, so padded keys get zero weight.
// Conversion-time rewrites that keep the maths: Linear weights are transposed once to [in, out] for MatMul; Q, K, V
// are fused into one [H, 3H] MatMul; 1/√d is folded into the query weights and bias.
// Signature: input_ids, attention_mask, token_type_ids int64 [batch, sequence] → last_hidden_state float
// [batch, sequence, hidden] and, with pooling, sentence_embedding float [batch, hidden].
using System.Security.Cryptography;
using SemanticSearch.Core;
using SemanticSearch.Onnx.Graph;
using SemanticSearch.Onnx.Safetensors;

namespace SemanticSearch.Onnx.Bert;

/// <summary>Converts a BERT-family checkpoint (config.json + model.safetensors) into the engine's ONNX encoder graph.</summary>
public static class BertOnnxConverter
{
    /// <summary>Input names of the encoder graph.</summary>
    public const string InputIds = "input_ids", AttentionMask = "attention_mask", TokenTypeIds = "token_type_ids";

    /// <summary>Output names of the encoder graph.</summary>
    public const string LastHiddenState = "last_hidden_state", SentenceEmbedding = "sentence_embedding";

    /// <summary>Bumped whenever the graph this converter writes changes; part of the cache key.</summary>
    public const int GraphVersion = 1;

    /// <summary>Converts the checkpoint in <paramref name="checkpointDir"/> (config.json + model.safetensors).</summary>
    /// <exception cref="NotFoundException">config.json or model.safetensors is missing.</exception>
    /// <exception cref="InvalidSettingException">config.json has a bad field (named).</exception>
    /// <exception cref="CorruptDataException">A tensor is missing or has the wrong shape (named).</exception>
    public static byte[] Convert(string checkpointDir, BertExportOptions? options = null)
    {
        var config = BertConfig.Load(Path.Combine(checkpointDir, "config.json"));
        using var weights = SafetensorsFile.Open(Path.Combine(checkpointDir, "model.safetensors"));
        return Convert(config, weights, options);
    }

    /// <summary>Converts and writes <paramref name="outputPath"/> (temp file, then rename).</summary>
    public static void ConvertToFile(string checkpointDir, string outputPath, BertExportOptions? options = null)
    {
        var model = Convert(checkpointDir, options);
        var temp = outputPath + ".tmp";
        File.WriteAllBytes(temp, model);
        File.Move(temp, outputPath, overwrite: true);
    }

    /// <summary>
    /// Converts once and caches: the ONNX file lives in <paramref name="cacheDir"/> under a name derived from the
    /// SHA-256 of config.json, model.safetensors, the options and <see cref="GraphVersion"/>. Returns its path.
    /// </summary>
    public static string ConvertCached(string checkpointDir, string cacheDir, BertExportOptions? options = null)
    {
        options ??= BertExportOptions.Default;
        var key = CacheKey(checkpointDir, options);
        Directory.CreateDirectory(cacheDir);
        var path = Path.Combine(cacheDir, $"bert-{key}.onnx");
        if (!File.Exists(path)) ConvertToFile(checkpointDir, path, options);
        return path;
    }

    /// <summary>The cache key <see cref="ConvertCached"/> uses (hex, 32 chars).</summary>
    public static string CacheKey(string checkpointDir, BertExportOptions options)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in new[] { "config.json", "model.safetensors" })
        {
            var path = Path.Combine(checkpointDir, file);
            if (!File.Exists(path)) throw new NotFoundException($"{path}: not found.");
            using var stream = File.OpenRead(path);
            sha.AppendData(SHA256.HashData(stream));
        }
        var meta = options.Metadata is null ? "" : string.Join(";", options.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"v{GraphVersion}|{options.Pooling}|{options.Normalize}|{options.Quantization}|{options.Opset}|{meta}"));
        return System.Convert.ToHexStringLower(sha.GetHashAndReset())[..32];
    }

    /// <summary>Converts a config and a set of weights into a serialised ONNX model.</summary>
    public static byte[] Convert(BertConfig config, ISafetensorsSource weights, BertExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        options ??= BertExportOptions.Default;
        config.Validate();
        if (options.Opset < 17)
            throw new InvalidSettingException("opset", $"{options.Opset} is too old; the encoder needs LayerNormalization (opset 17 or later).");

        var w = new BertWeights(weights);
        int h = config.HiddenSize, heads = config.NumAttentionHeads, dh = config.HeadSize;
        var g = new OnnxGraphBuilder("bert_encoder");
        var emit = new Emitter(g, options.Quantization);

        var ids = g.Input(InputIds, OnnxType.Int64, "batch", "sequence");
        var mask = g.Input(AttentionMask, OnnxType.Int64, "batch", "sequence");
        var types = g.Input(TokenTypeIds, OnnxType.Int64, "batch", "sequence");

        // Embeddings. Position ids 0..S-1 come from the runtime shape of input_ids.
        var word = g.Initializer("word_embeddings", w.Get("embeddings.word_embeddings.weight", config.VocabSize, h), config.VocabSize, h);
        var pos = g.Initializer("position_embeddings", w.Get("embeddings.position_embeddings.weight", config.MaxPositionEmbeddings, h), config.MaxPositionEmbeddings, h);
        var typ = g.Initializer("token_type_embeddings", w.Get("embeddings.token_type_embeddings.weight", config.TypeVocabSize, h), config.TypeVocabSize, h);
        var seqLen = g.Node("Gather", [g.Node("Shape", [ids]), g.Scalar(1L)], new OnnxAttributes { { "axis", 0 } });
        var positions = g.Node("Range", [g.Scalar(0L), seqLen, g.Scalar(1L)]);
        var sum = g.Node("Add", [g.Node("Add", [g.Node("Gather", [word, ids]), g.Node("Gather", [pos, positions])]), g.Node("Gather", [typ, types])]);
        var hidden = emit.LayerNorm(sum, w, "embeddings.LayerNorm", h, config.LayerNormEps);

        // Additive attention bias [batch, 1, 1, sequence]: 0 for real tokens, -10000 for padding (HF's classic value;
        // exp(-10000) underflows to exactly 0 in float32, and unlike float.MinValue it cannot overflow to -inf/NaN).
        var maskF = g.Node("Cast", [mask], new OnnxAttributes { { "to", (long)OnnxType.Float } });
        var bias = g.Node("Mul", [g.Node("Sub", [g.Scalar(1f), maskF]), g.Scalar(-10000f)]);
        var bias4 = g.Node("Unsqueeze", [bias, g.Int64s(1, 2)]);

        float qScale = 1f / MathF.Sqrt(dh);
        var qkvShape = g.Int64s(0, 0, 3, heads, dh);
        var mergeShape = g.Int64s(0, 0, h);
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string p = $"encoder.layer.{layer}.";
            var wq = w.Get(p + "attention.self.query.weight", h, h);
            var bq = w.Get(p + "attention.self.query.bias", h);
            var wk = w.Get(p + "attention.self.key.weight", h, h);
            var bk = w.Get(p + "attention.self.key.bias", h);
            var wv = w.Get(p + "attention.self.value.weight", h, h);
            var bv = w.Get(p + "attention.self.value.bias", h);
            for (int i = 0; i < wq.Length; i++) wq[i] *= qScale;
            for (int i = 0; i < bq.Length; i++) bq[i] *= qScale;
            var qkvW = ConcatOutputs([wq, wk, wv], h, h); // [out=3H, in=H]
            var qkv = emit.Linear(hidden, qkvW, [.. bq, .. bk, .. bv], 3 * h, h, $"l{layer}_qkv");
            var split = g.Node("Transpose", [g.Node("Reshape", [qkv, qkvShape])], new OnnxAttributes { { "perm", new long[] { 2, 0, 3, 1, 4 } } });
            var q = g.Node("Gather", [split, g.Scalar(0L)], new OnnxAttributes { { "axis", 0 } }); // [B, heads, S, dh]
            var k = g.Node("Gather", [split, g.Scalar(1L)], new OnnxAttributes { { "axis", 0 } });
            var v = g.Node("Gather", [split, g.Scalar(2L)], new OnnxAttributes { { "axis", 0 } });
            var kT = g.Node("Transpose", [k], new OnnxAttributes { { "perm", new long[] { 0, 1, 3, 2 } } });
            var scores = g.Node("Add", [g.Node("MatMul", [q, kT]), bias4]);
            var probs = g.Node("Softmax", [scores], new OnnxAttributes { { "axis", -1 } });
            var context = g.Node("MatMul", [probs, v]);
            var merged = g.Node("Reshape", [g.Node("Transpose", [context], new OnnxAttributes { { "perm", new long[] { 0, 2, 1, 3 } } }), mergeShape]);
            var attnOut = emit.Linear(merged, w.Get(p + "attention.output.dense.weight", h, h), w.Get(p + "attention.output.dense.bias", h), h, h, $"l{layer}_attn_out");
            var h1 = emit.LayerNorm(g.Node("Add", [attnOut, hidden]), w, p + "attention.output.LayerNorm", h, config.LayerNormEps);

            int inter = config.IntermediateSize;
            var up = emit.Linear(h1, w.Get(p + "intermediate.dense.weight", inter, h), w.Get(p + "intermediate.dense.bias", inter), inter, h, $"l{layer}_ffn_in");
            var act = emit.Activation(up, config.HiddenAct);
            var down = emit.Linear(act, w.Get(p + "output.dense.weight", h, inter), w.Get(p + "output.dense.bias", h), h, inter, $"l{layer}_ffn_out");
            hidden = emit.LayerNorm(g.Node("Add", [down, h1]), w, p + "output.LayerNorm", h, config.LayerNormEps);
        }

        g.Output(hidden, LastHiddenState, OnnxType.Float, "batch", "sequence", h);
        if (options.Pooling != BertPooling.None)
        {
            OnnxValue pooled;
            if (options.Pooling == BertPooling.Cls)
            {
                pooled = g.Node("Gather", [hidden, g.Scalar(0L)], new OnnxAttributes { { "axis", 1 } });
            }
            else
            {
                // Sum of real-token vectors over the count of real tokens (clamped so an all-padding row gives 0, not NaN).
                var m3 = g.Node("Unsqueeze", [maskF, g.Int64s(2)]);
                var axis1 = g.Int64s(1);
                var total = g.Node("ReduceSum", [g.Node("Mul", [hidden, m3]), axis1], new OnnxAttributes { { "keepdims", 0 } });
                var count = g.Node("ReduceSum", [m3, axis1], new OnnxAttributes { { "keepdims", 0 } });
                pooled = g.Node("Div", [total, g.Node("Max", [count, g.Scalar(1e-9f)])]);
            }
            if (options.Normalize)
            {
                var norm = g.Node("Sqrt", [g.Node("ReduceSum", [g.Node("Mul", [pooled, pooled]), g.Int64s(1)], new OnnxAttributes { { "keepdims", 1 } })]);
                pooled = g.Node("Div", [pooled, g.Node("Max", [norm, g.Scalar(1e-12f)])]);
            }
            g.Output(pooled, SentenceEmbedding, OnnxType.Float, "batch", h);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["semsearch.converter"] = $"BertOnnxConverter v{GraphVersion}",
            ["semsearch.pooling"] = options.Pooling.ToString().ToLowerInvariant(),
            ["semsearch.normalize"] = options.Normalize ? "true" : "false",
            ["semsearch.quantization"] = options.Quantization.ToString().ToLowerInvariant(),
            ["semsearch.hidden_size"] = h.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["semsearch.max_positions"] = config.MaxPositionEmbeddings.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (options.Metadata is not null)
            foreach (var (key, value) in options.Metadata) metadata[key] = value;
        return g.ToModel(options.Opset, metadata);
    }

    /// <summary>Stacks Linear weights [out_i, in] along the output axis.</summary>
    private static float[] ConcatOutputs(float[][] parts, int outEach, int inSize)
    {
        var result = new float[parts.Length * outEach * inSize];
        for (int i = 0; i < parts.Length; i++) parts[i].CopyTo(result, i * outEach * inSize);
        return result;
    }

    /// <summary>Writes the repeated sub-graphs (linear, LayerNorm, activation) in float or int8 form.</summary>
    private sealed class Emitter(OnnxGraphBuilder g, BertQuantization quantization)
    {
        /// <summary>y = x·Wᵀ + b for a PyTorch Linear weight W [out, in].</summary>
        public OnnxValue Linear(OnnxValue x, float[] weightOutIn, float[] bias, int outSize, int inSize, string name)
        {
            var b = g.Initializer(name + ".bias", bias, outSize);
            if (quantization == BertQuantization.None)
            {
                var wT = g.Initializer(name + ".weight", Transpose(weightOutIn, outSize, inSize), inSize, outSize);
                return g.Node("Add", [g.Node("MatMul", [x, wT]), b]);
            }
            // Symmetric per-output-column int8 weights: W[:, j] ≈ scale_j · q[:, j], q ∈ [-127, 127].
            var q = new sbyte[inSize * outSize];
            var scales = new float[outSize];
            for (int o = 0; o < outSize; o++)
            {
                float maxAbs = 0;
                for (int i = 0; i < inSize; i++) maxAbs = MathF.Max(maxAbs, MathF.Abs(weightOutIn[o * inSize + i]));
                float scale = maxAbs > 0 ? maxAbs / 127f : 1f;
                scales[o] = scale;
                for (int i = 0; i < inSize; i++)
                    q[i * outSize + o] = (sbyte)Math.Clamp(MathF.Round(weightOutIn[o * inSize + i] / scale), -127, 127);
            }
            var wq = g.Initializer(name + ".weight_int8", q, inSize, outSize);
            var ws = g.Initializer(name + ".weight_scale", scales, outSize);
            var xq = g.NodeWithOutputs("DynamicQuantizeLinear", [x], 3);
            var product = g.Node("MatMulInteger", [xq[0], wq, xq[2]]);
            var scale2 = g.Node("Mul", [xq[1], ws]);
            var y = g.Node("Mul", [g.Node("Cast", [product], new OnnxAttributes { { "to", (long)OnnxType.Float } }), scale2]);
            return g.Node("Add", [y, b]);
        }

        public OnnxValue LayerNorm(OnnxValue x, BertWeights w, string prefix, int hidden, double eps)
        {
            var (gamma, beta) = w.LayerNorm(prefix, hidden);
            return g.Node("LayerNormalization", [x, g.Initializer(prefix + ".weight", gamma, hidden), g.Initializer(prefix + ".bias", beta, hidden)],
                new OnnxAttributes { { "axis", -1 }, { "epsilon", (float)eps } });
        }

        public OnnxValue Activation(OnnxValue x, string name) => name switch
        {
            // Exact GELU: (x·(1 + erf(x/√2)))·0.5, written in the order ONNX Runtime's GeluFusion recognises
            // (Div → Erf → Add → Mul → Mul), so it runs as one fused Gelu kernel.
            "gelu" => g.Node("Mul", [g.Node("Mul", [x, g.Node("Add", [g.Node("Erf", [g.Node("Div", [x, g.Scalar((float)Math.Sqrt(2))])]), g.Scalar(1f)])]), g.Scalar(0.5f)]),
            // Tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => TanhGelu(x),
            "relu" => g.Node("Relu", [x]),
            "silu" or "swish" => g.Node("Mul", [x, g.Node("Sigmoid", [x])]),
            _ => throw new InvalidSettingException("hidden_act", $"'{name}' is not supported."),
        };

        private OnnxValue TanhGelu(OnnxValue x)
        {
            var cube = g.Node("Mul", [g.Node("Mul", [x, x]), x]);
            var inner = g.Node("Mul", [g.Node("Add", [x, g.Node("Mul", [cube, g.Scalar(0.044715f)])]), g.Scalar((float)Math.Sqrt(2 / Math.PI))]);
            return g.Node("Mul", [g.Node("Mul", [x, g.Scalar(0.5f)]), g.Node("Add", [g.Node("Tanh", [inner]), g.Scalar(1f)])]);
        }

        private static float[] Transpose(float[] m, int rows, int cols)
        {
            var t = new float[m.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    t[c * rows + r] = m[r * cols + c];
            return t;
        }
    }
}

/// <summary>Looks up BertModel tensors by their standard names, with or without a "bert." prefix, checking shapes.</summary>
internal sealed class BertWeights
{
    private readonly ISafetensorsSource _source;

    public BertWeights(ISafetensorsSource source)
    {
        _source = source;
        Prefix = source.Tensors.ContainsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
    }

    /// <summary>"bert." for BertFor* checkpoints, "" for a bare BertModel.</summary>
    public string Prefix { get; }

    public float[] Get(string name, params long[] shape)
    {
        var full = Prefix + name;
        if (!_source.Tensors.TryGetValue(full, out var info))
            throw new CorruptDataException(_source.SourceName, $"tensor '{full}' is missing (expected shape [{string.Join(", ", shape)}]).");
        if (!info.Shape.SequenceEqual(shape))
            throw new CorruptDataException(_source.SourceName,
                $"tensor '{full}' has shape [{string.Join(", ", info.Shape)}], but config.json implies [{string.Join(", ", shape)}].");
        return _source.ReadFloat32(full);
    }

    /// <summary>LayerNorm γ/β, accepting the TF-era names gamma/beta as well as weight/bias.</summary>
    public (float[] Gamma, float[] Beta) LayerNorm(string prefix, int hidden)
    {
        bool legacy = !_source.Tensors.ContainsKey(Prefix + prefix + ".weight") && _source.Tensors.ContainsKey(Prefix + prefix + ".gamma");
        return legacy
            ? (Get(prefix + ".gamma", hidden), Get(prefix + ".beta", hidden))
            : (Get(prefix + ".weight", hidden), Get(prefix + ".bias", hidden));
    }
}
