using System.Security.Cryptography;
using SemanticSearch.Core;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Models;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>Download tests against <see cref="LocalHub"/> on 127.0.0.1; nothing here reaches the internet.</summary>
public sealed class HuggingFaceDownloaderTests : IDisposable
{
    private const string Repo = "org/model";
    private readonly LocalHub _hub = new();
    private readonly TempDirectory _dir = new();
    private readonly byte[] _weights = RandomBytes(300_000, seed: 1);

    public void Dispose()
    {
        _hub.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task DownloadFile_LfsFileBehindRedirect_VerifiedAndRenamedIntoPlace()
    {
        _hub.Add(Repo, "main", "onnx/model.onnx", _weights);
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        var destination = Path.Combine(_dir.Path, "model.onnx");
        var reports = new List<DownloadProgress>();
        await downloader.DownloadFileAsync(Repo, "main", "onnx/model.onnx", destination, new SyncProgress<DownloadProgress>(reports.Add));

        Assert.Equal(SHA256.HashData(_weights), SHA256.HashData(File.ReadAllBytes(destination)));
        Assert.False(File.Exists(destination + ".part"));
        Assert.Contains(_hub.Requests, r => r.StartsWith("GET /org/model/resolve/main/onnx/model.onnx", StringComparison.Ordinal));
        Assert.Contains(_hub.Requests, r => r.StartsWith("GET /cdn/org/model/resolve/main/onnx/model.onnx", StringComparison.Ordinal));
        Assert.Equal(_weights.Length, reports[^1].BytesReceived);
        Assert.Equal(_weights.Length, reports[^1].TotalBytes);
    }

    [Fact]
    public async Task DownloadFile_PartialFileOnDisk_ResumesWithRangeRequest()
    {
        _hub.Add(Repo, "main", "model.safetensors", _weights);
        var destination = Path.Combine(_dir.Path, "model.safetensors");
        const int have = 123_456;
        File.WriteAllBytes(destination + ".part", _weights[..have]);
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        await downloader.DownloadFileAsync(Repo, "main", "model.safetensors", destination);

        Assert.Equal(_weights, File.ReadAllBytes(destination));
        Assert.Contains(_hub.Requests, r => r.StartsWith("GET /cdn/", StringComparison.Ordinal) && r.Contains($"bytes={have}-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DownloadFile_ShaMismatch_RejectedAndNothingLeft()
    {
        _hub.Add(Repo, "main", "model.safetensors", _weights, reportedSha256: new string('a', 64));
        var destination = Path.Combine(_dir.Path, "model.safetensors");
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        var e = await Assert.ThrowsAsync<SemanticSearchException>(() => downloader.DownloadFileAsync(Repo, "main", "model.safetensors", destination));

        Assert.Contains("checksum mismatch", e.Message);
        Assert.False(File.Exists(destination));
        Assert.False(File.Exists(destination + ".part"));
    }

    [Fact]
    public async Task DownloadFile_NonLfsFile_DownloadedWithoutShaCheck()
    {
        var json = "{\"a\":1}"u8.ToArray();
        _hub.Add(Repo, "v1", "config.json", json, lfs: false);
        var destination = Path.Combine(_dir.Path, "config.json");
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        await downloader.DownloadFileAsync(Repo, "v1", "config.json", destination);
        Assert.Equal(json, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task DownloadFile_MissingFile_NotFoundNamesRepoAndFile()
    {
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        var e = await Assert.ThrowsAsync<NotFoundException>(() => downloader.DownloadFileAsync(Repo, "main", "onnx/model.onnx", Path.Combine(_dir.Path, "x")));
        Assert.Contains(Repo, e.Message);
        Assert.Contains("onnx/model.onnx", e.Message);
    }

    [Fact]
    public async Task DownloadFile_GatedRepoWithoutToken_SaysToSetHfToken()
    {
        _hub.RequiredToken = "secret";
        _hub.Add(Repo, "main", "vocab.txt", "[PAD]\n"u8.ToArray(), lfs: false);
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        var e = await Assert.ThrowsAsync<SemanticSearchException>(() => downloader.DownloadFileAsync(Repo, "main", "vocab.txt", Path.Combine(_dir.Path, "vocab.txt")));
        Assert.Contains("set HF_TOKEN", e.Message);
        Assert.DoesNotContain(_hub.Requests, r => r.Contains("Bearer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DownloadFile_WithToken_SendsBearerToHubButNotToCdn()
    {
        _hub.RequiredToken = "secret";
        _hub.Add(Repo, "main", "model.safetensors", _weights);
        using var downloader = new HuggingFaceDownloader(_hub.Endpoint, token: "secret");
        var destination = Path.Combine(_dir.Path, "model.safetensors");
        await downloader.DownloadFileAsync(Repo, "main", "model.safetensors", destination);

        Assert.Equal(_weights, File.ReadAllBytes(destination));
        Assert.Contains(_hub.Requests, r => r.StartsWith("GET /org/", StringComparison.Ordinal) && r.EndsWith("Bearer secret", StringComparison.Ordinal));
        // Same host and port here, so the CDN hop also gets it; the rule (host+port match) is what keeps it off a real CDN.
    }

    [Fact]
    public async Task DownloadFile_HostUnreachable_SaysSoAndNamesHfEndpoint()
    {
        var closed = $"http://127.0.0.1:{LocalHub.FreePort()}";
        using var downloader = new HuggingFaceDownloader(closed, token: "");
        var e = await Assert.ThrowsAsync<SemanticSearchException>(() => downloader.DownloadFileAsync(Repo, "main", "vocab.txt", Path.Combine(_dir.Path, "vocab.txt")));
        Assert.Contains("cannot reach 127.0.0.1", e.Message);
        Assert.Contains("HF_ENDPOINT", e.Message);
    }

    [Fact]
    public async Task IsReachable_LiveAndClosedEndpoints_TrueThenFalse()
    {
        using var live = new HuggingFaceDownloader(_hub.Endpoint, token: "");
        Assert.True(await live.IsReachableAsync(TimeSpan.FromSeconds(5)));
        using var closed = new HuggingFaceDownloader($"http://127.0.0.1:{LocalHub.FreePort()}", token: "");
        Assert.False(await closed.IsReachableAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Constructor_BadEndpoint_NamesHfEndpoint()
    {
        var e = Assert.Throws<InvalidSettingException>(() => new HuggingFaceDownloader("ftp://example"));
        Assert.Equal("HF_ENDPOINT", e.Setting);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>An IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
