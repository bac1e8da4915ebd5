// The change log of an HNSW file (format version 1): what commits changed since the base file was written, so that a
// commit costs the change, not the index. Everything is little-endian.
//
//   header   32 bytes: magic "SSVILOG1", u32 version, u32 dimensions, u64 checksum of the base file's payload (the
//            footer hash of the .hnsw file this log continues), u64 reserved (0)
//   records  one per commit, appended: 24-byte record header (magic "SSVR", u32 reserved, i64 generation, i64 payload
//            length), the payload, u64 XxHash64 of record header and payload
//
// A log is only ever appended to. The manifest records how many of its bytes are committed; a reader reads exactly
// that many (bytes after them belong to a commit that has not published, or never will), and a writer that reopens
// the index cuts the log back to that length before it appends. Replay checks that the log belongs to the base (its
// checksum), that every record is whole and hashes right, and that the records end exactly at the committed length.
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using SemanticSearch.Core;

namespace SemanticSearch.VectorIndex;

/// <summary>The change log of an HNSW vector file: where its records start, and how a writer recovers one.</summary>
public static class ChangeLog
{
    internal const uint CurrentVersion = 1;

    /// <summary>Bytes before the first record (where an empty log's records start).</summary>
    public const int HeaderSize = 32;

    internal const int RecordHeaderSize = 24;
    internal const int RecordFooterSize = 8;
    internal static ReadOnlySpan<byte> Magic => "SSVILOG1"u8;
    internal static ReadOnlySpan<byte> RecordMagic => "SSVR"u8;

    /// <summary>
    /// The log length once the record of <paramref name="generation"/> that starts at <paramref name="from"/> is
    /// counted, or null when no whole, intact record of that generation starts there (an interrupted commit).
    /// </summary>
    public static long? LengthThrough(string path, long from, long generation)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (from < HeaderSize || stream.Length < from + RecordHeaderSize + RecordFooterSize)
            {
                return null;
            }
            stream.Position = from;
            Span<byte> header = stackalloc byte[RecordHeaderSize];
            stream.ReadExactly(header);
            if (!header[..4].SequenceEqual(RecordMagic) || BinaryPrimitives.ReadInt64LittleEndian(header[8..]) != generation)
            {
                return null;
            }
            var payload = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
            var end = from + RecordHeaderSize + payload + RecordFooterSize;
            if (payload < 0 || end > stream.Length)
            {
                return null;
            }
            var hash = new XxHash64();
            hash.Append(header);
            var buffer = new byte[1 << 20];
            for (var left = payload; left > 0;)
            {
                var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n <= 0)
                {
                    return null;
                }
                hash.Append(buffer.AsSpan(0, n));
                left -= n;
            }
            Span<byte> footer = stackalloc byte[RecordFooterSize];
            stream.ReadExactly(footer);
            return BinaryPrimitives.ReadUInt64LittleEndian(footer) == hash.GetCurrentHashAsUInt64() ? end : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException)
        {
            return null;
        }
    }

    /// <summary>Cuts the log at <paramref name="path"/> back to its committed <paramref name="length"/> (0: removes it).</summary>
    public static void Truncate(string path, long length)
    {
        if (!File.Exists(path))
        {
            return;
        }
        if (length == 0)
        {
            File.Delete(path);
            return;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length > length)
        {
            stream.SetLength(length);
            stream.Flush(flushToDisk: true);
        }
    }
}

