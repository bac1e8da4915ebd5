using System.Net;
using System.Text.Json.Nodes;

namespace SemanticSearch.Server.Tests;

/// <summary>The routes and shapes of the API, against the real server.</summary>
public sealed class ApiContractTests
{
    // Hand-written corpus: which documents contain which words is known without running the engine.
    private static readonly (string Id, string Title, string Text)[] Corpus =
    [
        ("bees", "Honeybees", "Honeybees live in colonies with a single queen. Workers forage for nectar and pollen."),
        ("tides", "Tide pools", "Tide pools hold anemones, crabs and sea stars between the high and low tide lines."),
        ("bread", "Sourdough", "Sourdough bread rises with a starter of wild yeast and lactic acid bacteria."),
        ("notes/nested/id", "Nested id", "A document whose id contains slashes, about crabs in a kitchen."),
    ];

    [Fact]
    public async Task Health_WithoutAnything_ReturnsOk()
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListIndexes_EmptyRoot_ReturnsEmptyArray()
    {
        await using var server = await TestServer.StartAsync();
        var list = JsonNode.Parse(await server.Client.GetStringAsync("/indexes"))!.AsArray();
        Assert.Empty(list);
    }

    [Fact]
    public async Task UpsertDocuments_NewIndex_CreatesItAndSearchFindsExactlyTheDocumentsWithTheWord()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("notes", Corpus);

        var result = await server.Search("notes", new { query = "crabs", k = 10 });
        // Reference: the documents whose text holds the word, by plain string search.
        var expected = Corpus.Where(d => d.Text.Contains("crabs", StringComparison.Ordinal)).Select(d => d.Id).Order().ToList();
        Assert.Equal(expected, TestServer.DocIds(result).Order().ToList());
        Assert.Equal("lexical", result["mode"]!.GetValue<string>());

        var hit = result["hits"]![0]!;
        foreach (var field in new[] { "docId", "chunkId", "path", "title", "text", "snippet", "score" })
        {
            Assert.NotNull(hit[field]);
        }
        Assert.True(hit["lexical"]!["rank"]!.GetValue<int>() >= 1);
        Assert.Null(hit["dense"]); // no model: the dense side is absent, and says so
        Assert.True(result["tookMs"]!.GetValue<double>() >= 0);
    }

    [Fact]
    public async Task ListIndexes_AfterUpsert_ShowsNameAndCommittedCounts()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("notes", Corpus);
        var list = JsonNode.Parse(await server.Client.GetStringAsync("/indexes"))!.AsArray();
        var entry = Assert.Single(list)!;
        Assert.Equal("notes", entry["name"]!.GetValue<string>());
        Assert.Equal(Corpus.Length, entry["documents"]!.GetValue<int>());

        var details = JsonNode.Parse(await server.Client.GetStringAsync("/indexes/notes"))!;
        Assert.Equal(Corpus.Length, details["documents"]!.GetValue<int>());
        Assert.Equal(["lexical"], details["modes"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.NotNull(details["manifest"]!["formatVersion"]);
    }

    [Fact]
    public async Task ListIndexes_OneDamagedManifest_ListsItWithAnErrorAndTheOthersNormally()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("good", Corpus);
        var bad = Directory.CreateDirectory(Path.Combine(server.IndexesRoot, "bad")).FullName;
        File.WriteAllText(Path.Combine(bad, "manifest.json"), "{ not json");

        var list = JsonNode.Parse(await server.Client.GetStringAsync("/indexes"))!.AsArray();
        Assert.Equal(["bad", "good"], list.Select(e => e!["name"]!.GetValue<string>()));
        Assert.Contains("manifest", list[0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(list[1]!["error"]);
        // Opening the damaged index names the file at fault, as a 500 problem.
        using var response = await server.Client.GetAsync("/indexes/bad");
        await TestServer.AssertProblem(response, 500, "manifest.json");
    }

    [Fact]
    public async Task UpsertDocuments_SameIdTwice_SecondVersionReplacesFirst()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("notes", ("doc", "First", "aardvark burrows at night"));
        await server.AddDocuments("notes", ("doc", "Second", "zebra stripes in daylight"));
        Assert.Empty(TestServer.DocIds(await server.Search("notes", new { query = "aardvark" })));
        Assert.Equal(["doc"], TestServer.DocIds(await server.Search("notes", new { query = "zebra" })));
        var details = JsonNode.Parse(await server.Client.GetStringAsync("/indexes/notes"))!;
        Assert.Equal(1, details["documents"]!.GetValue<int>());
    }

    [Fact]
    public async Task DeleteDocument_Existing_RemovesItAndSecondDeleteIs404()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("notes", Corpus);
        using (var first = await server.Client.DeleteAsync("/indexes/notes/documents/notes/nested/id"))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }
        Assert.Equal(["tides"], TestServer.DocIds(await server.Search("notes", new { query = "crabs" })));
        using var second = await server.Client.DeleteAsync("/indexes/notes/documents/notes/nested/id");
        await TestServer.AssertProblem(second, 404, "notes/nested/id");
    }

    [Fact]
    public async Task Search_PagesOfTen_ConcatenateToTheSingleLongList()
    {
        await using var server = await TestServer.StartAsync();
        // 25 documents that all match, with different term frequencies and lengths so scores differ and some tie.
        var docs = Enumerable.Range(0, 25)
            // the number in the text keeps the 25 texts distinct (identical texts would collapse into one hit)
            .Select(i => ($"d{i:D2}", $"Doc {i}", string.Join(' ', Enumerable.Repeat("lantern", 1 + i % 4)) + $" filler words {i} " + new string('x', i % 3 + 1)))
            .ToArray();
        await server.AddDocuments("paging", docs);
        var all = TestServer.DocIds(await server.Search("paging", new { query = "lantern", k = 25 }));
        Assert.Equal(docs.Select(d => d.Item1).Order(), all.Order()); // every document once
        var paged = new List<string>();
        for (var offset = 0; offset < 25; offset += 10)
        {
            paged.AddRange(TestServer.DocIds(await server.Search("paging", new { query = "lantern", k = 10, offset })));
        }
        Assert.Equal(all, paged);
    }

    [Fact]
    public async Task Search_FilterOnMetadata_ReturnsOnlyMatchingDocuments()
    {
        await using var server = await TestServer.StartAsync();
        var body = new
        {
            documents = new object[]
            {
                new { id = "a", title = "A", text = "granite quarry", metadata = new Dictionary<string, string> { ["team"] = "geo" } },
                new { id = "b", title = "B", text = "granite countertop", metadata = new Dictionary<string, string> { ["team"] = "home" } },
                new { id = "c", title = "C", text = "granite boulder", metadata = new Dictionary<string, string> { ["team"] = "geo" } },
            },
        };
        using (var r = await server.PostJson("/indexes/meta/documents", body))
        {
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }
        var result = await server.Search("meta", new { query = "granite", filter = new { metadata = new Dictionary<string, string> { ["team"] = "geo" } } });
        Assert.Equal(["a", "c"], TestServer.DocIds(result).Order());
    }

    [Fact]
    public async Task Page_Root_ServesHtmlWithSearchBox()
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("type=\"search\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheSearchRoute()
    {
        await using var server = await TestServer.StartAsync();
        var doc = JsonNode.Parse(await server.Client.GetStringAsync("/openapi/v1.json"))!;
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/indexes/{name}/search", paths);
        Assert.Contains("/jobs/{id}", paths);
        Assert.DoesNotContain("/", paths);
    }
}
