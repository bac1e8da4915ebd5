using System.Net;

namespace SemanticSearch.Testing;

/// <summary>A throw-away npm registry on localhost serving one packument and one tarball the test built.</summary>
public sealed class LocalNpmRegistry : IDisposable
{
    private readonly Dictionary<string, (int Status, byte[] Body)> _routes = new(StringComparer.Ordinal);
    private readonly LoopbackHttpServer _server;

    public LocalNpmRegistry()
    {
        _server = new LoopbackHttpServer(Serve);
        BaseUri = new Uri(_server.Endpoint + "/");
    }

    public Uri BaseUri { get; }

    public List<string> RequestedPaths { get; } = [];

    public void Route(string rawPath, byte[] body, int status = 200) => _routes[rawPath] = (status, body);

    private void Serve(HttpListenerContext context)
    {
        var raw = context.Request.RawUrl ?? "/";
        lock (RequestedPaths) RequestedPaths.Add(raw);
        var (status, body) = _routes.TryGetValue(raw, out var r) ? r : (404, "{\"error\":\"not found\"}"u8.ToArray());
        context.Response.StatusCode = status;
        context.Response.ContentLength64 = body.Length;
        context.Response.OutputStream.Write(body);
    }

    public void Dispose() => _server.Dispose();
}
