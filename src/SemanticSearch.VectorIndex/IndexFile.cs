// The single-file format shared by the flat and the HNSW index (format version 1). Everything is little-endian.
//
//   header   64 bytes: magic "SSVINDEX", u32 version, u32 kind (1 flat, 2 hnsw), u32 dimensions, u32 node count,
//            u32 deleted count, u32 M, u32 efConstruction, u32 efSearch, u64 seed, i32 entry point, i32 max level,
//            u64 reserved (0)
//   sections labels i64[n]; states u8[n] (1 live, 2 deleted); levels u8[n]; vectors f32[n*dims];
//            hnsw only: layer-0 links i32[n*(1+2M)] (count then ids), then for every node with level > 0, in node
//            order, i32[level*(1+M)] for layers 1..level
//   footer   24 bytes: u64 payload length (everything before the footer), u64 XxHash64 of the payload,
//            magic "SSVIEND1"
//
// The writer streams to "<path>.tmp", fsyncs and renames over the target, so a crash leaves either the old file or
// the new one. The reader checks magic and version first, then the footer (which catches truncation), checks every
// section size against the payload length before allocating, hashes while it reads and compares at the end: one
// sequential read, no second copy.
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using SemanticSearch.Core;

namespace SemanticSearch.VectorIndex;

internal enum IndexKind : uint
{
    Flat = 1,
    Hnsw = 2,
}

internal sealed record IndexFileHeader(
    IndexKind Kind, int Dimensions, int NodeCount, int DeletedCount, int M, int EfConstruction, int EfSearch,
    ulong Seed, int EntryPoint, int MaxLevel);

internal static class IndexFile
{
    public const uint CurrentVersion = 1;
    public const int HeaderSize = 64;
    public const int FooterSize = 24;
    public static ReadOnlySpan<byte> Magic => "SSVINDEX"u8;
    public static ReadOnlySpan<byte> EndMagic => "SSVIEND1"u8;

    public const byte StateLive = 1;
    public const byte StateDeleted = 2;

    public static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new SemanticSearchException("The vector index file format is little-endian; this machine is not.");
    }
}

/// <summary>Streams one index file to a temp file, hashing as it goes; <see cref="Commit"/> renames it into place.</summary>
internal sealed class IndexFileWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private readonly FileStream _stream;
    private readonly XxHash64 _hash = new();
    private long _length;
    private bool _committed;

    /// <summary>The payload's XxHash64 as written in the footer; set by <see cref="Commit"/>.</summary>
    public ulong Checksum { get; private set; }

    public IndexFileWriter(string path, IndexFileHeader header)
    {
        IndexFile.EnsureLittleEndian();
        _path = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _tempPath = _path + ".tmp";
        _stream = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);

        Span<byte> h = stackalloc byte[IndexFile.HeaderSize];
        h.Clear();
        IndexFile.Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], IndexFile.CurrentVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)header.Kind);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], header.Dimensions);
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], header.NodeCount);
        BinaryPrimitives.WriteInt32LittleEndian(h[24..], header.DeletedCount);
        BinaryPrimitives.WriteInt32LittleEndian(h[28..], header.M);
        BinaryPrimitives.WriteInt32LittleEndian(h[32..], header.EfConstruction);
        BinaryPrimitives.WriteInt32LittleEndian(h[36..], header.EfSearch);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], header.Seed);
        BinaryPrimitives.WriteInt32LittleEndian(h[48..], header.EntryPoint);
        BinaryPrimitives.WriteInt32LittleEndian(h[52..], header.MaxLevel);
        Write(h);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        _hash.Append(bytes);
        _stream.Write(bytes);
        _length += bytes.Length;
    }

    public void Write<T>(ReadOnlySpan<T> values) where T : unmanaged => Write(MemoryMarshal.AsBytes(values));

    public void Commit()
    {
        Span<byte> footer = stackalloc byte[IndexFile.FooterSize];
        BinaryPrimitives.WriteInt64LittleEndian(footer, _length);
        Checksum = _hash.GetCurrentHashAsUInt64();
        BinaryPrimitives.WriteUInt64LittleEndian(footer[8..], Checksum);
        IndexFile.EndMagic.CopyTo(footer[16..]);
        _stream.Write(footer);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        _stream.Dispose();
        if (!_committed)
        {
            try { File.Delete(_tempPath); }
            catch (IOException) { /* best effort: the temp file is harmless */ }
        }
    }
}

/// <summary>Reads and validates one index file sequentially; every problem becomes a <see cref="CorruptDataException"/>.</summary>
internal sealed class IndexFileReader : IDisposable
{
    private readonly FileStream _stream;
    private readonly XxHash64 _hash = new();
    private readonly long _payloadLength;
    private readonly ulong _expectedHash;
    private long _position;

    public string Path { get; }
    public IndexFileHeader Header { get; }

