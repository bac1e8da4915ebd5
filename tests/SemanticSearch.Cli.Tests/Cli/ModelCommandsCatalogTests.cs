using System.Text.Json;
using SemanticSearch.Models;
using SemanticSearch.UseLite;

namespace SemanticSearch.Tests.Cli;

/// <summary><c>models info|tokenize</c> for the npm-sourced model, which the CLI reaches only through the engine's catalog.</summary>
public sealed class ModelCommandsCatalogTests
{
    [Fact]
    public void ModelsInfo_UseLite_IsItsProfileInTheFileSchema()
    {
        using var root = new TempDir();
        var result = CliRunner.Run(root.Path, "models", "info", UseLiteModel.ModelId);
        Assert.True(result.ExitCode == 0, result.Stderr);

        var path = Path.Combine(root.Path, "use-lite-profile.json");
        File.WriteAllText(path, result.Stdout);
        Assert.Equal(UseLiteModel.Profile, ModelProfile.LoadFile(path));
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("npm", json.RootElement.GetProperty("source").GetProperty("kind").GetString());
    }

    [Fact]
    public void ModelsTokenize_UseLite_GivesTheSentencePieceIdsOfTheCachedModel()
    {
        using var root = new TempDir();
        var pull = CliRunner.Run(root.Path, "models", "pull", UseLiteModel.ModelId); // no network when cached
        Assert.True(pull.ExitCode == 0, pull.Stderr);

        var result = CliRunner.Run(root.Path, "models", "tokenize", UseLiteModel.ModelId, "hello world", "--max-tokens", "128");
        Assert.True(result.ExitCode == 0, result.Stderr);

        var catalog = new ModelCatalog(new ModelCache(TestModels.CacheRoot), [new UseLiteModelSource()]);
        var expected = catalog.OpenTokenizer(UseLiteModel.ModelId).Encode("hello world", 128);
        Assert.Equal("[" + string.Join(",", expected) + "]", result.Stdout.Trim());
        Assert.NotEmpty(expected);
    }
}
