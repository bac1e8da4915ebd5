// The vector file of each generation: vectors.<generation>.hnsw beside the manifest that names it. A commit writes the
// next generation's file; the current and the previous generation's files are kept (a reader that opened the previous
// manifest may still be loading it), anything older or newer (an interrupted commit) is deleted.
namespace SemanticSearch.Engine.Storage;

/// <summary>Names of vector files and the rule for which ones stay on disk.</summary>
internal static class VectorFiles
{
    /// <summary>The file of indexes written before generations had their own vector file.</summary>
    public const string Legacy = "vectors.hnsw";

    /// <summary>The vector file name of generation <paramref name="generation"/>.</summary>
    public static string NameOf(long generation) => $"vectors.{generation.ToString(System.Globalization.CultureInfo.InvariantCulture)}.hnsw";

    /// <summary>The generation in a vector file name, or null when the name is not one.</summary>
    public static long? GenerationOf(string fileName)
    {
        if (!fileName.StartsWith("vectors.", StringComparison.Ordinal) || !fileName.EndsWith(".hnsw", StringComparison.Ordinal))
        {
            return null;
        }
        var middle = fileName["vectors.".Length..^".hnsw".Length];
        return middle.Length > 0 && long.TryParse(middle, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : null;
    }

    /// <summary>Deletes vector files older than the previous generation, newer than <paramref name="generation"/>, and temporary ones.</summary>
    public static void DeleteUnused(string directory, long generation)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "vectors.*"))
        {
            var name = Path.GetFileName(file);
            var g = GenerationOf(name);
            var drop = name.EndsWith(".tmp", StringComparison.Ordinal) || (g is { } n && (n > generation || n < generation - 1));
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
}
