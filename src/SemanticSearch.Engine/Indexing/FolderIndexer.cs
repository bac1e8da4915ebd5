// The folder indexing job: source → extract → chunk → write → commit, one way.
//
// Files are enumerated in ordinal path order and prepared (read, hashed, extracted, chunked) in parallel but consumed
// in that same order by a single writer, so chunk ids — and therefore results — are the same on every run. A file
// whose bytes hash to what the index already holds is not extracted again. After the walk, documents of this folder
// that no longer exist (or are now excluded) are deleted. The writer commits every N documents or T seconds, so a
// killed job loses at most the uncommitted tail and a re-run resumes from what was committed.
//
// Every entry of the folder is accounted for: indexed, unchanged, skipped (it should have been indexed and could not
// be: a failure, with its kind) or ignored (left out on purpose: a pattern, a default exclusion, a symbolic link, an
// unsupported type; never a failure). Skipped files are remembered per folder in the index (SkipLedger), so a report
// can tell a new failure from one the previous run already reported.
//
// The folder is one named source of the index (see IndexSources): its documents' ids are its id prefix (empty for the
// index's first folder, "<name>/" for later ones) and the path relative to the folder, and a job reads, replaces and
// deletes only documents of its own source; a file whose id another source holds is skipped, never overwritten.
using System.Diagnostics;
using System.IO.Hashing;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Extraction;

namespace SemanticSearch.Engine.Indexing;

/// <summary>Progress of a folder job, reported after every file and as its chunks are embedded.</summary>
/// <param name="Processed">Files handled so far.</param>
/// <param name="Total">Files found.</param>
/// <param name="CurrentPath">The file just handled: its document id (the source's id prefix, then the path relative to the folder).</param>
public sealed record IndexingProgress(int Processed, int Total, string CurrentPath)
{
    /// <summary>Chunks embedded (and so about to be written) so far.</summary>
    public long ChunksEmbedded { get; init; }

    /// <summary>Tokens embedded so far (chunk tokens, counted by the index's tokenizer).</summary>
    public long TokensEmbedded { get; init; }

    /// <summary>Tokens the job is expected to embed in all: counted for files chunked so far, estimated from size for the rest.</summary>
    public long TokensExpected { get; init; }

    /// <summary>The document whose chunks are being embedded now (its id), or null between files.</summary>
    public string? EmbeddingPath { get; init; }

    /// <summary>The smoothed embedding rate in tokens per second, or null before the first sample.</summary>
    public double? TokensPerSecond { get; init; }

    /// <summary>Time left, from the tokens left and the smoothed rate (see <see cref="IndexingEstimate"/>); null while unknown.</summary>
    public TimeSpan? Remaining { get; init; }
}

/// <summary>A file (or folder) that should have been indexed and could not be, and why.</summary>
/// <param name="Path">The file's path.</param>
/// <param name="Reason">What went wrong, naming the file's problem.</param>
public sealed record SkippedFile(string Path, string Reason)
{
    /// <summary>The kind of failure: one of the constants of this type (<see cref="TooLarge"/>, <see cref="Unreadable"/>, …).</summary>
    public string Kind { get; init; } = Unreadable;

    /// <summary>
    /// True when the previous run of this folder into this index skipped the same file, unchanged (same size and
    /// modification time), for the same kind of reason: a failure already reported, not a new one.
    /// </summary>
    public bool Known { get; init; }

    /// <summary>Over the size limit (maxFileBytes).</summary>
    public const string TooLarge = "too large";

    /// <summary>Cannot be opened or read: permissions, gone, a name the platform refuses, a folder that cannot be listed.</summary>
    public const string Unreadable = "unreadable";

    /// <summary>Zero bytes.</summary>
    public const string Empty = "empty";

    /// <summary>Read, but no text came out of it.</summary>
    public const string NoText = "no text";

    /// <summary>The extractor refused it: corrupt, encrypted, binary in disguise, a bomb.</summary>
    public const string Unextractable = "cannot extract";

    /// <summary>It leads outside the folder (a link swapped in after the listing).</summary>
    public const string OutsideFolder = "outside the folder";

    /// <summary>Its document id is held by a document of another source of the index (which is not overwritten).</summary>
    public const string IdTaken = "id taken";
}

