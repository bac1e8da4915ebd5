using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.VectorData;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.VectorData.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddSemanticSearch_RegistersTheStore_AndUsesARegisteredGenerator()
    {
        using var dir = new TempDir();
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new WordHashGenerator());
        services.AddSemanticSearch(dir.Path);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var store = provider.GetRequiredService<VectorStore>();
        Assert.Same(provider.GetRequiredService<SemanticSearchVectorStore>(), store);
        var collection = store.GetCollection<string, EmbeddingGeneratorTests.HashedPassage>("docs");
        await collection.UpsertAsync(new EmbeddingGeneratorTests.HashedPassage { Key = "k", Body = "text", Vector = "text" });
        Assert.Equal("generator:word-hash/v1", IndexManifest.Read(Path.Combine(dir.Path, "docs")).Spaces.Single().Model.ModelId);
    }

    [Theory]
    [InlineData(null, "SemanticSearch:IndexesRoot")]
    [InlineData("", "SemanticSearch:IndexesRoot")]
    [InlineData("wait", "SemanticSearch:WriterWait")]
    [InlineData("model", "SemanticSearch:Model")]
    public void AddSemanticSearch_BadOptions_FailAtStartNamingTheSetting(string? bad, string setting)
    {
        using var dir = new TempDir();
        var services = new ServiceCollection();
        services.AddSemanticSearch(o =>
        {
            o.IndexesRoot = bad is null ? null : bad.Length == 0 ? " " : dir.Path;
            if (bad == "wait")
            {
                o.WriterWait = TimeSpan.FromHours(2);
            }
            if (bad == "model")
            {
                o.Model = "  ";
            }
        });
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(setting, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_OnAFile_IsRefusedNamingTheSetting()
    {
        using var dir = new TempDir();
        var file = dir.File("not-a-folder", "x");
        var e = Assert.Throws<SemanticSearch.Core.InvalidSettingException>(() => new SemanticSearchVectorStore(file));
        Assert.Equal("SemanticSearch:IndexesRoot", e.Setting);
    }
}
