using System.Net;
using System.Text.Json.Nodes;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server.Tests;

/// <summary><c>GET /jobs</c> lists every job; <c>DELETE /jobs/{id}</c> cancels one through its token (issue 19).</summary>
public sealed class JobControlTests : IAsyncLifetime
{
    private string _allowed = null!;

    public Task InitializeAsync()
    {
        _allowed = Path.Combine(Path.GetTempPath(), "semsearch-jobcontrol-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_allowed, "small"));
        File.WriteAllText(Path.Combine(_allowed, "small", "owls.txt"), "Owls hunt at night.");
        File.WriteAllText(Path.Combine(_allowed, "small", "ferns.txt"), "Ferns reproduce with spores.");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_allowed, recursive: true);
        return Task.CompletedTask;
    }

    private Task<TestServer> Start() => TestServer.StartAsync(o => o with { AllowedFolderRoots = [_allowed] });

    /// <summary>Polls a job until it ends; the bound only turns a hang into a failure.</summary>
    internal static async Task<JsonNode> WaitForJob(TestServer server, string location)
    {
        for (var i = 0; i < 1200; i++)
        {
            var status = JsonNode.Parse(await server.Client.GetStringAsync(location))!;
            if (status["state"]!.GetValue<string>() is not ("queued" or "running"))
            {
                return status;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"job {location} did not finish");
    }

    private static async Task<string> PostJob(TestServer server, string index, string folder)
    {
        using var response = await server.PostJson($"/indexes/{index}/jobs", new { folder });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task ListJobs_TwoJobs_ListsBothWithStateAndProgress()
    {
        await using var server = await Start();
        var first = await PostJob(server, "one", Path.Combine(_allowed, "small"));
        var second = await PostJob(server, "two", Path.Combine(_allowed, "small"));
        await WaitForJob(server, $"/jobs/{first}");
        await WaitForJob(server, $"/jobs/{second}");

        var list = JsonNode.Parse(await server.Client.GetStringAsync("/jobs"))!.AsArray();

        Assert.Equal([first, second], list.Select(j => j!["id"]!.GetValue<string>()));
        Assert.Equal(["one", "two"], list.Select(j => j!["index"]!.GetValue<string>()));
        Assert.All(list, j =>
        {
            Assert.Equal("succeeded", j!["state"]!.GetValue<string>());
            Assert.Equal(2, j["processed"]!.GetValue<int>());
            Assert.Equal(2, j["total"]!.GetValue<int>());
        });
    }

    [Fact]
    public async Task ListJobs_NoJobs_ReturnsEmptyArray()
    {
        await using var server = await Start();
        Assert.Empty(JsonNode.Parse(await server.Client.GetStringAsync("/jobs"))!.AsArray());
    }

    [Fact]
    public async Task CancelJob_Queued_EndsCancelledAndIndexesNothing()
    {
        await using var server = await Start();
        await server.AddDocuments("queued", ("seed", "Seed", "a seed document"));
        string id;
        using (IndexWriteLock.Acquire(Path.Combine(server.IndexesRoot, "queued"), new WriterOptions("test", TimeSpan.FromSeconds(30))))
        {
            id = await PostJob(server, "queued", Path.Combine(_allowed, "small"));
            Assert.Equal("queued", JsonNode.Parse(await server.Client.GetStringAsync($"/jobs/{id}"))!["state"]!.GetValue<string>());

            using var cancel = await server.Client.DeleteAsync($"/jobs/{id}");

            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
            Assert.True(JsonNode.Parse(await cancel.Content.ReadAsStringAsync())!["cancelRequested"]!.GetValue<bool>());
            var ended = await WaitForJob(server, $"/jobs/{id}"); // ends while the lock is still held: it stopped waiting
            Assert.Equal("cancelled", ended["state"]!.GetValue<string>());
        }
        Assert.Empty(TestServer.DocIds(await server.Search("queued", new { query = "owls" })));
        Assert.Equal(["seed"], TestServer.DocIds(await server.Search("queued", new { query = "seed" })));
    }

    [Fact]
    public async Task CancelJob_Running_StopsBeforeTheEndAndKeepsTheIndexSearchable()
    {
        var big = Path.Combine(_allowed, "big");
        Directory.CreateDirectory(big);
        for (var i = 0; i < 3000; i++)
        {
            File.WriteAllText(Path.Combine(big, $"f{i:D4}.txt"), $"file {i} about owls and otters");
        }
        await using var server = await Start();
        var id = await PostJob(server, "big", big);
        JsonNode status;
        do
        {
            await Task.Delay(20);
            status = JsonNode.Parse(await server.Client.GetStringAsync($"/jobs/{id}"))!;
        }
        while (status["state"]!.GetValue<string>() == "queued" || status["processed"]!.GetValue<int>() == 0);

        using var cancel = await server.Client.DeleteAsync($"/jobs/{id}");

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var ended = await WaitForJob(server, $"/jobs/{id}");
        Assert.Equal("cancelled", ended["state"]!.GetValue<string>());
        Assert.InRange(ended["processed"]!.GetValue<int>(), 1, 2999);
        // What was committed before the cancellation is searchable; the rest was rolled back, and a new write works.
        var details = JsonNode.Parse(await server.Client.GetStringAsync("/indexes/big"))!;
        Assert.InRange(details["documents"]!.GetValue<long>(), 0, 2999);
        await server.AddDocuments("big", ("after", "After", "written after the cancellation"));
        Assert.Equal(["after"], TestServer.DocIds(await server.Search("big", new { query = "cancellation" })));
    }

    [Fact]
    public async Task CancelJob_Finished_Returns409()
    {
        await using var server = await Start();
        var id = await PostJob(server, "done", Path.Combine(_allowed, "small"));
        await WaitForJob(server, $"/jobs/{id}");

        await TestServer.AssertProblem(await server.Client.DeleteAsync($"/jobs/{id}"), 409, "succeeded");
        Assert.Equal("succeeded", JsonNode.Parse(await server.Client.GetStringAsync($"/jobs/{id}"))!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task CancelJob_Unknown_Returns404()
    {
        await using var server = await Start();
        await TestServer.AssertProblem(await server.Client.DeleteAsync("/jobs/0123456789abcdef"), 404, "0123456789abcdef");
    }
}
