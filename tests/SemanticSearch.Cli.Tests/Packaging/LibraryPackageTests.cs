using System.IO.Compression;
using System.Xml.Linq;

namespace SemanticSearch.Tests.Packaging;

/// <summary>
/// A library package (docs/packaging.md): the engine packed from the build beside the tests carries its XML docs, the
/// shared metadata, the README, its project references as package dependencies of the same version, and a symbol
/// package with its PDB.
/// </summary>
public sealed class LibraryPackageTests
{
    [Fact]
    public void EnginePackage_HasXmlDocsMetadataDependenciesAndSymbols()
    {
        using var feed = new TempDir();
        const string version = "0.0.0-libtest";
        PackagedToolFixture.Dotnet("pack", Path.Combine("src", "SemanticSearch.Engine"), "-c", PackagedToolFixture.Configuration, "--no-build",
            "-o", feed.Path, $"-p:Version={version}", "-v", "q", "--nologo");

        using var zip = ZipFile.OpenRead(Path.Combine(feed.Path, $"SemanticSearch.Engine.{version}.nupkg"));
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("lib/net10.0/SemanticSearch.Engine.dll", names);
        Assert.Contains("lib/net10.0/SemanticSearch.Engine.xml", names);
        Assert.Contains("README.md", names);
        var docs = XDocument.Load(zip.GetEntry("lib/net10.0/SemanticSearch.Engine.xml")!.Open());
        Assert.NotEmpty(docs.Descendants("member")); // real doc comments, not an empty file

        var nuspec = XDocument.Load(zip.GetEntry("SemanticSearch.Engine.nuspec")!.Open());
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("MIT", metadata.Element(ns + "license")!.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")!.Value));
        Assert.NotEqual("Package Description", metadata.Element(ns + "description")!.Value);
        var dependencies = metadata.Descendants(ns + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        foreach (var project in new[] { "Core", "Extraction", "Lexical", "Metadata", "VectorIndex", "Models", "Onnx", "Embeddings", "UseLite" })
        {
            Assert.Equal(version, dependencies[$"SemanticSearch.{project}"]);
        }
        Assert.DoesNotContain("Microsoft.SourceLink.GitHub", dependencies.Keys); // a build-time tool, never a dependency

        using var symbols = ZipFile.OpenRead(Path.Combine(feed.Path, $"SemanticSearch.Engine.{version}.snupkg"));
        Assert.Contains("lib/net10.0/SemanticSearch.Engine.pdb", symbols.Entries.Select(e => e.FullName));
    }
}