/// <summary>Appends one record to a change log (creating the log when nothing of it is committed yet) and fsyncs it.</summary>
internal sealed class ChangeLogAppender : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _path;
    private readonly XxHash64 _hash = new();
    private long _payloadLeft = -1;

    public ChangeLogAppender(string path, long committedLength, int dimensions, ulong baseChecksum)
    {
        IndexFile.EnsureLittleEndian();
        _path = Path.GetFullPath(path);
        _stream = new FileStream(_path, committedLength == 0 ? FileMode.Create : FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, 1 << 20);
        try
        {
            if (committedLength == 0)
            {
                Span<byte> h = stackalloc byte[ChangeLog.HeaderSize];
                h.Clear();
                ChangeLog.Magic.CopyTo(h);
                BinaryPrimitives.WriteUInt32LittleEndian(h[8..], ChangeLog.CurrentVersion);
                BinaryPrimitives.WriteInt32LittleEndian(h[12..], dimensions);
                BinaryPrimitives.WriteUInt64LittleEndian(h[16..], baseChecksum);
                _stream.Write(h);
            }
            else
            {
                if (_stream.Length < committedLength || committedLength < ChangeLog.HeaderSize)
                {
                    throw new CorruptDataException(_path, $"truncated: the manifest commits {committedLength} bytes of the change log, the file holds {_stream.Length}");
                }
                Span<byte> h = stackalloc byte[ChangeLog.HeaderSize];
                _stream.ReadExactly(h);
                if (!h[..8].SequenceEqual(ChangeLog.Magic) || BinaryPrimitives.ReadUInt64LittleEndian(h[16..]) != baseChecksum)
                {
                    throw new CorruptDataException(_path, "the change log does not continue this vector file");
                }
                _stream.SetLength(committedLength); // what an interrupted commit left after the committed records
                _stream.Position = committedLength;
            }
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>The log's length after the record (valid after <see cref="EndRecord"/>).</summary>
    public long Length => _stream.Length;

    public void BeginRecord(long generation, long payloadLength)
    {
        Span<byte> h = stackalloc byte[ChangeLog.RecordHeaderSize];
        h.Clear();
        ChangeLog.RecordMagic.CopyTo(h);
        BinaryPrimitives.WriteInt64LittleEndian(h[8..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(h[16..], payloadLength);
        _hash.Reset();
        _hash.Append(h);
        _stream.Write(h);
        _payloadLeft = payloadLength;
    }

    public void Write<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values);
        _payloadLeft -= bytes.Length;
        if (_payloadLeft < 0)
        {
            throw new InvalidOperationException("the record's payload is longer than announced");
        }
        _hash.Append(bytes);
        _stream.Write(bytes);
    }

    public void EndRecord()
    {
        if (_payloadLeft != 0)
        {
            throw new InvalidOperationException($"the record's payload is {_payloadLeft} bytes shorter than announced");
        }
        Span<byte> footer = stackalloc byte[ChangeLog.RecordFooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(footer, _hash.GetCurrentHashAsUInt64());
        _stream.Write(footer);
        _stream.Flush(flushToDisk: true);
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>Reads the committed records of a change log in order; every problem is a <see cref="CorruptDataException"/>.</summary>
internal sealed class ChangeLogReader : IDisposable
{
    private readonly FileStream _stream;
    private readonly long _length;
    private readonly XxHash64 _hash = new();
    private long _payloadLeft;

    public ChangeLogReader(string path, long committedLength, int dimensions, ulong baseChecksum)
    {
        IndexFile.EnsureLittleEndian();
        Path = System.IO.Path.GetFullPath(path);
        _length = committedLength;
        try
        {
            _stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NotFoundException($"{Path}: vector change log not found");
        }
        try
        {
            if (_stream.Length < committedLength || committedLength < ChangeLog.HeaderSize)
            {
                throw Corrupt($"truncated: the manifest commits {committedLength} bytes, the file holds {_stream.Length}");
            }
            Span<byte> h = stackalloc byte[ChangeLog.HeaderSize];
            _stream.ReadExactly(h);
            if (!h[..8].SequenceEqual(ChangeLog.Magic))
            {
                throw Corrupt("not a SemanticSearch vector change log (unknown magic number)");
            }
            var version = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
            if (version == 0 || version > ChangeLog.CurrentVersion)
            {
                throw Corrupt($"unsupported change log version {version}; this build reads versions 1 to {ChangeLog.CurrentVersion}");
            }
            if (BinaryPrimitives.ReadInt32LittleEndian(h[12..]) != dimensions)
            {
                throw Corrupt($"holds vectors of {BinaryPrimitives.ReadInt32LittleEndian(h[12..])} dimensions, the vector file {dimensions}");
            }
            if (BinaryPrimitives.ReadUInt64LittleEndian(h[16..]) != baseChecksum)
            {
                throw Corrupt("continues another vector file than the one the manifest names (base checksum differs)");
            }
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>The byte offset in the log of what the next read returns.</summary>
    public long Position => _stream.Position;

    /// <summary>Starts the next record; false when the committed records are all read.</summary>
    public bool NextRecord(out long generation)
    {
        generation = 0;
        if (_payloadLeft != 0)
        {
            throw new InvalidOperationException("the previous record was not read to its end");
        }
        var position = _stream.Position;
        if (position == _length)
        {
            return false;
        }
        if (_length - position < ChangeLog.RecordHeaderSize + ChangeLog.RecordFooterSize)
        {
            throw Corrupt($"truncated or damaged: {_length - position} committed bytes at offset {position} do not hold a record");
        }
        Span<byte> h = stackalloc byte[ChangeLog.RecordHeaderSize];
        _stream.ReadExactly(h);
        if (!h[..4].SequenceEqual(ChangeLog.RecordMagic))
        {
            throw Corrupt($"damaged: no record starts at offset {position}");
        }
        generation = BinaryPrimitives.ReadInt64LittleEndian(h[8..]);
        var payload = BinaryPrimitives.ReadInt64LittleEndian(h[16..]);
        if (payload < 0 || payload > _length - position - ChangeLog.RecordHeaderSize - ChangeLog.RecordFooterSize)
        {
            throw Corrupt($"truncated or damaged: the record at offset {position} announces {payload} bytes, the committed log holds fewer");
        }
        _hash.Reset();
        _hash.Append(h);
        _payloadLeft = payload;
        return true;
    }

    /// <summary>Throws unless the record has <paramref name="bytes"/> more bytes; call before allocating a section.</summary>
    public void Require(long bytes, string section)
    {
        if (bytes < 0 || bytes > _payloadLeft)
        {
            throw Corrupt($"truncated or damaged: section '{section}' needs {bytes} bytes, the record has {_payloadLeft} left");
        }
    }

    public void Read<T>(Span<T> target, string section) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(target);
        Require(bytes.Length, section);
        _stream.ReadExactly(bytes);
        _hash.Append(bytes);
        _payloadLeft -= bytes.Length;
    }

    /// <summary>Checks that the record was read exactly and that its checksum matches.</summary>
    public void EndRecord()
    {
        if (_payloadLeft != 0)
        {
            throw Corrupt($"damaged: {_payloadLeft} unexpected bytes at the end of a record");
        }
        Span<byte> footer = stackalloc byte[ChangeLog.RecordFooterSize];
        _stream.ReadExactly(footer);
        if (BinaryPrimitives.ReadUInt64LittleEndian(footer) != _hash.GetCurrentHashAsUInt64())
        {
            throw Corrupt($"checksum mismatch in the record ending at offset {_stream.Position}: the log is damaged");
        }
    }

    public CorruptDataException Corrupt(string problem) => new(Path, problem);

    public void Dispose() => _stream.Dispose();
}
