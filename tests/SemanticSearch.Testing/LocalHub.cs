using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace SemanticSearch.Testing;

/// <summary>
/// A stand-in for the Hugging Face hub on 127.0.0.1 (HttpListener, free port): serves
/// <c>/{owner}/{repo}/resolve/{revision}/{path}</c>. LFS-style files answer with a 302 to <c>/cdn/…</c> carrying
/// <c>X-Linked-Etag</c> (their SHA-256), as the hub does; the CDN honours Range requests.
/// </summary>
public sealed class LocalHub : IDisposable
{
    private readonly ConcurrentDictionary<string, HubFile> _files = new(StringComparer.Ordinal);
    private readonly LoopbackHttpServer _server;

    public LocalHub() => _server = new LoopbackHttpServer(Handle);

    public string Endpoint => _server.Endpoint;

    /// <summary>Every request as "METHOD path [Range] [auth]".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>When set, requests without this bearer token get 401.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>Adds a file; <paramref name="lfs"/> files redirect and report a SHA-256 (<paramref name="reportedSha256"/> overrides it).</summary>
    public void Add(string repo, string revision, string path, byte[] content, bool lfs = true, string? reportedSha256 = null) =>
        _files[$"/{repo}/resolve/{revision}/{path}"] = new HubFile(content, lfs, reportedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(content)));

    public static int FreePort() => LoopbackHttpServer.FreePort();

    public void Dispose() => _server.Dispose();

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        var auth = request.Headers["Authorization"];
        Requests.Enqueue($"{request.HttpMethod} {path} {request.Headers["Range"]} {auth}".TrimEnd());

        var cdn = path.StartsWith("/cdn/", StringComparison.Ordinal);
        var key = cdn ? path["/cdn".Length..] : path;
        if (!cdn && RequiredToken is not null && auth != $"Bearer {RequiredToken}")
        {
            response.StatusCode = 401;
            return;
        }

        if (!_files.TryGetValue(key, out var file))
        {
            response.StatusCode = path == "/" ? 200 : 404;
            return;
        }

        if (!cdn && file.Lfs)
        {
            response.StatusCode = 302;
            response.Headers["Location"] = "/cdn" + request.Url.AbsolutePath;
            response.Headers["X-Linked-Etag"] = $"\"{file.Sha256}\"";
            response.Headers["X-Linked-Size"] = file.Content.Length.ToString();
            return;
        }

        if (!file.Lfs)
        {
            response.Headers["ETag"] = "\"" + Convert.ToHexStringLower(SHA256.HashData(file.Content))[..40] + "\""; // shaped like a git blob id
        }

        var start = 0;
        var range = request.Headers["Range"];
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = int.Parse(range["bytes=".Length..^1]);
            if (start >= file.Content.Length)
            {
                response.StatusCode = 416;
                return;
            }

            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{file.Content.Length - 1}/{file.Content.Length}";
        }

        response.ContentLength64 = file.Content.Length - start;
        if (request.HttpMethod != "HEAD")
        {
            response.OutputStream.Write(file.Content, start, file.Content.Length - start);
        }
    }

    private sealed record HubFile(byte[] Content, bool Lfs, string Sha256);
}
