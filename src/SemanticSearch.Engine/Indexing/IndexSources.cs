// The named sources of an index and the document-id scheme that keeps their documents apart.
//
// Invariants:
//   S1  every document belongs to exactly one source: the documents whose DocumentRecord.Source is the source's key
//       (a folder's full path, "api" for documents sent over the API, "beir:<name>" for an evaluation corpus);
//   S2  a document id is unique across sources: the first folder indexed into an index keeps ids that are paths
//       relative to it ("docs/honeybees.txt", as every index written before sources existed has them); each later
//       folder's ids are "<source name>/<relative path>", and a name whose prefix already begins another source's
//       ids is refused (given with --source) or passed over (a default name: "<name>-2", "<name>-3", …);
//   S3  a folder's source is recorded (metadata store, "sources") in the first commit that holds one of its documents,
//       so a job killed after that commit resumes under the same prefix, never under a new one;
//   S4  a folder with documents in the index but no record (an index written before sources existed) is recorded
//       with no prefix the next time it is indexed: its ids stay what they are, nothing is written twice.
using SemanticSearch.Core;
using SemanticSearch.Metadata;

namespace SemanticSearch.Engine.Indexing;

/// <summary>One source of an index's documents, with its totals (what <c>semsearch sources list</c> shows).</summary>
/// <param name="Name">The source's name (unique in the index, case-insensitively).</param>
/// <param name="Kind"><see cref="IndexSources.Folder"/>, <see cref="IndexSources.Api"/> or <see cref="IndexSources.Beir"/>.</param>
/// <param name="Path">The folder's full path, or null for a source that is not a folder.</param>
/// <param name="IdPrefix">What its document ids start with (empty for the index's first folder and for API documents).</param>
/// <param name="Documents">Documents it has in the index.</param>
/// <param name="Chunks">Their chunks.</param>
/// <param name="Bytes">Their source bytes.</param>
/// <param name="LastIndexedUtc">When it was last indexed (a folder's last job, else its latest document), or null when never.</param>
public sealed record SourceInfo(string Name, string Kind, string? Path, string IdPrefix, long Documents, long Chunks, long Bytes, DateTime? LastIndexedUtc)
{
    /// <summary>The <see cref="DocumentRecord.Source"/> value of its documents.</summary>
    public required string Key { get; init; }
}

/// <summary>Resolves, lists and names the sources of an index (see the invariants S1–S4 at the top of this file).</summary>
public static class IndexSources
{
    /// <summary>The kind of a folder source.</summary>
    public const string Folder = "folder";

    /// <summary>The kind (and the name and key) of documents sent over the API.</summary>
    public const string Api = "api";

    /// <summary>The kind of an evaluation corpus (key <c>beir:&lt;name&gt;</c>).</summary>
    public const string Beir = "beir";

