// A small random BERT written exactly like a Hugging Face checkpoint (config.json + model.safetensors), so the
// tests and benchmarks exercise the same conversion path a downloaded model takes. Weights come from a SplitMix64
// stream (Steele et al. 2014) through Box–Muller, not System.Random, so a seed gives the same bytes on every
// runtime version.
using SemanticSearch.Onnx.Bert;
using SemanticSearch.Onnx.Safetensors;

namespace SemanticSearch.Testing;

/// <summary>Writes deterministic random BERT checkpoints for tests and benchmarks.</summary>
public static class SeededBertCheckpoint
{
    /// <summary>
    /// Writes <c>config.json</c> and <c>model.safetensors</c> into <paramref name="dir"/> and returns the config.
    /// Weights are N(0, <paramref name="weightStd"/>²) (position and token-type embeddings a fifth of that); biases N(0, (weightStd/2)²); LayerNorm γ = 1 + N(0, layerNormNoise²),
    /// β = N(0, layerNormNoise²) (γ=1, β=0 with the default 0).
    /// </summary>
    /// <param name="dir">Target directory (created).</param>
    /// <param name="seed">Seed; the same seed writes the same bytes.</param>
    /// <param name="vocabSize">Rows of the word embedding (30,522 for the bert-base-uncased vocabulary).</param>
    /// <param name="hidden">Hidden size.</param>
    /// <param name="layers">Transformer layers.</param>
    /// <param name="heads">Attention heads (must divide <paramref name="hidden"/>).</param>
    /// <param name="intermediate">Feed-forward size.</param>
    /// <param name="maxPositions">Longest input in tokens.</param>
    /// <param name="weightStd">Standard deviation of weight matrices (BERT's initialiser uses 0.02).</param>
    /// <param name="layerNormNoise">Spread of LayerNorm parameters around γ=1, β=0.</param>
    /// <param name="hiddenAct">config.json hidden_act.</param>
    /// <param name="bertPrefix">Name tensors "bert.…" as BertFor* checkpoints do.</param>
    /// <param name="dtype">F32, F16 or BF16 tensors.</param>
    public static BertConfig Write(string dir, int seed, int vocabSize = 30522, int hidden = 32, int layers = 2, int heads = 4,
        int intermediate = 64, int maxPositions = 512, float weightStd = 0.02f, float layerNormNoise = 0f,
        string hiddenAct = "gelu", bool bertPrefix = false, SafetensorsDType dtype = SafetensorsDType.F32)
    {
        var config = new BertConfig
        {
            VocabSize = vocabSize,
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = intermediate,
            MaxPositionEmbeddings = maxPositions,
            TypeVocabSize = 2,
            LayerNormEps = 1e-12,
            HiddenAct = hiddenAct,
        };
        config.Validate("SeededBertCheckpoint");
        Directory.CreateDirectory(dir);
        config.Save(Path.Combine(dir, "config.json"));
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), Tensors(config, seed, weightStd, layerNormNoise, bertPrefix, dtype),
            new Dictionary<string, string> { ["format"] = "pt", ["generator"] = $"SeededBertCheckpoint seed={seed}" });
        return config;
    }

    /// <summary>The tensors <see cref="Write"/> stores, in BertModel naming.</summary>
    public static IEnumerable<SafetensorsTensor> Tensors(BertConfig config, int seed, float weightStd = 0.02f, float layerNormNoise = 0f,
        bool bertPrefix = false, SafetensorsDType dtype = SafetensorsDType.F32)
    {
        var rng = new Normal((ulong)seed);
        string p = bertPrefix ? "bert." : "";
        int h = config.HiddenSize, inter = config.IntermediateSize;

        SafetensorsTensor Matrix(string name, params long[] shape) => Make(p + name, rng.Fill(Count(shape), weightStd), shape);
        SafetensorsTensor Bias(string name, int size) => Make(p + name, rng.Fill(size, weightStd / 2), size);
        IEnumerable<SafetensorsTensor> Norm(string name)
        {
            var gamma = rng.Fill(h, layerNormNoise);
            for (int i = 0; i < h; i++) gamma[i] += 1f;
            yield return Make(p + name + ".weight", gamma, h);
            yield return Make(p + name + ".bias", rng.Fill(h, layerNormNoise), h);
        }
        SafetensorsTensor Make(string name, float[] data, params long[] shape) => dtype switch
        {
            SafetensorsDType.F32 => SafetensorsTensor.FromFloats(name, data, shape),
            SafetensorsDType.F16 => SafetensorsTensor.FromFloatsAsHalf(name, data, shape),
            SafetensorsDType.BF16 => ToBf16(name, data, shape),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Use F32, F16 or BF16."),
        };

        yield return Matrix("embeddings.word_embeddings.weight", config.VocabSize, h);
        // Position and segment rows are shared by every text, so at full spread they would dominate a mean-pooled
        // vector (token_type 0 alone is added to every token); a fifth of the spread keeps texts apart, as training does.
        yield return Make(p + "embeddings.position_embeddings.weight", rng.Fill((long)config.MaxPositionEmbeddings * h, weightStd / 5), config.MaxPositionEmbeddings, h);
        yield return Make(p + "embeddings.token_type_embeddings.weight", rng.Fill((long)config.TypeVocabSize * h, weightStd / 5), config.TypeVocabSize, h);
        foreach (var t in Norm("embeddings.LayerNorm")) yield return t;
        // HF checkpoints carry this buffer; the converter must ignore it.
        yield return SafetensorsTensor.FromInt64s(p + "embeddings.position_ids", Enumerable.Range(0, config.MaxPositionEmbeddings).Select(i => (long)i).ToArray(), 1, config.MaxPositionEmbeddings);
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            string e = $"encoder.layer.{l}.";
            foreach (var part in new[] { "query", "key", "value" })
            {
                yield return Matrix(e + $"attention.self.{part}.weight", h, h);
                yield return Bias(e + $"attention.self.{part}.bias", h);
            }
            yield return Matrix(e + "attention.output.dense.weight", h, h);
            yield return Bias(e + "attention.output.dense.bias", h);
            foreach (var t in Norm(e + "attention.output.LayerNorm")) yield return t;
            yield return Matrix(e + "intermediate.dense.weight", inter, h);
            yield return Bias(e + "intermediate.dense.bias", inter);
            yield return Matrix(e + "output.dense.weight", h, inter);
            yield return Bias(e + "output.dense.bias", h);
            foreach (var t in Norm(e + "output.LayerNorm")) yield return t;
        }
        // The pooler is part of BertModel but unused by sentence encoders; written so the converter is seen to skip it.
        yield return Matrix("pooler.dense.weight", h, h);
        yield return Bias("pooler.dense.bias", h);
    }

    private static long Count(long[] shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    private static SafetensorsTensor ToBf16(string name, float[] data, long[] shape)
    {
        var bytes = new byte[data.Length * 2];
        for (int i = 0; i < data.Length; i++)
        {
            // Round to nearest even on the dropped 16 bits.
            uint bits = BitConverter.SingleToUInt32Bits(data[i]);
            bits += 0x7FFF + ((bits >> 16) & 1);
            ushort top = (ushort)(bits >> 16);
            bytes[2 * i] = (byte)top;
            bytes[2 * i + 1] = (byte)(top >> 8);
        }
        return new SafetensorsTensor(name, SafetensorsDType.BF16, shape, bytes);
    }

    /// <summary>Deterministic N(0,1) samples: SplitMix64 uniforms through Box–Muller.</summary>
    private sealed class Normal(ulong seed)
    {
        private ulong _state = seed * 0x9E3779B97F4A7C15UL + 0x2545F4914F6CDD1DUL;
        private double? _spare;

        public float[] Fill(long count, float std)
        {
            var result = new float[count];
            for (long i = 0; i < count; i++) result[i] = (float)(Next() * std);
            return result;
        }

        private double Next()
        {
            if (_spare is { } s)
            {
                _spare = null;
                return s;
            }
            double u1 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
            double u2 = (NextUInt64() >> 11) * (1.0 / (1UL << 53));
            if (u1 < 1e-300) u1 = 1e-300;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            _spare = r * Math.Sin(2 * Math.PI * u2);
            return r * Math.Cos(2 * Math.PI * u2);
        }

        private ulong NextUInt64()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
