// One writer per index: <index>/write.lock, created with O_EXCL (FileMode.CreateNew), holding the owner's pid, host
// and process start time as JSON.
//
// Invariant: while a SemanticIndex is open for writing, write.lock exists and names its process. The file is created
// exclusively, so two live writers cannot both hold it. A lock whose owner is gone (same host, and no process with that
// pid and start time) is stale: it is deleted and taken, which is how a job killed with SIGKILL is recovered. A lock
// from another host cannot be judged and is reported, never broken.
using System.Diagnostics;
using System.Text.Json;
using SemanticSearch.Core;

namespace SemanticSearch.Engine.Storage;

/// <summary>The index is being written by another process (the message names the index and the holder's pid).</summary>
public sealed class IndexLockedException : SemanticSearchException
{
    /// <summary>Creates the exception for <paramref name="directory"/>, held by <paramref name="holderPid"/>.</summary>
    public IndexLockedException(string directory, int holderPid, string message) : base(message)
    {
        Directory = directory;
        HolderPid = holderPid;
    }

    /// <summary>The index directory.</summary>
    public string Directory { get; }

    /// <summary>The process id named in the lock file.</summary>
    public int HolderPid { get; }
}

/// <summary>The owner record stored in <c>write.lock</c>.</summary>
/// <param name="Pid">Process id of the writer.</param>
/// <param name="Host">Machine name of the writer.</param>
/// <param name="ProcessStartUtc">When the writer process started (tells a reused pid apart).</param>
/// <param name="AcquiredUtc">When the lock was taken.</param>
public sealed record WriteLockOwner(int Pid, string Host, DateTime ProcessStartUtc, DateTime AcquiredUtc);

/// <summary>The exclusive writer lock of one index directory; dispose to release it.</summary>
public sealed class IndexWriteLock : IDisposable
{
    /// <summary>File name inside the index directory.</summary>
    public const string FileName = "write.lock";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly FileStream _stream;
    private readonly string _path;
    private bool _released;

    private IndexWriteLock(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    /// <summary>Takes the lock of <paramref name="directory"/>, recovering a stale one; throws <see cref="IndexLockedException"/> when a live writer holds it.</summary>
    public static IndexWriteLock Acquire(string directory)
    {
        var path = Path.Combine(directory, FileName);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete);
                try
                {
                    var me = CurrentOwner();
                    stream.Write(JsonSerializer.SerializeToUtf8Bytes(me, Json));
                    stream.Flush(flushToDisk: true);
                    return new IndexWriteLock(stream, path);
                }
                catch
                {
                    stream.Dispose();
                    File.Delete(path);
                    throw;
                }
            }
            catch (IOException) when (File.Exists(path))
            {
                var owner = ReadOwner(path);
                if (owner is null)
                {
                    // Empty or unreadable: its writer died between create and write, or is writing it right now.
                    if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > TimeSpan.FromSeconds(5))
                    {
                        TryDelete(path);
                    }
                    else
                    {
                        Thread.Sleep(100);
                    }
                    continue;
                }
                if (IsAlive(owner))
                {
                    throw new IndexLockedException(directory, owner.Pid,
                        $"index {directory} is locked by another writer: pid {owner.Pid} on {owner.Host} since {owner.AcquiredUtc:u} ({path}); wait for it to finish"
                        + (owner.Host == Environment.MachineName ? "" : ", or delete the lock file if that process is gone"));
                }
                TryDelete(path); // stale: its process is gone
            }
        }
        throw new IndexLockedException(directory, 0, $"index {directory}: could not take {path} (it keeps reappearing)");
    }

    /// <summary>The owner named in the lock file of <paramref name="directory"/>, or null when there is none.</summary>
    public static WriteLockOwner? Holder(string directory) => ReadOwner(Path.Combine(directory, FileName));

    private static WriteLockOwner CurrentOwner()
    {
        using var self = Process.GetCurrentProcess();
        return new WriteLockOwner(Environment.ProcessId, Environment.MachineName, self.StartTime.ToUniversalTime(), DateTime.UtcNow);
    }

    private static WriteLockOwner? ReadOwner(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            return bytes.Length == 0 ? null : JsonSerializer.Deserialize<WriteLockOwner>(bytes, Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Another host's process cannot be looked up: count it as alive. On this host, the pid must exist and have started
    // when the lock says (a pid reused by an unrelated process does not keep a lock alive).
    private static bool IsAlive(WriteLockOwner owner)
    {
        if (owner.Host != Environment.MachineName)
        {
            return true;
        }
        if (owner.Pid == Environment.ProcessId)
        {
            return true; // this process: another SemanticIndex instance here holds it
        }
        try
        {
            using var p = Process.GetProcessById(owner.Pid);
            if (p.HasExited)
            {
                return false;
            }
            return Math.Abs((p.StartTime.ToUniversalTime() - owner.ProcessStartUtc).TotalSeconds) < 2;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // someone else is recovering it at the same moment; the next attempt decides
        }
    }

    /// <summary>Releases the lock (deletes the file).</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }
        _released = true;
        _stream.Dispose();
        TryDelete(_path);
    }
}
