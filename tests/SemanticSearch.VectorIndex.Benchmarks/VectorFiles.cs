using System.Runtime.InteropServices;

namespace SemanticSearch.VectorIndex.Benchmarks;

/// <summary>
/// The "bin" layout of the big-ann-benchmarks suite: int32 rows, int32 columns, then row-major values
/// (float32 for vectors, int32 for ground-truth neighbour ids).
/// </summary>
internal static class VectorFiles
{
    public static (T[] Values, int Rows, int Columns) Read<T>(string path) where T : unmanaged
    {
        using var stream = File.OpenRead(path);
        Span<int> header = stackalloc int[2];
        stream.ReadExactly(MemoryMarshal.AsBytes(header));
        var values = new T[(long)header[0] * header[1]];
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return (values, header[0], header[1]);
    }
}
