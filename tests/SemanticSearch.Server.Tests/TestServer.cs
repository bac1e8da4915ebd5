using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SemanticSearch.Server;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// The real service on Kestrel at 127.0.0.1 on a free port (port 0), over a fresh temporary indexes root. Tests talk
/// to it over real HTTP, so request-size limits, headers and content types are those a client meets.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, string root, HttpClient client)
    {
        _app = app;
        Root = root;
        Client = client;
    }

    public string Root { get; }
    public string IndexesRoot => Path.Combine(Root, "indexes");
    public HttpClient Client { get; }
    public Uri BaseAddress => Client.BaseAddress!;

    /// <summary>The running application's services (its MeterProvider, for a test that flushes metrics).</summary>
    public IServiceProvider Services => _app.Services;

    public static async Task<TestServer> StartAsync(Func<SearchServerOptions, SearchServerOptions>? configure = null, string? indexesRoot = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "semsearch-server-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var options = new SearchServerOptions { Urls = "http://127.0.0.1:0", IndexesRoot = indexesRoot ?? Path.Combine(root, "indexes"), NewIndexModel = "none" };
        options = configure?.Invoke(options) ?? options;
        var app = SearchServer.Create(options, l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        return new TestServer(app, root, client);
    }

    public Task<HttpResponseMessage> PostJson(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> PostJson(string path, object body) =>
        Client.PostAsync(path, JsonContent.Create(body));

    public async Task<JsonNode> Search(string index, object body)
    {
        using var response = await PostJson($"/indexes/{index}/search", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"search answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    public static List<string> DocIds(JsonNode result) =>
        result["hits"]!.AsArray().Select(h => h!["docId"]!.GetValue<string>()).ToList();

    public async Task AddDocuments(string index, params (string Id, string Title, string Text)[] docs)
    {
        var body = new { documents = docs.Select(d => new { id = d.Id, title = d.Title, text = d.Text }).ToArray() };
        using var response = await PostJson($"/indexes/{index}/documents", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Asserts an RFC 7807 answer: the status, the media type, and a detail that mentions <paramref name="mentions"/>.</summary>
    public static async Task<JsonNode> AssertProblem(HttpResponseMessage response, int status, string? mentions = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonNode.Parse(text)!;
        Assert.Equal(status, json["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(json["title"]?.GetValue<string>()));
        var detail = json["detail"]?.GetValue<string>() ?? "";
        Assert.False(string.IsNullOrWhiteSpace(detail));
        if (mentions is not null)
        {
            Assert.Contains(mentions, detail, StringComparison.OrdinalIgnoreCase);
        }
        return json;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }
}
