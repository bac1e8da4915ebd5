using SemanticSearch.Core;
using SemanticSearch.Onnx.Bert;
using SemanticSearch.Onnx.Quantization;
using SemanticSearch.Onnx.Tests.Bert;
using Xunit;

namespace SemanticSearch.Onnx.Tests.Quantization;

/// <summary>
/// The int8 rewrite of a float graph, checked against an independent int8 graph: the BERT writer's own int8 export of
/// the same checkpoint, which quantises the same weights by the same rule while writing the graph from scratch.
/// </summary>
public sealed class DynamicInt8QuantizerTests
{
    private const int Vocab = 120;
    private static readonly long[][] Ids = [[101, 7, 8, 9, 102], [101, 20, 21, 22, 23, 24, 25, 102], [101, 40, 102], [101, 60, 61, 62, 63, 64, 65, 66, 67, 68, 102]];
    private static readonly long[][] Types = Ids.Select(r => new long[r.Length]).ToArray();

    private static (BertConfig Config, byte[] Float, byte[] WriterInt8) Checkpoint(TempDir dir)
    {
        var config = SeededBertCheckpoint.Write(dir.Path, 5, Vocab, hidden: 64, layers: 2, heads: 4, intermediate: 128, maxPositions: 64, weightStd: 0.05f, layerNormNoise: 0.1f);
        return (config, BertOnnxConverter.Convert(dir.Path), BertOnnxConverter.Convert(dir.Path, new BertExportOptions { Quantization = BertQuantization.Int8 }));
    }

    [Fact]
    public void Quantize_FloatBertGraph_MatchesTheWritersOwnInt8Graph()
    {
        using var dir = new TempDir();
        var (config, fp32, writerInt8) = Checkpoint(dir);
        var rewritten = DynamicInt8Quantizer.Quantize(fp32, "model.onnx");
        var ours = EncoderRun.Run(rewritten.Model, Ids, Types);
        var reference = EncoderRun.Run(writerInt8, Ids, Types);
        // both quantise the weights per column and the activations per tensor at run time; only the order of float
        // operations around the integer product may differ
        for (var i = 0; i < reference.Hidden.Length; i++)
        {
            Assert.True(Math.Abs(ours.Hidden[i] - reference.Hidden[i]) < 1e-3, $"hidden[{i}]: {ours.Hidden[i]} vs {reference.Hidden[i]}");
        }
        // the writer's graph has four linear products per BERT layer (query, key and value fused into one; attention
        // output; intermediate; output), and nothing else multiplies by a weight
        Assert.Equal(config.NumHiddenLayers * 4, rewritten.QuantizedMatMuls);
        Assert.True(rewritten.Int8WeightBytes * 3 < rewritten.FloatWeightBytes, $"{rewritten.Int8WeightBytes} int8 bytes for {rewritten.FloatWeightBytes} float bytes");
    }

    [Fact]
    public void Quantize_FloatBertGraph_StaysCloseToFloatButIsNotIt()
    {
        using var dir = new TempDir();
        var (config, fp32, _) = Checkpoint(dir);
        var f = EncoderRun.Run(fp32, Ids, Types);
        var q = EncoderRun.Run(DynamicInt8Quantizer.Quantize(fp32, "model.onnx").Model, Ids, Types);
        for (var b = 0; b < Ids.Length; b++)
        {
            double cos = 0;
            for (var j = 0; j < config.HiddenSize; j++) cos += f.Pooled![b * config.HiddenSize + j] * q.Pooled![b * config.HiddenSize + j];
            Assert.True(cos > 0.995, $"row {b}: cosine {cos}");
            Assert.True(cos < 1 - 1e-9, $"row {b}: int8 output identical to float; nothing was quantised");
        }
    }

    [Fact]
    public void Quantize_AnInt8Graph_FindsNothingLeftToQuantise()
    {
        using var dir = new TempDir();
        var (_, _, writerInt8) = Checkpoint(dir);
        var again = DynamicInt8Quantizer.Quantize(writerInt8, "model.onnx");
        Assert.Equal(0, again.QuantizedMatMuls);
        Assert.Equal(EncoderRun.Run(writerInt8, Ids, Types).Hidden, EncoderRun.Run(again.Model, Ids, Types).Hidden);
    }

    [Theory]
    [InlineData(new byte[] { 0x3A, 0x7F, 0x01 })] // graph field claiming 127 bytes, 1 left
    [InlineData(new byte[] { 0x08, 0x07 })]       // a model with no graph
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // an endless varint
    public void Quantize_NotAModel_IsCorruptDataNamingTheSource(byte[] bytes)
    {
        var e = Assert.Throws<CorruptDataException>(() => DynamicInt8Quantizer.Quantize(bytes, "weights.bin"));
        Assert.Equal("weights.bin", e.Path);
    }
}
