namespace SemanticSearch.Onnx.Graph;

/// <summary>ONNX tensor element types; the values are <c>TensorProto.DataType</c> numbers.</summary>
public enum OnnxType
{
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>Boolean (one byte per element).</summary>
    Bool = 9,
    /// <summary>16-bit IEEE half float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Double = 11,
}

/// <summary>One dimension of a graph input/output shape: a fixed size or a symbolic name such as "batch".</summary>
public readonly record struct OnnxDim
{
    private OnnxDim(long? value, string? param) { Value = value; Param = param; }

    /// <summary>The fixed size, or null for a symbolic dimension.</summary>
    public long? Value { get; }

    /// <summary>The symbolic name (ONNX <c>dim_param</c>), or null for a fixed dimension.</summary>
    public string? Param { get; }

    /// <summary>A fixed dimension.</summary>
    public static OnnxDim Fixed(long value) =>
        value >= 0 ? new(value, null) : throw new ArgumentOutOfRangeException(nameof(value), value, "A dimension is never negative.");

    /// <summary>A symbolic dimension such as "batch" or "sequence".</summary>
    public static OnnxDim Symbolic(string name) =>
        string.IsNullOrEmpty(name) ? throw new ArgumentException("A symbolic dimension needs a name.", nameof(name)) : new(null, name);

    /// <summary>Converts a fixed size.</summary>
    public static implicit operator OnnxDim(long value) => Fixed(value);

    /// <summary>Converts a symbolic name.</summary>
    public static implicit operator OnnxDim(string name) => Symbolic(name);

    /// <inheritdoc />
    public override string ToString() => Param ?? Value!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A tensor value flowing through a graph under construction: a graph input, an initializer or a node output.
/// Values are compared by identity; the name is final once the model is written.
/// </summary>
public sealed class OnnxValue
{
    internal OnnxValue(OnnxGraphBuilder? owner, string name, OnnxValueKind kind)
    {
        Owner = owner;
        Name = name;
        Kind = kind;
    }

    /// <summary>The empty value, for an optional node input that is left out (written as "").</summary>
    public static OnnxValue None { get; } = new(null, "", OnnxValueKind.None);

    /// <summary>The name this value has in the graph.</summary>
    public string Name { get; internal set; }

    /// <summary>The builder that created this value; null only for <see cref="None"/>.</summary>
    internal OnnxGraphBuilder? Owner { get; }

    internal OnnxValueKind Kind { get; }

    /// <summary>True once a graph output has claimed this node output's name.</summary>
    internal bool NamedByOutput { get; set; }

    /// <inheritdoc />
    public override string ToString() => Name;
}

internal enum OnnxValueKind { None, Input, Initializer, NodeOutput }

/// <summary>
/// Node attributes, written with a collection initializer:
/// <c>new OnnxAttributes { { "axis", -1 }, { "epsilon", 1e-12f }, { "perm", [0, 2, 1, 3] } }</c>.
/// </summary>
public sealed class OnnxAttributes : IEnumerable<KeyValuePair<string, object>>
{
    private readonly List<KeyValuePair<string, object>> _items = [];

    /// <summary>An int attribute (ONNX INT, 64-bit).</summary>
    public void Add(string name, long value) => _items.Add(new(name, value));

    /// <summary>A float attribute.</summary>
    public void Add(string name, float value) => _items.Add(new(name, value));

    /// <summary>A float attribute given as a double (narrowed to float, as ONNX stores it).</summary>
    public void Add(string name, double value) => _items.Add(new(name, (float)value));

    /// <summary>A string attribute.</summary>
    public void Add(string name, string value) => _items.Add(new(name, value));

    /// <summary>An ints attribute.</summary>
    public void Add(string name, long[] values) => _items.Add(new(name, values));

    /// <summary>A floats attribute.</summary>
    public void Add(string name, float[] values) => _items.Add(new(name, values));

    /// <summary>A strings attribute.</summary>
    public void Add(string name, string[] values) => _items.Add(new(name, values));

    /// <summary>A tensor attribute (e.g. Constant's "value").</summary>
    public void Add(string name, OnnxTensor value) => _items.Add(new(name, value));

    /// <summary>Number of attributes.</summary>
    public int Count => _items.Count;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A dense tensor literal: element type, shape and little-endian raw bytes.</summary>
public sealed class OnnxTensor
{
    /// <summary>Creates a tensor from raw little-endian bytes; the byte count must match the shape and type.</summary>
    public OnnxTensor(OnnxType type, ReadOnlyMemory<byte> rawLittleEndian, params long[] dims)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension {d} in a tensor shape.", nameof(dims));
            count *= d;
        }
        long expected = count * ElementSize(type);
        if (rawLittleEndian.Length != expected)
            throw new ArgumentException(
                $"Tensor of type {type} and shape [{string.Join(", ", dims)}] needs {expected} bytes, got {rawLittleEndian.Length}.",
                nameof(rawLittleEndian));
        Type = type;
        Raw = rawLittleEndian;
        Dims = (long[])dims.Clone();
    }

    /// <summary>Element type.</summary>
    public OnnxType Type { get; }

    /// <summary>Shape.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>Little-endian element bytes.</summary>
    public ReadOnlyMemory<byte> Raw { get; }

    /// <summary>Creates a float tensor (copies the data).</summary>
    public static OnnxTensor FromFloats(ReadOnlySpan<float> data, params long[] dims) => new(OnnxType.Float, ToBytes(data), dims);

    /// <summary>Creates a half-float tensor (copies the data).</summary>
    public static OnnxTensor FromHalves(ReadOnlySpan<Half> data, params long[] dims) => new(OnnxType.Float16, ToBytes(data), dims);

    /// <summary>Creates an int64 tensor (copies the data).</summary>
    public static OnnxTensor FromInt64s(ReadOnlySpan<long> data, params long[] dims) => new(OnnxType.Int64, ToBytes(data), dims);

    /// <summary>Creates an int32 tensor (copies the data).</summary>
    public static OnnxTensor FromInt32s(ReadOnlySpan<int> data, params long[] dims) => new(OnnxType.Int32, ToBytes(data), dims);

    /// <summary>Creates an int8 tensor (copies the data).</summary>
    public static OnnxTensor FromInt8s(ReadOnlySpan<sbyte> data, params long[] dims) => new(OnnxType.Int8, ToBytes(data), dims);

    /// <summary>Creates a uint8 tensor (copies the data).</summary>
    public static OnnxTensor FromUInt8s(ReadOnlySpan<byte> data, params long[] dims) => new(OnnxType.UInt8, data.ToArray(), dims);

    internal static int ElementSize(OnnxType type) => type switch
    {
        OnnxType.Float or OnnxType.Int32 => 4,
        OnnxType.UInt8 or OnnxType.Int8 or OnnxType.Bool => 1,
        OnnxType.Int64 or OnnxType.Double => 8,
        OnnxType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported ONNX element type."),
    };

    private static byte[] ToBytes<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        // The raw_data field is little endian by definition; every platform .NET 10 targets here is little endian.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).ToArray();
    }
}