    /// <summary>The longest source name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>True when <paramref name="name"/> can name a source: a letter or digit, then letters, digits, '.', '_' or '-'.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>Every source of the index behind <paramref name="metadata"/>, in name order.</summary>
    internal static IReadOnlyList<SourceInfo> List(MetadataStore metadata)
    {
        var records = metadata.Sources();
        var totals = metadata.TotalsBySource();
        var result = new List<SourceInfo>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in records)
        {
            var t = totals.GetValueOrDefault(r.Key);
            result.Add(new SourceInfo(r.Name, r.Kind, r.Kind == Folder ? r.Key : null, r.IdPrefix, t?.Documents ?? 0, t?.Chunks ?? 0, t?.Bytes ?? 0, r.IndexedUtc ?? t?.LastIndexedUtc) { Key = r.Key });
            names.Add(r.Name);
        }
        // documents of no recorded source: API uploads, evaluation corpora, and folders indexed before sources existed
        foreach (var (key, t) in totals.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (records.Any(r => r.Key == key))
            {
                continue;
            }
            var (name, kind, path) = key == Api ? (Api, Api, (string?)null)
                : key.StartsWith(Beir + ":", StringComparison.Ordinal) ? (key, Beir, null)
                : System.IO.Path.IsPathRooted(key) ? (Unique(DefaultName(key), names), Folder, key)
                : (key, Api, null);
            names.Add(name);
            result.Add(new SourceInfo(name, kind, path, string.Empty, t.Documents, t.Chunks, t.Bytes, t.LastIndexedUtc) { Key = key });
        }
        result.Sort((a, b) => StringComparer.OrdinalIgnoreCase.Compare(a.Name, b.Name));
        return result;
    }

    /// <summary>
    /// The source that folder <paramref name="root"/> (a full path) is indexed as: its record when it has one, else a
    /// new record (not yet written) named <paramref name="requested"/> or after the folder.
    /// </summary>
    /// <exception cref="InvalidSettingException">The name is not a valid name, is taken, or its id prefix is; or the folder already has another name.</exception>
    internal static SourceRecord ForFolder(MetadataStore metadata, string indexDirectory, string root, string? requested)
    {
        var sources = List(metadata);
        var recorded = metadata.Sources().FirstOrDefault(r => r.Kind == Folder && r.Key == root);
        if (recorded is not null)
        {
            if (requested is not null && !string.Equals(requested, recorded.Name, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidSettingException("source", $"folder {root} is source '{recorded.Name}' of index {indexDirectory} and keeps that name; to index it as '{requested}', remove it first (semsearch sources remove {recorded.Name}).");
            }
            return recorded;
        }
        if (requested is not null && !IsValidName(requested))
        {
            throw new InvalidSettingException("source", $"'{requested}' cannot name a source: use a letter or digit, then letters, digits, '.', '_' or '-' (at most {MaxNameLength}).");
        }
        var taken = new HashSet<string>(sources.Where(s => s.Key != root).Select(s => s.Name), StringComparer.OrdinalIgnoreCase) { Api };
        if (requested is not null && taken.Contains(requested))
        {
            var holder = sources.FirstOrDefault(s => string.Equals(s.Name, requested, StringComparison.OrdinalIgnoreCase));
            throw new InvalidSettingException("source", $"index {indexDirectory} already has a source named '{requested}'{(holder?.Path is { } p ? $" (folder {p})" : string.Empty)}; choose another --source.");
        }
        var now = DateTime.UtcNow;
        if (sources.FirstOrDefault(s => s.Key == root) is { } legacy)
        {
            // S4: indexed before sources existed; its ids are relative paths and stay so
            return new SourceRecord(requested ?? legacy.Name, Folder, root, string.Empty, now, null);
        }
        if (!sources.Any(s => s.Kind == Folder))
        {
            return new SourceRecord(requested ?? Unique(DefaultName(root), taken), Folder, root, string.Empty, now, null);
        }
        if (requested is not null)
        {
            if (metadata.DocumentIdWithPrefix(requested + "/", root) is { } clash)
            {
                throw new InvalidSettingException("source", $"index {indexDirectory} already holds document '{clash}' under '{requested}/', where the documents of source '{requested}' would go; choose another --source.");
            }
            return new SourceRecord(requested, Folder, root, requested + "/", now, null);
        }
        var name = DefaultName(root);
        for (var n = 2; taken.Contains(name) || metadata.DocumentIdWithPrefix(name + "/", root) is not null; n++)
        {
            name = Suffixed(DefaultName(root), n);
        }
        return new SourceRecord(name, Folder, root, name + "/", now, null);
    }

    // The folder's own name, with every character a name cannot hold replaced by '-'.
    private static string DefaultName(string root)
    {
        var folder = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(root));
        var chars = folder.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray();
        var name = new string(chars).TrimStart('.', '_', '-');
        name = name.Length > MaxNameLength - 4 ? name[..(MaxNameLength - 4)] : name;
        return name.Length == 0 ? Folder : name;
    }

    private static string Unique(string name, HashSet<string> taken)
    {
        var candidate = name;
        for (var n = 2; taken.Contains(candidate); n++)
        {
            candidate = Suffixed(name, n);
        }
        return candidate;
    }

    private static string Suffixed(string name, int n) => $"{name}-{n}";
}
