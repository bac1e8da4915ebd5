using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.IO.Hashing;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Search;
using SemanticSearch.Lexical;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>
/// The index's table of contents, <c>manifest.json</c>: format version, settings every store was built with, the
/// model the vectors came from, and counts at the last commit. It carries a CRC-32 of its own content and is replaced
/// atomically (write to a temporary file, flush to disk, rename), so a reader sees the old manifest or the new one,
/// never a mix.
/// </summary>
public sealed record IndexManifest
{
    /// <summary>
    /// The format this build writes; it reads 1 to 3. Format 2 records named vector spaces (<see cref="Spaces"/>); a
    /// format-1 manifest's one model, HNSW parameters, windows and vector file are read as one space named after its
    /// model, whose files keep their names (<c>vectors.&lt;generation&gt;.hnsw</c>). Format 3 adds each space's committed
    /// change-log length (<see cref="SpaceManifest.VectorLogLength"/>), which an older build would ignore, so it
    /// refuses the format instead.
    /// </summary>
    public const int CurrentFormatVersion = 3;

    /// <summary>File name inside the index directory.</summary>
    public const string FileName = "manifest.json";

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public DateTime CreatedUtc { get; init; }
    public DateTime UpdatedUtc { get; init; }
    public long Generation { get; init; }

    /// <summary>Lucene's own number of the lexical commit that is labelled with <see cref="Generation"/> (for checks and display).</summary>
    public long LexicalCommit { get; init; }
    public required ChunkingOptions Chunking { get; init; }
    public required string TokenCounter { get; init; }
    public required LexicalOptions Lexical { get; init; }
    /// <summary>
    /// The named vector spaces, each with its own model, windows and HNSW graph; the first one's tokenizer cuts the
    /// chunks. Empty for a lexical-only index.
    /// </summary>
    public IReadOnlyList<SpaceManifest> Spaces { get; init; } = [];

    /// <summary>The first space's model (the one whose tokenizer cuts the chunks), or null for a lexical-only index.</summary>
    [JsonIgnore]
    public EncoderInfo? Model => Spaces.Count > 0 ? Spaces[0].Model : null;

    /// <summary>The first space's HNSW parameters; null for a lexical-only index.</summary>
    [JsonIgnore]
    public HnswParameters? Vectors => Spaces.Count > 0 ? Spaces[0].Vectors : null;

    /// <summary>The first space's window size (see <see cref="SpaceManifest.WindowTokens"/>).</summary>
    [JsonIgnore]
    public int? WindowTokens => Spaces.Count > 0 ? Spaces[0].WindowTokens : null;

    /// <summary>The first space's vector file of this generation (see <see cref="SpaceManifest.VectorFile"/>).</summary>
    [JsonIgnore]
    public string? VectorFile => Spaces.Count > 0 ? Spaces[0].VectorFile : null;

