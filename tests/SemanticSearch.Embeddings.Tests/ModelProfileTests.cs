using SemanticSearch.Core;
using SemanticSearch.Embeddings.Models;
using SemanticSearch.Embeddings.Profiles;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

public sealed class ModelProfileTests
{
    [Theory]
    [InlineData("e5-small-v2", "intfloat/e5-small-v2", "mean", "query: ", "passage: ", 512, "MIT")]
    [InlineData("e5-small-unsupervised", "intfloat/e5-small-unsupervised", "mean", "query: ", "passage: ", 512, "MIT")]
    [InlineData("gte-small", "thenlper/gte-small", "mean", "", "", 512, "MIT")]
    [InlineData("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", "cls", "Represent this sentence for searching relevant passages: ", "", 512, "MIT")]
    [InlineData("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "mean", "", "", 256, "Apache-2.0")]
    public void BuiltInProfiles_KnownModel_HasPublishedSettings(string id, string repo, string pooling, string query, string passage, int maxTokens, string licence)
    {
        var p = ModelCatalog.BuiltInProfiles.Single(x => x.Id == id);
        Assert.Equal(repo, p.Source!.HfRepo);
        Assert.Equal(pooling, p.PoolingName);
        Assert.Equal(query, p.QueryPrefix);
        Assert.Equal(passage, p.PassagePrefix);
        Assert.Equal(maxTokens, p.MaxTokens);
        Assert.Equal(licence, p.Licence);
        Assert.Equal(384, p.Dimensions);
        Assert.True(p.Normalize);
        Assert.Equal("onnx/model.onnx", p.Source.Onnx);
    }

    [Fact]
    public void LoadFile_RoundTripOfToJson_SameProfile()
    {
        using var dir = new TempDirectory();
        foreach (var profile in ModelCatalog.BuiltInProfiles)
        {
            var path = Path.Combine(dir.Path, profile.Id + ".json");
            File.WriteAllText(path, profile.ToJson());
            Assert.Equal(profile, ModelProfile.LoadFile(path));
        }
    }

    [Theory]
    [InlineData("""{"pooling":"mean"}""", "id")]
    [InlineData("""{"id":"m","pooling":"max"}""", "pooling")]
    [InlineData("""{"id":"m","maxTokens":"many"}""", "maxTokens")]
    [InlineData("""{"id":"m","dimensions":-3}""", "dimensions")]
    [InlineData("""{"id":"m","normalize":"yes"}""", "normalize")]
    [InlineData("""{"id":"m","dimensions":8,"source":{"hfRepo":"noslash","files":{"onnx":"m.onnx","vocab":"v.txt"}}}""", "source.hfRepo")]
    [InlineData("""{"id":"m","dimensions":8,"source":{"hfRepo":"a/b","files":{"vocab":"v.txt"}}}""", "source.files.onnx")]
    [InlineData("""{"id":"m","dimensions":8,"source":{"hfRepo":"a/b","files":{"onnx":"m.onnx"}}}""", "source.files.tokenizer")]
    [InlineData("""{"id":"a/b"}""", "id")]
    [InlineData("""{"id":"m","fusion":{"method":"max"}}""", "fusion.method")]
    [InlineData("""{"id":"m","fusion":{"method":"rrf","k":-1}}""", "fusion.k")]
    [InlineData("""{"id":"m","fusion":{"method":"rrf","depth":0}}""", "fusion.depth")]
    [InlineData("""{"id":"m","fusion":{"lexicalWeight":0,"denseWeight":0}}""", "fusion")]
    [InlineData("""{"id":"m","fusion":"rrf"}""", "fusion")]
    public void LoadFile_InvalidField_ErrorNamesFileAndField(string json, string field)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "mine.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidSettingException>(() => ModelProfile.LoadFile(path));
        Assert.Equal($"{path}: {field}", e.Setting);
    }

    [Fact]
    public void LoadFile_Fusion_ReadAsWrittenWithDefaultsForMissingFields()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "mine.json");
        File.WriteAllText(path, """{"id":"m","fusion":{"method":"convex","lexicalWeight":0.7,"denseWeight":0.3,"depth":150}}""");
        Assert.Equal(new ProfileFusion("convex", 60, 0.7, 0.3, 150), ModelProfile.LoadFile(path).Fusion);
        Assert.All(ModelCatalog.BuiltInProfiles, p => Assert.Equal(new ProfileFusion("rrf", 60, 1, 1), p.Fusion));
    }

    [Fact]
    public void AddFile_UserProfile_ResolvableById()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "mine.json");
        File.WriteAllText(path, """{"id":"my-model","dimensions":768,"pooling":"cls","queryPrefix":"q: ","source":{"hfRepo":"me/model","files":{"onnx":"model.onnx","vocab":"vocab.txt"}}}""");
        var catalog = new ModelCatalog(new ModelCache(Path.Combine(dir.Path, "cache")));
        catalog.AddFile(path);
        var p = catalog.Get("my-model");
        Assert.Equal(768, p.Dimensions);
        Assert.Equal(PoolingMode.Cls, p.Pooling);
        Assert.Equal("main", p.Revision);
        Assert.Equal(6, catalog.Profiles.Count);
    }

    [Fact]
    public void Resolve_KnownButNotDownloaded_NamesThePullCommand()
    {
        using var dir = new TempDirectory();
        var catalog = new ModelCatalog(new ModelCache(dir.Path));
        var e = Assert.Throws<NotFoundException>(() => catalog.Resolve("e5-small-v2"));
        Assert.Contains("semsearch models pull e5-small-v2", e.Message);
        Assert.False(catalog.IsPresent(catalog.Get("e5-small-v2")));
    }

    [Fact]
    public void Resolve_UnknownId_ListsKnownModels()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<NotFoundException>(() => new ModelCatalog(new ModelCache(dir.Path)).Resolve("no-such-model"));
        Assert.Contains("gte-small", e.Message);
    }

    [Fact]
    public void OpenTokenizer_DirectoryWithOnlyTokenizerJson_Works()
    {
        using var dir = new TempDirectory();
        File.Copy(TestPaths.TokenizerJson, Path.Combine(dir.Path, "tokenizer.json"));
        var tokenizer = new ModelCatalog(new ModelCache(Path.Combine(dir.Path, "cache"))).OpenTokenizer(dir.Path);
        Assert.Equal([101, 7592, 102], tokenizer.Encode("hello", 512));
    }

    [Fact]
    public void DefaultRoot_SemsearchModelsSet_UsesIt()
    {
        var before = Environment.GetEnvironmentVariable("SEMSEARCH_MODELS");
        try
        {
            Environment.SetEnvironmentVariable("SEMSEARCH_MODELS", "/tmp/some-models");
            Assert.Equal("/tmp/some-models", ModelCache.DefaultRoot());
            Environment.SetEnvironmentVariable("SEMSEARCH_MODELS", null);
            Assert.EndsWith(Path.Combine("semsearch", "models"), ModelCache.DefaultRoot());
        }
        finally
        {
            Environment.SetEnvironmentVariable("SEMSEARCH_MODELS", before);
        }
    }
}
