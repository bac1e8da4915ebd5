using System.Diagnostics;

namespace SemanticSearch.VectorData.Tests;

/// <summary>
/// The sample console app (samples/vectordata-quickstart) as a user builds it: the provider and the engine packed from
/// the build beside the tests into a local feed, the sample copied out of the repository and restored from that feed
/// (third-party packages from the machine's own sources), then run with the seeded test model.
/// </summary>
public sealed class SampleAppTests
{
    private static readonly string[] Packages =
        ["Core", "Extraction", "Lexical", "Metadata", "VectorIndex", "Models", "Onnx", "Embeddings", "UseLite", "Engine", "VectorData"];

    [Fact]
    public void Quickstart_FromALocalFeed_UpsertsAndPrintsHybridResults()
    {
        using var work = new TempDir();
        var version = $"0.0.0-sample.{Environment.ProcessId}";
        var feed = Directory.CreateDirectory(Path.Combine(work.Path, "feed")).FullName;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        foreach (var package in Packages)
        {
            Run(RepoPaths.Root, "pack", Path.Combine("src", "SemanticSearch." + package), "-c", configuration, "--no-build",
                "-o", feed, $"-p:Version={version}", "-v", "q", "--nologo");
        }
        AssertProviderPackage(Path.Combine(feed, $"SemanticSearch.VectorData.{version}.nupkg"), version);
        var app = Path.Combine(work.Path, "quickstart");
        CopyDirectory(Path.Combine(RepoPaths.Samples, "vectordata-quickstart"), app);
        // beside the project: merged with the machine's NuGet configuration, so only the feed is added
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><add key="semsearch-local" value="{feed}" /></packageSources>
            </configuration>
            """);
        try
        {
            var output = Run(app, "run", "-p:SemanticSearchVersion=" + version, "--", Path.Combine(work.Path, "indexes"),
                TestModels.TestBertDirectory, Passage.TestModelDimensions.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var hybrid = lines.SkipWhile(l => !l.StartsWith("hybrid:", StringComparison.Ordinal)).Skip(1).TakeWhile(l => !l.StartsWith("nature only:", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, hybrid.Count);
            Assert.Contains("tide-pools", hybrid[0], StringComparison.Ordinal); // the one note holding the keyword
            var nature = lines.SkipWhile(l => !l.StartsWith("nature only:", StringComparison.Ordinal)).Skip(1).ToList();
            Assert.Equal(2, nature.Count);
            Assert.All(nature, l => Assert.True(l.Contains("tide-pools", StringComparison.Ordinal) || l.Contains("glaciers", StringComparison.Ordinal), l));
            // the collection is a real engine index on disk
            Assert.True(File.Exists(Path.Combine(work.Path, "indexes", "notes", "manifest.json")));
        }
        finally
        {
            // the per-run version must not pile up in the machine's global packages folder
            var globalPackages = GlobalPackagesFolder();
            foreach (var package in Packages)
            {
                var dir = Path.Combine(globalPackages, "semanticsearch." + package.ToLowerInvariant(), version);
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        }
    }

    // The provider's package: its XML docs, the engine at the same version and the abstractions it implements.
    private static void AssertProviderPackage(string nupkg, string version)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(nupkg);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("lib/net10.0/SemanticSearch.VectorData.dll", names);
        Assert.Contains("lib/net10.0/SemanticSearch.VectorData.xml", names);
        var nuspec = System.Xml.Linq.XDocument.Load(zip.GetEntry("SemanticSearch.VectorData.nuspec")!.Open());
        var ns = nuspec.Root!.Name.Namespace;
        var dependencies = nuspec.Descendants(ns + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        Assert.Equal(version, dependencies["SemanticSearch.Engine"]);
        Assert.Equal("10.11.0", dependencies["Microsoft.Extensions.VectorData.Abstractions"]);
        Assert.Equal("10.11.0", dependencies["Microsoft.Extensions.AI.Abstractions"]);
    }

    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set ? set
            : Run(RepoPaths.Root, "nuget", "locals", "global-packages", "--list").Split(':', 2)[1].Trim();

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var dir in Directory.EnumerateDirectories(from).Where(d => Path.GetFileName(d) is not ("bin" or "obj")))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    private static string Run(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet " + string.Join(' ', args) + " did not finish in 8 minutes");
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        }
        return stdout.Result;
    }
}
