using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Models;
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
        Source = new HuggingFaceSource(repo, "main", "onnx/model.onnx", "tokenizer.json", "vocab.txt", "config.json", "model.safetensors"),
    };

    [Fact]
    public async Task Pull_RepoWithOnnxExport_ModelPresentAndEncodes()
    {
        const string repo = "test/with-onnx";
        _hub.Add(repo, "main", "onnx/model.onnx", File.ReadAllBytes(model.Files.ModelPath));
        _hub.Add(repo, "main", "vocab.txt", File.ReadAllBytes(model.Files.VocabPath), lfs: false);
        _hub.Add(repo, "main", "config.json", File.ReadAllBytes(model.Files.ConfigPath), lfs: false);
        var cache = new ModelCache(_cache.Path);
        var catalog = new ModelCatalog(cache, [new HuggingFaceModelSource(), new NuGetModelSource()]);
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

        Assert.True(OnnxEncoderFormat.IsModelDirectory(cache.DirectoryFor("pulled")));
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
        Assert.False(OnnxEncoderFormat.IsModelDirectory(cache.DirectoryFor("pulled")));
    }

    // The files of each seed repository's main branch, as their published listings show them; every weight file is
    // the seeded test model's (graph or safetensors), so what the pull produces can be checked against it.
    public static TheoryData<string, string[]> SeedLayouts() => new()
    {
        { "e5-small-v2", ["model.onnx", "onnx/model.onnx", "model.safetensors", "tokenizer.json", "vocab.txt", "config.json"] },
        { "e5-small-unsupervised", ["config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "vocab.txt", "1_Pooling/config.json", "modules.json"] },
        { "gte-small", ["onnx/model.onnx", "model.safetensors", "tokenizer.json", "vocab.txt", "config.json", "1_Pooling/config.json"] },
    };

    [Theory]
    [MemberData(nameof(SeedLayouts))]
    public async Task Pull_BuiltInSeedProfile_OnItsRealRepositoryLayout_GivesTheSeededModel(string id, string[] files)
    {
        var profile = BuiltInProfiles.All.Single(p => p.Id == id);
        var repo = Assert.IsType<HuggingFaceSource>(profile.Source).HfRepo;
        foreach (var file in files)
        {
            var bytes = file switch
            {
                "model.onnx" or "onnx/model.onnx" => File.ReadAllBytes(model.Files.ModelPath),
                "model.safetensors" => File.ReadAllBytes(Path.Combine(model.Directory, "model.safetensors")),
                "tokenizer.json" => File.ReadAllBytes(TestPaths.TokenizerJson),
                "vocab.txt" => File.ReadAllBytes(model.Files.VocabPath),
                "config.json" => File.ReadAllBytes(model.Files.ConfigPath),
                _ => "{}"u8.ToArray(),
            };
            _hub.Add(repo, "main", file, bytes, lfs: file.EndsWith(".onnx", StringComparison.Ordinal) || file.EndsWith(".safetensors", StringComparison.Ordinal) || file.EndsWith(".bin", StringComparison.Ordinal));
        }
        var catalog = new ModelCatalog(new ModelCache(_cache.Path), [new HuggingFaceModelSource(_hub.Endpoint)]);

        var directory = await catalog.PullAsync(profile);

        var onnxServed = files.Any(f => f.EndsWith(".onnx", StringComparison.Ordinal));
        var fetched = _hub.Requests.Where(r => r.StartsWith("GET /cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal(onnxServed, !fetched.Any(r => r.Contains("model.safetensors", StringComparison.Ordinal)));
        Assert.DoesNotContain(fetched, r => r.Contains("pytorch_model.bin", StringComparison.Ordinal));
        var seeded = profile with { Dimensions = model.Files.Dimensions };
        using var pulled = OnnxTextEncoder.Open(directory, seeded);
        using var original = OnnxTextEncoder.Open(model.Directory, seeded);
        string[] texts = ["tide pools at low tide", "a second passage"];
        var a = pulled.Encode(texts, TextRole.Passage);
        var b = original.Encode(texts, TextRole.Passage);
        Assert.All(a.Zip(b), p => Assert.True(Math.Abs(p.First - p.Second) < 1e-5f));
    }
}
