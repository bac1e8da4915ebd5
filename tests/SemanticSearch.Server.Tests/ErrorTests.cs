using System.Net.Http.Headers;
using System.Text;
using SemanticSearch.Engine;

namespace SemanticSearch.Server.Tests;

/// <summary>Every way a request can be wrong ends in RFC 7807 problem+json that names what is wrong.</summary>
public sealed class ErrorTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o => o with { MaxRequestBytes = 64 * 1024, MaxK = 50 });
        await _server.AddDocuments("notes", ("a", "Alpha", "alpha beta gamma"), ("b", "Beta", "beta delta"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("{\"k\": 5}", "query")]
    [InlineData("{\"query\": \"   \"}", "query")]
    [InlineData("{\"query\": \"beta\", \"k\": 0}", "k")]
    [InlineData("{\"query\": \"beta\", \"k\": 51}", "k")]
    [InlineData("{\"query\": \"beta\", \"k\": \"ten\"}", "k")]
    [InlineData("{\"query\": \"beta\", \"k\": \"10\"}", "k")]
    [InlineData("{\"query\": \"beta\", \"offset\": -1}", "offset")]
    [InlineData("{\"query\": \"beta\", \"mode\": \"sideways\"}", "mode")]
    [InlineData("{\"query\": \"beta\", \"mode\": \"dense\"}", "mode")]
    [InlineData("{\"query\": \"beta\", \"mode\": \"hybrid\"}", "mode")]
    [InlineData("{\"query\": \"beta\", \"fusion\": {\"method\": \"average\"}}", "fusion.method")]
    [InlineData("{\"query\": \"beta\", \"fusion\": {\"k\": -1}}", "fusion.k")]
    [InlineData("{\"query\": \"beta\", \"fusion\": {\"weights\": {\"lexical\": 0, \"dense\": 0}}}", "fusion.weights")]
    [InlineData("{\"query\": \"beta\", \"colour\": \"red\"}", "colour")]
    [InlineData("{\"query\": \"beta\", \"filter\": {\"fileTypes\": [\"\"]}}", "filter.fileTypes")]
    [InlineData("{\"query\": \"beta\"", "body")]
    [InlineData("[1, 2, 3]", "body")]
    [InlineData("null", "body")]
    public async Task Search_BadBody_Returns400NamingTheField(string body, string field)
    {
        using var response = await _server.PostJson("/indexes/notes/search", body);
        var problem = await TestServer.AssertProblem(response, 400, field);
        Assert.NotNull(problem["field"]);
    }

    [Theory]
    [InlineData("{}", "documents")]
    [InlineData("{\"documents\": []}", "documents")]
    [InlineData("{\"documents\": [{\"title\": \"t\", \"text\": \"x\"}]}", "documents[0].id")]
    [InlineData("{\"documents\": [{\"id\": \"a\", \"title\": \"t\"}]}", "documents[0].text")]
    [InlineData("{\"documents\": [{\"id\": \"a\", \"text\": \"x\"}, {\"id\": \"a\", \"text\": \"y\"}]}", "documents[1].id")]
    [InlineData("{\"documents\": [{\"id\": \"a\", \"text\": 5}]}", "text")]
    public async Task UpsertDocuments_BadBody_Returns400NamingTheField(string body, string field)
    {
        using var response = await _server.PostJson("/indexes/notes/documents", body);
        await TestServer.AssertProblem(response, 400, field);
    }

    [Fact]
    public async Task Search_MissingIndex_Returns404()
    {
        using var response = await _server.PostJson("/indexes/nope/search", "{\"query\": \"x\"}");
        await TestServer.AssertProblem(response, 404, "nope");
    }

    [Theory]
    [InlineData("GET", "/indexes/nope")]
    [InlineData("DELETE", "/indexes/nope/documents/a")]
    public async Task OtherRoutes_MissingIndex_Return404(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await _server.Client.SendAsync(request);
        await TestServer.AssertProblem(response, 404, "nope");
    }

    [Theory]
    [InlineData("/indexes/..%2F..%2Fetc/search")]
    [InlineData("/indexes/.hidden/search")]
    [InlineData("/indexes/a%20b/search")]
    public async Task Search_BadIndexName_Returns400NamingName(string path)
    {
        using var response = await _server.PostJson(path, "{\"query\": \"x\"}");
        await TestServer.AssertProblem(response, 400, "name");
    }

    [Fact]
    public async Task UpsertDocuments_BadIndexName_Returns400AndCreatesNothing()
    {
        using var response = await _server.PostJson("/indexes/..%2Fescape/documents", "{\"documents\": [{\"id\": \"a\", \"text\": \"x\"}]}");
        await TestServer.AssertProblem(response, 400, "name");
        Assert.False(Directory.Exists(Path.Combine(_server.Root, "escape")));
    }

    [Fact]
    public async Task Search_NonJsonContentType_Returns415()
    {
        using var response = await _server.Client.PostAsync("/indexes/notes/search", new StringContent("query=beta", Encoding.UTF8, "text/plain"));
        await TestServer.AssertProblem(response, 415, "application/json");
    }

    [Fact]
    public async Task Search_EmptyBody_Returns400()
    {
        var content = new ByteArrayContent([]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _server.Client.PostAsync("/indexes/notes/search", content);
        await TestServer.AssertProblem(response, 400, "body");
    }

    [Fact]
    public async Task Search_BodyOverTheLimit_Returns413()
    {
        var big = "{\"query\": \"" + new string('a', 70 * 1024) + "\"}";
        using var response = await _server.PostJson("/indexes/notes/search", big);
        await TestServer.AssertProblem(response, 413);
    }

    [Fact]
    public async Task UpsertDocuments_TooManyDocuments_Returns400()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxDocumentsPerRequest = 2 });
        var body = "{\"documents\": [" + string.Join(',', Enumerable.Range(0, 3).Select(i => $"{{\"id\": \"{i}\", \"text\": \"x\"}}")) + "]}";
        using var response = await server.PostJson("/indexes/notes/documents", body);
        await TestServer.AssertProblem(response, 400, "documents");
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        using var response = await _server.Client.GetAsync("/no/such/route");
        await TestServer.AssertProblem(response, 404, "/no/such/route");
    }

    [Fact]
    public async Task WrongMethod_Returns405Problem()
    {
        using var response = await _server.Client.PutAsync("/indexes", new StringContent("{}", Encoding.UTF8, "application/json"));
        await TestServer.AssertProblem(response, 405);
    }

    [Fact]
    public async Task GetJob_UnknownId_Returns404()
    {
        using var response = await _server.Client.GetAsync("/jobs/0123456789abcdef");
        await TestServer.AssertProblem(response, 404, "0123456789abcdef");
    }

    [Fact]
    public async Task UpsertDocuments_IndexHeldByAnotherWriter_Returns409()
    {
        // Another writer (here: an instance opened in this process, as 'semsearch index' would in another) holds the
        // index's locks before the server first touches it.
        var dir = Path.Combine(_server.IndexesRoot, "held");
        using (var holder = SemanticIndex.OpenOrCreate(dir, new IndexSettings()))
        {
            using var response = await _server.PostJson("/indexes/held/documents", "{\"documents\": [{\"id\": \"a\", \"text\": \"x\"}]}");
            await TestServer.AssertProblem(response, 409, "another process");
        }
        // Once the other writer is gone, the same request succeeds: a failed open is not remembered.
        using var retry = await _server.PostJson("/indexes/held/documents", "{\"documents\": [{\"id\": \"a\", \"text\": \"x\"}]}");
        Assert.True(retry.IsSuccessStatusCode, await retry.Content.ReadAsStringAsync());
    }
}
