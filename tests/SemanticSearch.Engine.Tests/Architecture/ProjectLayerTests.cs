using System.Xml.Linq;

namespace SemanticSearch.Tests.Architecture;

/// <summary>
/// The project graph draws the architecture (issue #16): Core ← model layer ← components ← Engine ← hosts. Every
/// ProjectReference of a src project points strictly down a layer: nothing sideways between components, nothing up.
/// </summary>
public sealed class ProjectLayerTests
{
    // A new project must be placed here on purpose; the test fails for one it does not know.
    private static readonly Dictionary<string, int> Layers = new(StringComparer.Ordinal)
    {
        ["SemanticSearch.Core"] = 0,
        // the model layer under the encoders: contracts and catalog (Models), ONNX graph writing and conversion (Onnx)
        ["SemanticSearch.Models"] = 1,
        ["SemanticSearch.Onnx"] = 1,
        // components
        ["SemanticSearch.Extraction"] = 2,
        ["SemanticSearch.Lexical"] = 2,
        ["SemanticSearch.Metadata"] = 2,
        ["SemanticSearch.VectorIndex"] = 2,
        ["SemanticSearch.Embeddings"] = 2,
        ["SemanticSearch.UseLite"] = 2,
        ["SemanticSearch.Engine"] = 3,
        // hosts and what they host
        ["SemanticSearch.Evaluation"] = 4,
        ["SemanticSearch.Server"] = 4,
        ["SemanticSearch.VectorData"] = 4, // a host-side adapter: the VectorData abstraction over the engine
        ["SemanticSearch.Cli"] = 5,
    };

    private static IEnumerable<(string Project, string Reference)> Edges()
    {
        foreach (var csproj in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var project = Path.GetFileNameWithoutExtension(csproj);
            foreach (var reference in XDocument.Load(csproj).Descendants("ProjectReference"))
            {
                yield return (project, Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value.Replace('\\', '/')));
            }
        }
    }

    [Fact]
    public void EverySrcProject_HasALayer()
    {
        var projects = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.All(projects, p => Assert.True(Layers.ContainsKey(p!), $"{p} has no layer in ProjectLayerTests"));
    }

    [Fact]
    public void EveryProjectReference_PointsDownALayer()
    {
        var wrong = Edges()
            .Where(e => Layers.ContainsKey(e.Project) && Layers.ContainsKey(e.Reference) && Layers[e.Reference] >= Layers[e.Project])
            .Select(e => $"{e.Project} (layer {Layers[e.Project]}) → {e.Reference} (layer {Layers[e.Reference]})")
            .ToList();
        Assert.True(wrong.Count == 0, "sideways or upward references: " + string.Join("; ", wrong));
    }

    [Fact]
    public void Cli_ReferencesOnlyTheEngineAndWhatItHosts()
    {
        var cli = Edges().Where(e => e.Project == "SemanticSearch.Cli").Select(e => e.Reference).Order(StringComparer.Ordinal);
        Assert.Equal(["SemanticSearch.Engine", "SemanticSearch.Evaluation", "SemanticSearch.Server"], cli);
    }

    [Fact]
    public void HostSources_NameNoModelComponentNamespace()
    {
        // hosts reach models through the engine (ModelResolver), never a model component's namespace
        var offenders = new[] { "SemanticSearch.Cli", "SemanticSearch.Server" }
            .SelectMany(p => Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src", p), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Any(l => l.Contains("SemanticSearch.Embeddings", StringComparison.Ordinal)
                || l.Contains("SemanticSearch.Onnx", StringComparison.Ordinal) || l.Contains("SemanticSearch.UseLite", StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f))
            .ToList();
        Assert.Empty(offenders);
    }
}
