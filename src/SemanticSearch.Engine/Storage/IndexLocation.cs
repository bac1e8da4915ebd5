using SemanticSearch.Core;

namespace SemanticSearch.Engine.Storage;

/// <summary>
/// Resolves what a user typed after <c>--index</c>: a plain name means <c>&lt;indexes root&gt;/&lt;name&gt;/</c>, where the root is
/// <c>SEMSEARCH_INDEXES</c> or <c>./indexes</c>; anything containing a path separator is used as a path.
/// </summary>
public static class IndexLocation
{
    /// <summary>The directory that holds named indexes.</summary>
    public static string Root =>
        Environment.GetEnvironmentVariable("SEMSEARCH_INDEXES") is { Length: > 0 } env
            ? Path.GetFullPath(env)
            : Path.GetFullPath("indexes");

    /// <summary>The full directory path for an index name or path.</summary>
    public static string Resolve(string nameOrPath)
    {
        if (string.IsNullOrWhiteSpace(nameOrPath))
        {
            throw new InvalidSettingException("--index", "an index name or path is required.");
        }
        if (nameOrPath.Contains('/') || nameOrPath.Contains('\\') || nameOrPath is "." or "..")
        {
            return Path.GetFullPath(nameOrPath);
        }
        if (nameOrPath.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new InvalidSettingException("--index", $"'{nameOrPath}' is not a valid index name.");
        }
        return Path.Combine(Root, nameOrPath);
    }
}