/// <summary>A text file that was not valid UTF-8 and had no byte-order mark, decoded by the fallback encoding.</summary>
/// <param name="Path">The file's document id (the source's id prefix, then the path relative to the folder).</param>
/// <param name="Encoding">The encoding used (windows-1252).</param>
public sealed record FallbackDecodedFile(string Path, string Encoding);

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
    TimeSpan Elapsed)
{
    /// <summary>Entries left out on purpose (patterns, default exclusions, symbolic links, unsupported types), in path order.</summary>
    public IReadOnlyList<IgnoredEntry> Ignored { get; init; } = [];

    /// <summary>Files read and decoded by the fallback encoding because they were not valid UTF-8 (see <see cref="Extraction.TextEncodingChoice"/>).</summary>
    public IReadOnlyList<FallbackDecodedFile> FallbackDecoded { get; init; } = [];

    /// <summary>Skipped files the previous run did not report (new, changed, or failing for another reason).</summary>
    public int NewlySkipped => Skipped.Count(s => !s.Known);

    /// <summary>Tokens embedded by this run.</summary>
    public long TokensEmbedded { get; init; }

    /// <summary>The name of the source the folder was indexed as.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>What the ids of the source's documents start with before the relative path (empty or "&lt;name&gt;/").</summary>
    public string IdPrefix { get; init; } = string.Empty;
}

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

    /// <summary>The job's include and exclude globs (on top of the default exclusions and the .semsearchignore files).</summary>
    public FolderFilter Filter { get; init; } = FolderFilter.None;

    /// <summary>
    /// The name of the source the folder is indexed as; null: its recorded name, or for a folder new to the index, the
    /// folder's name (made unique). A folder already recorded under another name is refused.
    /// </summary>
    public string? SourceName { get; init; }

    /// <summary>Test hook: the clock progress is timed by (default: a stopwatch started with the job).</summary>
    internal Func<TimeSpan>? Clock { get; init; }

    /// <summary>Test hook: called with the listed files before any is opened (to swap one for a link).</summary>
    internal Action<IReadOnlyList<string>>? AfterListing { get; set; }

    /// <summary>Indexes <paramref name="folder"/> (recursively); idempotent for unchanged files.</summary>
    /// <exception cref="InvalidSettingException">An include or exclude glob is not a glob.</exception>
    public IndexingReport Run(string folder, IProgress<IndexingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new NotFoundException(File.Exists(root) ? $"not a folder: {folder}" : $"folder not found: {folder}");
        }
        Filter.Validate();
        // Containment: every file read must lie under the folder's real path as it was when the job started.
        var realRoot = RealPaths.Resolve(root);
        if (ConfinedRoot is { } confined && !string.Equals(realRoot, confined, StringComparison.Ordinal))
        {
            throw new FolderEscapeException($"folder: '{folder}' now leads to '{realRoot}', not to the folder that was allowed ('{confined}'); it was not indexed.");
        }
        var source = _index.FolderSource(root, SourceName);
        var prefix = source.IdPrefix;
        var clock = Stopwatch.StartNew();
        var now = Clock ?? (() => clock.Elapsed);
        var listing = Enumerate(root);
        var files = listing.Files.ConvertAll(f => f.Path);
        AfterListing?.Invoke(files);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var skipped = new List<SkippedFile>(listing.Unlistable);
        var fallbackDecoded = new List<FallbackDecodedFile>();
        int added = 0, updated = 0, unchanged = 0, processed = 0, removed = 0, sinceCommit = 0;
        var lastCommit = Stopwatch.StartNew();
        var knownHashes = _index.HashesFromSource(root); // read once: preparation threads never touch the stores

        // Progress: the consumer (after each file) and the embedding task (slice by slice) both report, under one lock.
        var estimate = new IndexingEstimate();
        foreach (var (path, bytes) in listing.Files)
        {
            estimate.Listed(Path.GetExtension(path), bytes);
        }
        var gate = new object();
        var current = string.Empty;
        string? embeddingPath = null;
        long chunksEmbedded = 0;
        void Report()
        {
            progress?.Report(new IndexingProgress(processed, files.Count, current)
            {
                ChunksEmbedded = chunksEmbedded,
                TokensEmbedded = estimate.TokensEmbedded,
                TokensExpected = estimate.TokensExpected,
                EmbeddingPath = embeddingPath,
                TokensPerSecond = estimate.TokensPerSecond,
                Remaining = estimate.Remaining(now()),
            });
        }
        lock (gate)
        {
            estimate.Embedded(now(), 0);
        }

        var prepared = files
            .AsParallel()
            .AsOrdered()
            .WithDegreeOfParallelism(Math.Max(1, Math.Min(4, Environment.ProcessorCount)))
            .WithCancellation(cancellationToken)
            .Select(f => Prepare(root, realRoot, prefix, f, knownHashes));

        using var writer = new BatchedIndexWriter(_index, EmbeddingBatchChunks)
        {
            Cancellation = cancellationToken,
            Progress = e =>
            {
                lock (gate)
                {
                    estimate.Embedded(now(), e.TokensEmbedded);
                    chunksEmbedded = e.ChunksEmbedded;
                    embeddingPath = e.CurrentDocument;
                    Report();
                }
            },
        };

        _index.BeginBatch();
        try
        {
            _index.RecordSource(source); // S3: in the first commit that can hold a document of it
            var position = 0;
            foreach (var next in prepared)
            {
                var item = next;
                var (file, size) = listing.Files[position++];
                var extension = Path.GetExtension(file);
                seen.Add(item.Id);
                long? tokens = null;
                switch (item)
                {
                    case Prepared.Unchanged:
                        unchanged++;
                        break;
                    case Prepared.Skipped s:
                        skipped.Add(new SkippedFile(s.Path, s.Reason) { Kind = s.Kind });
                        // a file that became unreadable keeps its last good version in the index
                        break;
                    case Prepared.Ready r when _index.GetDocument(r.Document.Id) is { } held && held.Source != root:
                        skipped.Add(new SkippedFile(r.Document.Path, $"its id '{r.Id}' is held by a document of another source ({held.Source}); not indexed, that document was kept. Index this folder under another --source.")
                        {
                            Kind = SkippedFile.IdTaken,
                        });
                        item = new Prepared.Skipped(r.Id, r.Document.Path, "id taken", SkippedFile.IdTaken);
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
                        if (r.Encoding is { IsFallback: true } encoding)
                        {
                            fallbackDecoded.Add(new FallbackDecodedFile(r.Id, encoding.Name));
                        }
                        tokens = r.Chunks.Sum(c => (long)c.TokenCount);
                        break;
                }
                lock (gate)
                {
                    estimate.Settled(extension, size, tokens);
                    processed++;
                    current = item.Id;
                    Report();
                }
                if (item is Prepared.Ready ready)
                {
                    writer.Add(ready.Document, ready.Chunks);
                    sinceCommit++;
                }
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
                if (!seen.Contains(id) && !InUnlistedFolder(root, id[prefix.Length..], listing.Unlistable))
                {
                    _index.Delete(id);
                    removed++;
                }
            }
            _index.RecordSource(source with { IndexedUtc = DateTime.UtcNow });
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

        lock (gate)
        {
            embeddingPath = null;
            Report();
        }
        var reported = SkipLedger.Compare(_index.Directory, root, skipped);
        return new IndexingReport(root, files.Count, added, updated, unchanged, removed, writer.ChunksWritten, reported, clock.Elapsed)
        {
            Ignored = listing.Ignored,
            FallbackDecoded = fallbackDecoded,
            TokensEmbedded = estimate.TokensEmbedded,
            Source = source.Name,
            IdPrefix = prefix,
        };
    }

    private sealed record Listing(List<(string Path, long Bytes)> Files, List<IgnoredEntry> Ignored, List<SkippedFile> Unlistable);

    /// <summary>
    /// Supported files under <paramref name="root"/>, sorted by ordinal path, with every entry left out accounted for.
    /// Symbolic links are never followed (they could loop or lead outside the folder; a link's target inside the
    /// folder is indexed under its own path anyway) and are reported as ignored, as are entries excluded by the
    /// <see cref="FolderFilter"/> rules (defaults, .semsearchignore files, --exclude; an excluded folder is not walked),
    /// files no --include glob matches, and unsupported types. A folder that cannot be listed (no permission) is
    /// reported as skipped rather than silently left out, so the report accounts for every file the job could not see.
    /// </summary>
    private Listing Enumerate(string root)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = false,
            IgnoreInaccessible = false,
            AttributesToSkip = 0,
            ReturnSpecialDirectories = false,
            MatchType = MatchType.Simple,
        };
        var list = new List<(string Path, long Bytes)>();
        var ignored = new List<IgnoredEntry>();
        var unlistable = new List<SkippedFile>();
        var includes = Filter.IncludePatterns();
        var pending = new Stack<(string Dir, string Relative, FolderFilter.Rules Rules)>();
        pending.Push((root, string.Empty, new FolderFilter.Rules(FolderFilter.DefaultRules, Filter.ExcludeRules())));
        while (pending.Count > 0)
        {
            var (dir, relativeDir, inherited) = pending.Pop();
            var rules = WithIgnoreFile(dir, relativeDir, inherited, unlistable);
            try
            {
                foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options))
                {
                    if (entry.Name == FolderFilter.IgnoreFileName && entry is FileInfo)
                    {
                        continue; // the job's own configuration
                    }
                    if (entry.FullName.Length is 0 or > MaxPathChars || entry.FullName.Length <= dir.Length)
                    {
                        // a name the platform cannot hand back whole (past PATH_MAX): this entry only
                        var shown = ShortId(Path.Combine(dir, entry.Name));
                        unlistable.Add(new SkippedFile(shown, $"path is longer than {MaxPathChars:N0} characters; not indexed") { Kind = SkippedFile.Unreadable });
                        continue;
                    }
                    var relative = relativeDir.Length == 0 ? entry.Name : relativeDir + "/" + entry.Name;
                    var isDirectory = entry is DirectoryInfo;
                    if (IsLink(entry))
                    {
                        ignored.Add(new IgnoredEntry(relative, IgnoredEntry.SymbolicLink, $"not followed (→ {ShortId(entry.LinkTarget ?? "?")})"));
                        continue;
                    }
                    if (rules.Excluding(relative, isDirectory) is { } rule)
                    {
                        ignored.Add(new IgnoredEntry(isDirectory ? relative + "/" : relative, rule.Reason, rule.Source));
                        continue;
                    }
                    if (isDirectory)
                    {
                        pending.Push((entry.FullName, relative, rules));
                    }
                    else if (includes.Count > 0 && !Included(includes, relative))
                    {
                        ignored.Add(new IgnoredEntry(relative, IgnoredEntry.NotIncluded, $"matches no --include ({string.Join(", ", Filter.Include)})"));
                    }
                    else if (_extractor.Supports(entry.FullName))
                    {
                        list.Add((entry.FullName, SizeOf((FileInfo)entry)));
                    }
                    else
                    {
                        var ext = entry.Extension;
                        ignored.Add(new IgnoredEntry(relative, IgnoredEntry.UnsupportedType, ext.Length > 0 ? ext.ToLowerInvariant() : "no extension"));
                    }
                }
            }
            catch (UnauthorizedAccessException)
            {
                unlistable.Add(new SkippedFile(dir, "permission denied: folder cannot be listed, its files were not indexed") { Kind = SkippedFile.Unreadable });
            }
            catch (IOException e) when (dir != root)
            {
                // gone or replaced while the walk ran
                unlistable.Add(new SkippedFile(ShortId(dir), $"folder cannot be listed: {e.Message}") { Kind = SkippedFile.Unreadable });
            }
            catch (ArgumentException e) when (dir != root)
            {
                unlistable.Add(new SkippedFile(ShortId(dir), $"folder cannot be listed: {e.Message}") { Kind = SkippedFile.Unreadable });
            }
        }
        list.Sort((a, b) => StringComparer.Ordinal.Compare(a.Path, b.Path));
        ignored.Sort((a, b) => StringComparer.Ordinal.Compare(a.Path, b.Path));
        return new Listing(list, ignored, unlistable);
    }

    // A symbolic link (or another reparse point), from the attributes the listing read. An entry that cannot be
    // looked up by its name (a name that is not valid UTF-8) reports all attributes set (-1): it is not a link, and
    // reading it fails later, as a skipped file.
    private static bool IsLink(FileSystemInfo entry)
    {
        var attributes = entry.Attributes;
        return (int)attributes != -1 && attributes.HasFlag(FileAttributes.ReparsePoint);
    }

    // A file is included when a glob matches it or one of the folders it is in ("docs/" includes everything in docs).
    private static bool Included(IReadOnlyList<IgnorePattern> includes, string relative)
    {
        foreach (var p in includes)
        {
            if (p.Matches(relative, isDirectory: false))
            {
                return true;
            }
            for (var slash = relative.IndexOf('/'); slash > 0; slash = relative.IndexOf('/', slash + 1))
            {
                if (p.Matches(relative[..slash], isDirectory: true))
                {
                    return true;
                }
            }
        }
        return false;
    }

    // The size the listing saw, for the estimate only; a file that cannot be looked up is reported when it is read.
    private static long SizeOf(FileInfo file)
    {
        try
        {
            return file.Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    // The rules of a folder: its parent's, then the lines of its own .semsearchignore (a regular file, not a link).
    private static FolderFilter.Rules WithIgnoreFile(string dir, string relativeDir, FolderFilter.Rules inherited, List<SkippedFile> unreadable)
    {
        var path = Path.Combine(dir, FolderFilter.IgnoreFileName);
        var shown = relativeDir.Length == 0 ? FolderFilter.IgnoreFileName : relativeDir + "/" + FolderFilter.IgnoreFileName;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.LinkTarget is not null)
            {
                return inherited;
            }
            return inherited.With(relativeDir, shown, File.ReadAllLines(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            unreadable.Add(new SkippedFile(path, $"cannot read {shown}: {e.Message}; its patterns were not applied") { Kind = SkippedFile.Unreadable });
            return inherited;
        }
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

    private Prepared Prepare(string root, string realRoot, string prefix, string file, IReadOnlyDictionary<string, string> knownHashes)
    {
        var id = prefix + Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
        if (file.Length > MaxPathChars)
        {
            return new Prepared.Skipped(ShortId(id), ShortId(file), $"path is {file.Length:N0} characters long, over the {MaxPathChars:N0}-character limit", SkippedFile.Unreadable);
        }
        try
        {
            var info = new FileInfo(file);
            if (info.Length > _settings.MaxFileBytes)
            {
                return new Prepared.Skipped(id, file, $"file is {info.Length:N0} bytes, over the {_settings.MaxFileBytes:N0}-byte limit (maxFileBytes)", SkippedFile.TooLarge);
            }
            if (info.Length == 0)
            {
                return new Prepared.Skipped(id, file, "empty file", SkippedFile.Empty);
            }
            // The size is checked again on the open handle: the file may have been replaced or grown since it was listed.
            var bytes = ReadAtMost(file, realRoot, _settings.MaxFileBytes, out var escaped);
            if (escaped is not null)
            {
                return new Prepared.Skipped(id, file, $"not read: it leads outside the folder (to '{escaped}') through a symbolic link", SkippedFile.OutsideFolder);
            }
            if (bytes is null)
            {
                return new Prepared.Skipped(id, file, $"file grew past the {_settings.MaxFileBytes:N0}-byte limit (maxFileBytes) while being read", SkippedFile.TooLarge);
            }
            var hash = Convert.ToHexStringLower(XxHash128.Hash(bytes));
            if (knownHashes.TryGetValue(id, out var known) && known == hash)
            {
                return new Prepared.Unchanged(id);
            }
            ExtractedText extracted;
            using (var activity = EngineTelemetry.Source.StartActivity("index.extract"))
            {
                activity?.SetTag("bytes", bytes.LongLength);
                extracted = _extractor.Extract(bytes, file);
            }
            var doc = new SourceDocument(id, root, file, extracted.Title, extracted.Text, Path.GetExtension(file).ToLowerInvariant(),
                bytes.LongLength, info.LastWriteTimeUtc, hash, EmptyMetadata) { Outline = extracted.Outline };
            var chunks = _index.Chunk(doc);
            if (chunks.Count == 0)
            {
                return new Prepared.Skipped(id, file, "no text found", SkippedFile.NoText);
            }
            return new Prepared.Ready(id, doc, chunks, extracted.Encoding);
        }
        catch (ExtractionException e)
        {
            return new Prepared.Skipped(id, file, e.Message, SkippedFile.Unextractable);
        }
        catch (UnauthorizedAccessException)
        {
            return new Prepared.Skipped(id, file, "permission denied", SkippedFile.Unreadable);
        }
        catch (IOException e)
        {
            return new Prepared.Skipped(id, file, $"cannot read: {e.Message}", SkippedFile.Unreadable);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            // a name the platform cannot open (too long for it, or with characters it refuses): this file only
            return new Prepared.Skipped(ShortId(id), ShortId(file), $"cannot open: {e.Message}", SkippedFile.Unreadable);
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
        public sealed record Skipped(string Id, string Path, string Reason, string Kind) : Prepared(Id);
        public sealed record Ready(string Id, SourceDocument Document, IReadOnlyList<TextChunk> Chunks, TextEncodingChoice? Encoding) : Prepared(Id);
    }
}
