// The folder indexing job: source → extract → chunk → write → commit, one way.
//
// Files are enumerated in ordinal path order and prepared (read, hashed, extracted, chunked) in parallel but consumed
// in that same order by a single writer, so chunk ids — and therefore results — are the same on every run. A file
// whose bytes hash to what the index already holds is not extracted again. After the walk, documents of this folder
// that no longer exist are deleted. The writer commits every N documents or T seconds, so a killed job loses at most
// the uncommitted tail and a re-run resumes from what was committed.
using System.Diagnostics;
using System.IO.Hashing;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Extraction;

namespace SemanticSearch.Engine.Indexing;

/// <summary>Progress of a folder job, reported after every file.</summary>
/// <param name="Processed">Files handled so far.</param>
/// <param name="Total">Files found.</param>
/// <param name="CurrentPath">The file just handled, relative to the folder.</param>
public sealed record IndexingProgress(int Processed, int Total, string CurrentPath);

/// <summary>A file that was not indexed, and why.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>What a folder job did.</summary>
public sealed record IndexingReport(
    string Folder,
    int FilesSeen,
    int Added,
    int Updated,
    int Unchanged,
    int Removed,
    long ChunksWritten,
    IReadOnlyList<SkippedFile> Skipped,
    TimeSpan Elapsed);

/// <summary>Indexes every supported file under a folder into a <see cref="SemanticIndex"/>.</summary>
public sealed class FolderIndexer
{
    // Chunks embedded per encoder call while indexing a folder: large enough for the encoder to batch well.
    private const int EmbeddingBatchChunks = 64;

    private readonly SemanticIndex _index;
    private readonly IndexSettings _settings;
    private readonly DocumentExtractor _extractor;

    /// <summary>Creates a job writer over an index opened for writing.</summary>
    public FolderIndexer(SemanticIndex index, IndexSettings settings, DocumentExtractor? extractor = null)
    {
        _index = index;
        _settings = settings;
        _extractor = extractor ?? new DocumentExtractor();
    }

    /// <summary>
    /// When set, the job's folder must still resolve to exactly this real path when the job starts (the server sets
    /// it to the folder its policy allowed, so a folder swapped for a symbolic link meanwhile is refused).
    /// </summary>
    public string? ConfinedRoot { get; init; }

    /// <summary>Test hook: called with the listed files before any is opened (to swap one for a link).</summary>
    internal Action<IReadOnlyList<string>>? AfterListing { get; set; }

    /// <summary>Indexes <paramref name="folder"/> (recursively); idempotent for unchanged files.</summary>
    public IndexingReport Run(string folder, IProgress<IndexingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new NotFoundException(File.Exists(root) ? $"not a folder: {folder}" : $"folder not found: {folder}");
        }
        // Containment: every file read must lie under the folder's real path as it was when the job started.
        var realRoot = RealPaths.Resolve(root);
        if (ConfinedRoot is { } confined && !string.Equals(realRoot, confined, StringComparison.Ordinal))
        {
            throw new FolderEscapeException($"folder: '{folder}' now leads to '{realRoot}', not to the folder that was allowed ('{confined}'); it was not indexed.");
        }
        var clock = Stopwatch.StartNew();
        var files = Enumerate(root, out var unlistable);
        AfterListing?.Invoke(files);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var skipped = new List<SkippedFile>(unlistable);
        int added = 0, updated = 0, unchanged = 0, processed = 0, removed = 0, sinceCommit = 0;
        var lastCommit = Stopwatch.StartNew();
        var knownHashes = _index.HashesFromSource(root); // read once: preparation threads never touch the stores

        var prepared = files
            .AsParallel()
            .AsOrdered()
            .WithDegreeOfParallelism(Math.Max(1, Math.Min(4, Environment.ProcessorCount)))
            .WithCancellation(cancellationToken)
            .Select(f => Prepare(root, realRoot, f, knownHashes));

        using var writer = new BatchedIndexWriter(_index, EmbeddingBatchChunks);

