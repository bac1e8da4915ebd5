using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Packaging;

/// <summary>
/// The <c>semsearch</c> dotnet tool (issue 22, docs/packaging.md): packed, installed into a tool path from a local
/// feed, and run there on samples/ with a real ONNX model — its answers are the in-repo CLI's.
/// </summary>
public sealed class PackagedToolTests(PackagedToolFixture tool) : IClassFixture<PackagedToolFixture>
{
    private static string Samples => Path.Combine(RepoPaths.Root, "samples", "docs");

    private CliRunner.Result RunInstalled(string indexes, params string[] args)
    {
        var psi = CliRunner.StartInfo(indexes, null, args);
        psi.FileName = tool.Command;
        psi.ArgumentList.RemoveAt(0); // the in-repo semsearch.dll CliRunner puts first
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "installed semsearch did not finish");
        return new CliRunner.Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static List<string> DocIds(CliRunner.Result search)
    {
        Assert.True(search.ExitCode == 0, search.Stderr);
        using var json = JsonDocument.Parse(search.Stdout);
        return json.RootElement.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("docId").GetString()!).ToList();
    }

    [Fact]
    public void InstalledTool_IndexesAndSearchesSamplesWithTheOnnxModel_AsTheInRepoCliDoes()
    {
        using var installed = new TempDir();
        using var inRepo = new TempDir();
        var model = TestModels.TestBertDirectory;

        var index = RunInstalled(installed.Path, "index", Samples, "--index", "s", "--model", model);
        Assert.True(index.ExitCode == 0, index.Stderr);
        Assert.Equal(0, CliRunner.Run(inRepo.Path, "index", Samples, "--index", "s", "--model", model).ExitCode);

        // dense only: every hit is ranked by the ONNX session the installed tool loaded from its own runtimes/ folder
        string[] vector = ["search", "tiny critters among seaside puddles", "--index", "s", "--mode", "dense", "--json", "--model", model];
        var fromTool = DocIds(RunInstalled(installed.Path, vector));
        var fromRepo = DocIds(CliRunner.Run(inRepo.Path, vector));
        Assert.NotEmpty(fromTool);
        Assert.Equal(fromRepo, fromTool);

        // hybrid, a query the samples answer: the sourdough page is the one about starters
        string[] hybrid = ["search", "feeding a sourdough starter", "--index", "s", "--json", "--model", model];
        var hybridTool = DocIds(RunInstalled(installed.Path, hybrid));
        Assert.Equal("sourdough.txt", hybridTool[0]);
        Assert.Equal(DocIds(CliRunner.Run(inRepo.Path, hybrid)), hybridTool);
    }

    [Fact]
    public void ToolPackage_IsOnePlatformNeutralDotnetToolWithOnnxRuntimeNativeAssets()
    {
        using var zip = ZipFile.OpenRead(tool.ToolPackage);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        var nuspec = XDocument.Load(zip.GetEntry("semsearch.nuspec")!.Open());
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;

        Assert.Equal("semsearch", metadata.Element(ns + "id")!.Value);
        Assert.Equal("DotnetTool", metadata.Element(ns + "packageTypes")!.Element(ns + "packageType")!.Attribute("name")!.Value);
        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", names);
        Assert.Contains("tools/net10.0/any/runtimes/linux-x64/native/libonnxruntime.so", names);
        Assert.Contains("tools/net10.0/any/runtimes/win-x64/native/onnxruntime.dll", names);
        Assert.Contains("tools/net10.0/any/runtimes/osx-arm64/native/libonnxruntime.dylib", names);
        Assert.DoesNotContain(names, n => n.Contains("/runtimes/android/", StringComparison.Ordinal) || n.Contains("/runtimes/ios/", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.Contains("/runtimes/", StringComparison.Ordinal) && n.EndsWith(".pdb", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith("tools/net10.0/linux", StringComparison.Ordinal)); // no RID-specific tool
        var settings = XDocument.Load(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
        Assert.Equal("semsearch", settings.Descendants("Command").Single().Attribute("Name")!.Value);
    }
}
