// A named vector space: one model's view of the index's chunks. Every space embeds the same chunks (the metadata's),
// under vector ids that map back to chunk ids (PassagePolicy), into its own HNSW graph: a whole graph written at some
// generation, <stem>.<generation>.hnsw, and the change log of the commits since, <stem>.<generation>.hlog, of which
// the manifest commits the first VectorLogLength bytes (VectorFiles). The first space's stem is "vectors" (so a format-1 index keeps its files), a later space's
// "vectors.<name in lower case>"; a stem ends where the generation starts, so no stem's files match another's.
using SemanticSearch.Core.Encoding;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>One named vector space of an index, as its manifest records it.</summary>
public sealed record SpaceManifest
{
    /// <summary>The first space's file stem.</summary>
    public const string FirstStem = "vectors";

    /// <summary>The longest space name accepted.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The space's name (its model's id unless given another): what requests, fusion weights and commands name.</summary>
    public required string Name { get; init; }

    /// <summary>The model that embeds this space's passages and queries (id, revision with its precision, dimensions, prefixes).</summary>
    public required EncoderInfo Model { get; init; }

    /// <summary>The HNSW parameters of this space's graph.</summary>
    public HnswParameters Vectors { get; init; } = new();

    /// <summary>
    /// Set when each chunk is embedded as overlapping windows of at most this many of this model's tokens (vector id =
    /// chunk id &lt;&lt; 4 | window): on a short-context model, and on every space after the first (whose tokenizer did
    /// not cut the chunks). Null: one vector per chunk, vector id = chunk id.
    /// </summary>
    public int? WindowTokens { get; init; }

    /// <summary>File names of this space are <c>&lt;stem&gt;.&lt;generation&gt;.hnsw</c>.</summary>
    public string FileStem { get; init; } = FirstStem;

    /// <summary>This space's vector file at the manifest's generation; null before its first commit (or on a format-1 index written before generations named files: <c>vectors.hnsw</c>).</summary>
    public string? VectorFile { get; init; }

    /// <summary>
    /// How many bytes of the change log beside <see cref="VectorFile"/> (same name, <c>.hlog</c>) the manifest's
    /// generation includes; 0: none (the file alone is the graph).
    /// </summary>
    public long VectorLogLength { get; init; }

    /// <summary>Live vectors at the last commit.</summary>
    public long VectorCount { get; init; }

    /// <summary>Share of this space's graph nodes marked deleted at the last commit.</summary>
    public double DeletedFraction { get; init; }

    /// <summary>Whether <paramref name="name"/> can name a space: a letter, then letters, digits, '.', '_' or '-', at most 64.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && char.IsAsciiLetter(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>Whether <paramref name="stem"/> is a file stem this build writes.</summary>
    public static bool IsValidStem(string stem) =>
        stem == FirstStem || (stem.StartsWith(FirstStem + ".", StringComparison.Ordinal) && IsValidName(stem[(FirstStem.Length + 1)..]));

    /// <summary>
    /// The name of a new space of <paramref name="modelId"/>: the id itself when it is a valid name, else its last path
    /// part with other characters replaced; a name already in <paramref name="taken"/> gets "-2", "-3", ...
    /// </summary>
    public static string NameFor(string modelId, IEnumerable<string> taken)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var name = modelId;
        if (!IsValidName(name))
        {
            var last = modelId.TrimEnd('/', '\\');
            last = last[(last.LastIndexOfAny(['/', '\\']) + 1)..];
            var chars = last.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray();
            name = new string(chars).Trim('-', '.');
            if (name.Length == 0 || !char.IsAsciiLetter(name[0]))
            {
                name = "model-" + name;
            }
            name = name[..Math.Min(name.Length, MaxNameLength - 4)];
        }
        var used = new HashSet<string>(taken, StringComparer.OrdinalIgnoreCase);
        var candidate = name;
        for (var n = 2; used.Contains(candidate); n++)
        {
            candidate = $"{name[..Math.Min(name.Length, MaxNameLength - 4)]}-{n}";
        }
        return candidate;
    }

    /// <summary>The names of the spaces of a new index of <paramref name="modelIds"/>, in order (each by <see cref="NameFor"/>).</summary>
    public static List<string> NamesFor(IEnumerable<string> modelIds)
    {
        ArgumentNullException.ThrowIfNull(modelIds);
        var names = new List<string>();
        foreach (var id in modelIds)
        {
            names.Add(NameFor(id, names));
        }
        return names;
    }

    /// <summary>The stem of a space added after the first.</summary>
    public static string StemFor(string name) => $"{FirstStem}.{name.ToLowerInvariant()}";
}
