using SemanticSearch.Onnx.Fusion;
using Xunit;
using static SemanticSearch.Onnx.Tests.Fusion.AttentionFusionTests;

namespace SemanticSearch.Onnx.Tests.Fusion;

/// <summary>
/// The padding-free rewrite on the exporter-shaped attention graphs: for rows without padding it must give what the
/// fused graph with its mask gives; for padded rows it must not (the mask is really gone, which is what lets ONNX
/// Runtime take its flash-attention path).
/// </summary>
public sealed class PaddingFreeTests
{
    private static readonly long[][] Unpadded = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]];

    [Theory]
    [InlineData(Variant.Exported, false)]
    [InlineData(Variant.ConstantShapes, false)]
    [InlineData(Variant.Exported, true)]
    public void Rewrite_RowsWithoutPadding_SameOutputAsTheMaskedGraph(Variant variant, bool trimmed)
    {
        var fused = AttentionFusion.Fuse(ExportedGraph(variant), "attention.onnx").Model;
        if (trimmed)
        {
            fused = FirstTokenTrim.Trim(fused, "attention.onnx").Model;
        }

        var rewritten = PaddingFree.Rewrite(fused, "attention.onnx");

        Assert.Equal(2, rewritten.Unmasked);
        var expected = Run(fused, variant, rows: Unpadded);
        var actual = Run(rewritten.Model, variant, rows: Unpadded);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"y[{i}]: masked {expected[i]}, padding-free {actual[i]}");
        }
    }

    [Fact]
    public void Rewrite_PaddedRows_AttendToThePadding_SoTheMaskIsReallyGone()
    {
        var fused = AttentionFusion.Fuse(ExportedGraph(Variant.Exported), "attention.onnx").Model;
        var rewritten = PaddingFree.Rewrite(fused, "attention.onnx").Model;

        var masked = Run(fused, Variant.Exported);
        var unmasked = Run(rewritten, Variant.Exported);

        // row 0 of Rows has no padding: the same; row 1 has three padded keys, which the rewritten graph now attends to
        var rowFloats = Rows[0].Length * Hidden;
        for (var i = 0; i < rowFloats; i++)
        {
            Assert.True(Math.Abs(masked[i] - unmasked[i]) < 1e-5, $"row 0, y[{i}]: masked {masked[i]}, padding-free {unmasked[i]}");
        }
        var row1 = Enumerable.Range(rowFloats, rowFloats).Max(i => Math.Abs(masked[i] - unmasked[i]));
        Assert.True(row1 > 1e-3, $"row 1 differs by at most {row1}: the padded keys are still masked");
    }

    [Fact]
    public void Rewrite_UnfusedGraph_LeftByteForByte()
    {
        // without a fused attention node there is no key-padding mask to drop (the mask is an Add in the graph)
        var model = ExportedGraph(Variant.Exported);

        var rewritten = PaddingFree.Rewrite(model, "attention.onnx");

        Assert.Equal(0, rewritten.Unmasked);
        Assert.Equal(model, rewritten.Model);
    }

    [Fact]
    public void Rewrite_AlreadyPaddingFree_LeftByteForByte()
    {
        var once = PaddingFree.Rewrite(AttentionFusion.Fuse(ExportedGraph(Variant.Exported), "attention.onnx").Model, "attention.onnx").Model;

        var twice = PaddingFree.Rewrite(once, "attention.onnx");

        Assert.Equal(0, twice.Unmasked);
        Assert.Equal(once, twice.Model);
    }
}