    public IndexFileReader(string path, IndexKind expectedKind)
    {
        IndexFile.EnsureLittleEndian();
        Path = System.IO.Path.GetFullPath(path);
        try
        {
            _stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // also when a writer retires the file between a reader's look at the manifest and this open
            throw new NotFoundException($"{Path}: vector index file not found");
        }
        try
        {
            long fileLength = _stream.Length;
            Span<byte> h = stackalloc byte[IndexFile.HeaderSize];
            int got = _stream.ReadAtLeast(h, h.Length, throwOnEndOfStream: false);
            if (got >= 8 && !h[..8].SequenceEqual(IndexFile.Magic))
                throw Corrupt("not a SemanticSearch vector index (unknown magic number)");
            if (got < IndexFile.HeaderSize || fileLength < IndexFile.HeaderSize + IndexFile.FooterSize)
                throw Corrupt($"truncated: {fileLength} bytes is shorter than the header and footer");
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
            if (version == 0 || version > IndexFile.CurrentVersion)
                throw Corrupt($"unsupported format version {version}; this build reads versions 1 to {IndexFile.CurrentVersion}");
            uint kind = BinaryPrimitives.ReadUInt32LittleEndian(h[12..]);
            if (kind != (uint)expectedKind)
                throw Corrupt($"holds a {KindName(kind)} index, expected a {KindName((uint)expectedKind)} index");

            Span<byte> footer = stackalloc byte[IndexFile.FooterSize];
            _stream.Position = fileLength - IndexFile.FooterSize;
            _stream.ReadExactly(footer);
            if (!footer[16..].SequenceEqual(IndexFile.EndMagic))
                throw Corrupt("truncated or damaged: the end marker is missing");
            _payloadLength = BinaryPrimitives.ReadInt64LittleEndian(footer);
            _expectedHash = BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]);
            if (_payloadLength != fileLength - IndexFile.FooterSize)
                throw Corrupt($"truncated or damaged: the footer records {_payloadLength} payload bytes, the file holds {fileLength - IndexFile.FooterSize}");
            _stream.Position = IndexFile.HeaderSize;
            _hash.Append(h);
            _position = IndexFile.HeaderSize;

            Header = new IndexFileHeader(
                (IndexKind)kind,
                Dimensions: BinaryPrimitives.ReadInt32LittleEndian(h[16..]),
                NodeCount: BinaryPrimitives.ReadInt32LittleEndian(h[20..]),
                DeletedCount: BinaryPrimitives.ReadInt32LittleEndian(h[24..]),
                M: BinaryPrimitives.ReadInt32LittleEndian(h[28..]),
                EfConstruction: BinaryPrimitives.ReadInt32LittleEndian(h[32..]),
                EfSearch: BinaryPrimitives.ReadInt32LittleEndian(h[36..]),
                Seed: BinaryPrimitives.ReadUInt64LittleEndian(h[40..]),
                EntryPoint: BinaryPrimitives.ReadInt32LittleEndian(h[48..]),
                MaxLevel: BinaryPrimitives.ReadInt32LittleEndian(h[52..]));
            if (Header.Dimensions is < 1 or > 65536) throw Corrupt($"invalid dimensions {Header.Dimensions}");
            if (Header.NodeCount < 0 || Header.DeletedCount < 0 || Header.DeletedCount > Header.NodeCount)
                throw Corrupt($"invalid counts (nodes {Header.NodeCount}, deleted {Header.DeletedCount})");
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    public long Remaining => _payloadLength - _position;

    /// <summary>The payload checksum the footer records (what a change log names as its base).</summary>
    public ulong Checksum => _expectedHash;

    /// <summary>Throws unless <paramref name="bytes"/> more payload bytes exist; call before allocating a section.</summary>
    public void Require(long bytes, string section)
    {
        if (bytes < 0 || bytes > Remaining)
            throw Corrupt($"truncated or damaged: section '{section}' needs {bytes} bytes, {Remaining} remain");
    }

    public void Read<T>(Span<T> target, string section) where T : unmanaged
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(target);
        Require(bytes.Length, section);
        _stream.ReadExactly(bytes);
        _hash.Append(bytes);
        _position += bytes.Length;
    }

    /// <summary>Checks that the payload was consumed exactly and that its checksum matches the footer.</summary>
    public void VerifyEnd()
    {
        if (_position != _payloadLength)
            throw Corrupt($"damaged: {_payloadLength - _position} unexpected bytes after the last section");
        if (_hash.GetCurrentHashAsUInt64() != _expectedHash)
            throw Corrupt("checksum mismatch: the file is damaged");
    }

    public CorruptDataException Corrupt(string problem) => new(Path, problem);

    private static string KindName(uint kind) => kind switch
    {
        (uint)IndexKind.Flat => "flat",
        (uint)IndexKind.Hnsw => "HNSW",
        _ => $"unknown (kind {kind})",
    };

    public void Dispose() => _stream.Dispose();
}
