using System.Net;
using System.Text.Json.Nodes;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Sources over HTTP: <c>GET /indexes/{name}/sources</c>, <c>DELETE /indexes/{name}/sources/{source}</c>, and an upload
/// that names a folder document's id is refused (409) without writing anything (issue 19). Two folders and an upload
/// make the index; each expected count is the number of files written below.
/// </summary>
public sealed class SourcesRouteTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "semsearch-sources-tests", Guid.NewGuid().ToString("N"));
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        var shore = Path.Combine(_root, "shore");
        var hills = Path.Combine(_root, "hills");
        Directory.CreateDirectory(shore);
        Directory.CreateDirectory(hills);
        File.WriteAllText(Path.Combine(shore, "pools.txt"), "Tide pools hold anemones.");
        File.WriteAllText(Path.Combine(shore, "dunes.txt"), "Dunes move with the wind.");
        File.WriteAllText(Path.Combine(hills, "pools.txt"), "Hill pools freeze in winter.");
        var indexes = Path.Combine(_root, "indexes");
        using (var index = SemanticIndex.OpenOrCreate(Path.Combine(indexes, "geo"), new IndexSettings()))
        {
            new FolderIndexer(index, new IndexSettings()).Run(shore);
            new FolderIndexer(index, new IndexSettings()).Run(hills);
        }
        _server = await TestServer.StartAsync(indexesRoot: indexes);
        await _server.AddDocuments("geo", ("notes/one", "Note", "An uploaded note about tides."));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private async Task<JsonArray> Sources()
    {
        using var response = await _server.Client.GetAsync("/indexes/geo/sources");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray();
    }

    [Fact]
    public async Task ListSources_NamesEachFolderAndTheUploadsWithTheirCounts()
    {
        var sources = (await Sources()).ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!);
        Assert.Equal(["api", "hills", "shore"], sources.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, sources["shore"]["documents"]!.GetValue<long>());
        Assert.Equal(1, sources["hills"]["documents"]!.GetValue<long>());
        Assert.Equal(1, sources["api"]["documents"]!.GetValue<long>());
        Assert.Equal("", sources["shore"]["idPrefix"]!.GetValue<string>()); // the first folder keeps plain ids
        Assert.Equal("hills/", sources["hills"]["idPrefix"]!.GetValue<string>());
        Assert.Equal(Path.Combine(_root, "shore"), sources["shore"]["path"]!.GetValue<string>());
        Assert.Equal("folder", sources["hills"]["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Upload_IdOfAFolderDocument_Is409NamingTheFieldAndWritesNothing()
    {
        var body = new { documents = new[] { new { id = "notes/new", title = "New", text = "fresh" }, new { id = "pools.txt", title = "Mine", text = "an upload claiming the folder's id" } } };
        var problem = await TestServer.AssertProblem(await _server.PostJson("/indexes/geo/documents", body), 409, "shore");
        Assert.Equal("documents[1].id", problem["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/indexes/geo/documents/notes/new")).StatusCode);
        var kept = JsonNode.Parse(await _server.Client.GetStringAsync("/indexes/geo/documents/pools.txt"))!;
        Assert.Equal(Path.Combine(_root, "shore"), kept["source"]!.GetValue<string>());
        // an upload may still replace an uploaded document
        await _server.AddDocuments("geo", ("notes/one", "Note", "Replaced text about waves."));
        Assert.Contains("waves", await _server.Client.GetStringAsync("/indexes/geo/documents/notes/one"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveSource_RemovesItsDocumentsOnly()
    {
        using var response = await _server.Client.DeleteAsync("/indexes/geo/sources/shore");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(2, JsonNode.Parse(text)!["documents"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/indexes/geo/documents/pools.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/indexes/geo/documents/dunes.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.GetAsync("/indexes/geo/documents/hills/pools.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Client.GetAsync("/indexes/geo/documents/notes/one")).StatusCode);
        Assert.Equal(["api", "hills"], (await Sources()).Select(s => s!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var hits = TestServer.DocIds(await _server.Search("geo", new { query = "pools", mode = "lexical" }));
        Assert.Equal(["hills/pools.txt"], hits);
    }

    [Fact]
    public async Task RemoveSource_Unknown_Is404ListingTheSources()
    {
        await TestServer.AssertProblem(await _server.Client.DeleteAsync("/indexes/geo/sources/nowhere"), 404, "hills");
    }
}
