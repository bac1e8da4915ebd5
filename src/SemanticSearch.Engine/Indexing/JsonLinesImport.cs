// Bulk import of JSON Lines: one document per line, {"id", "title"?, "text", "metadata"?, "vector"?}, read as a
// stream and written in batches, so memory is bounded by the batch and the longest line, never by the file.
// Invariants: (1) a line is parsed, checked and settled (added, updated, unchanged or rejected) in file order, and a
// rejected line never stops the run; (2) a document is written with its own vector when the line gives one (the
// index's one space, L2-normalised by WriteWithVectors) and embedded with the index's models otherwise; (3) what is
// committed is exactly the documents settled before the commit, so a killed run resumes by re-reading the file:
// a document whose id is held with the same content hash (title, text, metadata and vector) is skipped as unchanged,
// one with another hash is re-written; (4) an id seen twice in a file is written twice in order (the later line wins),
// never twice in one store batch.
using System.Buffers;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Engine.Indexing;

/// <summary>
/// Imports documents from JSON Lines into an index (<c>semsearch import</c>, <c>POST /indexes/{name}/documents:bulk</c>).
/// Call <see cref="Run"/> once; it begins and commits its own batches.
/// </summary>
public sealed class JsonLinesImport
{
    private readonly SemanticIndex _index;
    private readonly IndexSettings _settings;

