// Hugging Face hub file download, the way huggingface_hub does it: GET {endpoint}/{repo}/resolve/{revision}/{path};
// LFS files answer with a redirect whose X-Linked-Etag header is the SHA-256 of the content (the hub's ETag for
// non-LFS files is a git blob hash, which is not checked). Invariants: a file only ever appears under its final name
// complete and verified (bytes go to "<name>.part", then a rename); an interrupted download resumes from the .part
// with a Range request; the bearer token is sent to the hub host only, never to the CDN a redirect points at.
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using SemanticSearch.Core;
using SemanticSearch.Models;

namespace SemanticSearch.Embeddings.Download;

/// <summary>
/// Downloads files from the Hugging Face hub (or a mirror named by <c>HF_ENDPOINT</c>), resumable and verified.
/// Thread-safe; one instance may serve many downloads.
/// </summary>
public sealed class HuggingFaceDownloader : IDisposable
{
    /// <summary>The hub used when <c>HF_ENDPOINT</c> is not set.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    private const int MaxRedirects = 5;
    private readonly HttpClient _http;
    private readonly bool _ownsClient;
    private readonly string? _token;

    /// <summary>
    /// A downloader for <paramref name="endpoint"/> (default: <c>HF_ENDPOINT</c>, else https://huggingface.co) with
    /// <paramref name="token"/> (default: <c>HF_TOKEN</c>; pass "" for none) sent as a bearer token.
    /// </summary>
    public HuggingFaceDownloader(string? endpoint = null, string? token = null, HttpMessageHandler? handler = null)
    {
        Endpoint = (endpoint ?? EndpointFromEnvironment()).TrimEnd('/');
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidSettingException("HF_ENDPOINT", $"'{Endpoint}' is not an http(s) URL");
        }

