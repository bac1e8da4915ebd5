using System.Text.Json.Nodes;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;
using SemanticSearch.Onnx.Bert;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Fusion over HTTP (issue 16): one wire shape, so a response's <c>fusion</c> is a valid request, and one override
/// rule, so a partial <c>fusion</c> keeps what the index records for the fields it leaves out. The index is a real
/// hybrid one, built by the server with the seeded test BERT and recorded fusion convex 0.9 : 0.1.
/// </summary>
public sealed class FusionWireTests
{
    private static readonly FusionOptions Recorded = new(FusionMethod.Convex, 60, 0.9, 0.1, 200);

    private static readonly Lazy<string> TestBert = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "semsearch-server-tests", $"test-bert-{Environment.ProcessId}");
        var vocab = RepoPaths.BertVocabTxt;
        TestEncoderModel.Create(dir, vocab);
        return dir;
    });

    private static async Task<TestServer> StartWithHybridIndex()
    {
        var server = await TestServer.StartAsync(o => o with { NewIndexModel = TestBert.Value, NewIndexSettings = new IndexSettings { Fusion = Recorded } });
        await server.AddDocuments("h",
            ("bees", "Honeybees", "Honeybees dance to tell the hive where the flowers are."),
            ("ants", "Ants", "Ants leave scent trails that lead the colony to food."),
            ("whales", "Whales", "Humpback whales sing long songs that carry across the ocean."),
            ("bats", "Bats", "Bats find insects in the dark by listening to echoes of their calls."),
            ("birds", "Birds", "Migrating birds read the stars and the magnetic field to find their way."),
            ("fish", "Salmon", "Salmon smell their way back to the river where they hatched."));
        return server;
    }

    private static JsonObject Body(JsonNode? fusion) =>
        new() { ["query"] = "how do animals find their way", ["k"] = 5, ["mode"] = "hybrid", ["fusion"] = fusion };

    private static async Task<JsonNode> Search(TestServer server, JsonObject body)
    {
        using var response = await server.PostJson("/indexes/h/search", body.ToJsonString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"search answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static List<(string Id, double Score)> Hits(JsonNode result) =>
        result["hits"]!.AsArray().Select(h => (h!["docId"]!.GetValue<string>(), h["score"]!.GetValue<double>())).ToList();

    [Theory]
    [InlineData(null)]
    [InlineData("{\"method\": \"rrf\", \"k\": 30}")]
    [InlineData("{\"lexicalWeight\": 0.3, \"depth\": 50}")]
    public async Task Search_ResponseFusionPastedBackAsTheRequest_SameHitsAndScores(string? first)
    {
        await using var server = await StartWithHybridIndex();
        var answer = await Search(server, Body(first is null ? null : JsonNode.Parse(first)));
        var fusion = answer["fusion"]!;

        var again = await Search(server, Body(fusion.DeepClone()));

        Assert.Equal(Hits(answer), Hits(again));
        Assert.True(JsonNode.DeepEquals(fusion, again["fusion"]), $"{fusion.ToJsonString()} became {again["fusion"]!.ToJsonString()}");
        Assert.NotEmpty(Hits(answer));
    }

    [Fact]
    public async Task Search_PartialFusionOverride_KeepsTheIndexMethodAndWeights()
    {
        await using var server = await StartWithHybridIndex();

        var deep = (await Search(server, Body(JsonNode.Parse("{\"depth\": 50}"))))["fusion"]!;
        var rrfK = (await Search(server, Body(JsonNode.Parse("{\"k\": 30}"))))["fusion"]!;

        Assert.Equal("{\"method\":\"convex\",\"k\":60,\"lexicalWeight\":0.9,\"denseWeight\":0.1,\"depth\":50}", deep.ToJsonString());
        Assert.Equal("{\"method\":\"convex\",\"k\":30,\"lexicalWeight\":0.9,\"denseWeight\":0.1,\"depth\":200}", rrfK.ToJsonString());
    }

    [Fact]
    public async Task Search_LegacyWeightsObject_OverridesTheWeightsAndKeepsTheIndexMethod()
    {
        await using var server = await StartWithHybridIndex();

        var fusion = (await Search(server, Body(JsonNode.Parse("{\"weights\": {\"lexical\": 2}}"))))["fusion"]!;

        Assert.Equal("{\"method\":\"convex\",\"k\":60,\"lexicalWeight\":2,\"denseWeight\":0.1,\"depth\":200}", fusion.ToJsonString());
    }

    [Theory]
    [InlineData("{\"weights\": {\"lexical\": 1}, \"lexicalWeight\": 1}", "fusion.weights")]
    [InlineData("{\"lexicalWeight\": -1}", "fusion.lexicalWeight: must be between 0 and 100")]
    [InlineData("{\"denseWeight\": 101}", "fusion.denseWeight: must be between 0 and 100")]
    [InlineData("{\"lexicalWeight\": 0, \"denseWeight\": 0}", "fusion.weights: lexicalWeight and denseWeight must not both be 0")]
    [InlineData("{\"lexicalWeight\": {\"lexicalWeight\": 1}}", "fusion.lexicalWeight: has the wrong type")]
    [InlineData("{\"lexical\": 1}", "fusion.lexical: unknown field")]
    public async Task Search_BadFusion_Answers400NamingTheField(string fusion, string field)
    {
        await using var server = await StartWithHybridIndex();

        using var response = await server.PostJson("/indexes/h/search", Body(JsonNode.Parse(fusion)).ToJsonString());

        await TestServer.AssertProblem(response, 400, field);
    }
}