    /// <summary>An importer writing into <paramref name="index"/> (open for writing), committing as <paramref name="settings"/> say.</summary>
    public JsonLinesImport(SemanticIndex index, IndexSettings settings)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(settings);
        _index = index;
        _settings = settings;
    }

    /// <summary>The longest line read, in bytes (UTF-8, without its line break); a longer one is rejected.</summary>
    public const int MaxLineBytes = 16 * 1024 * 1024;

    /// <summary>The longest document id accepted.</summary>
    public const int MaxIdLength = 512;

    /// <summary>At most this many rejected lines are listed each with its message; the rest are counted.</summary>
    public const int MaxListedRejections = 1000;

    /// <summary>The fields a line may hold.</summary>
    public static readonly IReadOnlyList<string> Fields = ["id", "title", "text", "metadata", "vector"];

    /// <summary>Documents with given vectors written to the stores in one call.</summary>
    public int VectorBatchDocuments { get; init; } = 512;

    /// <summary>Chunks of documents to embed handed to the encoder together (<see cref="BatchedIndexWriter"/>).</summary>
    public int EmbeddingBatchChunks { get; init; } = 64;

    /// <summary>The source imported documents belong to; an id held by another source's document is rejected.</summary>
    public string Source { get; init; } = IndexSources.Api;

    /// <summary>
    /// Reads <paramref name="input"/> to its end, writing its documents. <paramref name="totalBytes"/> (the file's
    /// length, when known) is what progress is measured against. Cancellation stops at the next line; what was
    /// committed stays. A failure to write aborts the uncommitted batch and throws.
    /// </summary>
    public ImportReport Run(Stream input, long? totalBytes = null, IProgress<ImportProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var clock = Stopwatch.StartNew();
        var space = _index.Manifest.Spaces.Count == 1 ? _index.Manifest.Spaces[0] : null;
        var counts = new Counts();
        var rejected = new List<RejectedLine>();
        var pendingIds = new HashSet<string>(StringComparer.Ordinal); // written since the stores last took every batch
        var vectorDocs = new List<(SourceDocument Document, IReadOnlyList<TextChunk> Chunks)>();
        var vectors = new List<ReadOnlyMemory<float>>();
        long vectorChunks = 0;
        var sinceCommit = 0;
        var commits = 0;
        TimeSpan commitTime = TimeSpan.Zero, longestCommit = TimeSpan.Zero;
        var lastCommit = Stopwatch.StartNew();
        TimeSpan? lastReport = null;
        using var writer = new BatchedIndexWriter(_index, EmbeddingBatchChunks) { Cancellation = ct };
        var reader = new LineReader(input);

        void Report(bool force)
        {
            if (progress is null || (!force && lastReport is { } last && clock.Elapsed - last < TimeSpan.FromMilliseconds(200)))
            {
                return;
            }
            lastReport = clock.Elapsed;
            progress.Report(new ImportProgress(reader.Position, totalBytes, reader.Line, counts.Added, counts.Updated, counts.Unchanged, counts.Rejected, clock.Elapsed));
        }

        void Reject(long line, string message)
        {
            counts.Rejected++;
            if (rejected.Count < MaxListedRejections)
            {
                rejected.Add(new RejectedLine(line, message));
            }
        }

        void FlushVectors()
        {
            if (vectorDocs.Count > 0)
            {
                vectorChunks += _index.WriteWithVectors(vectorDocs, vectors);
                vectorDocs.Clear();
                vectors.Clear();
            }
        }

        void FlushAll()
        {
            writer.Flush();
            FlushVectors();
            pendingIds.Clear();
        }

        // A batch begins with the first document it will write, so the input's end right after a commit costs no
        // empty commit (at a million chunks a commit is seconds of fsyncs and checkpoints, whether or not it holds anything)
        var batchOpen = false;
        void EnsureBatch()
        {
            if (!batchOpen)
            {
                _index.BeginBatch();
                batchOpen = true;
            }
        }

        try
        {
            while (reader.Next(out var bytes, out var tooLong))
            {
                ct.ThrowIfCancellationRequested();
                var line = reader.Line;
                if (tooLong)
                {
                    Reject(line, $"is longer than {MaxLineBytes / (1024 * 1024)} MB.");
                    Report(false);
                    continue;
                }
                if (IsBlank(bytes.Span))
                {
                    continue;
                }
                if (!TryParse(bytes, space, out var parsed, out var error))
                {
                    Reject(line, error);
                    Report(false);
                    continue;
                }
                var doc = parsed!;
                var held = _index.GetDocument(doc.Id);
                if (held is not null && held.Source != Source)
                {
                    Reject(line, $"id '{Clip(doc.Id)}' is a document of another source ({held.Source}); choose another id.");
                    Report(false);
                    continue;
                }
                if (pendingIds.Contains(doc.Id))
                {
                    // the id's earlier line is still waiting in a batch: write it first, so this line replaces it
                    FlushAll();
                    held = _index.GetDocument(doc.Id);
                }
                var source = ToSource(doc);
                if (held is not null && held.ContentHash == source.ContentHash)
                {
                    counts.Unchanged++;
                    Report(false);
                    continue;
                }
                var chunks = _index.Chunk(source);
                EnsureBatch();
                if (held is null)
                {
                    counts.Added++;
                }
                else
                {
                    counts.Updated++;
                }
                pendingIds.Add(doc.Id);
                if (doc.Vector is { } v)
                {
                    vectorDocs.Add((source, chunks));
                    vectors.Add(v);
                    if (vectorDocs.Count >= VectorBatchDocuments)
                    {
                        FlushVectors();
                    }
                }
                else
                {
                    writer.Add(source, chunks);
                }
                sinceCommit++;
                if (sinceCommit >= _settings.CommitEveryDocuments || lastCommit.Elapsed >= _settings.CommitInterval)
                {
                    FlushAll();
                    TimedCommit();
                    batchOpen = false;
                    sinceCommit = 0;
                    lastCommit.Restart();
                }
                Report(false);
            }
            if (batchOpen || commits == 0)
            {
                EnsureBatch(); // an input with nothing to write still ends in one commit, as it always did
                FlushAll();
                TimedCommit();
            }
        }
        catch
        {
            // uncommitted documents are discarded in every store; the index stays at its last commit, and running the
            // same input again goes on from there (invariant 3)
            _index.Abort();
            throw;
        }
        Report(true);
        return new ImportReport(reader.Line, counts.Added, counts.Updated, counts.Unchanged, counts.Rejected, rejected, writer.ChunksWritten + vectorChunks, reader.Position, clock.Elapsed)
        {
            Commits = commits,
            CommitTime = commitTime,
            LongestCommit = longestCommit,
        };

        // the commit protocol alone (what a batch costs to make durable), summed and at its longest
        void TimedCommit()
        {
            var started = Stopwatch.GetTimestamp();
            _index.Commit();
            var took = Stopwatch.GetElapsedTime(started);
            commits++;
            commitTime += took;
            longestCommit = took > longestCommit ? took : longestCommit;
        }
    }

    /// <summary>
    /// The content hash an imported document is stored under: title, text, metadata (by key) and the given vector's
    /// floats, so a re-import of the same line is recognised and any change to it is not.
    /// </summary>
    internal static string ContentHash(string title, string text, IReadOnlyDictionary<string, string> metadata, ReadOnlyMemory<float>? vector)
    {
        var hash = new XxHash128();
        void Add(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Span<byte> length = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.Append(length);
            hash.Append(bytes);
        }
        Add(title);
        Add(text);
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(key);
            Add(value);
        }
        if (vector is { } v)
        {
            Add("vector");
            hash.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.Span));
        }
        return "jsonl:" + Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    private SourceDocument ToSource(ImportedDocument d) =>
        new(d.Id, Source, string.Empty, d.Title, d.Text, string.Empty, Encoding.UTF8.GetByteCount(d.Text), DateTime.UtcNow,
            ContentHash(d.Title, d.Text, d.Metadata, d.Vector), d.Metadata);

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
            {
                return false;
            }
        }
        return true;
    }

    private sealed record ImportedDocument(string Id, string Title, string Text, IReadOnlyDictionary<string, string> Metadata, float[]? Vector);

    // One line's document, or the message that names what is wrong with it.
    private bool TryParse(ReadOnlyMemory<byte> bytes, Storage.SpaceManifest? space, out ImportedDocument? document, out string error)
    {
        document = null;
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            error = $"is not valid JSON ({FirstSentence(e.Message)}).";
            return false;
        }
        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $"must be a JSON object {{\"id\", \"text\", ...}} (got {Kind(root)}).";
                return false;
            }
            string? id = null, title = null, text = null;
            Dictionary<string, string>? metadata = null;
            float[]? vector = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var member in root.EnumerateObject())
            {
                var name = Fields.FirstOrDefault(f => string.Equals(f, member.Name, StringComparison.OrdinalIgnoreCase));
                if (name is null)
                {
                    error = $"{Clip(member.Name)}: unknown field (a line takes {string.Join(", ", Fields)}).";
                    return false;
                }
                if (!seen.Add(name))
                {
                    error = $"{name}: appears twice.";
                    return false;
                }
                var value = member.Value;
                switch (name)
                {
                    case "id":
                        if (!TryString(value, name, out id, out error))
                        {
                            return false;
                        }
                        break;
                    case "title":
                        if (value.ValueKind != JsonValueKind.Null && !TryString(value, name, out title, out error))
                        {
                            return false;
                        }
                        break;
                    case "text":
                        if (!TryString(value, name, out text, out error))
                        {
                            return false;
                        }
                        break;
                    case "metadata":
                        if (value.ValueKind != JsonValueKind.Null && !TryMetadata(value, out metadata, out error))
                        {
                            return false;
                        }
                        break;
                    case "vector":
                        if (value.ValueKind != JsonValueKind.Null && !TryVector(value, space, out vector, out error))
                        {
                            return false;
                        }
                        break;
                }
            }
            if (string.IsNullOrWhiteSpace(id))
            {
                error = "id: is required.";
                return false;
            }
            if (id.Length > MaxIdLength || id.Any(char.IsControl))
            {
                error = $"id: must be at most {MaxIdLength} characters without control characters.";
                return false;
            }
            if (text is null)
            {
                error = "text: is required.";
                return false;
            }
            document = new ImportedDocument(id, title ?? string.Empty, text, metadata ?? new Dictionary<string, string>(), vector);
            error = string.Empty;
            return true;
        }
    }

    private static bool TryString(JsonElement value, string field, out string? text, out string error)
    {
        text = null;
        error = string.Empty;
        if (value.ValueKind != JsonValueKind.String)
        {
            error = $"{field}: must be a string (got {Kind(value)}).";
            return false;
        }
        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            error = $"{field}: holds a string that is not valid Unicode (a lone surrogate).";
            return false;
        }
    }

    private static bool TryMetadata(JsonElement value, out Dictionary<string, string>? metadata, out string error)
    {
        metadata = null;
        if (value.ValueKind != JsonValueKind.Object)
        {
            error = $"metadata: must be an object of strings (got {Kind(value)}).";
            return false;
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in value.EnumerateObject())
        {
            if (member.Name.Length is 0 or > 128)
            {
                error = "metadata: keys must be 1 to 128 characters.";
                return false;
            }
            if (member.Name.StartsWith('$'))
            {
                // '$' keys are stored but never indexed (the VectorData provider's record payload): a filter could not find them
                error = $"metadata: key '{Clip(member.Name)}' starts with '$', which is reserved for stored-only data.";
                return false;
            }
            if (!TryString(member.Value, $"metadata.{Clip(member.Name)}", out var s, out error))
            {
                return false;
            }
            if (!result.TryAdd(member.Name, s!))
            {
                error = $"metadata: key '{Clip(member.Name)}' appears twice.";
                return false;
            }
        }
        metadata = result;
        error = string.Empty;
        return true;
    }

    private bool TryVector(JsonElement value, Storage.SpaceManifest? space, out float[]? vector, out string error)
    {
        vector = null;
        if (space is null)
        {
            error = _index.Manifest.Spaces.Count == 0
                ? "vector: the index has no vector space (it is lexical only); leave the vector out, or import into an index with a model."
                : $"vector: the index has {_index.Manifest.Spaces.Count} vector spaces; a given vector needs an index of exactly one.";
            return false;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            error = $"vector: must be an array of numbers (got {Kind(value)}).";
            return false;
        }
        var dims = space.Model.Dimensions;
        var length = value.GetArrayLength();
        if (length != dims)
        {
            error = $"vector: has {length} dimensions; the index's space '{space.Name}' ({space.Model.ModelId}) has {dims}.";
            return false;
        }
        var v = new float[dims];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out var x) || !float.IsFinite((float)x))
            {
                error = $"vector[{i}]: must be a finite number (got {(item.ValueKind == JsonValueKind.Number ? item.GetRawText() : Kind(item))}).";
                return false;
            }
            v[i++] = (float)x;
        }
        try
        {
            GivenVector.Check(v, "vector: ");
        }
        catch (InvalidSettingException e)
        {
            error = e.Message.StartsWith("vector", StringComparison.Ordinal) ? e.Message : "vector: " + e.Message;
            return false;
        }
        vector = v;
        error = string.Empty;
        return true;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string FirstSentence(string message)
    {
        // the reader's position is within the line (its number is given beside the message): keep the byte offset only
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var text = cut > 0 ? message[..cut].TrimEnd('.', ' ', '|') : message.TrimEnd('.', ' ');
        var at = message.IndexOf("BytePositionInLine:", StringComparison.Ordinal);
        return at > 0 ? $"{text}, at byte {message[(at + "BytePositionInLine:".Length)..].Trim().TrimEnd('.')}" : text;
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private sealed class Counts
    {
        public long Added;
        public long Updated;
        public long Unchanged;
        public long Rejected;
    }

    // Lines of a stream as UTF-8 bytes, the 1-based number of the last one returned and the bytes consumed so far;
    // a line over MaxLineBytes is returned as tooLong (its bytes dropped as they are read, never held).
    private sealed class LineReader(Stream input)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly ArrayBufferWriter<byte> _line = new();
        private int _start;
        private int _end;
        private bool _eof;
        private bool _first = true;

        public long Line { get; private set; }

        public long Position { get; private set; }

        public bool Next(out ReadOnlyMemory<byte> line, out bool tooLong)
        {
            _line.ResetWrittenCount();
            tooLong = false;
            var any = false;
            while (true)
            {
                if (_start == _end)
                {
                    if (_eof)
                    {
                        break;
                    }
                    _end = input.Read(_buffer, 0, _buffer.Length);
                    _start = 0;
                    if (_end == 0)
                    {
                        _eof = true;
                        break;
                    }
                    if (_first)
                    {
                        _first = false;
                        if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
                        {
                            _start = 3; // a UTF-8 byte order mark
                            Position += 3;
                        }
                    }
                    continue;
                }
                any = true;
                var span = _buffer.AsSpan(_start, _end - _start);
                var newline = span.IndexOf((byte)'\n');
                var part = newline < 0 ? span : span[..newline];
                if (!tooLong && _line.WrittenCount + part.Length > MaxLineBytes)
                {
                    tooLong = true;
                    _line.ResetWrittenCount();
                }
                if (!tooLong)
                {
                    _line.Write(part);
                }
                var used = newline < 0 ? span.Length : newline + 1;
                _start += used;
                Position += used;
                if (newline >= 0)
                {
                    break;
                }
            }
            if (!any)
            {
                line = default;
                return false;
            }
            Line++;
            var written = _line.WrittenMemory;
            line = written.Length > 0 && written.Span[^1] == (byte)'\r' ? written[..^1] : written;
            return true;
        }
    }
}

