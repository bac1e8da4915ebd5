using SemanticSearch.Onnx.Fusion;
using Xunit;
using static SemanticSearch.Onnx.Tests.Fusion.AttentionFusionTests;

namespace SemanticSearch.Onnx.Tests.Fusion;

/// <summary>The first-token trim on the exporter-shaped attention graphs, against the untrimmed graph's first rows.</summary>
public sealed class FirstTokenTrimTests
{
    [Theory]
    [InlineData(Variant.Exported)]
    [InlineData(Variant.ConstantShapes)]
    public void Trim_FusedGraph_OneRowPerSequenceEqualToTheFullGraphsFirstRow(Variant variant)
    {
        var model = ExportedGraph(variant);
        var trimmed = FirstTokenTrim.Trim(AttentionFusion.Fuse(model, "attention.onnx").Model, "attention.onnx");

        Assert.True(trimmed.Trimmed);
        var full = Run(model, variant);
        var first = Run(trimmed.Model, variant);
        var tokens = Rows[0].Length;
        Assert.Equal(Rows.Length * Hidden, first.Length);
        for (var b = 0; b < Rows.Length; b++)
        {
            for (var j = 0; j < Hidden; j++)
            {
                var expected = full[(b * tokens * Hidden) + j];
                var actual = first[(b * Hidden) + j];
                Assert.True(Math.Abs(expected - actual) < 1e-5, $"row {b}, component {j}: full graph {expected}, trimmed {actual}");
            }
        }
    }

    [Fact]
    public void Trim_OutputMixesTokens_LeftByteForByte()
    {
        // a mean over the sequence after the last layer needs every token's state: no trim
        var fused = AttentionFusion.Fuse(ExportedGraph(Variant.Exported, meanOverSequence: true), "attention.onnx").Model;

        var trimmed = FirstTokenTrim.Trim(fused, "attention.onnx");

        Assert.False(trimmed.Trimmed);
        Assert.Equal(fused, trimmed.Model);
    }

    [Fact]
    public void Trim_UnfusedGraph_LeftByteForByte()
    {
        // the trim finds the last layer through its fused attention node; an unfused graph is not touched
        var model = ExportedGraph(Variant.Exported);

        var trimmed = FirstTokenTrim.Trim(model, "attention.onnx");

        Assert.False(trimmed.Trimmed);
        Assert.Equal(model, trimmed.Model);
    }
}
