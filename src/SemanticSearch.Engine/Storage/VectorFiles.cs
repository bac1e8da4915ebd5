// The vector files of a space (SpaceManifest): a whole graph <stem>.<generation>.hnsw, written at the generation in its
// name, and its change log <stem>.<generation>.hlog, to which each later commit appends what it changed (the manifest
// records how much of the log it includes). A commit appends to the log while the log stays small beside the file;
// past that, or after a compaction, it writes the next generation's whole file instead, and the old file and log go.
// Only the current file and its log stay on disk; anything else of a space's stem (an older generation, an
// interrupted commit's file), any temporary file, and the files of a stem no space of the manifest has (a removed
// space, or an addition that never published) are deleted.
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>Names of vector files and the rule for which ones stay on disk.</summary>
internal static class VectorFiles
{
    /// <summary>The file of indexes written before generations had their own vector file.</summary>
    public const string Legacy = "vectors.hnsw";

    /// <summary>The first space's vector file name of generation <paramref name="generation"/>.</summary>
    public static string NameOf(long generation) => NameOf(SpaceManifest.FirstStem, generation);

    /// <summary>The vector file name of a space with <paramref name="stem"/> at <paramref name="generation"/>.</summary>
    public static string NameOf(string stem, long generation) =>
        $"{stem}.{generation.ToString(System.Globalization.CultureInfo.InvariantCulture)}.hnsw";

    /// <summary>The generation in a first-space vector file name, or null when the name is not one.</summary>
    public static long? GenerationOf(string fileName) => GenerationOf(fileName, SpaceManifest.FirstStem);

    /// <summary>The generation in a vector file name of <paramref name="stem"/>, or null when the name is not one.</summary>
    public static long? GenerationOf(string fileName, string stem)
    {
        var prefix = stem + ".";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(".hnsw", StringComparison.Ordinal) || fileName.Length <= prefix.Length + 5)
        {
            return null;
        }
        var middle = fileName[prefix.Length..^".hnsw".Length];
        return middle.Length > 0 && long.TryParse(middle, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : null;
    }

    /// <summary>The change log that continues the vector file <paramref name="vectorFile"/>: same name, <c>.hlog</c>.</summary>
    public static string LogOf(string vectorFile) => Path.ChangeExtension(vectorFile, ".hlog");

    /// <summary>
    /// Opens a space's graph as the manifest records it: its vector file, brought up to date by the committed part of
    /// its change log.
    /// </summary>
    public static HnswIndex OpenGraph(string directory, SpaceManifest space) =>
        HnswIndex.Open(Path.Combine(directory, space.VectorFile!), space.VectorLogLength > 0 ? Path.Combine(directory, LogOf(space.VectorFile!)) : null, space.VectorLogLength, space.Vectors.Codec);

    /// <summary>
    /// Deletes every vector file and change log of the spaces' stems except the ones <paramref name="live"/> names
    /// (each space's current file; its log is kept with it), every temporary vector file, and every file of a stem no
    /// space has. One generation stays on disk: a reader still opening an older one finds it gone and retries with
    /// the new manifest; one that has it open keeps reading it (the data lives until its handle closes).
    /// </summary>
    public static void DeleteUnused(string directory, IReadOnlyCollection<string> live)
    {
        var keep = new HashSet<string>(live.SelectMany(f => new[] { f, LogOf(f) }), StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "vectors.*"))
        {
            var name = Path.GetFileName(file);
            var drop = name.EndsWith(".tmp", StringComparison.Ordinal)
                || (!keep.Contains(name) && (StemOf(name) is not null || StemOf(Path.ChangeExtension(name, ".hnsw")) is not null && name.EndsWith(".hlog", StringComparison.Ordinal)));
            if (drop)
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                    // harmless: retried at the next commit
                }
            }
        }
    }

    // The stem of "<stem>.<digits>.hnsw" for a stem this build writes, or null (the legacy file, anything else).
    private static string? StemOf(string fileName)
    {
        if (!fileName.EndsWith(".hnsw", StringComparison.Ordinal))
        {
            return null;
        }
        var body = fileName[..^".hnsw".Length];
        var dot = body.LastIndexOf('.');
        if (dot <= 0 || !long.TryParse(body[(dot + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            return null;
        }
        var stem = body[..dot];
        return SpaceManifest.IsValidStem(stem) ? stem : null;
    }
}
