using SemanticSearch.Onnx.Bert;
using SemanticSearch.Onnx.Fusion;
using SemanticSearch.Onnx.Graph;
using Xunit;

namespace SemanticSearch.Onnx.Tests.Fusion;

/// <summary>
/// The attention fusion on small graphs written the way the Hugging Face exporter writes BERT attention, run in a
/// real ONNX Runtime session against the same graph unfused; and graphs that only look alike, which it must leave be.
/// </summary>
public sealed class AttentionFusionTests
{
    internal const int Hidden = 8, Heads = 2, HeadSize = 4;

    internal static readonly long[][] Rows = [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]];

    public enum Variant { Exported, KeyPermutedOtherwise, AdditiveMaskInput, ConstantShapes }

    // x [B, S, 8] → two attention layers (residual added), as the exporter writes them.
    internal static byte[] ExportedGraph(Variant variant, float maskFilter = float.MinValue, int seed = 7, bool meanOverSequence = false)
    {
        var rng = new Random(seed);
        float[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.5f)];
        var g = new OnnxGraphBuilder("attention");
        var x = g.Input("x", OnnxType.Float, "batch", "sequence", Hidden);
        OnnxValue mask;
        if (variant == Variant.AdditiveMaskInput)
        {
            mask = g.Input("mask_bias", OnnxType.Float, "batch", 1, 1, "sequence");
        }
        else
        {
            var m = g.Input("attention_mask", OnnxType.Int64, "batch", "sequence");
            var unsqueezed = g.Node("Unsqueeze", [g.Node("Unsqueeze", [m, g.Int64s(1)]), g.Int64s(2)]);
            var asFloat = g.Node("Cast", [unsqueezed], new OnnxAttributes { { "to", (long)OnnxType.Float } });
            mask = g.Node("Mul", [g.Node("Sub", [g.Scalar(1f), asFloat]), g.Scalar(maskFilter)]);
        }

        OnnxValue Dim(OnnxValue t, long i) => g.Node("Unsqueeze", [g.Node("Gather", [g.Node("Shape", [t]), g.Scalar(i)], new OnnxAttributes { { "axis", 0L } }), g.Int64s(0)]);
        OnnxValue SplitShape(OnnxValue t) => variant == Variant.ConstantShapes
            ? g.Int64s(0, 0, Heads, HeadSize)
            : g.Node("Concat", [Dim(t, 0), Dim(t, 1), g.Int64s(Heads), g.Int64s(HeadSize)], new OnnxAttributes { { "axis", 0L } });
        OnnxValue Project(OnnxValue input) =>
            g.Node("Add", [g.Initializer(null, Random(Hidden), Hidden), g.Node("MatMul", [input, g.Initializer(null, Random(Hidden * Hidden), Hidden, Hidden)])]);
        OnnxValue Transpose(OnnxValue t, params long[] perm) => g.Node("Transpose", [t], new OnnxAttributes { { "perm", perm } });

        var hidden = x;
        for (var layer = 0; layer < 2; layer++)
        {
            var q = Project(hidden);
            var k = Project(hidden);
            var v = Project(hidden);
            var qT = Transpose(g.Node("Reshape", [q, SplitShape(q)]), 0, 2, 1, 3);
            var kT = variant == Variant.KeyPermutedOtherwise
                ? Transpose(Transpose(g.Node("Reshape", [k, SplitShape(k)]), 0, 2, 1, 3), 0, 1, 3, 2) // same values, another route
                : Transpose(g.Node("Reshape", [k, SplitShape(k)]), 0, 2, 3, 1);
            var vT = Transpose(g.Node("Reshape", [v, SplitShape(v)]), 0, 2, 1, 3);
            var scores = g.Node("Add", [g.Node("Div", [g.Node("MatMul", [qT, kT]), g.Scalar(MathF.Sqrt(HeadSize))]), mask]);
            var probs = g.Node("Softmax", [scores], new OnnxAttributes { { "axis", 3L } });
            var back = Transpose(g.Node("MatMul", [probs, vT]), 0, 2, 1, 3);
            var mergeShape = variant == Variant.ConstantShapes
                ? g.Int64s(0, 0, Hidden)
                : g.Node("Concat", [Dim(back, 0), Dim(back, 1), g.Int64s(Hidden)], new OnnxAttributes { { "axis", 0L } });
            hidden = g.Node("Add", [g.Node("Reshape", [back, mergeShape]), hidden]);
        }
        if (meanOverSequence)
        {
            hidden = g.Node("ReduceMean", [hidden], new OnnxAttributes { { "axes", new long[] { 1 } } }); // mixes tokens
        }
        g.Output(hidden, "y", OnnxType.Float, "batch", "sequence", Hidden);
        return g.ToModel();
    }

    internal static float[] Run(byte[] model, Variant variant, float maskFilter = float.MinValue, long[][]? rows = null)
    {
        rows ??= Rows;
        var (b, s) = (rows.Length, rows[0].Length);
        var rng = new Random(3);
        var x = Enumerable.Range(0, b * s * Hidden).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var mask = rows.SelectMany(r => r).ToArray();
        var maskInput = variant == Variant.AdditiveMaskInput
            ? ("mask_bias", OrtRun.Floats([.. mask.Select(m => m == 1 ? 0f : maskFilter)], b, 1, 1, s))
            : ("attention_mask", OrtRun.Int64s(mask, b, s));
        return OrtRun.Run(model, ("x", OrtRun.Floats(x, b, s, Hidden)), maskInput)["y"].Data;
    }

    [Theory]
    [InlineData(Variant.Exported, float.MinValue)]
    [InlineData(Variant.Exported, -10000f)]
    [InlineData(Variant.ConstantShapes, float.MinValue)]
    public void Fuse_ExportedAttention_EveryLayerFusedAndOutputsUnchanged(Variant variant, float maskFilter)
    {
        var model = ExportedGraph(variant, maskFilter);
        var fused = AttentionFusion.Fuse(model, "attention.onnx");

        Assert.Equal(2, fused.FusedLayers);
        Assert.True(fused.RemovedNodes > 2 * 10, $"{fused.RemovedNodes} nodes removed; the unfused cores are still in the graph");
        var expected = Run(model, variant, maskFilter);
        var actual = Run(fused.Model, variant, maskFilter);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"y[{i}]: unfused {expected[i]}, fused {actual[i]}");
        }
    }

    [Fact]
    public void Fuse_PaddedKeysChangeTheAnswer_SoTheMaskReallyReachesTheFusedKernel()
    {
        // the same graph and input with every key kept: if the fused node ignored the mask, it would give this answer
        var model = AttentionFusion.Fuse(ExportedGraph(Variant.Exported), "attention.onnx").Model;
        var masked = Run(model, Variant.Exported);
        var unmasked = Run(model, Variant.Exported, rows: [.. Rows.Select(r => r.Select(_ => 1L).ToArray())]);
        // row 0 has no padding: identical; row 1 has three padded keys: different
        var rowFloats = Rows[0].Length * Hidden;
        Assert.Equal(unmasked.AsSpan(0, rowFloats).ToArray(), masked.AsSpan(0, rowFloats).ToArray());
        Assert.NotEqual(unmasked.AsSpan(rowFloats, rowFloats).ToArray(), masked.AsSpan(rowFloats, rowFloats).ToArray());
    }

    [Theory]
    [InlineData(Variant.KeyPermutedOtherwise)]
    [InlineData(Variant.AdditiveMaskInput)]
    public void Fuse_LookalikeGraph_LeftByteForByte(Variant variant)
    {
        var model = ExportedGraph(variant);
        var fused = AttentionFusion.Fuse(model, "attention.onnx");

        Assert.Equal(0, fused.FusedLayers);
        Assert.Equal(model, fused.Model);
    }

    [Fact]
    public void Fuse_TheProjectsOwnBertGraph_LeftByteForByte()
    {
        // the BERT writer's attention (one fused QKV product split by Gather) is another pattern: nothing to fuse
        using var dir = new TempDir();
        SeededBertCheckpoint.Write(dir.Path, 5, 120, hidden: 32, layers: 1, heads: 4, intermediate: 64, maxPositions: 32);
        var model = BertOnnxConverter.Convert(dir.Path);

        var fused = AttentionFusion.Fuse(model, "model.onnx");

        Assert.Equal(0, fused.FusedLayers);
        Assert.Equal(model, fused.Model);
    }

    [Fact]
    public void Fuse_NotAModel_CorruptDataNamingTheSource()
    {
        var e = Assert.Throws<SemanticSearch.Core.CorruptDataException>(() => AttentionFusion.Fuse(new byte[] { 0x0A, 0xFF }, "broken.onnx"));
        Assert.Contains("broken.onnx", e.Message);
    }
}
