using System.Runtime.InteropServices;

namespace SemanticSearch.Engine.Storage;

/// <summary>
/// Flushes a directory's entries to disk (fsync on the directory itself), so that a file created or renamed in it
/// survives a power loss. .NET has no API for this; on Unix it is open(O_RDONLY) + fsync. Windows makes renames
/// durable with the file's own flush, so it is a no-op there.
/// </summary>
internal static class DurableDirectory
{
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var fd = Open(System.Text.Encoding.UTF8.GetBytes(directory + "\0"), 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return; // best effort: the data itself was flushed with the file
        }
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open")]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync")]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
