// Test-only reference: a plain BERT forward pass in double precision, written from the BERT paper / HF BertModel
// semantics, straight over the checkpoint's PyTorch-layout weights ([out, in] Linear matrices, separate Q/K/V,
// explicit 1/sqrt(d) scaling). It processes each sequence unpadded, so padding never enters its computation; it
// shares no code with the converter except the safetensors reader.
using SemanticSearch.Onnx.Bert;
using SemanticSearch.Onnx.Safetensors;

namespace SemanticSearch.Onnx.Tests.Bert;

internal sealed class BertReference
{
    private readonly BertConfig _c;
    private readonly Func<string, float[]> _w;

    public BertReference(BertConfig config, ISafetensorsSource source)
    {
        _c = config;
        string prefix = source.Tensors.ContainsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        var cache = new Dictionary<string, float[]>();
        _w = name => cache.TryGetValue(name, out var v) ? v : cache[name] = source.ReadFloat32(prefix + name);
    }

    /// <summary>Token vectors [n][hidden] for one unpadded sequence.</summary>
    public double[][] Forward(long[] ids, long[] types)
    {
        int n = ids.Length, h = _c.HiddenSize;
        var word = _w("embeddings.word_embeddings.weight");
        var pos = _w("embeddings.position_embeddings.weight");
        var typ = _w("embeddings.token_type_embeddings.weight");
        var x = new double[n][];
        for (int t = 0; t < n; t++)
        {
            x[t] = new double[h];
            for (int j = 0; j < h; j++) x[t][j] = word[ids[t] * h + j] + pos[t * h + j] + typ[types[t] * h + j];
            x[t] = LayerNorm(x[t], "embeddings.LayerNorm");
        }
        for (int l = 0; l < _c.NumHiddenLayers; l++)
        {
            string p = $"encoder.layer.{l}.";
            var q = x.Select(v => Linear(v, p + "attention.self.query")).ToArray();
            var k = x.Select(v => Linear(v, p + "attention.self.key")).ToArray();
            var val = x.Select(v => Linear(v, p + "attention.self.value")).ToArray();
            int heads = _c.NumAttentionHeads, d = _c.HeadSize;
            var ctx = new double[n][];
            for (int t = 0; t < n; t++)
            {
                ctx[t] = new double[h];
                for (int hd = 0; hd < heads; hd++)
                {
                    var scores = new double[n];
                    double max = double.NegativeInfinity;
                    for (int s = 0; s < n; s++)
                    {
                        double dot = 0;
                        for (int j = 0; j < d; j++) dot += q[t][hd * d + j] * k[s][hd * d + j];
                        scores[s] = dot / Math.Sqrt(d);
                        max = Math.Max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s < n; s++) sum += scores[s] = Math.Exp(scores[s] - max);
                    for (int s = 0; s < n; s++)
                        for (int j = 0; j < d; j++) ctx[t][hd * d + j] += scores[s] / sum * val[s][hd * d + j];
                }
            }
            var h1 = new double[n][];
            for (int t = 0; t < n; t++)
                h1[t] = LayerNorm(Add(Linear(ctx[t], p + "attention.output.dense"), x[t]), p + "attention.output.LayerNorm");
            for (int t = 0; t < n; t++)
            {
                var up = Linear(h1[t], p + "intermediate.dense").Select(Activate).ToArray();
                x[t] = LayerNorm(Add(Linear(up, p + "output.dense"), h1[t]), p + "output.LayerNorm");
            }
        }
        return x;
    }

    public static double[] MeanPool(double[][] tokens, bool normalize)
    {
        var r = new double[tokens[0].Length];
        foreach (var t in tokens)
            for (int j = 0; j < r.Length; j++) r[j] += t[j] / tokens.Length;
        return normalize ? Normalize(r) : r;
    }

    public static double[] Normalize(double[] v)
    {
        double norm = Math.Sqrt(v.Sum(a => a * a));
        return v.Select(a => a / norm).ToArray();
    }

    private double[] Linear(double[] x, string name)
    {
        var w = _w(name + ".weight");
        var b = _w(name + ".bias");
        int outSize = b.Length, inSize = x.Length;
        var y = new double[outSize];
        for (int o = 0; o < outSize; o++)
        {
            double acc = b[o];
            for (int i = 0; i < inSize; i++) acc += w[o * inSize + i] * x[i];
            y[o] = acc;
        }
        return y;
    }

    private double[] LayerNorm(double[] x, string name)
    {
        var g = _w(name + ".weight");
        var b = _w(name + ".bias");
        double mean = x.Average();
        double variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        double inv = 1 / Math.Sqrt(variance + _c.LayerNormEps);
        return x.Select((v, i) => (v - mean) * inv * g[i] + b[i]).ToArray();
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();

    private double Activate(double x) => _c.HiddenAct switch
    {
        "gelu" => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        "relu" => Math.Max(0, x),
        "silu" or "swish" => x / (1 + Math.Exp(-x)),
        _ => throw new NotSupportedException(_c.HiddenAct),
    };

    /// <summary>erf via the complementary-error-function Chebyshev fit (Numerical Recipes erfcc), fractional error &lt; 1.2e-7.</summary>
    internal static double Erf(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
