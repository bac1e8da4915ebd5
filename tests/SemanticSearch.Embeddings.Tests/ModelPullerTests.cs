using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Embeddings.Models;
using SemanticSearch.Embeddings.Profiles;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>End-to-end pulls of the seeded test model from <see cref="LocalHub"/>.</summary>
public sealed class ModelPullerTests(TestModelFixture model) : IClassFixture<TestModelFixture>, IDisposable
{
    private readonly LocalHub _hub = new();
    private readonly TempDirectory _cache = new();

    public void Dispose()
    {
        _hub.Dispose();
        _cache.Dispose();
    }

    private ModelProfile Profile(string repo) => new()
    {
        Id = "pulled",
        Dimensions = model.Files.Dimensions,
        QueryPrefix = "query: ",
        PassagePrefix = "passage: ",
        Source = new ModelSource(repo, "main", "onnx/model.onnx", "tokenizer.json", "vocab.txt", "config.json", "model.safetensors"),
    };

    [Fact]
    public async Task Pull_RepoWithOnnxExport_ModelPresentAndEncodes()
    {
        const string repo = "test/with-onnx";
        _hub.Add(repo, "main", "onnx/model.onnx", File.ReadAllBytes(model.Files.ModelPath));
        _hub.Add(repo, "main", "vocab.txt", File.ReadAllBytes(model.Files.VocabPath), lfs: false);
        _hub.Add(repo, "main", "config.json", File.ReadAllBytes(model.Files.ConfigPath), lfs: false);
        var cache = new ModelCache(_cache.Path);
        var catalog = new ModelCatalog(cache);
        catalog.Add(Profile(repo));
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");

        var directory = await new ModelPuller(downloader, cache).PullAsync(catalog.Get("pulled"));

        Assert.True(catalog.IsPresent(catalog.Get("pulled")));
        Assert.Equal(File.ReadAllBytes(model.Files.ModelPath), File.ReadAllBytes(Path.Combine(directory, "model.onnx")));
        Assert.Equal(catalog.Get("pulled"), ModelProfile.LoadFile(Path.Combine(directory, ModelProfile.LocalFileName)));
        using var encoder = OnnxTextEncoder.Open(catalog.Resolve("pulled"));
        Assert.Equal("passage: ", encoder.Info.PassagePrefix);
        Assert.Equal(model.Files.Dimensions, encoder.Encode(["pulled model"], TextRole.Query).Length);
    }

    [Fact]
    public async Task Pull_RepoWithoutOnnx_ConvertsSafetensorsToTheSameModel()
    {
        const string repo = "test/weights-only";
        _hub.Add(repo, "main", "tokenizer.json", File.ReadAllBytes(TestPaths.TokenizerJson), lfs: false);
        _hub.Add(repo, "main", "config.json", File.ReadAllBytes(model.Files.ConfigPath), lfs: false);
        _hub.Add(repo, "main", "model.safetensors", File.ReadAllBytes(Path.Combine(model.Directory, "model.safetensors")));
        var cache = new ModelCache(_cache.Path);
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");

        var profile = Profile(repo);
        var directory = await new ModelPuller(downloader, cache).PullAsync(profile);

        Assert.True(cache.IsPresent("pulled"));
        Assert.False(File.Exists(Path.Combine(directory, "model.safetensors")));
        using var converted = OnnxTextEncoder.Open(directory, profile);
        using var original = OnnxTextEncoder.Open(model.Directory, profile);
        string[] texts = ["converted weights", "should embed the same"];
        var a = converted.Encode(texts, TextRole.Passage);
        var b = original.Encode(texts, TextRole.Passage);
        Assert.All(a.Zip(b), p => Assert.True(Math.Abs(p.First - p.Second) < 1e-5f));
    }

    [Fact]
    public async Task Pull_RepoMissingEverything_NotFoundNamesRepo()
    {
        var cache = new ModelCache(_cache.Path);
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        var e = await Assert.ThrowsAsync<NotFoundException>(() => new ModelPuller(downloader, cache).PullAsync(Profile("test/empty")));
        Assert.Contains("test/empty", e.Message);
        Assert.False(cache.IsPresent("pulled"));
    }
}
