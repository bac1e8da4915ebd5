// Reads the safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
// mapping tensor names to {dtype, shape, data_offsets:[begin,end)} (offsets relative to the byte buffer that follows
// the header; "__metadata__" is a string map and is ignored), then the raw little-endian tensor bytes.
// Invariants checked on open: header fits the file, every tensor's byte range lies inside the buffer and has exactly
// numel × element-size bytes, and no two tensors overlap. Tensors are read on demand with positional reads, so a
// 400 MB checkpoint is never held twice.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using SemanticSearch.Core;

namespace SemanticSearch.Onnx.Safetensors;

/// <summary>Element types of the safetensors format (the header's "dtype" strings).</summary>
public enum SafetensorsDType
{
    /// <summary>"F32"</summary>
    F32,
    /// <summary>"F16"</summary>
    F16,
    /// <summary>"BF16"</summary>
    BF16,
    /// <summary>"F64"</summary>
    F64,
    /// <summary>"I64"</summary>
    I64,
    /// <summary>"I32"</summary>
    I32,
    /// <summary>"I16"</summary>
    I16,
    /// <summary>"I8"</summary>
    I8,
    /// <summary>"U8"</summary>
    U8,
    /// <summary>"BOOL"</summary>
    BOOL,
}

/// <summary>Where one tensor lives in a safetensors file.</summary>
/// <param name="Name">Tensor name, e.g. "encoder.layer.0.attention.self.query.weight".</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Begin">Start of the tensor's bytes, relative to the data buffer.</param>
/// <param name="End">End (exclusive) of the tensor's bytes, relative to the data buffer.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Number of elements (product of the shape; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }
}

/// <summary>A read-only set of named tensors, e.g. a safetensors file or an in-memory set used by tests.</summary>
public interface ISafetensorsSource
{
    /// <summary>Names this source in error messages (normally the file path).</summary>
    string SourceName { get; }

    /// <summary>All tensors, in header order.</summary>
    IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    /// <summary>Reads a floating-point tensor (F32, F16, BF16 or F64) widened/narrowed to float32.</summary>
    /// <exception cref="NotFoundException">No tensor has that name.</exception>
    /// <exception cref="CorruptDataException">The tensor is not floating point or cannot be read.</exception>
    float[] ReadFloat32(string name);
}

