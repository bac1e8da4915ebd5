using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace SemanticSearch.Testing;

/// <summary>How the feed answers a package download.</summary>
public enum FeedBehaviour
{
    /// <summary>The whole package.</summary>
    Normal,

    /// <summary>Announces the full length, sends half, then drops the connection.</summary>
    Truncate,
}

/// <summary>
/// A NuGet v3 feed on 127.0.0.1 (HttpListener): a service index naming a PackageBaseAddress (flat container) and the
/// package files under it, as nuget.org lays them out: <c>/flat/{id}/index.json</c> and
/// <c>/flat/{id}/{version}/{id}.{version}.nupkg</c> (ids lower-case).
/// </summary>
public sealed class LocalNuGetFeed : IDisposable
{
    private readonly ConcurrentDictionary<string, byte[]> _packages = new(StringComparer.Ordinal);
    private readonly LoopbackHttpServer _server;

    public LocalNuGetFeed() => _server = new LoopbackHttpServer(Handle, concurrent: true);

    public string Endpoint => _server.Endpoint;

    /// <summary>The service index URL (what a NuGet.Config names).</summary>
    public string ServiceIndex => Endpoint + "/v3/index.json";

    public FeedBehaviour Behaviour { get; set; }

    /// <summary>Package downloads served so far.</summary>
    public int Downloads => _downloads;

    private int _downloads;

    public void Add(string id, string version, byte[] nupkg) => _packages[$"{id.ToLowerInvariant()}/{version}"] = nupkg;

    /// <summary>A NuGet.Config in <paramref name="directory"/> naming only this feed and a global packages folder of its own.</summary>
    public string WriteConfig(string directory, string? source = null)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "NuGet.Config");
        File.WriteAllText(path, NuGetConfig(source ?? ServiceIndex, Path.Combine(directory, "global-packages")));
        return path;
    }

    /// <summary>A NuGet.Config naming <paramref name="source"/> as its only source (none when null) and <paramref name="globalPackages"/>.</summary>
    public static string NuGetConfig(string? source, string globalPackages) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <config><add key="globalPackagesFolder" value="{globalPackages}" /></config>
          <packageSources><clear />{(source is null ? "" : $"<add key=\"test\" value=\"{source}\" protocolVersion=\"3\" />")}</packageSources>
        </configuration>
        """;

    public void Dispose() => _server.Dispose();

    private void Handle(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath.ToLowerInvariant();
        var response = context.Response;
        if (path == "/v3/index.json")
        {
            Json(response, $$"""{"version":"3.0.0","resources":[{"@id":"{{Endpoint}}/flat/","@type":"PackageBaseAddress/3.0.0"}]}""");
            return;
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 3 && parts[0] == "flat" && parts[2] == "index.json")
        {
            var versions = _packages.Keys.Where(k => k.StartsWith(parts[1] + "/", StringComparison.Ordinal)).Select(k => $"\"{k[(parts[1].Length + 1)..]}\"").ToList();
            if (versions.Count == 0)
            {
                response.StatusCode = 404;
                return;
            }
            Json(response, $$"""{"versions":[{{string.Join(",", versions)}}]}""");
            return;
        }

        if (parts.Length == 4 && parts[0] == "flat" && _packages.TryGetValue($"{parts[1]}/{parts[2]}", out var nupkg) && parts[3] == $"{parts[1]}.{parts[2]}.nupkg")
        {
            Interlocked.Increment(ref _downloads);
            response.ContentType = "application/octet-stream";
            response.ContentLength64 = nupkg.Length;
            if (Behaviour == FeedBehaviour.Truncate)
            {
                response.OutputStream.Write(nupkg, 0, nupkg.Length / 2);
                response.OutputStream.Flush();
                response.Abort();
                return;
            }
            response.OutputStream.Write(nupkg);
            return;
        }

        response.StatusCode = 404;
    }

    private static void Json(HttpListenerResponse response, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
    }
}
