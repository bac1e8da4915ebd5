using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace SemanticSearch.Server.Tests;

/// <summary><c>GET /indexes/{name}/documents/{id}</c>: a document as the index stores it (issue 19).</summary>
public sealed class DocumentRouteTests : IAsyncLifetime
{
    private const string Text = "Sea stars regrow lost arms. Anemones sting small fish that swim too close.";
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        var body = new
        {
            documents = new object[]
            {
                new { id = "shore/pools/stars", title = "Sea stars", text = Text, metadata = new Dictionary<string, string> { ["topic"] = "sea", ["author"] = "ada" }, modifiedUtc = "2024-05-01T10:00:00Z" },
                new { id = "a b?c#d", title = "Reserved", text = "an id with reserved characters" },
            },
        };
        using var response = await _server.PostJson("/indexes/notes/documents", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task GetDocument_IdWithSlashes_ReturnsItsFieldsMetadataAndChunks()
    {
        using var response = await _server.Client.GetAsync("/indexes/notes/documents/shore/pools/stars");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var doc = JsonNode.Parse(text)!;

        Assert.Equal("shore/pools/stars", doc["id"]!.GetValue<string>());
        Assert.Equal("Sea stars", doc["title"]!.GetValue<string>());
        Assert.Equal("api", doc["source"]!.GetValue<string>());
        Assert.Equal(Encoding.UTF8.GetByteCount(Text), doc["sizeBytes"]!.GetValue<long>());
        Assert.Equal(new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc), doc["modifiedUtc"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.Equal("sea", doc["metadata"]!["topic"]!.GetValue<string>());
        Assert.Equal("ada", doc["metadata"]!["author"]!.GetValue<string>());
        var chunks = doc["chunks"]!.AsArray();
        Assert.Equal(chunks.Count, doc["chunkCount"]!.GetValue<int>());
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c!["ordinal"]!.GetValue<int>()));
        // Every sentence of the upload is in the chunk texts.
        var all = string.Join(" ", chunks.Select(c => c!["text"]!.GetValue<string>()));
        Assert.Contains("Sea stars regrow lost arms.", all, StringComparison.Ordinal);
        Assert.Contains("Anemones sting small fish that swim too close.", all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetDocument_ReservedCharactersEscaped_FindsIt()
    {
        using var response = await _server.Client.GetAsync("/indexes/notes/documents/" + Uri.EscapeDataString("a b?c#d"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("a b?c#d", JsonNode.Parse(text)!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetDocument_UnknownId_Returns404NamingIt()
    {
        var problem = await TestServer.AssertProblem(await _server.Client.GetAsync("/indexes/notes/documents/shore/none"), 404, "shore/none");
        Assert.Equal("id", problem["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetDocument_UnknownIndex_Returns404NamingIt()
    {
        await TestServer.AssertProblem(await _server.Client.GetAsync("/indexes/other/documents/x"), 404, "other");
    }

    [Fact]
    public async Task GetDocument_AfterDelete_Returns404()
    {
        await _server.AddDocuments("notes", ("temp/one", "Temp", "a temporary document"));
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.GetAsync("/indexes/notes/documents/temp/one")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.DeleteAsync("/indexes/notes/documents/temp/one")).StatusCode);
        await TestServer.AssertProblem(await _server.Client.GetAsync("/indexes/notes/documents/temp/one"), 404, "temp/one");
    }
}
