using SemanticSearch.Core;
using SemanticSearch.Metadata;

namespace SemanticSearch.Engine.Indexing;

/// <summary>Why a document's source file cannot be opened.</summary>
public enum SourceFileProblem
{
    /// <summary>The document was sent over the API (or read from a BEIR corpus): there is no file.</summary>
    NoFile,

    /// <summary>The file is gone from its path, or is no longer a file.</summary>
    Missing,

    /// <summary>The path now leads outside the folder the document was indexed from (a symbolic link was swapped in).</summary>
    OutsideFolder,

    /// <summary>The file exists but cannot be read (permissions, I/O).</summary>
    Unreadable,
}

/// <summary>A document's source file cannot be opened; <see cref="Problem"/> says why.</summary>
public sealed class SourceFileException(SourceFileProblem problem, string message) : SemanticSearchException(message)
{
    /// <summary>Why.</summary>
    public SourceFileProblem Problem { get; } = problem;
}

/// <summary>
/// Opens the file a folder document was indexed from, for a reader to see it whole (the search page links a hit to
/// it). Only the file at the document's recorded path, and only while its real path — every symbolic link resolved,
/// on Linux from the open handle — still lies under the real path of the folder it was indexed from: a link swapped in
/// after indexing cannot turn the index into a reader of other files.
/// </summary>
public static class SourceFiles
{
    /// <summary>Opens <paramref name="document"/>'s file for reading (shared, so an indexing job beside it is not blocked).</summary>
    /// <exception cref="SourceFileException">It has no file, the file is gone, leads elsewhere, or cannot be read.</exception>
    public static FileStream Open(DocumentRecord document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document.Path.Length == 0 || !Path.IsPathFullyQualified(document.Path) || !Path.IsPathFullyQualified(document.Source))
        {
            throw new SourceFileException(SourceFileProblem.NoFile, $"document '{document.Id}' has no file: it was not indexed from a folder.");
        }
        FileStream? stream = null;
        try
        {
            stream = new FileStream(document.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
            var real = RealPaths.OfOpenFile(stream.SafeFileHandle, document.Path);
            string root;
            try
            {
                root = RealPaths.Resolve(Path.GetFullPath(document.Source));
            }
            catch (IOException)
            {
                root = document.Source;
            }
            if (real is null || !RealPaths.IsUnder(real, root))
            {
                throw new SourceFileException(SourceFileProblem.OutsideFolder,
                    $"document '{document.Id}': '{document.Path}' now leads outside the folder it was indexed from ('{document.Source}'); not opened.");
            }
            var opened = stream;
            stream = null;
            return opened;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SourceFileException(SourceFileProblem.Missing, $"document '{document.Id}': '{document.Path}' no longer exists; index its folder again.");
        }
        catch (UnauthorizedAccessException)
        {
            // also what opening a directory gives
            throw new SourceFileException(Directory.Exists(document.Path) ? SourceFileProblem.Missing : SourceFileProblem.Unreadable,
                $"document '{document.Id}': '{document.Path}' cannot be read (permission denied, or no longer a file).");
        }
        catch (IOException e)
        {
            throw new SourceFileException(SourceFileProblem.Unreadable, $"document '{document.Id}': '{document.Path}' cannot be read: {e.Message}");
        }
        finally
        {
            stream?.Dispose();
        }
    }
}
