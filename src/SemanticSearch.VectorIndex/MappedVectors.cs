// Full-precision vectors read in place from a vector file, memory-mapped read-only: a searcher that walks the graph
// on int8 codes touches a float vector only to rescore a candidate, so the floats need not be loaded at all. The
// pages a search touches are the page cache's, shared with every other reader of the file; the mapping keeps the
// file's data alive after a writer has deleted it (Linux), so a writer retiring the file never disturbs a searcher.
using System.IO.MemoryMappedFiles;

namespace SemanticSearch.VectorIndex;

/// <summary><c>count</c> rows of <c>dims</c> floats at <c>offset</c> of a file, mapped read-only.</summary>
internal sealed unsafe class MappedVectors
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly float* _start;
    private readonly int _dims;

    public MappedVectors(string path, long offset, int count, int dims)
    {
        _dims = dims;
        Count = count;
        _file = MemoryMappedFile.CreateFromFile(
            new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete),
            mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(offset, Math.Max(1, (long)count * dims * sizeof(float)), MemoryMappedFileAccess.Read);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _start = (float*)(pointer + _view.PointerOffset);
    }

    ~MappedVectors()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>How many rows are mapped (the slots below this read from the file).</summary>
    public int Count { get; }

    public ReadOnlySpan<float> Row(int slot) => new(_start + (long)slot * _dims, _dims);
}
