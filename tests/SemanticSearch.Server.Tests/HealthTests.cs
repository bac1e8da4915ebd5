using System.Net;
using System.Text.Json.Nodes;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// The probes: /health/live while the process serves, /health/ready only while every index opens with its model, and
/// 503 naming the index that does not. Both stay open behind an API key. A damaged index is prepared by one server and
/// judged by a fresh one over the same root (a running server keeps serving the generation it has open).
/// </summary>
public sealed class HealthTests
{
    private const string Key = "health-test-key";

    private static async Task<JsonNode> Probe(TestServer server, string path, HttpStatusCode expected)
    {
        using var response = await server.Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(text)!;
    }

    // An index written by a server that had the test model, under a root the test keeps after that server stops.
    private static async Task<string> RootWithHybridIndex(string name)
    {
        var root = Path.Combine(Path.GetTempPath(), "semsearch-health-tests", Guid.NewGuid().ToString("N"));
        await using var writer = await TestServer.StartAsync(o => o with { NewIndexModel = TestModels.TestBertDirectory }, root);
        await writer.AddDocuments(name, ("bees", "Honeybees", "Honeybees dance to tell the hive where the flowers are."));
        return root;
    }

    [Fact]
    public async Task Live_ServerRunning_Returns200()
    {
        await using var server = await TestServer.StartAsync(o => o with { ApiKey = Key });

        var body = await Probe(server, "/health/live", HttpStatusCode.OK);

        Assert.Equal("healthy", body["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ready_GoodIndexes_Returns200ListingThem()
    {
        var root = await RootWithHybridIndex("good");
        try
        {
            await using var server = await TestServer.StartAsync(o => o with { ApiKey = Key, NewIndexModel = TestModels.TestBertDirectory }, root);

            var body = await Probe(server, "/health/ready", HttpStatusCode.OK);

            Assert.Equal("healthy", body["status"]!.GetValue<string>());
            Assert.Equal("ready", body["indexes"]!["good"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Ready_NoIndexes_Returns200()
    {
        await using var server = await TestServer.StartAsync();

        await Probe(server, "/health/ready", HttpStatusCode.OK);
    }

    [Fact]
    public async Task Ready_DamagedManifest_Returns503NamingTheIndex()
    {
        var root = await RootWithHybridIndex("broken");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "broken", IndexManifest.FileName), "{ not a manifest");
            await using var server = await TestServer.StartAsync(o => o with { ApiKey = Key, NewIndexModel = TestModels.TestBertDirectory }, root);

            var body = await Probe(server, "/health/ready", HttpStatusCode.ServiceUnavailable);

            Assert.Equal("unhealthy", body["status"]!.GetValue<string>());
            Assert.Contains("index 'broken'", body["indexes"]!["broken"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("broken", body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.DoesNotContain(root, body.ToJsonString(), StringComparison.Ordinal); // no server paths
            await Probe(server, "/health/live", HttpStatusCode.OK); // alive all the same
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Ready_ModelMissing_Returns503NamingTheIndex()
    {
        var root = await RootWithHybridIndex("orphan");
        try
        {
            // this server was not given the model the index was built with (its manifest names a model directory)
            await using var server = await TestServer.StartAsync(o => o with { NewIndexModel = "none" }, root);
            await server.AddDocuments("lexical", ("a", "A", "alpha beta"));

            var body = await Probe(server, "/health/ready", HttpStatusCode.ServiceUnavailable);

            Assert.Contains("index 'orphan'", body["indexes"]!["orphan"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("model", body["indexes"]!["orphan"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal("ready", body["indexes"]!["lexical"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
