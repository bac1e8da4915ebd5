using Microsoft.ML.OnnxRuntime;
using SemanticSearch.Core;
using SemanticSearch.Onnx.Bert;
using SemanticSearch.Onnx.Safetensors;
using Xunit;

namespace SemanticSearch.Onnx.Tests.Bert;

/// <summary>The converted graph against an independent double-precision BERT forward pass.</summary>
public sealed class BertOnnxConverterTests
{
    private const int Vocab = 500;

    // Varied lengths (one at the 1-token extreme), ids across the vocabulary, both segments; run as one padded batch.
    private static readonly long[][] Ids =
    [
        [101, 7, 499, 250, 33, 33, 2, 400, 123, 321, 77, 102],
        [101, 45, 9, 102, 300, 301, 102],
        [101, 102, 5],
        [17],
    ];
    private static readonly long[][] Types =
    [
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 1, 1, 1],
        [0, 0, 1],
        [0],
    ];

    private static (BertConfig Config, SafetensorsFile Weights, byte[] Model) Build(TempDir dir, BertExportOptions options,
        string act = "gelu", bool prefix = false, SafetensorsDType dtype = SafetensorsDType.F32, int seed = 11)
    {
        // Weight spread 0.3 and noisy LayerNorm make every block move the output, so a wrong transpose, head split,
        // mask or activation cannot hide under the residual stream.
        SeededBertCheckpoint.Write(dir.Path, seed, Vocab, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 64,
            weightStd: 0.3f, layerNormNoise: 0.3f, hiddenAct: act, bertPrefix: prefix, dtype: dtype);
        var config = BertConfig.Load(dir.File("config.json"));
        var weights = SafetensorsFile.Open(dir.File("model.safetensors"));
        return (config, weights, BertOnnxConverter.Convert(dir.Path, options));
    }

    private static void AssertAgree(BertReference reference, EncoderRun.Output run, BertExportOptions options, double tol)
    {
        for (int b = 0; b < Ids.Length; b++)
        {
            var expected = reference.Forward(Ids[b], Types[b]);
            for (int t = 0; t < Ids[b].Length; t++)
                for (int j = 0; j < run.HiddenSize; j++)
                {
                    double actual = run.Hidden[(b * run.Sequence + t) * run.HiddenSize + j];
                    Assert.True(Math.Abs(expected[t][j] - actual) <= tol, $"hidden[{b},{t},{j}]: reference {expected[t][j]}, onnx {actual}");
                }
            if (options.Pooling == BertPooling.None) continue;
            var pooled = options.Pooling == BertPooling.Cls
                ? (options.Normalize ? BertReference.Normalize(expected[0]) : expected[0])
                : BertReference.MeanPool(expected, options.Normalize);
            for (int j = 0; j < run.HiddenSize; j++)
            {
                double actual = run.Pooled![b * run.HiddenSize + j];
                Assert.True(Math.Abs(pooled[j] - actual) <= tol, $"pooled[{b},{j}]: reference {pooled[j]}, onnx {actual}");
            }
        }
    }

    [Theory]
    [InlineData("gelu", BertPooling.Mean, true, false)]
    [InlineData("gelu", BertPooling.Mean, false, true)]
    [InlineData("gelu_new", BertPooling.Cls, true, false)]
    [InlineData("gelu_pytorch_tanh", BertPooling.None, false, true)]
    [InlineData("relu", BertPooling.Cls, false, false)]
    [InlineData("silu", BertPooling.Mean, true, true)]
    public void Convert_SeededCheckpoint_AgreesWithReferenceForwardPass(string act, BertPooling pooling, bool normalize, bool bertPrefix)
    {
        using var dir = new TempDir();
        var options = new BertExportOptions { Pooling = pooling, Normalize = normalize };
        var (config, weights, model) = Build(dir, options, act, bertPrefix);
        using (weights)
        {
            var run = EncoderRun.Run(model, Ids, Types);
            AssertAgree(new BertReference(config, weights), run, options, 1e-4);
            Assert.Equal(pooling != BertPooling.None, run.Pooled is not null);
        }
    }

    [Fact]
    public void Convert_PaddedBatch_PooledVectorEqualsUnpaddedRun()
    {
        using var dir = new TempDir();
        var (_, weights, model) = Build(dir, BertExportOptions.Default);
        weights.Dispose();
        using var session = new InferenceSession(model);
        var batch = EncoderRun.Run(session, Ids, Types, padTo: 40);
        for (int b = 0; b < Ids.Length; b++)
        {
            var alone = EncoderRun.Run(session, [Ids[b]], [Types[b]]);
            for (int j = 0; j < alone.HiddenSize; j++)
                Assert.True(Math.Abs(alone.Pooled![j] - batch.Pooled![b * batch.HiddenSize + j]) <= 1e-5,
                    $"row {b} dim {j}: alone {alone.Pooled[j]}, in batch {batch.Pooled[b * batch.HiddenSize + j]}");
        }
    }

    [Theory]
    [InlineData(SafetensorsDType.F16)]
    [InlineData(SafetensorsDType.BF16)]
    public void Convert_HalfPrecisionCheckpoint_AgreesWithReferenceAndWithFloatModel(SafetensorsDType dtype)
    {
        using var halfDir = new TempDir();
        using var floatDir = new TempDir();
        var options = BertExportOptions.Default;
        var (config, halfWeights, halfModel) = Build(halfDir, options, dtype: dtype);
        var (_, floatWeights, floatModel) = Build(floatDir, options);
        using (halfWeights)
        using (floatWeights)
        {
            var half = EncoderRun.Run(halfModel, Ids, Types);
            // Exact against the reference over the same (rounded) weights...
            AssertAgree(new BertReference(config, halfWeights), half, options, 1e-4);
            // ...and close to the float checkpoint the half one was rounded from.
            var full = EncoderRun.Run(floatModel, Ids, Types);
            for (int b = 0; b < Ids.Length; b++)
            {
                double cos = 0;
                for (int j = 0; j < full.HiddenSize; j++) cos += full.Pooled![b * full.HiddenSize + j] * half.Pooled![b * full.HiddenSize + j];
                Assert.True(cos > (dtype == SafetensorsDType.F16 ? 0.999 : 0.99), $"row {b}: cosine {cos}");
            }
        }
    }

    [Fact]
    public void Convert_MissingTensor_ErrorNamesTensor()
    {
        var config = Config();
        var tensors = SeededBertCheckpoint.Tensors(config, 1).Where(t => t.Name != "encoder.layer.1.attention.self.key.bias");
        var ex = Assert.Throws<CorruptDataException>(() => BertOnnxConverter.Convert(config, new InMemorySafetensors(tensors, "ckpt.safetensors")));
        Assert.Contains("encoder.layer.1.attention.self.key.bias", ex.Message);
        Assert.Contains("missing", ex.Message);
        Assert.Equal("ckpt.safetensors", ex.Path);
    }

    [Fact]
    public void Convert_WrongShape_ErrorNamesTensorAndShapes()
    {
        var config = Config();
        var tensors = SeededBertCheckpoint.Tensors(config, 1, bertPrefix: true).Select(t => t.Name == "bert.encoder.layer.0.intermediate.dense.weight"
            ? SafetensorsTensor.FromFloats(t.Name, new float[32 * 48], 48, 32) : t);
        var ex = Assert.Throws<CorruptDataException>(() => BertOnnxConverter.Convert(config, new InMemorySafetensors(tensors)));
        Assert.Contains("bert.encoder.layer.0.intermediate.dense.weight", ex.Message);
        Assert.Contains("[48, 32]", ex.Message);
        Assert.Contains("[64, 32]", ex.Message);
    }

    [Fact]
    public void Convert_LegacyGammaBetaNames_Converts()
    {
        var config = Config();
        var tensors = SeededBertCheckpoint.Tensors(config, 3, layerNormNoise: 0.2f)
            .Select(t => t with { Name = t.Name.Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta") }).ToList();
        var renamed = new InMemorySafetensors(tensors);
        var original = new InMemorySafetensors(SeededBertCheckpoint.Tensors(config, 3, layerNormNoise: 0.2f));
        var a = EncoderRun.Run(BertOnnxConverter.Convert(config, renamed), Ids, Types);
        var b = EncoderRun.Run(BertOnnxConverter.Convert(config, original), Ids, Types);
        Assert.Equal(b.Pooled, a.Pooled);
    }

    [Fact]
    public void Convert_OpsetBelow17_Throws()
    {
        var config = Config();
        var ex = Assert.Throws<InvalidSettingException>(() =>
            BertOnnxConverter.Convert(config, new InMemorySafetensors(SeededBertCheckpoint.Tensors(config, 1)), new BertExportOptions { Opset = 16 }));
        Assert.Equal("opset", ex.Setting);
    }

    [Fact]
    public void Convert_Opset18_AgreesWithReference()
    {
        using var dir = new TempDir();
        var options = new BertExportOptions { Opset = 18 };
        var (config, weights, model) = Build(dir, options);
        using (weights) AssertAgree(new BertReference(config, weights), EncoderRun.Run(model, Ids, Types), options, 1e-4);
    }

    [Fact]
    public void Convert_Int8_CloseToFloatModel()
    {
        using var dir = new TempDir();
        // BERT-like spread (0.05) so activations look like a trained model's rather than saturated.
        var config = SeededBertCheckpoint.Write(dir.Path, 5, Vocab, hidden: 64, layers: 2, heads: 4, intermediate: 128, maxPositions: 64, weightStd: 0.05f, layerNormNoise: 0.1f);
        var f = EncoderRun.Run(BertOnnxConverter.Convert(dir.Path), Ids, Types);
        var q = EncoderRun.Run(BertOnnxConverter.Convert(dir.Path, new BertExportOptions { Quantization = BertQuantization.Int8 }), Ids, Types);
        for (int b = 0; b < Ids.Length; b++)
        {
            double cos = 0;
            for (int j = 0; j < config.HiddenSize; j++) cos += f.Pooled![b * config.HiddenSize + j] * q.Pooled![b * config.HiddenSize + j];
            Assert.True(cos > 0.995, $"row {b}: cosine {cos}");
            Assert.True(cos < 1 - 1e-9 || b == 3, $"row {b}: int8 output identical to float; quantisation did not happen");
        }
    }

    [Fact]
    public void ConvertCached_SameInputs_ReusesFile_OptionsChangeKey()
    {
        using var dir = new TempDir();
        using var cache = new TempDir();
        SeededBertCheckpoint.Write(dir.Path, 9, Vocab, maxPositions: 64);
        var first = BertOnnxConverter.ConvertCached(dir.Path, cache.Path);
        var stamp = File.GetLastWriteTimeUtc(first);
        File.SetLastWriteTimeUtc(first, stamp.AddHours(-1));
        var second = BertOnnxConverter.ConvertCached(dir.Path, cache.Path);
        var cls = BertOnnxConverter.ConvertCached(dir.Path, cache.Path, new BertExportOptions { Pooling = BertPooling.Cls });
        Assert.Equal(first, second);
        Assert.Equal(stamp.AddHours(-1), File.GetLastWriteTimeUtc(second));
        Assert.NotEqual(first, cls);
        SeededBertCheckpoint.Write(dir.Path, 10, Vocab, maxPositions: 64); // new weights → new key
        Assert.NotEqual(first, BertOnnxConverter.ConvertCached(dir.Path, cache.Path));
    }

    private static BertConfig Config() => new()
    {
        VocabSize = Vocab, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64, MaxPositionEmbeddings = 64,
    };
}
