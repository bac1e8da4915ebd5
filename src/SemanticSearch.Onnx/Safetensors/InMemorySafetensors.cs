using SemanticSearch.Core;

namespace SemanticSearch.Onnx.Safetensors;

/// <summary>An in-memory tensor set (for tests and generated checkpoints).</summary>
public sealed class InMemorySafetensors : ISafetensorsSource
{
    private readonly Dictionary<string, SafetensorsTensor> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SafetensorsTensorInfo> _info = new(StringComparer.Ordinal);

    /// <summary>Wraps tensors; <paramref name="sourceName"/> appears in error messages.</summary>
    public InMemorySafetensors(IEnumerable<SafetensorsTensor> tensors, string sourceName = "(in memory)")
    {
        SourceName = sourceName;
        long offset = 0;
        foreach (var t in tensors)
        {
            _data[t.Name] = t;
            _info[t.Name] = new SafetensorsTensorInfo(t.Name, t.DType, t.Shape, offset, offset + t.Data.Length);
            offset += t.Data.Length;
        }
    }

    /// <inheritdoc />
    public string SourceName { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors => _info;

    /// <inheritdoc />
    public float[] ReadFloat32(string name) =>
        _data.TryGetValue(name, out var t)
            ? SafetensorsFile.ToFloat32(SourceName, _info[name], t.Data.Span)
            : throw new NotFoundException($"{SourceName}: tensor '{name}' not found.");
}