        _index.BeginBatch();
        try
        {
            foreach (var item in prepared)
            {
                seen.Add(item.Id);
                switch (item)
                {
                    case Prepared.Unchanged:
                        unchanged++;
                        break;
                    case Prepared.Skipped s:
                        skipped.Add(new SkippedFile(s.Path, s.Reason));
                        // a file that became unreadable keeps its last good version in the index
                        break;
                    case Prepared.Ready r:
                        if (_index.GetDocument(r.Document.Id) is not null)
                        {
                            updated++;
                        }
                        else
                        {
                            added++;
                        }
                        writer.Add(r.Document, r.Chunks);
                        sinceCommit++;
                        break;
                }
                processed++;
                progress?.Report(new IndexingProgress(processed, files.Count, item.Id));
                if (sinceCommit >= _settings.CommitEveryDocuments || (sinceCommit > 0 && lastCommit.Elapsed >= _settings.CommitInterval))
                {
                    writer.Flush();
                    _index.Commit();
                    _index.BeginBatch();
                    sinceCommit = 0;
                    lastCommit.Restart();
                }
            }
            writer.Flush();

            foreach (var id in _index.DocumentIdsFromSource(root))
            {
                if (!seen.Contains(id) && !InUnlistedFolder(root, id, unlistable))
                {
                    _index.Delete(id);
                    removed++;
                }
            }
            _index.Commit();
        }
        catch (Exception e)
        {
            // Uncommitted work is discarded in every store; what is on disk stays at the last commit (see "Commit
            // protocol" in docs/architecture.md).
            _index.Abort();
            if (e is StoreWriteException or IOException)
            {
                throw new SemanticSearchException(
                    $"index {_index.Directory}: writing failed ({e.Message}); the index keeps its last commit (generation {_index.Manifest.Generation}, {_index.Manifest.Counts.Documents} documents)", e);
            }
            throw;
        }

