using System.Text.Json.Nodes;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Totals, facets, filters and metadata on hits over HTTP (issue 19), on uploaded documents generated below; every
/// expected value is computed from the generated uploads.
/// </summary>
public sealed class SearchFacetsApiTests : IAsyncLifetime
{
    private static readonly DateTime Epoch = new(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly string[] Folders = ["guides", "faq", ""];
    private static readonly string[] Teams = ["geo", "sea", "home"];

    private sealed record Upload(string Id, string Text, DateTime Modified, Dictionary<string, string> Metadata)
    {
        public bool Matches => Text.Contains("basalt", StringComparison.Ordinal);

        public string Folder => Id.Contains('/', StringComparison.Ordinal) ? Id[..Id.IndexOf('/', StringComparison.Ordinal)] : "";
    }

    private static readonly List<Upload> Uploads = Generate();

    private static List<Upload> Generate()
    {
        var rng = new Random(7);
        var words = new[] { "quarry", "ridge", "pebble", "glacier", "canyon", "mesa" };
        var result = new List<Upload>();
        for (var i = 0; i < 30; i++)
        {
            var folder = Folders[rng.Next(Folders.Length)];
            var text = string.Join(' ', Enumerable.Range(0, 6).Select(_ => words[rng.Next(words.Length)])) + (rng.Next(3) > 0 ? " basalt" : "");
            var meta = new Dictionary<string, string> { ["team"] = Teams[rng.Next(Teams.Length)], ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            result.Add(new Upload((folder.Length == 0 ? "" : folder + "/") + $"rock{i:D2}", text, Epoch.AddDays(i), meta));
        }
        return result;
    }

    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        var body = new { documents = Uploads.Select(u => new { id = u.Id, title = "", text = u.Text, metadata = u.Metadata, modifiedUtc = u.Modified }).ToArray() };
        using var response = await _server.PostJson("/indexes/rocks/documents", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Dictionary<string, long> Counts(JsonNode facet) =>
        facet.AsArray().ToDictionary(f => f!["value"]!.GetValue<string>(), f => f!["count"]!.GetValue<long>());

    private static List<string> Sorted(IEnumerable<string> ids) => ids.Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Search_FacetsAsked_TotalAndCountsOfTheMatchingUploads()
    {
        var matching = Uploads.Where(u => u.Matches).ToList();

        var result = await _server.Search("rocks", new { query = "basalt", mode = "lexical", k = 3, facets = true });

        Assert.Equal(3, result["hits"]!.AsArray().Count);
        Assert.Equal(matching.Count, result["total"]!.GetValue<long>());
        Assert.True(result["totalExact"]!.GetValue<bool>());
        var facets = result["facets"]!;
        Assert.Equal(matching.GroupBy(u => u.Folder).ToDictionary(g => g.Key, g => (long)g.Count()), Counts(facets["folders"]!));
        Assert.Equal(new Dictionary<string, long> { ["api"] = matching.Count }, Counts(facets["sources"]!));
        Assert.Equal(new Dictionary<string, long> { [""] = matching.Count }, Counts(facets["fileTypes"]!));
    }

    [Fact]
    public async Task Search_Hits_CarryTheUploadedMetadata()
    {
        var result = await _server.Search("rocks", new { query = "basalt", mode = "lexical", k = 100 });

        var hits = result["hits"]!.AsArray();
        Assert.Equal(Uploads.Count(u => u.Matches), hits.Count);
        foreach (var hit in hits)
        {
            var upload = Uploads.Single(u => u.Id == hit!["docId"]!.GetValue<string>());
            var metadata = hit!["metadata"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());
            Assert.Equal(upload.Metadata.OrderBy(kv => kv.Key), metadata.OrderBy(kv => kv.Key));
        }
    }

    [Fact]
    public async Task Search_MetadataOrList_HitsHoldAnyListedValue()
    {
        var expected = Sorted(Uploads.Where(u => u.Matches && u.Metadata["team"] is "geo" or "home").Select(u => u.Id));
        Assert.NotEmpty(expected);

        var result = await _server.Search("rocks", new { query = "basalt", mode = "lexical", k = 100, filter = new { metadata = new Dictionary<string, object> { ["team"] = new[] { "geo", "home" } } } });

        Assert.Equal(expected, Sorted(TestServer.DocIds(result)));
    }

    [Fact]
    public async Task Search_RelativePathPrefix_SelectsTheFolderOfTheIds()
    {
        var expected = Sorted(Uploads.Where(u => u.Matches && u.Id.StartsWith("guides/", StringComparison.Ordinal)).Select(u => u.Id));
        Assert.NotEmpty(expected);

        var result = await _server.Search("rocks", new { query = "basalt", mode = "lexical", k = 100, filter = new { pathPrefix = "guides/" } });

        Assert.Equal(expected, Sorted(TestServer.DocIds(result)));
        Assert.Equal(expected.Count, result["total"]!.GetValue<long>());
    }

    [Fact]
    public async Task Search_ModifiedBefore_OnlyEarlierUploads()
    {
        var before = Epoch.AddDays(12);
        var expected = Sorted(Uploads.Where(u => u.Matches && u.Modified < before).Select(u => u.Id));

        var result = await _server.Search("rocks", new { query = "basalt", mode = "lexical", k = 100, filter = new { modifiedBefore = before } });

        Assert.Equal(expected, Sorted(TestServer.DocIds(result)));
    }

    [Theory]
    [InlineData("{\"query\": \"basalt\", \"filter\": {\"metadata\": {\"team\": []}}}", "filter.metadata.team")]
    [InlineData("{\"query\": \"basalt\", \"filter\": {\"metadata\": {\"team\": [\"geo\", 3]}}}", "filter.metadata.team")]
    [InlineData("{\"query\": \"basalt\", \"filter\": {\"metadata\": {\"team\": {\"or\": \"geo\"}}}}", "filter.metadata.team")]
    [InlineData("{\"query\": \"basalt\", \"filter\": {\"modifiedBefore\": \"last tuesday\"}}", "filter.modifiedBefore")]
    [InlineData("{\"query\": \"basalt\", \"facets\": \"yes\"}", "facets")]
    [InlineData("{\"query\": \"basalt\", \"filter\": {\"metadata\": {\"team\": [\"\\ud800\"]}}}", "filter.metadata.team")]
    [InlineData("{\"query\": \"basalt\", \"filter\": {\"pathPrefix\": \"guides\\u0001\"}}", "filter.pathPrefix")]
    public async Task Search_MalformedFilter_400NamingTheField(string body, string field)
    {
        using var response = await _server.PostJson("/indexes/rocks/search", body);
        await TestServer.AssertProblem(response, 400, field);
    }

    [Fact]
    public async Task Search_FilterThatCannotMatch_ZeroHitsNotAnError()
    {
        var result = await _server.Search("rocks", new { query = "basalt", mode = "lexical", filter = new { modifiedAfter = Epoch.AddDays(20), modifiedBefore = Epoch.AddDays(10) } });

        Assert.Empty(result["hits"]!.AsArray());
        Assert.Equal(0, result["total"]!.GetValue<long>());
    }
}