    /// <summary>The space named <paramref name="name"/> (names compare case-insensitively), or null.</summary>
    public SpaceManifest? Space(string name) => Spaces.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Throws <see cref="InvalidSettingException"/> (<c>fusion.spaceWeights.&lt;name&gt;</c>) when <paramref name="fusion"/> weighs a space this index does not have.</summary>
    public void CheckSpaceWeights(FusionOptions fusion)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        foreach (var name in fusion.SpaceWeights?.Keys ?? [])
        {
            if (Space(name) is null)
            {
                throw new InvalidSettingException($"fusion.spaceWeights.{name}", $"the index has no vector space '{name}' (its spaces: {string.Join(", ", Spaces.Select(s => s.Name))}).");
            }
        }
    }

    /// <summary>Default fusion of hybrid queries on this index (from the model's profile, or tuned).</summary>
    public FusionOptions? Fusion { get; init; }

    public long MaxFileBytes { get; init; } = 50L * 1024 * 1024;
    public ManifestCounts Counts { get; init; } = new(0, 0, 0, 0);

    /// <summary>CRC-32 (hex) of the manifest file's bytes with this field's value empty.</summary>
    public string Checksum { get; init; } = string.Empty;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Reads and validates the manifest in <paramref name="indexDirectory"/>.</summary>
    public static IndexManifest Read(string indexDirectory)
    {
        var path = Path.Combine(indexDirectory, FileName);
        if (!File.Exists(path))
        {
            throw new NotFoundException($"no index at {indexDirectory} (missing {FileName}); create one with 'semsearch index <folder> --index <name>'");
        }
        IndexManifest? m;
        var bytes = File.ReadAllBytes(path);
        try
        {
            m = JsonSerializer.Deserialize<IndexManifest>(bytes, Json);
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"manifest is not valid JSON ({e.Message})", e);
        }
        if (m is null)
        {
            throw new CorruptDataException(path, "manifest is empty");
        }
        if (m.FormatVersion > CurrentFormatVersion || m.FormatVersion < 1)
        {
            throw new CorruptDataException(path, $"unsupported index format version {m.FormatVersion} (this build reads 1 to {CurrentFormatVersion}); a newer build of semsearch wrote it");
        }
        var expected = ChecksumOf(bytes);
        if (!string.Equals(expected, m.Checksum, StringComparison.OrdinalIgnoreCase))
        {
            throw new CorruptDataException(path, $"manifest checksum mismatch (stored {m.Checksum}, computed {expected})");
        }
        return m.FormatVersion == 1 ? FromFormat1(m, bytes, path) : m.CheckSpaces(path);
    }

    // Format 1 kept the one model's fields at the top level.
    private sealed record Format1Fields(EncoderInfo? Model, HnswParameters? Vectors, int? WindowTokens, string? VectorFile, double VectorDeletedFraction);

    private static IndexManifest FromFormat1(IndexManifest m, byte[] bytes, string path)
    {
        var old = JsonSerializer.Deserialize<Format1Fields>(bytes, Json)!;
        if (old.Model is null)
        {
            return m with { Spaces = [] };
        }
        var space = new SpaceManifest
        {
            Name = SpaceManifest.NameFor(old.Model.ModelId, []),
            Model = old.Model,
            Vectors = old.Vectors ?? new HnswParameters(),
            WindowTokens = old.WindowTokens,
            FileStem = SpaceManifest.FirstStem,
            VectorFile = old.VectorFile,
            VectorCount = m.Counts.Vectors,
            DeletedFraction = old.VectorDeletedFraction,
        };
        return (m with { Spaces = [space] }).CheckSpaces(path);
    }

    // Names unique (case-insensitively), file stems unique, every space's file named by its stem.
    private IndexManifest CheckSpaces(string path)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var stems = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in Spaces)
        {
            if (s is null || s.Model is null || !SpaceManifest.IsValidName(s.Name) || !names.Add(s.Name) || !stems.Add(s.FileStem)
                || !SpaceManifest.IsValidStem(s.FileStem) || (s.VectorFile is { } f && VectorFiles.GenerationOf(f, s.FileStem) is null))
            {
                throw new CorruptDataException(path, $"the manifest's vector space '{s?.Name}' is malformed (its name, file stem or vector file)");
            }
        }
        return this;
    }

    /// <summary>Atomically replaces the manifest in <paramref name="indexDirectory"/> with this one (checksum filled in).</summary>
    public void Write(string indexDirectory)
    {
        var text = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(this with { Checksum = string.Empty }, Json));
        var crc = ChecksumOf(Encoding.UTF8.GetBytes(text));
        var match = ChecksumField.Match(text);
        var sealedText = text[..match.Groups[1].Index] + crc + text[(match.Groups[1].Index + match.Groups[1].Length)..];
        AtomicFile.WriteText(Path.Combine(indexDirectory, FileName), sealedText);
    }

    // The checksum covers the file exactly as written, with the checksum's own value blanked, so it does not depend
    // on how a later build would serialise the same manifest.
    private static readonly System.Text.RegularExpressions.Regex ChecksumField =
        new("\"checksum\":\\s*\"([0-9a-fA-F]*)\"", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static string ChecksumOf(byte[] fileBytes)
    {
        var text = Encoding.UTF8.GetString(fileBytes);
        var match = ChecksumField.Match(text);
        if (!match.Success)
        {
            return "missing";
        }
        var blanked = text[..match.Groups[1].Index] + text[(match.Groups[1].Index + match.Groups[1].Length)..];
        return Convert.ToHexStringLower(Crc32.Hash(Encoding.UTF8.GetBytes(blanked)));
    }
}

/// <summary>Counts recorded at a commit.</summary>
public sealed record ManifestCounts(long Documents, long Chunks, long Bytes, long Vectors);

/// <summary>Write-to-temporary-then-rename, with the data flushed to disk before the rename.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        DurableDirectory.Flush(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static void WriteText(string path, string text) => Write(path, Encoding.UTF8.GetBytes(text));
}
