using CsCheck;
using System.Buffers.Binary;
using System.Text;
using SemanticSearch.Core;
using SemanticSearch.Onnx.Safetensors;
using Xunit;

namespace SemanticSearch.Onnx.Tests.Safetensors;

public sealed class SafetensorsTests
{
    /// <summary>Builds a file byte by byte as the format describes, independent of the writer under test.</summary>
    private static byte[] HandMade(string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    [Fact]
    public void Open_HandMadeFile_ReadsF32F16Bf16AndI64()
    {
        using var dir = new TempDir();
        var data = new List<byte>();
        data.AddRange(BitConverter.GetBytes(1.5f)); data.AddRange(BitConverter.GetBytes(-2f));            // F32 [2]   0..8
        data.AddRange(new byte[] { 0x00, 0x3C, 0x00, 0xC0 });                                                // F16 [1.0, -2.0] 8..12
        data.AddRange(new byte[] { 0x80, 0x3F, 0x40, 0x40 });                                                // BF16 [1.0, 3.0] 12..16
        data.AddRange(BitConverter.GetBytes(42L));                                                           // I64 [1] 16..24
        var header = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[1,2],"data_offsets":[8,12]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},"i":{"dtype":"I64","shape":[1],"data_offsets":[16,24]}}""";
        File.WriteAllBytes(dir.File("m.safetensors"), HandMade(header, [.. data]));

        using var file = SafetensorsFile.Open(dir.File("m.safetensors"));

        Assert.Equal([1.5f, -2f], file.ReadFloat32("a"));
        Assert.Equal([1f, -2f], file.ReadFloat32("h"));
        Assert.Equal([1f, 3f], file.ReadFloat32("b"));
        Assert.Equal([42L], file.ReadInt64("i"));
        Assert.Equal([1L, 2L], file.Tensors["h"].Shape);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(4, file.Tensors.Count);
    }

    [Fact]
    public void Write_ThenOpen_RoundTripsEveryTensor()
    {
        using var dir = new TempDir();
        float[] a = [1, 2, 3, 4, 5, 6];
        SafetensorsWriter.Write(dir.File("x.safetensors"),
            [SafetensorsTensor.FromFloats("w", a, 2, 3), SafetensorsTensor.FromFloatsAsHalf("h", [0.5f, 65504f], 2), SafetensorsTensor.FromInt64s("ids", [7, 8], 2)],
            new Dictionary<string, string> { ["k"] = "v" });

        var bytes = File.ReadAllBytes(dir.File("x.safetensors"));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + headerLength) % 8); // data buffer aligned
        using var file = SafetensorsFile.Open(dir.File("x.safetensors"));
        Assert.Equal(a, file.ReadFloat32("w"));
        Assert.Equal([0.5f, 65504f], file.ReadFloat32("h"));
        Assert.Equal([7L, 8L], file.ReadInt64("ids"));
        Assert.Equal("v", file.Metadata["k"]);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}""", "outside")]        // past the end
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "needs 12 bytes")]   // size ≠ numel × 4
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}""", "overlap")]
    [InlineData("""{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", "unsupported dtype")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2]}}""", "malformed")]
    [InlineData("""{"a":""", "not valid JSON")]
    public void Open_BadHeader_ThrowsCorruptDataNamingTensor(string header, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("bad.safetensors"), HandMade(header, new byte[8]));
        var ex = Assert.Throws<CorruptDataException>(() => SafetensorsFile.Open(dir.File("bad.safetensors")));
        Assert.Contains(expected, ex.Message);
        Assert.Equal(dir.File("bad.safetensors"), ex.Path);
    }

    [Fact]
    public void Open_HeaderLengthBeyondFile_ThrowsCorruptData()
    {
        using var dir = new TempDir();
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(dir.File("t.safetensors"), bytes);
        Assert.Throws<CorruptDataException>(() => SafetensorsFile.Open(dir.File("t.safetensors")));
    }

    [Fact]
    public void Open_MissingFile_ThrowsNotFound()
    {
        Assert.Throws<NotFoundException>(() => SafetensorsFile.Open("/nonexistent/model.safetensors"));
    }

    [Fact]
    public void ReadFloat32_IntegerTensor_ThrowsNamingTensor()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("x.safetensors"), [SafetensorsTensor.FromInt64s("position_ids", [0, 1], 2)]);
        using var file = SafetensorsFile.Open(dir.File("x.safetensors"));
        var ex = Assert.Throws<CorruptDataException>(() => file.ReadFloat32("position_ids"));
        Assert.Contains("position_ids", ex.Message);
    }
}

public sealed class SafetensorsPropertyTests
{
    [Fact]
    public void WriteThenOpen_AnyTensorSet_ReadsBackSameNamesShapesAndValues()
    {
        var shape = Gen.Int[0, 4].Array[0, 3];
        var tensor = shape.SelectMany(s => Gen.Float[-1e6f, 1e6f].Array[s.Aggregate(1, (a, b) => a * b)].Select(d => (Shape: s, Data: d)));
        tensor.Array[0, 6].Sample(set =>
        {
            using var dir = new TempDir();
            var tensors = set.Select((t, i) => SafetensorsTensor.FromFloats($"t{i}.weight", t.Data, t.Shape.Select(d => (long)d).ToArray())).ToList();
            SafetensorsWriter.Write(dir.File("p.safetensors"), tensors);
            using var file = SafetensorsFile.Open(dir.File("p.safetensors"));
            Assert.Equal(set.Length, file.Tensors.Count);
            for (int i = 0; i < set.Length; i++)
            {
                Assert.Equal(set[i].Shape.Select(d => (long)d), file.Tensors[$"t{i}.weight"].Shape);
                Assert.Equal(set[i].Data, file.ReadFloat32($"t{i}.weight"));
            }
        }, iter: 50);
    }
}
