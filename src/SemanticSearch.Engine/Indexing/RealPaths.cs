// Real paths for containment: a path is inside a folder only when its *real* path (every symbolic link along it
// resolved) lies at or under the folder's real path. The server's folder policy checks a job's folder with it; the
// folder job checks each file it opens with it (on Linux from the open handle itself, so a link swapped in after the
// check cannot redirect the read).
using Microsoft.Win32.SafeHandles;
using SemanticSearch.Core;

namespace SemanticSearch.Engine.Indexing;

/// <summary>A folder job's folder no longer leads where it was allowed to (a symbolic link was swapped in).</summary>
public sealed class FolderEscapeException(string message) : SemanticSearchException(message);

/// <summary>Symbolic-link-resolving path checks.</summary>
public static class RealPaths
{
    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or lies under it (both real paths).</summary>
    public static bool IsUnder(string path, string root)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var r = Path.TrimEndingDirectorySeparator(root);
        var p = Path.TrimEndingDirectorySeparator(path);
        if (p.Equals(r, comparison))
        {
            return true;
        }
        return p.StartsWith(r + Path.DirectorySeparatorChar, comparison) || (r.Length > 0 && r[^1] == Path.DirectorySeparatorChar && p.StartsWith(r, comparison));
    }

    /// <summary>
    /// Resolves every symbolic link in an absolute path, component by component (like POSIX <c>realpath</c>), so a
    /// link in the middle of the path is followed too, not just the last one.
    /// </summary>
    public static string Resolve(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? "/";
        var pending = new Stack<string>(fullPath[root.Length..]
            .Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                current = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(current)) ?? root;
                continue;
            }
            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.Exists || Directory.Exists(next))
            {
                FileSystemInfo entry = Directory.Exists(next) ? new DirectoryInfo(next) : info;
                if (entry.LinkTarget is { } target)
                {
                    if (++hops > 40)
                    {
                        throw new InvalidSettingException("folder", $"too many levels of symbolic links at '{next}'.");
                    }
                    // Re-walk the target's components from the right base: absolute targets restart at the root.
                    var resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                    var targetRoot = Path.GetPathRoot(resolved) ?? root;
                    foreach (var p in resolved[targetRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                    {
                        pending.Push(p);
                    }
                    current = targetRoot;
                    continue;
                }
            }
            current = next;
        }
        return current;
    }

    /// <summary>
    /// The real path of the file <paramref name="handle"/> has open: on Linux the kernel's own name for it (so it is
    /// the file actually being read, whatever happened to the path since); elsewhere the resolved
    /// <paramref name="path"/>. Null when the file has no name any more.
    /// </summary>
    public static string? OfOpenFile(SafeFileHandle handle, string path)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var target = new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle().ToInt64()}").LinkTarget;
                if (target is not null)
                {
                    return target.EndsWith(" (deleted)", StringComparison.Ordinal) ? null : target;
                }
            }
            catch (IOException)
            {
                // no /proc: resolve the path instead
            }
        }
        return Resolve(Path.GetFullPath(path));
    }
}
