// A sequence lock between the metadata writer and lazy readers in any process (docs/architecture.md, "Metadata
// readers"). LiteDB's checkpoint copies committed pages from the log over their places in the data file, so a reader
// that reads the data file lazily is consistent only while no checkpoint runs. The writer makes the sequence odd
// before anything that writes the data file (open, checkpoint, close) and even again after; a reader notes the (even)
// value when it opens and reads it again after each read: an unchanged value proves no checkpoint overlapped the
// pages it read (the writer's bump is visible before its first page write; the reader's check follows its last page
// read), a changed one sends it to open the newer state. A writer killed mid-checkpoint leaves the value odd; readers
// then take a private copy (correct beside a half-done checkpoint) until the next writer's open makes it even again.
//
// File (16 bytes, little-endian): "SSCK", format version 1 (u32), sequence (u64). Written in place with one aligned
// 8-byte write; it carries no data, so it is neither fsync'd nor checksummed: a missing file reads as 0 (a store that
// no writer of this version has opened), an unreadable one as odd (take a copy).
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace SemanticSearch.Metadata;

/// <summary>The checkpoint sequence of one metadata store, beside its data file.</summary>
internal sealed class CheckpointSequence : IDisposable
{
    private const uint Magic = 0x4B435353; // "SSCK"
    private const uint FormatVersion = 1;
    private const int Size = 16;

    private readonly string _path;
    private readonly bool _writer;
    private SafeFileHandle? _handle;
    private long _value;

    private CheckpointSequence(string path, bool writer, SafeFileHandle? handle, long value)
    {
        _path = path;
        _writer = writer;
        _handle = handle;
        _value = value;
    }

    /// <summary>The sequence file of the store whose data file is <paramref name="dataPath"/>.</summary>
    public static string PathOf(string dataPath) => Path.ChangeExtension(Path.GetFullPath(dataPath), ".checkpoints");

    /// <summary>Opens (creating) the sequence for the store's one writer; the value is made odd until <see cref="Even"/>.</summary>
    public static CheckpointSequence ForWriter(string dataPath)
    {
        var path = PathOf(dataPath);
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var value = ReadValue(handle);
        var sequence = new CheckpointSequence(path, writer: true, handle, value < 0 ? 0 : value);
        if (value < 0)
        {
            var header = new byte[Size];
            BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), FormatVersion);
            RandomAccess.Write(handle, header, 0);
        }
        sequence.Odd();
        return sequence;
    }

    /// <summary>Opens the sequence for a reader (the file need not exist yet).</summary>
    public static CheckpointSequence ForReader(string dataPath) => new(PathOf(dataPath), writer: false, null, 0);

    /// <summary>Marks the start of writes to the data file.</summary>
    public void Odd()
    {
        _value = (_value + 1) | 1;
        Publish();
    }

    /// <summary>Marks their end.</summary>
    public void Even()
    {
        _value = (_value | 1) + 1;
        Publish();
    }

    private void Publish()
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, _value);
        RandomAccess.Write(_handle!, bytes, 8);
    }

    /// <summary>The sequence now: 0 when no writer of this format has opened the store, odd while one writes its data file (or died doing so).</summary>
    public long Read()
    {
        if (_writer)
        {
            return _value;
        }
        if (_handle is null)
        {
            try
            {
                _handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return 0;
            }
        }
        var value = ReadValue(_handle);
        return value < 0 ? 1 : value;
    }

    // -1 for a file that is not (yet) a sequence file
    private static long ReadValue(SafeFileHandle handle)
    {
        Span<byte> bytes = stackalloc byte[Size];
        if (RandomAccess.Read(handle, bytes, 0) < Size
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]) != FormatVersion)
        {
            return -1;
        }
        return BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
    }

    /// <inheritdoc />
    public void Dispose() => _handle?.Dispose();
}