/// <summary>A safetensors file opened for reading. Dispose to close the file handle.</summary>
public sealed class SafetensorsFile : ISafetensorsSource, IDisposable
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024; // the reference implementation's limit
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;
    private readonly long _dataStart;

    private SafetensorsFile(string path, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long dataStart,
        IReadOnlyDictionary<string, SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        SourceName = path;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <inheritdoc />
    public string SourceName { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The header's "__metadata__" map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens a file and validates its header.</summary>
    /// <exception cref="NotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptDataException">The header is malformed or a tensor's byte range is invalid.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new NotFoundException($"{path}: safetensors file not found.");
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            Span<byte> lengthBytes = stackalloc byte[8];
            if (fileLength < 8 || RandomAccess.Read(handle, lengthBytes, 0) != 8)
                throw new CorruptDataException(path, "file is shorter than the 8-byte safetensors header length.");
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength == 0 || headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
                throw new CorruptDataException(path, $"header length {headerLength} does not fit a file of {fileLength} bytes.");
            var header = new byte[(int)headerLength];
            ReadExactly(handle, header, 8, path);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(path, header, fileLength - dataStart);
            return new SafetensorsFile(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads a tensor's raw little-endian bytes.</summary>
    public byte[] ReadBytes(string name)
    {
        var info = Info(name);
        var bytes = new byte[checked((int)(info.End - info.Begin))];
        ReadExactly(_handle, bytes, _dataStart + info.Begin, SourceName);
        return bytes;
    }

    /// <inheritdoc />
    public float[] ReadFloat32(string name)
    {
        var info = Info(name);
        var bytes = ReadBytes(name);
        return ToFloat32(SourceName, info, bytes);
    }

    /// <summary>Reads an I64 tensor.</summary>
    public long[] ReadInt64(string name)
    {
        var info = Info(name);
        if (info.DType != SafetensorsDType.I64)
            throw new CorruptDataException(SourceName, $"tensor '{name}' is {info.DType}, expected I64.");
        return MemoryMarshal.Cast<byte, long>(ReadBytes(name)).ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    internal static float[] ToFloat32(string source, SafetensorsTensorInfo info, ReadOnlySpan<byte> bytes)
    {
        var result = new float[info.ElementCount];
        switch (info.DType)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
                break;
            case SafetensorsDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = (float)halves[i];
                break;
            case SafetensorsDType.BF16:
                // bfloat16 is the top half of an IEEE float32: widening is a 16-bit shift, exactly.
                var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = (float)doubles[i];
                break;
            default:
                throw new CorruptDataException(source, $"tensor '{info.Name}' is {info.DType}, expected a floating-point type (F32, F16, BF16, F64).");
        }
        return result;
    }

    internal static int ElementSize(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        _ => 1,
    };

    internal static (Dictionary<string, SafetensorsTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"safetensors header is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CorruptDataException(path, "safetensors header is not a JSON object.");
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in property.Value.EnumerateObject())
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                tensors[property.Name] = ParseEntry(path, property.Name, property.Value, dataLength);
            }
        }
        // Byte ranges must not overlap (the format requires a dense, ordered buffer; overlaps mean a forged or damaged header).
        var ordered = tensors.Values.OrderBy(t => t.Begin).ToArray();
        for (int i = 1; i < ordered.Length; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new CorruptDataException(path, $"tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap in the data buffer.");
        return (tensors, metadata);
    }

    private static SafetensorsTensorInfo ParseEntry(string path, string name, JsonElement entry, long dataLength)
    {
        try
        {
            var dtypeText = entry.GetProperty("dtype").GetString();
            if (!Enum.TryParse<SafetensorsDType>(dtypeText, ignoreCase: false, out var dtype))
                throw new CorruptDataException(path, $"tensor '{name}' has unsupported dtype '{dtypeText}'.");
            var shape = new List<long>();
            foreach (var d in entry.GetProperty("shape").EnumerateArray())
            {
                long dim = d.GetInt64();
                if (dim < 0) throw new CorruptDataException(path, $"tensor '{name}' has a negative dimension {dim}.");
                shape.Add(dim);
            }
            var offsets = entry.GetProperty("data_offsets");
            if (offsets.GetArrayLength() != 2) throw new CorruptDataException(path, $"tensor '{name}' data_offsets must have two entries.");
            long begin = offsets[0].GetInt64(), end = offsets[1].GetInt64();
            if (begin < 0 || end < begin || end > dataLength)
                throw new CorruptDataException(path, $"tensor '{name}' data_offsets [{begin}, {end}) fall outside the {dataLength}-byte data buffer.");
            var info = new SafetensorsTensorInfo(name, dtype, shape, begin, end);
            long expected = checked(info.ElementCount * ElementSize(dtype));
            if (end - begin != expected)
                throw new CorruptDataException(path, $"tensor '{name}' of shape [{string.Join(", ", shape)}] {dtype} needs {expected} bytes but data_offsets span {end - begin}.");
            return info;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new CorruptDataException(path, $"tensor '{name}' has a malformed header entry: {e.Message}", e);
        }
    }

    private SafetensorsTensorInfo Info(string name) =>
        Tensors.TryGetValue(name, out var info) ? info : throw new NotFoundException($"{SourceName}: tensor '{name}' not found.");

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        while (buffer.Length > 0)
        {
            int n = RandomAccess.Read(handle, buffer, offset);
            if (n <= 0) throw new CorruptDataException(path, $"unexpected end of file at byte {offset}.");
            buffer = buffer[n..];
            offset += n;
        }
    }
}
