// One writer per index: an operating-system lock on <index>/write.lock, held on an open handle for as long as the
// writer is open. The file also holds the owner's pid, host, start time and role as JSON, for messages only.
//
// Invariant (I5 in docs/architecture.md): while a SemanticIndex is open for writing, its process holds an exclusive
// flock(2) on write.lock (on Windows: the file open for writing with no write sharing). The kernel grants it to one
// open handle at a time and drops it when that handle is closed, including when its process dies, so there is no
// stale lock to judge and nothing to take over: a killed writer's lock is simply free. The file is never deleted (a
// waiter that opened it before a deletion would lock an inode nobody else sees), and whatever it contains says
// nothing about who holds it; only the kernel lock does. Before each commit the writer checks that the path still
// names the file it locked (EnsureHeld), so a write.lock deleted by hand stops the writer instead of letting a second
// one in.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using SemanticSearch.Core;

namespace SemanticSearch.Engine.Storage;

/// <summary>The index is being written by another writer (the message names the index and the holder).</summary>
public sealed class IndexLockedException : SemanticSearchException
{
    /// <summary>Creates the exception for <paramref name="directory"/>, held by <paramref name="holder"/> (null when unknown).</summary>
    public IndexLockedException(string directory, WriteLockOwner? holder, string message) : base(message)
    {
        Directory = directory;
        Holder = holder;
    }

    /// <summary>The index directory.</summary>
    public string Directory { get; }

    /// <summary>The writer that holds the lock, as its lock file describes it; null when it could not be read.</summary>
    public WriteLockOwner? Holder { get; }

    /// <summary>The process id of the holder (0 when unknown).</summary>
    public int HolderPid => Holder?.Pid ?? 0;
}

/// <summary>The owner record stored in <c>write.lock</c> (for messages; the operating-system lock decides who holds it).</summary>
/// <param name="Pid">Process id of the writer.</param>
/// <param name="Host">Machine name of the writer.</param>
/// <param name="ProcessStartUtc">When the writer process started.</param>
/// <param name="AcquiredUtc">When the lock was taken.</param>
/// <param name="Role">What the writer is: "semsearch index", "semsearch repair", "server" …; null in files written before roles.</param>
/// <param name="ServerUrl">The address of the server holding it, when a server does.</param>
public sealed record WriteLockOwner(int Pid, string Host, DateTime ProcessStartUtc, DateTime AcquiredUtc, string? Role = null, string? ServerUrl = null)
{
    /// <summary>Role of a <c>semsearch serve</c> process.</summary>
    public const string ServerRole = "server";

    /// <summary>True when a server holds the lock.</summary>
    public bool IsServer => Role == ServerRole;

    /// <summary>"pid 123 on host (semsearch index) since …".</summary>
    public string Describe() =>
        $"pid {Pid} on {Host}" + (Role is null ? "" : IsServer ? $" (the semsearch server{(ServerUrl is null ? "" : " at " + ServerUrl)})" : $" ({Role})")
        + $" since {AcquiredUtc:u}";
}

/// <summary>Who is asking for the write lock, and how long they will wait for it.</summary>
/// <param name="Role">Written into the lock file for other writers' messages (see <see cref="WriteLockOwner.Role"/>).</param>
/// <param name="Wait">How long to wait for another writer to finish; zero fails at once, <see cref="Timeout.InfiniteTimeSpan"/> waits until cancelled.</param>
/// <param name="ServerUrl">The server's address when the writer is a server.</param>
public sealed record WriterOptions(string? Role = null, TimeSpan Wait = default, string? ServerUrl = null)
{
    /// <summary>Cancels a wait for the lock.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Fail at once when another writer holds the lock.</summary>
    public static WriterOptions Default { get; } = new();
}

/// <summary>The exclusive writer lock of one index directory; dispose to release it.</summary>
public sealed partial class IndexWriteLock : IDisposable
{
    /// <summary>File name inside the index directory.</summary>
    public const string FileName = "write.lock";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly SafeFileHandle _handle;
    private readonly string _directory;
    private readonly string _path;
    private bool _released;

    private IndexWriteLock(SafeFileHandle handle, string directory, string path, WriteLockOwner owner)
    {
        _handle = handle;
        _directory = directory;
        _path = path;
        Owner = owner;
    }

    /// <summary>What this lock's file says.</summary>
    public WriteLockOwner Owner { get; }