/// <summary>A line an import did not write, and why.</summary>
/// <param name="Line">Its 1-based line number in the input.</param>
/// <param name="Message">What is wrong with it, naming the field.</param>
public sealed record RejectedLine(long Line, string Message);

/// <summary>What an import did.</summary>
/// <param name="Lines">Lines read (blank ones included).</param>
/// <param name="Added">Documents whose id was not in the index.</param>
/// <param name="Updated">Documents whose id was there with other content, re-written.</param>
/// <param name="Unchanged">Documents already there with the same content hash, skipped.</param>
/// <param name="RejectedCount">Lines rejected in all.</param>
/// <param name="Rejected">The first <see cref="JsonLinesImport.MaxListedRejections"/> of them, each with its line number and message.</param>
/// <param name="ChunksWritten">Chunks written to the stores.</param>
/// <param name="BytesRead">Bytes of input read.</param>
/// <param name="Elapsed">Time taken.</param>
public sealed record ImportReport(long Lines, long Added, long Updated, long Unchanged, long RejectedCount, IReadOnlyList<RejectedLine> Rejected, long ChunksWritten, long BytesRead, TimeSpan Elapsed)
{
    /// <summary>Commits the import made.</summary>
    public int Commits { get; init; }

    /// <summary>Time spent in them (the commit protocol alone, not the writes before it).</summary>
    public TimeSpan CommitTime { get; init; }

    /// <summary>The longest of them.</summary>
    public TimeSpan LongestCommit { get; init; }
}

/// <summary>How far an import has come.</summary>
/// <param name="BytesRead">Bytes of input read (the progress measure: the ETA is the byte rate over what is left).</param>
/// <param name="BytesTotal">The input's length, when known.</param>
/// <param name="Lines">Lines read.</param>
/// <param name="Added">Documents added so far.</param>
/// <param name="Updated">Documents updated so far.</param>
/// <param name="Unchanged">Documents skipped as unchanged so far.</param>
/// <param name="Rejected">Lines rejected so far.</param>
/// <param name="Elapsed">Time since the import began.</param>
public sealed record ImportProgress(long BytesRead, long? BytesTotal, long Lines, long Added, long Updated, long Unchanged, long Rejected, TimeSpan Elapsed)
{
    /// <summary>The time left at the byte rate so far; null before any byte, or when the length is unknown.</summary>
    public TimeSpan? Remaining => BytesTotal is { } total && BytesRead > 0 && Elapsed > TimeSpan.Zero
        ? TimeSpan.FromSeconds(Math.Max(0, total - BytesRead) * Elapsed.TotalSeconds / BytesRead)
        : null;
}
