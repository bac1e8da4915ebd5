using System.Diagnostics;

namespace SemanticSearch.Tests.Packaging;

/// <summary>
/// Packs the semsearch tool from the build beside the tests (<c>dotnet pack --no-build</c>, same configuration) into a
/// temporary feed and installs it from there with <c>dotnet tool install --tool-path</c>, under a NuGet.Config that
/// names only that feed: what a user gets from the package, not from the repository.
/// </summary>
public sealed class PackagedToolFixture : IDisposable
{
    private readonly TempDir _root = new();

    public PackagedToolFixture()
    {
        Version = $"0.0.0-test.{Environment.ProcessId}";
        Feed = Directory.CreateDirectory(Path.Combine(_root.Path, "feed")).FullName;
        ToolPath = Path.Combine(_root.Path, "tools");
        var config = Path.Combine(_root.Path, "NuGet.Config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /><add key="feed" value="{Feed}" /></packageSources>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_root.Path, "packages")}" /></config>
            </configuration>
            """);
        var watch = Stopwatch.StartNew();
        Dotnet("pack", Path.Combine(RepoPaths.Root, "src", "SemanticSearch.Cli"), "-c", Configuration, "--no-build",
            "-o", Feed, $"-p:Version={Version}", "-v", "q", "--nologo");
        Dotnet("tool", "install", "semsearch", "--tool-path", ToolPath, "--add-source", Feed, "--version", Version,
            "--configfile", config);
        SetupSeconds = watch.Elapsed.TotalSeconds;
    }

    /// <summary>The configuration the tests (and so the CLI beside them) were built in: bin/&lt;Configuration&gt;/net10.0.</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public string Version { get; }

    public string Feed { get; }

    public string ToolPath { get; }

    public double SetupSeconds { get; }

    /// <summary>The installed command, as the tool path's shim names it.</summary>
    public string Command => Path.Combine(ToolPath, OperatingSystem.IsWindows() ? "semsearch.exe" : "semsearch");

    public string ToolPackage => Path.Combine(Feed, $"semsearch.{Version}.nupkg");

    /// <summary>Runs <c>dotnet</c> in the repository root; a non-zero exit fails with its output.</summary>
    internal static void Dotnet(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet " + string.Join(' ', args) + " did not finish in 5 minutes");
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        }
    }

    public void Dispose() => _root.Dispose();
}