    /// <summary>
    /// Takes the lock of <paramref name="directory"/>, waiting up to <see cref="WriterOptions.Wait"/> for another
    /// writer to finish; throws <see cref="IndexLockedException"/> naming the holder when it does not.
    /// </summary>
    public static IndexWriteLock Acquire(string directory, WriterOptions? options = null)
    {
        options ??= WriterOptions.Default;
        var path = Path.Combine(directory, FileName);
        var clock = Stopwatch.StartNew();
        var delay = 20;
        while (true)
        {
            if (TryTake(path) is { } handle)
            {
                try
                {
                    var owner = CurrentOwner(options);
                    var bytes = JsonSerializer.SerializeToUtf8Bytes(owner, Json);
                    Native.Truncate(handle, 0, path);
                    RandomAccess.Write(handle, bytes, 0);
                    RandomAccess.FlushToDisk(handle);
                    return new IndexWriteLock(handle, directory, path, owner);
                }
                catch
                {
                    handle.Dispose();
                    throw;
                }
            }
            var left = options.Wait == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : options.Wait - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw Locked(directory, path, HolderOf(path, waitForContent: true));
            }
            var sleep = TimeSpan.FromMilliseconds(Math.Min(delay, Math.Max(1, Math.Min(left.TotalMilliseconds, 250))));
            if (options.Cancellation.WaitHandle.WaitOne(sleep))
            {
                options.Cancellation.ThrowIfCancellationRequested();
            }
            delay = Math.Min(delay * 2, 250);
        }
    }

    private static IndexLockedException Locked(string directory, string path, WriteLockOwner? holder)
    {
        var who = holder is null ? "another writer" : holder.Describe();
        return new IndexLockedException(directory, holder,
            $"index {directory} is locked by another writer: {who} ({path}); wait for it to finish (or use --wait)");
    }

    /// <summary>The writer that holds the lock of <paramref name="directory"/> now, or null when nobody does.</summary>
    public static WriteLockOwner? Holder(string directory)
    {
        var path = Path.Combine(directory, FileName);
        return IsHeldAt(path) ? HolderOf(path, waitForContent: true) : null;
    }

    /// <summary>True when a writer (in any process, this one included) holds the lock of <paramref name="directory"/>.</summary>
    public static bool IsHeld(string directory) => IsHeldAt(Path.Combine(directory, FileName));

    private static bool IsHeldAt(string path) => File.Exists(path) && Native.IsLocked(path);

    // The owner record in the file. A writer that has just taken the lock may not have written its record yet (the
    // file may still hold an old one, of a process that is gone): give it a moment, and never name a dead process.
    private static WriteLockOwner? HolderOf(string path, bool waitForContent)
    {
        for (var attempt = 0; ; attempt++)
        {
            var owner = ReadOwner(path);
            if (owner is not null && IsAlive(owner))
            {
                return owner;
            }
            if (!waitForContent || attempt >= 40)
            {
                return null;
            }
            Thread.Sleep(25);
        }
    }

    // Another host's process cannot be looked up: count it as alive. On this host, the pid must exist and have started
    // when the record says (a pid reused by an unrelated process is not the writer).
    private static bool IsAlive(WriteLockOwner owner)
    {
        if (owner.Host != Environment.MachineName || owner.Pid == Environment.ProcessId)
        {
            return true;
        }
        try
        {
            using var p = Process.GetProcessById(owner.Pid);
            return !p.HasExited && Math.Abs((p.StartTime.ToUniversalTime() - owner.ProcessStartUtc).TotalSeconds) < 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>
    /// Throws <see cref="IndexLockedException"/> unless <c>write.lock</c> at its path is still the file this lock holds
    /// (it was not deleted or replaced while the writer worked). Called before each commit: a writer that lost its
    /// lock file must not publish, since another writer may now hold the new one.
    /// </summary>
    public void EnsureHeld()
    {
        ObjectDisposedException.ThrowIf(_released, this);
        if (!Native.SameFile(_handle, _path))
        {
            throw new IndexLockedException(_directory, null,
                $"index {_directory}: {_path} was deleted or replaced while this writer held it; nothing more is committed (run the job again)");
        }
    }

    private static SafeFileHandle? TryTake(string path)
    {
        var handle = Native.OpenForLock(path);
        if (handle is null)
        {
            return null;
        }
        if (Native.TryLockExclusive(handle, path))
        {
            if (Native.SameFile(handle, path))
            {
                return handle;
            }
        }
        handle.Dispose();
        return null;
    }

    private static WriteLockOwner CurrentOwner(WriterOptions options)
    {
        using var self = Process.GetCurrentProcess();
        return new WriteLockOwner(Environment.ProcessId, Environment.MachineName, self.StartTime.ToUniversalTime(), DateTime.UtcNow, options.Role, options.ServerUrl);
    }

    private static WriteLockOwner? ReadOwner(string path)
    {
        try
        {
            using var handle = Native.OpenForProbe(path);
            if (handle is null)
            {
                return null;
            }
            var buffer = new byte[4096];
            var n = RandomAccess.Read(handle, buffer, 0);
            var text = buffer.AsSpan(0, n).Trim((byte)0).Trim(" \r\n\t"u8);
            return text.Length == 0 ? null : JsonSerializer.Deserialize<WriteLockOwner>(text, Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Releases the lock (empties the file and closes it; the file stays).</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }
        _released = true;
        try
        {
            Native.Truncate(_handle, 0, _path);
        }
        catch (IOException)
        {
            // only the description is lost; the lock goes with the handle
        }
        _handle.Dispose(); // closing the handle releases the kernel lock
    }

    // The few system calls .NET does not expose without a lock of its own: on Unix, .NET's FileStream takes flock
    // LOCK_SH on every read-only open (and LOCK_EX for FileShare.None), so the holder's record could not be read
    // beside a held lock through it. Windows has no flock: there a handle open for writing without write sharing is
    // the lock.
    private static partial class Native
    {
        private const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
        private const int EINTR = 4, ENOENT = 2;

        private static bool Bsd => OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();
        private static int O_RDONLY => 0;
        private static int O_RDWR => 2;
        private static int O_CREAT => Bsd ? 0x200 : 0x40;
        private static int O_NOFOLLOW => Bsd ? 0x100 : 0x20000;
        private static int O_CLOEXEC => OperatingSystem.IsMacOS() ? 0x1000000 : OperatingSystem.IsFreeBSD() ? 0x100000 : 0x80000;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Open(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        private static partial int Flock(SafeFileHandle fd, int operation);

        [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
        private static partial int Ftruncate(SafeFileHandle fd, long length);

        /// <summary>The lock file, opened for reading and writing, created when absent, never through a symlink.</summary>
        public static SafeFileHandle? OpenForLock(string path)
        {
            if (OperatingSystem.IsWindows())
            {
                try
                {
                    return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
                }
                catch (IOException) when (File.Exists(path))
                {
                    return null; // another handle has it open for writing: held
                }
            }
            var fd = Retry(() => Open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 420 /* 0644 */));
            return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw Error(path, "open", Marshal.GetLastPInvokeError());
        }

        /// <summary>A read-only handle that takes no lock (to read the owner record); null when the file is absent.</summary>
        public static SafeFileHandle? OpenForProbe(string path)
        {
            if (OperatingSystem.IsWindows())
            {
                try
                {
                    return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (FileNotFoundException)
                {
                    return null;
                }
            }
            var fd = Retry(() => Open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0));
            if (fd >= 0)
            {
                return new SafeFileHandle(fd, ownsHandle: true);
            }
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? null : throw Error(path, "open", errno);
        }

        /// <summary>Takes the exclusive lock on <paramref name="handle"/> without blocking; false when another handle holds it.</summary>
        public static bool TryLockExclusive(SafeFileHandle handle, string path)
        {
            if (OperatingSystem.IsWindows())
            {
                return true; // the open itself was the lock
            }
            return TryFlock(handle, LOCK_EX, path);
        }

        /// <summary>True when some handle (of any process) holds the lock on the file at <paramref name="path"/>.</summary>
        public static bool IsLocked(string path)
        {
            if (OperatingSystem.IsWindows())
            {
                try
                {
                    using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                    return false;
                }
                catch (FileNotFoundException)
                {
                    return false;
                }
                catch (IOException)
                {
                    return true;
                }
            }
            using var probe = OpenForProbe(path);
            if (probe is null)
            {
                return false;
            }
            if (TryFlock(probe, LOCK_SH, path))
            {
                Flock(probe, LOCK_UN);
                return false;
            }
            return true;
        }

        private static bool TryFlock(SafeFileHandle handle, int operation, string path)
        {
            if (Retry(() => Flock(handle, operation | LOCK_NB)) == 0)
            {
                return true;
            }
            var errno = Marshal.GetLastPInvokeError();
            return errno is 11 or 35 ? false : throw Error(path, "lock", errno); // EWOULDBLOCK: Linux 11, BSD 35
        }

        public static void Truncate(SafeFileHandle handle, long length, string path)
        {
            if (OperatingSystem.IsWindows())
            {
                RandomAccess.SetLength(handle, length);
                return;
            }
            if (Retry(() => Ftruncate(handle, length)) != 0)
            {
                throw Error(path, "write", Marshal.GetLastPInvokeError());
            }
        }

        /// <summary>
        /// True when <paramref name="path"/> still names the file <paramref name="handle"/> has open: not deleted and
        /// not replaced by another file (Linux: the kernel's name for the open file, which gains " (deleted)" once
        /// its last name is gone; elsewhere: the path exists and is locked).
        /// </summary>
        public static bool SameFile(SafeFileHandle handle, string path)
        {
            if (!File.Exists(path))
            {
                return false;
            }
            if (OperatingSystem.IsLinux())
            {
                var link = $"/proc/self/fd/{handle.DangerousGetHandle().ToInt64()}";
                try
                {
                    var target = new FileInfo(link).LinkTarget;
                    return target is not null && !target.EndsWith(" (deleted)", StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return IsLocked(path);
                }
            }
            return IsLocked(path);
        }

        private static int Retry(Func<int> call)
        {
            while (true)
            {
                var rc = call();
                if (rc >= 0 || Marshal.GetLastPInvokeError() != EINTR)
                {
                    return rc;
                }
            }
        }

        private static IOException Error(string path, string call, int errno)
        {
            var reason = errno switch
            {
                13 or 1 => "permission denied",
                40 or 62 => "it is a symbolic link (refused)",
                28 => "no space left on the device",
                30 => "read-only file system",
                21 => "it is a directory",
                _ => $"errno {errno}",
            };
            return new IOException($"{path}: cannot {call} the index's write lock: {reason}");
        }
    }
}
