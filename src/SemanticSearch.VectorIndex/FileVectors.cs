// Full-precision vectors read in place from a vector file or its change log (a searcher's open): a searcher that walks
// the graph on int8 codes needs a float vector only to rescore a candidate, so the floats are not loaded at all. A row
// is read with one positioned read into a buffer of the calling thread, so the file's pages stay the page cache's,
// shared with every other reader and never part of the process: a memory map counted them as the searcher's own,
// since every fault maps the pages around it too (at 1M vectors the whole 1.9 GB of vector files ended up in the
// search process's resident set). An open handle keeps the file's data after a writer has deleted it (Linux), so a
// writer retiring the file never disturbs a searcher.
//
// A row's span is valid until the same thread reads the next row: callers use each row at once (a dot product, a
// copy), and a graph whose rows come from files takes no inserts, whose neighbour selection holds two rows at once.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SemanticSearch.VectorIndex;

/// <summary>One row of floats read from a file at an offset, into the calling thread's buffer.</summary>
internal static class RowReader
{
    [ThreadStatic]
    private static float[]? t_row;

    public static ReadOnlySpan<float> Read(SafeFileHandle file, string path, long offset, int dims)
    {
        var row = t_row is { } buffer && buffer.Length >= dims ? buffer : t_row = new float[dims];
        var bytes = MemoryMarshal.AsBytes(row.AsSpan(0, dims));
        var done = 0;
        while (done < bytes.Length)
        {
            var read = RandomAccess.Read(file, bytes[done..], offset + done);
            if (read == 0)
            {
                throw new SemanticSearch.Core.CorruptDataException(path, $"truncated: a vector at offset {offset} ends past the end of the file");
            }
            done += read;
        }
        return row.AsSpan(0, dims);
    }

    public static SafeFileHandle Open(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.RandomAccess);
}

/// <summary><c>count</c> rows of <c>dims</c> floats at <c>offset</c> of a vector file, read in place.</summary>
internal sealed class FileVectors(string path, long offset, int count, int dims)
{
    private readonly SafeFileHandle _file = RowReader.Open(path);

    /// <summary>How many rows the file holds (the slots below this read from it).</summary>
    public int Count { get; } = count;

    public ReadOnlySpan<float> Row(int slot) => RowReader.Read(_file, path, offset + (long)slot * dims * sizeof(float), dims);
}

/// <summary>
/// Rows of <c>dims</c> floats anywhere in the committed part of a change log, read in place: each record of the log
/// holds its added nodes' vectors in one section, so a searcher records where each row starts instead of loading it.
/// </summary>
internal sealed class LogVectors(string path, long committedLength, int dims)
{
    private readonly SafeFileHandle _file = RowReader.Open(path);
    private long[] _offsets = new long[1024];

    /// <summary>How many rows are recorded.</summary>
    public int Count { get; private set; }

    /// <summary>Records the next row as starting at byte <paramref name="offset"/> of the log (checked to lie inside its committed part).</summary>
    public void Add(long offset)
    {
        if (offset < 0 || offset + (long)dims * sizeof(float) > committedLength)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"a row at {offset} does not lie in the {committedLength} committed bytes");
        }
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, _offsets.Length * 2);
        }
        _offsets[Count++] = offset;
    }

    public ReadOnlySpan<float> Row(int row) => RowReader.Read(_file, path, _offsets[row], dims);
}
