using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// The served OpenAPI document is the whole contract: every route has a summary, and every status the routes are seen
/// to answer here (against the real server, with an API key configured) is declared for that route (issue 19).
/// </summary>
public sealed class OpenApiTests : IAsyncLifetime
{
    private const string Key = "openapi-test-key";
    private readonly List<(string Method, string Route, int Status)> _seen = [];
    private string _allowed = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _allowed = Path.Combine(Path.GetTempPath(), "semsearch-openapi-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_allowed);
        File.WriteAllText(Path.Combine(_allowed, "owls.txt"), "Owls hunt at night.");
        _server = await TestServer.StartAsync(o => o with
        {
            ApiKey = Key,
            AllowedFolderRoots = [_allowed],
            MaxRequestBytes = 2048,
            WriteLockWait = TimeSpan.Zero,
        });
        _server.Client.DefaultRequestHeaders.Add(SearchServer.ApiKeyHeader, Key);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_allowed, recursive: true);
    }

    // Sends one request, records which route answered what, and returns the answer's body.
    private async Task<JsonNode?> Call(string method, string route, string path, object? body = null, bool key = true, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body as string ?? System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, contentType);
        }
        if (!key)
        {
            request.Headers.Add(SearchServer.ApiKeyHeader, "wrong");
        }
        using var response = await _server.Client.SendAsync(request);
        _seen.Add((method, route, (int)response.StatusCode));
        var text = await response.Content.ReadAsStringAsync();
        return text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true ? JsonNode.Parse(text) : null;
    }

    private IDisposable HoldWriteLock(string index) =>
        IndexWriteLock.Acquire(Path.Combine(_server.IndexesRoot, index), new WriterOptions("test", TimeSpan.FromSeconds(30)));

    private async Task Exercise()
    {
        var big = new string('x', 4096);
        await Call("GET", "/health", "/health");
        await Call("GET", "/indexes", "/indexes");
        await Call("GET", "/indexes", "/indexes", key: false);

        await Call("PUT", "/indexes/{name}", "/indexes/lex", new { models = new[] { "none" } });
        await Call("PUT", "/indexes/{name}", "/indexes/lex", new { models = new[] { "none" } });
        await Call("PUT", "/indexes/{name}", "/indexes/lex", new { models = Array.Empty<string>() });
        await Call("PUT", "/indexes/{name}", "/indexes/lex", new { models = new[] { "arctic-embed-xs" } }); // other spaces: 409
        await Call("PUT", "/indexes/{name}", "/indexes/lex", new { models = new[] { big } });

        await Call("POST", "/indexes/{name}/documents", "/indexes/notes/documents", new { documents = new[] { new { id = "a/b", title = "A", text = "alpha beta" } } });
        await Call("POST", "/indexes/{name}/documents", "/indexes/notes/documents", new { documents = Array.Empty<object>() });
        await Call("POST", "/indexes/{name}/documents", "/indexes/notes/documents", new { documents = new[] { new { id = "big", title = "B", text = big } } });

        await Call("GET", "/indexes/{name}", "/indexes/notes");
        const string Bulk = "/indexes/{name}/documents:bulk";
        await Call("POST", Bulk, "/indexes/notes/documents:bulk", "{\"id\":\"n1\",\"text\":\"bulk one\"}\nnot json\n", contentType: SearchServer.NdjsonType);
        await Call("POST", Bulk, "/indexes/notes/documents:bulk", "{\"id\":\"n1\",\"text\":\"bulk one\"}\n");
        await Call("POST", Bulk, "/indexes/-bad/documents:bulk", "{}\n", contentType: SearchServer.NdjsonType);
        await Call("POST", Bulk, "/indexes/notes/documents:bulk", "{}\n", key: false, contentType: SearchServer.NdjsonType);
        await Call("GET", "/indexes/{name}", "/indexes/nothing");
        await Call("GET", "/indexes/{name}", "/indexes/-bad");

        await Call("POST", "/indexes/{name}/search", "/indexes/notes/search", new { query = "alpha" });
        await Call("POST", "/indexes/{name}/search", "/indexes/notes/search", new { query = "" });
        await Call("POST", "/indexes/{name}/search", "/indexes/nothing/search", new { query = "alpha" });
        await Call("POST", "/indexes/{name}/search", "/indexes/notes/search", new { query = big });
        await Call("POST", "/indexes/{name}/search", "/indexes/notes/search", new { query = "alpha" }, key: false);

        await Call("GET", "/indexes/{name}/documents/{id}", "/indexes/notes/documents/a/b");
        await Call("GET", "/indexes/{name}/documents/{id}", "/indexes/notes/documents/a/none");

        await Call("POST", "/indexes/{name}/jobs", "/indexes/notes/jobs", new { folder = _allowed });
        var done = _seen[^1].Status == 202 ? (await Call("GET", "/jobs", "/jobs"))!.AsArray()[0]!["id"]!.GetValue<string>() : "";
        await Call("POST", "/indexes/{name}/jobs", "/indexes/notes/jobs", new { folder = "/" });
        await Call("POST", "/indexes/{name}/jobs", "/indexes/notes/jobs", "{}");
        await Call("POST", "/indexes/{name}/jobs", "/indexes/notes/jobs", new { folder = Path.Combine(_allowed, "missing") });
        while ((await Call("GET", "/jobs/{id}", $"/jobs/{done}"))!["state"]!.GetValue<string>() is "queued" or "running")
        {
            await Task.Delay(50);
        }
        await Call("GET", "/jobs/{id}", "/jobs/0000000000000000");
        await Call("GET", "/indexes/{name}/files/{id}", "/indexes/notes/files/owls.txt");
        await Call("GET", "/indexes/{name}/files/{id}", "/indexes/notes/files/a/b");
        await Call("POST", "/indexes/{name}/documents", "/indexes/notes/documents", new { documents = new[] { new { id = "owls.txt", title = "O", text = "taken" } } });
        await Call("GET", "/indexes/{name}/sources", "/indexes/notes/sources");
        await Call("GET", "/indexes/{name}/sources", "/indexes/nothing/sources");
        await Call("DELETE", "/indexes/{name}/sources/{source}", "/indexes/notes/sources/nowhere");
        await Call("DELETE", "/jobs/{id}", $"/jobs/{done}");
        await Call("DELETE", "/jobs/{id}", "/jobs/0000000000000000");

        await Call("DELETE", "/indexes/{name}/documents/{id}", "/indexes/notes/documents/a/b");
        await Call("DELETE", "/indexes/{name}/documents/{id}", "/indexes/notes/documents/a/b");

        using (HoldWriteLock("notes"))
        {
            await Call("POST", "/indexes/{name}/documents", "/indexes/notes/documents", new { documents = new[] { new { id = "c", title = "C", text = "gamma" } } });
            await Call("DELETE", "/indexes/{name}/documents/{id}", "/indexes/notes/documents/c");
            await Call("POST", "/indexes/{name}/documents:bulk", "/indexes/notes/documents:bulk", "{\"id\":\"c\",\"text\":\"gamma\"}\n", contentType: SearchServer.NdjsonType);
            await Call("DELETE", "/indexes/{name}/sources/{source}", "/indexes/notes/sources/api");
            await Call("DELETE", "/indexes/{name}", "/indexes/notes");
            var queued = (await Call("POST", "/indexes/{name}/jobs", "/indexes/notes/jobs", new { folder = _allowed }))!["id"]!.GetValue<string>();
            await Call("DELETE", "/jobs/{id}", $"/jobs/{queued}");
            while ((await Call("GET", "/jobs/{id}", $"/jobs/{queued}"))!["state"]!.GetValue<string>() is "queued" or "running")
            {
                await Task.Delay(50);
            }
        }
        await Call("DELETE", "/indexes/{name}/sources/{source}", "/indexes/notes/sources/api");
        await Call("DELETE", "/indexes/{name}", "/indexes/notes");
        await Call("DELETE", "/indexes/{name}", "/indexes/notes");
        await Call("DELETE", "/indexes/{name}", "/indexes/-bad");
        await Call("GET", "/jobs", "/jobs", key: false);
    }

    [Fact]
    public async Task OpenApi_EveryRoute_HasASummaryAndDeclaresEveryStatusItAnswers()
    {
        await Exercise();
        var doc = JsonNode.Parse(await _server.Client.GetStringAsync("/openapi/v1.json"))!;
        var paths = doc["paths"]!.AsObject();

        // The exercise reached the statuses it set out to provoke (so the check below covers them).
        foreach (var expected in new[] { 200, 201, 202, 204, 400, 401, 403, 404, 409, 413 })
        {
            Assert.Contains(_seen, s => s.Status == expected);
        }
        Assert.Contains(("GET", "/indexes/{name}/files/{id}", 200), _seen);
        Assert.Contains(("POST", "/indexes/{name}/documents", 409), _seen);
        Assert.Contains(("DELETE", "/indexes/{name}/sources/{source}", 409), _seen);
        Assert.Contains(("POST", "/indexes/{name}/documents:bulk", 200), _seen);
        Assert.Contains(("POST", "/indexes/{name}/documents:bulk", 409), _seen);
        var operations = paths.SelectMany(p => p.Value!.AsObject().Select(o => (Path: p.Key, Method: o.Key, Op: o.Value!))).ToList();
        Assert.Equal(17, operations.Count);
        foreach (var (path, method, op) in operations)
        {
            Assert.False(string.IsNullOrWhiteSpace(op["summary"]?.GetValue<string>()), $"{method.ToUpperInvariant()} {path} has no summary");
        }
        foreach (var (method, route, status) in _seen.Distinct())
        {
            var op = paths[route]?[method.ToLowerInvariant()];
            Assert.True(op is not null, $"{method} {route} is not in the OpenAPI document");
            Assert.True(op!["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] is not null,
                $"{method} {route} answered {status}, which its OpenAPI entry does not declare");
        }
    }
}
