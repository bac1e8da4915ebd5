using Microsoft.Win32.SafeHandles;

namespace SemanticSearch.Metadata;

/// <summary>
/// A read-only stream over the first <see cref="Length"/> bytes of a file, opened with every sharing mode so that it
/// never stands in the writer's way, and read at explicit offsets (the page cache is shared with the writer; nothing
/// is copied). The length is fixed when it opens: pages the writer appends later are not part of this view.
/// </summary>
internal sealed class FileWindow : Stream
{
    private readonly SafeFileHandle _handle;
    private readonly long _length;
    private long _position;

    private FileWindow(SafeFileHandle handle, long length)
    {
        _handle = handle;
        _length = length;
    }

    /// <summary>A window over <paramref name="path"/> as long as it is now, cut to whole pages of <paramref name="pageSize"/> bytes; null when the file does not exist.</summary>
    public static FileWindow? Open(string path, int pageSize)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // also a store whose folder was moved away (an index deleted under its readers)
        }
        var length = RandomAccess.GetLength(handle);
        return new FileWindow(handle, length - length % pageSize);
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Clamp(_length - _position, 0, buffer.Length);
        var total = 0;
        while (total < n)
        {
            var read = RandomAccess.Read(_handle, buffer.Slice(total, n - total), _position + total);
            if (read == 0)
            {
                break; // the file shrank under the view: the caller's sequence check sees the checkpoint that did it
            }
            total += read;
        }
        _position += total;
        return total;
    }

    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => _length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException("a read-only view of the metadata store");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a read-only view of the metadata store");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }
        base.Dispose(disposing);
    }
}
