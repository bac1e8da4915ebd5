using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Several vector spaces over HTTP: <c>PUT /indexes/{name}</c> creates an index with a space per model, a search picks
/// spaces and weighs them, and every hit explains each space's rank. Two seeded test models, configured as the server's.
/// </summary>
public sealed class VectorSpacesApiTests
{
    private static string First => TestModels.TestBertDirectory;

    private static string Second => TestModels.SecondTestBertDirectory;

    private static Task<TestServer> Start() => TestServer.StartAsync(o => o with { NewIndexModel = $"{First},{Second}" });

    private static Task<HttpResponseMessage> Put(TestServer server, string path, string? json) =>
        server.Client.PutAsync(path, json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task AddAnimals(TestServer server, string index) =>
        await server.AddDocuments(index,
            ("bees", "Honeybees", "Honeybees dance to tell the hive where the flowers are."),
            ("ants", "Ants", "Ants leave scent trails that lead the colony to food."),
            ("whales", "Whales", "Humpback whales sing long songs that carry across the ocean."),
            ("bats", "Bats", "Bats find insects in the dark by listening to echoes of their calls."),
            ("birds", "Birds", "Migrating birds read the stars and the magnetic field to find their way."));

    [Fact]
    public async Task PutIndex_WithModels_CreatesASpaceEach_AndSearchExplainsAndWeighsThem()
    {
        await using var server = await Start();
        var body = new JsonObject { ["models"] = new JsonArray(First, Second) }.ToJsonString();
        using (var created = await Put(server, "/indexes/two", body))
        {
            var text = await created.Content.ReadAsStringAsync();
            Assert.True((int)created.StatusCode == 201, text);
            var spaces = JsonNode.Parse(text)!["manifest"]!["spaces"]!.AsArray();
            Assert.Equal([Path.GetFileName(First), "other-bert"], spaces.Select(s => s!["name"]!.GetValue<string>()));
        }
        using (var again = await Put(server, "/indexes/two", body))
        {
            Assert.Equal(200, (int)again.StatusCode);
        }
        await AddAnimals(server, "two");

        var hybrid = await server.Search("two", new { query = "how do animals find their way", k = 5, mode = "hybrid" });
        Assert.Equal([Path.GetFileName(First), "other-bert"], hybrid["spaces"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.All(hybrid["hits"]!.AsArray(), h => Assert.Equal("object", JsonValueKind(h!["spaces"])));

        // the response's fusion pasted back is the same query; a space weight changes the scores as RRF says
        var fusion = hybrid["fusion"]!.DeepClone();
        var replay = await server.Search("two", new JsonObject { ["query"] = "how do animals find their way", ["k"] = 5, ["mode"] = "hybrid", ["fusion"] = fusion });
        Assert.Equal(TestServer.DocIds(hybrid), TestServer.DocIds(replay));
        var k = hybrid["fusion"]!["k"]!.GetValue<double>();
        var weighted = await server.Search("two", new JsonObject
        {
            ["query"] = "how do animals find their way", ["k"] = 5, ["mode"] = "hybrid",
            ["fusion"] = new JsonObject { ["spaceWeights"] = new JsonObject { ["other-bert"] = 0 } },
        });
        foreach (var h in weighted["hits"]!.AsArray())
        {
            // with the second space weighed 0, a hit's score is BM25's and the first space's terms only
            var expected = Term(h!["lexical"], k, 1) + Term(h["spaces"]?[Path.GetFileName(First)], k, 1);
            Assert.Equal(expected, h["score"]!.GetValue<double>(), 9);
        }

        var only = await server.Search("two", new { query = "how do animals find their way", k = 5, mode = "dense", spaces = new[] { "other-bert" } });
        Assert.Equal(["other-bert"], only["spaces"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Null(only["fusion"]); // one space alone is not a fusion

        using var unknown = await server.PostJson("/indexes/two/search", new { query = "bees", mode = "hybrid", spaces = new[] { "nope" } });
        var problem = await TestServer.AssertProblem(unknown, 400, "nope");
        Assert.Equal("spaces", problem["field"]?.GetValue<string>());
    }

    private static double Term(JsonNode? rank, double k, double weight) => rank is null ? 0 : weight / (k + rank["rank"]!.GetValue<int>());

    private static string JsonValueKind(JsonNode? node) => node?.GetValueKind().ToString().ToLowerInvariant() ?? "null";

    [Fact]
    public async Task PutIndex_OtherModelsOrADirectory_IsRefused()
    {
        await using var server = await Start();
        using (var created = await Put(server, "/indexes/one", new JsonObject { ["models"] = new JsonArray(First) }.ToJsonString()))
        {
            Assert.Equal(201, (int)created.StatusCode);
        }
        using (var conflict = await Put(server, "/indexes/one", new JsonObject { ["models"] = new JsonArray(First, Second) }.ToJsonString()))
        {
            await TestServer.AssertProblem(conflict, 409, "spaces");
        }
        using (var directory = await Put(server, "/indexes/other", new JsonObject { ["models"] = new JsonArray("/tmp") }.ToJsonString()))
        {
            await TestServer.AssertProblem(directory, 400, "models[0]");
        }
        Assert.False(Directory.Exists(Path.Combine(server.IndexesRoot, "other")) && File.Exists(Path.Combine(server.IndexesRoot, "other", "manifest.json")));
    }
}
