using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Models;
using SemanticSearch.Embeddings.Tests;
using SemanticSearch.Engine.Models;
using SemanticSearch.Onnx.Bert;
using SemanticSearch.UseLite;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// The default-model policy (issue #9): e5-small-v2 when cached; else when the Hugging Face host answers (a local
/// stand-in here), pulled on first use; else use-lite, with a reason that names the stronger model.
/// </summary>
public sealed class DefaultModelPolicyTests : IDisposable
{
    private readonly TempDir _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public void DefaultModel_HostRefusesConnections_UseLiteAndNamesTheStrongerModel()
    {
        var closed = $"http://127.0.0.1:{LocalHub.FreePort()}"; // nothing listens there
        var resolver = new ModelResolver(new ModelCatalog(new ModelCache(_cache.Path)), closed);

        var (id, reason) = resolver.DefaultModel();

        Assert.Equal(UseLiteModel.ModelId, id);
        Assert.Contains("e5-small-v2", reason, StringComparison.Ordinal);
        Assert.Contains("semsearch models pull e5-small-v2", reason, StringComparison.Ordinal);
        Assert.Contains(closed, reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultModel_HostNeverAnswers_GivesUpAfterTheProbeTimeout()
    {
        // A listener that accepts connections but never answers: the probe must time out, not hang.
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var endpoint = $"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}";
            var resolver = new ModelResolver(new ModelCatalog(new ModelCache(_cache.Path)), endpoint);
            var task = Task.Run(resolver.DefaultModel);

            var finished = await Task.WhenAny(task, Task.Delay(ModelResolver.ProbeTimeout * 5));
            Assert.True(finished == task, "the probe hung");
            Assert.Equal(UseLiteModel.ModelId, (await task).ModelId);
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public void DefaultModel_HostAnswers_E5IsPulledFromItAndEncodes()
    {
        // The hub serves a seeded BERT of e5-small-v2's width under e5's repository name.
        using var hub = new LocalHub();
        var files = TestEncoderModel.Create(Path.Combine(_cache.Path, "e5-stand-in"),
            Path.Combine(RepoPaths.Shared, "models", "tokenizers", "bert-base-uncased-vocab.txt"), hidden: 384);
        hub.Add("intfloat/e5-small-v2", "main", "onnx/model.onnx", File.ReadAllBytes(files.ModelPath));
        hub.Add("intfloat/e5-small-v2", "main", "vocab.txt", File.ReadAllBytes(files.VocabPath), lfs: false);
        hub.Add("intfloat/e5-small-v2", "main", "config.json", File.ReadAllBytes(files.ConfigPath), lfs: false);
        var catalog = new ModelCatalog(new ModelCache(Path.Combine(_cache.Path, "models")));
        var resolver = new ModelResolver(catalog, hub.Endpoint);

        var (id, reason) = resolver.DefaultModel();
        using var encoder = resolver.Open(null);

        Assert.Equal("e5-small-v2", id);
        Assert.Contains("downloaded on first use", reason, StringComparison.Ordinal);
        Assert.NotNull(encoder);
        Assert.Equal("e5-small-v2", encoder.Info.ModelId);
        Assert.Equal("passage: ", encoder.Info.PassagePrefix);
        Assert.True(catalog.IsPresent(catalog.Get("e5-small-v2")));
        Assert.Contains(hub.Requests, r => r.Contains("/intfloat/e5-small-v2/resolve/main/onnx/model.onnx", StringComparison.Ordinal));

        // once cached, the host is not needed any more
        var offline = new ModelResolver(new ModelCatalog(new ModelCache(Path.Combine(_cache.Path, "models"))), $"http://127.0.0.1:{LocalHub.FreePort()}");
        var (cachedId, cachedReason) = offline.DefaultModel();
        Assert.Equal("e5-small-v2", cachedId);
        Assert.Contains("in the model cache", cachedReason, StringComparison.Ordinal);
        var vector = new float[384];
        offline.Open(null)!.Encode(["query text"], TextRole.Query, vector);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 3);
    }
}