        EndpointUri = uri;
        _token = NullIfEmpty(token ?? Environment.GetEnvironmentVariable("HF_TOKEN")); // "" = explicitly no token
        // Redirects are followed by hand: the SHA-256 header is on the redirect itself, and the token must not follow it.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(15) }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("semsearch", "1.0"));
        _ownsClient = true;
    }

    /// <summary>The hub base URL, without a trailing slash.</summary>
    public string Endpoint { get; }

    private Uri EndpointUri { get; }

    /// <summary>The endpoint the environment names: <c>HF_ENDPOINT</c>, else <see cref="DefaultEndpoint"/>.</summary>
    public static string EndpointFromEnvironment() => NullIfEmpty(Environment.GetEnvironmentVariable("HF_ENDPOINT")) ?? DefaultEndpoint;

    /// <summary>The URL of <paramref name="path"/> in <paramref name="repo"/> at <paramref name="revision"/>.</summary>
    public Uri FileUrl(string repo, string revision, string path)
    {
        var escapedPath = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        var escapedRepo = string.Join('/', repo.Split('/').Select(Uri.EscapeDataString));
        return new Uri($"{Endpoint}/{escapedRepo}/resolve/{Uri.EscapeDataString(revision)}/{escapedPath}");
    }

    /// <summary>
    /// Whether the hub answers at all within <paramref name="timeout"/> (default 3 s). Any HTTP status counts as
    /// reachable; a refused connection, DNS failure or timeout does not. Never throws, never hangs.
    /// </summary>
    public async Task<bool> IsReachableAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(3));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, EndpointUri);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Downloads <paramref name="path"/> from <paramref name="repo"/> at <paramref name="revision"/> to
    /// <paramref name="destination"/>. Resumes from <c>destination.part</c>; verifies the SHA-256 the hub reports
    /// for LFS files; renames into place only when complete.
    /// </summary>
    /// <exception cref="NotFoundException">The repository or file does not exist (404).</exception>
    /// <exception cref="SemanticSearchException">Authentication needed, host unreachable, or a checksum mismatch.</exception>
    public async Task DownloadFileAsync(string repo, string revision, string path, string destination,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        Directory.CreateDirectory(directory);
        var part = destination + ".part";
        for (var attempt = 0; ; attempt++)
        {
            var outcome = await TryDownloadAsync(repo, revision, path, part, progress, cancellationToken).ConfigureAwait(false);
            if (outcome.ExpectedSha256 is { } expected)
            {
                var actual = await Sha256Async(part, cancellationToken).ConfigureAwait(false);
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                {
                    File.Delete(part);
                    // A resumed part may have been written by a different revision of the file: retry once from zero.
                    if (outcome.Resumed && attempt == 0)
                    {
                        continue;
                    }

                    throw new SemanticSearchException(
                        $"{repo}/{path}: checksum mismatch (the hub reports sha256 {expected}, the download has {actual}); the partial file was deleted, run the pull again");
                }
            }

            File.Move(part, destination, overwrite: true);
            return;
        }
    }

    /// <summary>Whether <paramref name="path"/> exists in the repository (a HEAD request; 404 → false).</summary>
    public async Task<bool> ExistsAsync(string repo, string revision, string path, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Head, FileUrl(repo, revision, path), null, repo, path, cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            _http.Dispose();
        }
    }

    private readonly record struct Outcome(string? ExpectedSha256, bool Resumed);

    private async Task<Outcome> TryDownloadAsync(string repo, string revision, string path, string part,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var existing = File.Exists(part) ? new FileInfo(part).Length : 0;
        var url = FileUrl(repo, revision, path);
        using var response = await SendAsync(HttpMethod.Get, url, existing > 0 ? existing : null, repo, path, cancellationToken).ConfigureAwait(false);
        var sha = response.Sha256;
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The part already holds every byte (or more: the checksum decides).
            return new Outcome(sha, Resumed: true);
        }

        var resumed = response.StatusCode == HttpStatusCode.PartialContent && existing > 0;
        var received = resumed ? existing : 0;
        long? total = response.Message.Content.Headers.ContentLength is { } length ? length + received : null;
        await using (var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            await using var input = await response.Message.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[1 << 16];
            int read;
            progress?.Report(new DownloadProgress(path, received, total));
            try
            {
                while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    received += read;
                    progress?.Report(new DownloadProgress(path, received, total));
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException && e is not FileNotFoundException)
            {
                throw new SemanticSearchException($"{repo}/{path}: the connection to {url.Host} broke after {received} bytes ({e.Message}); run the pull again to resume", e);
            }
        }

        if (total is { } expectedLength && received != expectedLength)
        {
            throw new SemanticSearchException($"{repo}/{path}: the connection to {url.Host} closed after {received} of {expectedLength} bytes; run the pull again to resume");
        }

        return new Outcome(sha, resumed);
    }

    private sealed class HubResponse(HttpResponseMessage message, string? sha256) : IDisposable
    {
        public HttpResponseMessage Message { get; } = message;

        public string? Sha256 { get; } = sha256;

        public HttpStatusCode StatusCode => Message.StatusCode;

        public void Dispose() => Message.Dispose();
    }

    /// <summary>Sends a request, following redirects by hand; maps failures to messages that say what to do.</summary>
    private async Task<HubResponse> SendAsync(HttpMethod method, Uri url, long? rangeFrom, string repo, string path,
        CancellationToken cancellationToken, bool allowNotFound = false)
    {
        string? sha = null;
        var current = url;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, current);
            if (_token is not null && current.Host == EndpointUri.Host && current.Port == EndpointUri.Port)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            }

            if (rangeFrom is { } from)
            {
                request.Headers.Range = new RangeHeaderValue(from, null);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new SemanticSearchException(
                    $"cannot reach {current.Host} to download {repo}/{path} ({e.Message}); check the network, or set HF_ENDPOINT to a reachable mirror (now {Endpoint})", e);
            }

            sha ??= Sha256From(response);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= MaxRedirects)
                {
                    throw new SemanticSearchException($"{repo}/{path}: too many redirects from {url}");
                }

                current = location.IsAbsoluteUri ? location : new Uri(current, location);
                continue;
            }

            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable
                || (allowNotFound && response.StatusCode == HttpStatusCode.NotFound))
            {
                return new HubResponse(response, sha);
            }

            response.Dispose();
            throw response.StatusCode switch
            {
                HttpStatusCode.NotFound => new NotFoundException($"{repo}: file '{path}' not found at revision '{RevisionOf(url)}' ({url})"),
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new SemanticSearchException(
                    _token is null
                        ? $"{repo}/{path}: the hub requires authentication ({status}); set HF_TOKEN to a Hugging Face access token that can read {repo}"
                        : $"{repo}/{path}: the hub refused the token in HF_TOKEN ({status}); check that it is valid and can read {repo} (gated models need their licence accepted)"),
                _ => new SemanticSearchException($"{repo}/{path}: the hub answered {status} {response.ReasonPhrase} for {url}"),
            };
        }
    }

    private static string RevisionOf(Uri url)
    {
        var segments = url.AbsolutePath.Split('/');
        var i = Array.IndexOf(segments, "resolve");
        return i >= 0 && i + 1 < segments.Length ? Uri.UnescapeDataString(segments[i + 1]) : "?";
    }

    /// <summary>The SHA-256 an LFS file response carries: <c>X-Linked-Etag</c>, else <c>ETag</c>, when it is 64 hex digits.</summary>
    private static string? Sha256From(HttpResponseMessage response)
    {
        foreach (var name in new[] { "X-Linked-Etag", "ETag" })
        {
            if (response.Headers.TryGetValues(name, out var values))
            {
                foreach (var raw in values)
                {
                    var value = raw.Trim();
                    if (value.StartsWith("W/", StringComparison.Ordinal))
                    {
                        value = value[2..];
                    }

                    value = value.Trim('"');
                    if (value.Length == 64 && value.All(Uri.IsHexDigit))
                    {
                        return value.ToLowerInvariant();
                    }
                }
            }
        }

        return null;
    }

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
