// Containment of job folders: a folder is allowed only when its *real* path (every symbolic link along it resolved)
// lies at or under the real path of an allowed root. Comparing real paths, not the strings the client sent, is what
// stops both `..` walks and a link inside an allowed root that points outside it. `..` segments are refused outright
// as well, so a request never depends on how the platform normalises them.
using SemanticSearch.Core;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Server;

/// <summary>The folder a job asked for is outside every allowed root (HTTP 403).</summary>
internal sealed class FolderRefusedException(string message) : SemanticSearchException(message);

/// <summary>Decides which folders background jobs may index.</summary>
internal sealed class FolderPolicy
{
    private readonly string[] _roots;

    public FolderPolicy(IEnumerable<string> allowedRoots) =>
        _roots = allowedRoots.Select(r => RealPath(Path.GetFullPath(r))).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>The allowed roots, resolved.</summary>
    public IReadOnlyList<string> Roots => _roots;

    /// <summary>The real path of <paramref name="folder"/> when it may be indexed; otherwise throws naming the field <c>folder</c>.</summary>
    public string Authorize(string? folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new InvalidSettingException("folder", "is required.");
        }
        if (folder.Contains('\0'))
        {
            throw new InvalidSettingException("folder", "must not contain NUL characters.");
        }
        if (folder.Split('/', '\\').Any(segment => segment == ".."))
        {
            throw new InvalidSettingException("folder", "must not contain '..' segments.");
        }
        if (!Path.IsPathFullyQualified(folder))
        {
            throw new InvalidSettingException("folder", $"must be an absolute path (got '{folder}').");
        }
        if (_roots.Length == 0)
        {
            throw new FolderRefusedException("folder: this server allows no folders to be indexed; start it with --allow-folder <root>.");
        }
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new NotFoundException($"folder: '{folder}' does not exist or is not a folder.");
        }
        var real = RealPath(full);
        foreach (var root in _roots)
        {
            if (IsUnder(real, root))
            {
                return real;
            }
        }
        throw new FolderRefusedException($"folder: '{folder}' is not under an allowed root ({string.Join(", ", _roots)}).");
    }

    internal static bool IsUnder(string path, string root) => RealPaths.IsUnder(path, root);

    internal static string RealPath(string fullPath) => RealPaths.Resolve(fullPath);
}
