using System.Text.RegularExpressions;
using SemanticSearch.Core;

namespace SemanticSearch.Engine.Storage;

/// <summary>
/// Resolves what a user typed after <c>--index</c>: a plain name means <c>&lt;indexes root&gt;/&lt;name&gt;/</c>, where the root is
/// <c>SEMSEARCH_INDEXES</c> or <c>./indexes</c>; anything containing a path separator is used as a path.
/// </summary>
public static partial class IndexLocation
{
    /// <summary>The longest index name.</summary>
    public const int MaxNameLength = 64;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    // Names Windows reserves for devices, with or without an extension ("nul.txt" is the device too).
    private static readonly HashSet<string> DeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    /// <summary>True when <paramref name="name"/> is a valid index name (see <see cref="ValidateName"/>).</summary>
    public static bool IsValidName(string name) => NameProblem(name) is null;

    /// <summary>
    /// The one rule for index names, shared by the CLI and the HTTP API: 1 to 64 letters, digits, '.', '_' or '-',
    /// starting with a letter or digit, not ending with '.', no "..", and not a device name Windows reserves (CON,
    /// NUL, COM1 …). Such a name is one directory under the indexes root on every platform. Throws
    /// <see cref="InvalidSettingException"/> naming <paramref name="setting"/>.
    /// </summary>
    public static void ValidateName(string name, string setting = "name")
    {
        if (NameProblem(name) is { } problem)
        {
            var shown = name.Length <= 80 ? name : name[..80] + "…";
            throw new InvalidSettingException(setting, $"'{shown}' is not a valid index name: {problem}.");
        }
    }

    private static string? NameProblem(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return $"use 1 to {MaxNameLength} characters";
        }
        if (!NamePattern().IsMatch(name))
        {
            return "use letters, digits, '.', '_' or '-', starting with a letter or digit";
        }
        if (name.EndsWith('.'))
        {
            return "it must not end with '.'";
        }
        if (name.Contains("..", StringComparison.Ordinal))
        {
            return "it must not contain '..'";
        }
        var stem = name.Split('.')[0];
        if (DeviceNames.Contains(stem))
        {
            return $"'{stem}' is a reserved device name";
        }
        return null;
    }

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
            var full = Path.GetFullPath(nameOrPath);
            CheckDirectory(full, "--index");
            return full;
        }
        ValidateName(nameOrPath, "--index");
        return Path.Combine(Root, nameOrPath);
    }

    /// <summary>
    /// Refuses an index directory whose last segment ends with '.' or a space: some platforms and libraries drop them,
    /// which would put a store beside the index folder instead of inside it.
    /// </summary>
    public static void CheckDirectory(string directory, string setting = "index")
    {
        var last = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        if (last.Length > 0 && last is not "." and not ".." && (last.EndsWith('.') || last.EndsWith(' ')))
        {
            throw new InvalidSettingException(setting, $"'{directory}': an index folder name must not end with '.' or a space.");
        }
    }
}
