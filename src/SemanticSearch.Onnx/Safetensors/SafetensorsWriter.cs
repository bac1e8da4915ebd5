// Writes the safetensors format: 8-byte LE header length, JSON header (padded with spaces to a multiple of 8 so the
// data buffer is aligned, as the reference writer does), then the tensors' bytes back to back in header order.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace SemanticSearch.Onnx.Safetensors;

/// <summary>One tensor to write: name, element type, shape and little-endian bytes.</summary>
public sealed record SafetensorsTensor(string Name, SafetensorsDType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>A float32 tensor.</summary>
    public static SafetensorsTensor FromFloats(string name, ReadOnlySpan<float> data, params long[] shape) =>
        new(name, SafetensorsDType.F32, shape, MemoryMarshal.AsBytes(data).ToArray());

    /// <summary>A float16 tensor, rounded from float32 values.</summary>
    public static SafetensorsTensor FromFloatsAsHalf(string name, ReadOnlySpan<float> data, params long[] shape)
    {
        var halves = new Half[data.Length];
        for (int i = 0; i < data.Length; i++) halves[i] = (Half)data[i];
        return new(name, SafetensorsDType.F16, shape, MemoryMarshal.AsBytes(halves.AsSpan()).ToArray());
    }

    /// <summary>An int64 tensor.</summary>
    public static SafetensorsTensor FromInt64s(string name, ReadOnlySpan<long> data, params long[] shape) =>
        new(name, SafetensorsDType.I64, shape, MemoryMarshal.AsBytes(data).ToArray());
}

/// <summary>Writes a set of tensors as one safetensors file.</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> (via a temporary file, then rename).</summary>
    public static void Write(string path, IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var headerJson = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerJson))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in list)
            {
                if (!names.Add(t.Name)) throw new ArgumentException($"Duplicate tensor name '{t.Name}'.", nameof(tensors));
                long count = 1;
                foreach (var d in t.Shape) count *= d;
                if (count * SafetensorsFile.ElementSize(t.DType) != t.Data.Length)
                    throw new ArgumentException($"Tensor '{t.Name}' has {t.Data.Length} bytes, which does not match shape [{string.Join(", ", t.Shape)}] {t.DType}.", nameof(tensors));
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.Length;
            }
            json.WriteEndObject();
        }
        int padded = (int)((headerJson.Length + 7) / 8 * 8);
        var header = new byte[padded];
        header.AsSpan().Fill((byte)' ');
        headerJson.GetBuffer().AsSpan(0, (int)headerJson.Length).CopyTo(header);

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var t in list) stream.Write(t.Data.Span);
        }
        File.Move(temp, path, overwrite: true);
    }
}
