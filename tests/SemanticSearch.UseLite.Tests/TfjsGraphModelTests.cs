using System.Buffers.Binary;
using SemanticSearch.Core;

namespace SemanticSearch.UseLite.Tests;

public sealed class TfjsGraphModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("semsearch-tfjs-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_ShardedMixedWeights_ReadsEachInManifestOrderAndDequantises()
    {
        // Weights back to back across two shards: a float32 [2], a uint8-quantised float32 [3] (min -1, scale 0.5),
        // an int32 scalar. Hand-computed dequantised values: q * 0.5 - 1 for q = 0, 2, 5 → -1, 0, 1.5.
        var bytes = new byte[8 + 3 + 4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(0), 1.25f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4), -2f);
        bytes[8] = 0;
        bytes[9] = 2;
        bytes[10] = 5;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(11), 128);
        File.WriteAllBytes(Path.Combine(_dir, "shard1"), bytes[..6]);
        File.WriteAllBytes(Path.Combine(_dir, "shard2"), bytes[6..]);
        File.WriteAllText(Path.Combine(_dir, "model.json"), """
            {"modelTopology":{"node":[{"name":"x","op":"Placeholder"},{"name":"y","op":"Relu","input":["x"]}]},
             "weightsManifest":[{"paths":["shard1","shard2"],"weights":[
               {"name":"f","shape":[2],"dtype":"float32"},
               {"name":"q","shape":[3],"dtype":"float32","quantization":{"dtype":"uint8","min":-1,"scale":0.5}},
               {"name":"i","shape":[],"dtype":"int32"}]}]}
            """);

        var model = TfjsGraphModel.Load(_dir);

        Assert.Equal([1.25f, -2f], model.Weight("f", 2).Floats);
        Assert.Equal([-1f, 0f, 1.5f], model.Weight("q", 3).Floats);
        Assert.Equal(128, model.IntScalar("i"));
        Assert.Equal("Relu", model.Node("y", "Relu").Op);
        Assert.Equal(1, model.OpHistogram()["Placeholder"]);
    }

    [Fact]
    public void Load_ShardsShorterThanManifest_ThrowsCorruptData()
    {
        File.WriteAllBytes(Path.Combine(_dir, "shard1"), new byte[4]);
        File.WriteAllText(Path.Combine(_dir, "model.json"), """
            {"modelTopology":{"node":[]},"weightsManifest":[{"paths":["shard1"],"weights":[{"name":"f","shape":[2],"dtype":"float32"}]}]}
            """);
        var e = Assert.Throws<CorruptDataException>(() => TfjsGraphModel.Load(_dir));
        Assert.Contains("model.json", e.Message);
    }

    [Fact]
    public void Convert_GraphOtherThanTheAuditedOne_IsRefused()
    {
        File.WriteAllBytes(Path.Combine(_dir, "shard1"), new byte[8]);
        File.WriteAllText(Path.Combine(_dir, "model.json"), """
            {"modelTopology":{"node":[{"name":"x","op":"Placeholder"},{"name":"y","op":"Erf","input":["x"]}]},
             "weightsManifest":[{"paths":["shard1"],"weights":[{"name":"f","shape":[2],"dtype":"float32"}]}]}
            """);
        var e = Assert.Throws<CorruptDataException>(() => UseLiteOnnxConverter.Convert(_dir, "test"));
        Assert.Contains("Erf", e.Message);
    }

    [Fact]
    public void TimingSignal_Position_IsSinThenCosOfPositionTimesInverseTimescale()
    {
        float[] inverse = [1f, 0.5f];
        var table = UseLiteOnnxConverter.TimingSignal(inverse, 3);
        // Row 2: [sin(2), sin(1), cos(2), cos(1)].
        Assert.Equal((float)Math.Sin(2), table[8], 6);
        Assert.Equal((float)Math.Sin(1), table[9], 6);
        Assert.Equal((float)Math.Cos(2), table[10], 6);
        Assert.Equal((float)Math.Cos(1), table[11], 6);
    }
}
