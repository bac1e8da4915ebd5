using SemanticSearch.Core;

namespace SemanticSearch.Embeddings;

/// <summary>Writes a graph derived from a model directory's own graph beside it.</summary>
internal static class DerivedGraphFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="target"/> under a temporary name, then renames it: the file
    /// appears whole or not at all, and two processes deriving at once write identical bytes.
    /// </summary>
    /// <exception cref="StoreWriteException">The directory is not writable.</exception>
    public static void WriteWhole(string directory, string target, byte[] bytes, string what)
    {
        var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreWriteException(directory, $"cannot write {what} ({e.Message}); the model directory must be writable once", e);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
