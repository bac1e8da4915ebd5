// The vector files of each generation: <stem>.<generation>.hnsw beside the manifest that names them, one stem per
// vector space (SpaceManifest). A commit writes the next generation's file of every space; the current and the
// previous generation's files are kept (a reader that opened the previous manifest may still be loading them);
// anything older or newer (an interrupted commit), any temporary file, and the files of a stem no space of the
// manifest has (a removed space, or an addition that never published) are deleted.
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

    /// <summary>
    /// Deletes, for the spaces with <paramref name="stems"/>, vector files older than the previous generation and newer
    /// than <paramref name="generation"/>; every temporary vector file; and every generation file of another stem.
    /// </summary>
    public static void DeleteUnused(string directory, long generation, IReadOnlyCollection<string> stems)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "vectors.*"))
        {
            var name = Path.GetFileName(file);
            bool drop;
            if (name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                drop = true;
            }
            else if (stems.Select(s => GenerationOf(name, s)).FirstOrDefault(g => g is not null) is { } g)
            {
                drop = g > generation || g < generation - 1;
            }
            else
            {
                drop = StemOf(name) is not null; // a generation file of no space in the manifest
            }
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
