// The skipped files of the last run of each folder, kept in the index directory (skipped.json), so that a run can
// tell a failure it already reported from a new one. A skipped file is "known" when the previous run of the same
// folder into the same index skipped it for the same kind of reason and it has not changed since (same size and
// modification time, or both absent). Everything else — a file failing for the first time, one that changed and
// still fails, one that fails for another reason — is new. The ledger is replaced after every finished run with
// exactly that run's skipped files, so a file that was fixed (or deleted) leaves it.
//
// It is advisory: not part of the commit protocol, written to a temporary file and renamed, never fsync'd. A ledger
// that is missing or unreadable makes every skipped file new (the safe side: a CI run exits 2); a failure to write it
// is not a failure of the job.
using System.Text.Json;

namespace SemanticSearch.Engine.Indexing;

internal static class SkipLedger
{
    /// <summary>The ledger's file name in an index directory.</summary>
    public const string FileName = "skipped.json";

    private const int Format = 1;

    private sealed record Entry(string Kind, long Size, long ModifiedTicks);

    private sealed record Ledger(int Format, Dictionary<string, Dictionary<string, Entry>> Folders);

    /// <summary>
    /// <paramref name="skipped"/> with <see cref="SkippedFile.Known"/> set from the ledger of
    /// <paramref name="indexDirectory"/> for the folder <paramref name="root"/>; the ledger then records this run's.
    /// </summary>
    public static IReadOnlyList<SkippedFile> Compare(string indexDirectory, string root, IReadOnlyList<SkippedFile> skipped)
    {
        var path = Path.Combine(indexDirectory, FileName);
        var ledger = Read(path);
        var previous = ledger.Folders.GetValueOrDefault(root) ?? [];
        var current = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var result = new List<SkippedFile>(skipped.Count);
        foreach (var s in skipped)
        {
            var entry = Fingerprint(s);
            current[s.Path] = entry;
            result.Add(s with { Known = previous.TryGetValue(s.Path, out var before) && before == entry });
        }
        if (current.Count == 0 && previous.Count == 0)
        {
            return result; // nothing to remember, nothing to forget
        }
        if (current.Count > 0)
        {
            ledger.Folders[root] = current;
        }
        else
        {
            ledger.Folders.Remove(root);
        }
        Write(path, ledger);
        return result;
    }

    /// <summary>Forgets the skipped files of folder <paramref name="root"/> (its source was removed from the index).</summary>
    public static void Forget(string indexDirectory, string root)
    {
        var path = Path.Combine(indexDirectory, FileName);
        var ledger = Read(path);
        if (ledger.Folders.Remove(root))
        {
            Write(path, ledger);
        }
    }

    private static Entry Fingerprint(SkippedFile s)
    {
        try
        {
            var info = new FileInfo(s.Path);
            if (info.Exists)
            {
                return new Entry(s.Kind, info.Length, info.LastWriteTimeUtc.Ticks);
            }
            return Directory.Exists(s.Path) ? new Entry(s.Kind, -1, Directory.GetLastWriteTimeUtc(s.Path).Ticks) : new Entry(s.Kind, -1, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new Entry(s.Kind, -1, 0);
        }
    }

    private static Ledger Read(string path)
    {
        try
        {
            if (File.Exists(path) && JsonSerializer.Deserialize<Ledger>(File.ReadAllBytes(path)) is { Format: Format, Folders: not null } ledger)
            {
                return ledger with { Folders = new(ledger.Folders, StringComparer.Ordinal) };
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // unreadable: every skipped file counts as new
        }
        return new Ledger(Format, new(StringComparer.Ordinal));
    }

    private static void Write(string path, Ledger ledger)
    {
        var tmp = path + ".tmp";
        try
        {
            File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(ledger));
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // advisory: the next run reports these files as new
        }
    }
}