        return new IndexingReport(root, files.Count, added, updated, unchanged, removed, writer.ChunksWritten, skipped, clock.Elapsed);
    }

    /// <summary>
    /// Supported files under <paramref name="root"/>, sorted by ordinal path. Hidden entries (a name starting with a
    /// dot) and symbolic links are not followed: links could loop or lead outside the folder. A folder that cannot be
    /// listed (no permission) is reported in <paramref name="unlistable"/> rather than silently left out, so the
    /// report accounts for every file the job could not see.
    /// </summary>
    private List<string> Enumerate(string root, out List<SkippedFile> unlistable)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = false,
            IgnoreInaccessible = false,
            AttributesToSkip = FileAttributes.ReparsePoint | FileAttributes.Device,
            ReturnSpecialDirectories = false,
            MatchType = MatchType.Simple,
        };
        var list = new List<string>();
        unlistable = [];
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            try
            {
                foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options))
                {
                    if (entry.Name.StartsWith('.'))
                    {
                        continue;
                    }
                    if (entry.FullName.Length is 0 or > MaxPathChars || entry.FullName.Length <= dir.Length)
                    {
                        // a name the platform cannot hand back whole (past PATH_MAX): this entry only
                        var shown = ShortId(Path.Combine(dir, entry.Name));
                        unlistable.Add(new SkippedFile(shown, $"path is longer than {MaxPathChars:N0} characters; not indexed"));
                        continue;
                    }
                    if (entry is DirectoryInfo)
                    {
                        pending.Push(entry.FullName);
                    }
                    else if (_extractor.Supports(entry.FullName))
                    {
                        list.Add(entry.FullName);
                    }
                }
            }
            catch (UnauthorizedAccessException)
            {
                unlistable.Add(new SkippedFile(dir, "permission denied: folder cannot be listed, its files were not indexed"));
            }
            catch (IOException e) when (dir != root)
            {
                // gone or replaced while the walk ran
                unlistable.Add(new SkippedFile(ShortId(dir), $"folder cannot be listed: {e.Message}"));
            }
            catch (ArgumentException e) when (dir != root)
            {
                unlistable.Add(new SkippedFile(ShortId(dir), $"folder cannot be listed: {e.Message}"));
            }
        }
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    // A document under a folder that could not be listed this time is kept, like a file that became unreadable:
    // a passing permission problem must not delete what was indexed.
    private static bool InUnlistedFolder(string root, string id, List<SkippedFile> unlistable)
    {
        foreach (var folder in unlistable)
        {
            var prefix = Path.GetRelativePath(root, folder.Path).Replace(Path.DirectorySeparatorChar, '/');
            if (prefix == "." || id.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private Prepared Prepare(string root, string realRoot, string file, IReadOnlyDictionary<string, string> knownHashes)
    {
        var id = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
        if (file.Length > MaxPathChars)
        {
            return new Prepared.Skipped(ShortId(id), ShortId(file), $"path is {file.Length:N0} characters long, over the {MaxPathChars:N0}-character limit");
        }
        try
        {
            var info = new FileInfo(file);
            if (info.Length > _settings.MaxFileBytes)
            {
                return new Prepared.Skipped(id, file, $"file is {info.Length:N0} bytes, over the {_settings.MaxFileBytes:N0}-byte limit (maxFileBytes)");
            }
            if (info.Length == 0)
            {
                return new Prepared.Skipped(id, file, "empty file");
            }
            // The size is checked again on the open handle: the file may have been replaced or grown since it was listed.
            var bytes = ReadAtMost(file, realRoot, _settings.MaxFileBytes, out var escaped);
            if (escaped is not null)
            {
                return new Prepared.Skipped(id, file, $"not read: it leads outside the folder (to '{escaped}') through a symbolic link");
            }
            if (bytes is null)
            {
                return new Prepared.Skipped(id, file, $"file grew past the {_settings.MaxFileBytes:N0}-byte limit (maxFileBytes) while being read");
            }
            var hash = Convert.ToHexStringLower(XxHash128.Hash(bytes));
            if (knownHashes.TryGetValue(id, out var known) && known == hash)
            {
                return new Prepared.Unchanged(id);
            }
            var extracted = _extractor.Extract(bytes, file);
            var doc = new SourceDocument(id, root, file, extracted.Title, extracted.Text, Path.GetExtension(file).ToLowerInvariant(),
                bytes.LongLength, info.LastWriteTimeUtc, hash, EmptyMetadata);
            var chunks = _index.Chunk(doc);
            if (chunks.Count == 0)
            {
                return new Prepared.Skipped(id, file, "no text found");
            }
            return new Prepared.Ready(id, doc, chunks);
        }
        catch (ExtractionException e)
        {
            return new Prepared.Skipped(id, file, e.Message);
        }
        catch (UnauthorizedAccessException)
        {
            return new Prepared.Skipped(id, file, "permission denied");
        }
        catch (IOException e)
        {
            return new Prepared.Skipped(id, file, $"cannot read: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            // a name the platform cannot open (too long for it, or with characters it refuses): this file only
            return new Prepared.Skipped(ShortId(id), ShortId(file), $"cannot open: {e.Message}");
        }
    }

    /// <summary>Paths longer than this are skipped with a reason (Linux's PATH_MAX).</summary>
    public const int MaxPathChars = 4096;

    // A path as it appears in a report: an over-long one is cut, so one bad name cannot bloat the report.
    private static string ShortId(string path) => path.Length <= 300 ? path : path[..150] + "…" + path[^100..];

    // The whole file when it holds at most maxBytes on the open handle, else null. Reads only the length found at
    // open time, so a file that keeps growing cannot make the read unbounded.
    // The real path of the opened file is checked against the folder's before a byte is read: a file (or a folder on
    // its path) replaced by a symbolic link after the listing is not followed out of the folder.
    private static byte[]? ReadAtMost(string file, string realRoot, long maxBytes, out string? escaped)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, FileOptions.SequentialScan);
        var real = RealPaths.OfOpenFile(fs.SafeFileHandle, file);
        escaped = real is null || !RealPaths.IsUnder(real, realRoot) ? real ?? "a file with no name" : null;
        if (escaped is not null)
        {
            return null;
        }
        var length = fs.Length;
        if (length > maxBytes)
        {
            return null;
        }
        var bytes = new byte[length];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = fs.Read(bytes, read, bytes.Length - read);
            if (n == 0)
            {
                Array.Resize(ref bytes, read); // shrank while being read
                break;
            }
            read += n;
        }
        return bytes;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    private abstract record Prepared(string Id)
    {
        public sealed record Unchanged(string Id) : Prepared(Id);
        public sealed record Skipped(string Id, string Path, string Reason) : Prepared(Id);
        public sealed record Ready(string Id, SourceDocument Document, IReadOnlyList<TextChunk> Chunks) : Prepared(Id);
    }
}
