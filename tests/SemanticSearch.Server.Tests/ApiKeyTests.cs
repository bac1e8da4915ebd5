using System.Net;

namespace SemanticSearch.Server.Tests;

/// <summary>The optional API key guards every route but /health (and its probes) and the page's HTML.</summary>
public sealed class ApiKeyTests : IAsyncLifetime
{
    private const string Key = "correct horse battery staple";
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o with { ApiKey = Key });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("/health")]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/")]
    public async Task OpenRoutes_NoKey_ReturnOk(string path)
    {
        using var response = await _server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/indexes")]
    [InlineData("GET", "/indexes/notes")]
    [InlineData("POST", "/indexes/notes/search")]
    [InlineData("POST", "/indexes/notes/documents")]
    [InlineData("DELETE", "/indexes/notes/documents/a")]
    [InlineData("POST", "/indexes/notes/jobs")]
    [InlineData("GET", "/jobs/abc")]
    [InlineData("GET", "/openapi/v1.json")]
    public async Task GuardedRoutes_NoKey_Return401Problem(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await _server.Client.SendAsync(request);
        await TestServer.AssertProblem(response, 401, "X-Api-Key");
    }

    [Fact]
    public async Task GuardedRoute_WrongKey_Returns401Problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/indexes");
        request.Headers.Add("X-Api-Key", Key + "!");
        using var response = await _server.Client.SendAsync(request);
        await TestServer.AssertProblem(response, 401, "not valid");
    }

    [Fact]
    public async Task GuardedRoute_RightKey_ReturnsOk()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/indexes");
        request.Headers.Add("X-Api-Key", Key);
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
