using System.Net;
using System.Text.Json.Nodes;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server.Tests;

/// <summary><c>DELETE /indexes/{name}</c>: the index and its files go; refused while something writes it (issue 19).</summary>
public sealed class DeleteIndexTests
{
    [Fact]
    public async Task DeleteIndex_Existing_RemovesItsFilesAndItsName()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("gone", ("old", "Old", "an old document about lighthouses"));
        await server.AddDocuments("kept", ("k", "Kept", "a kept document about lighthouses"));
        Assert.True(Directory.Exists(Path.Combine(server.IndexesRoot, "gone")));

        using var response = await server.Client.DeleteAsync("/indexes/gone");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["kept"], Directory.GetFileSystemEntries(server.IndexesRoot).Select(Path.GetFileName)); // no leftovers
        await TestServer.AssertProblem(await server.Client.GetAsync("/indexes/gone"), 404, "gone");
        await TestServer.AssertProblem(await server.PostJson("/indexes/gone/search", new { query = "lighthouses" }), 404, "gone");
        var names = JsonNode.Parse(await server.Client.GetStringAsync("/indexes"))!.AsArray().Select(i => i!["name"]!.GetValue<string>());
        Assert.Equal(["kept"], names);
        Assert.Equal(["k"], TestServer.DocIds(await server.Search("kept", new { query = "lighthouses" })));
    }

    [Fact]
    public async Task DeleteIndex_ThenWriteTheSameName_StartsAnEmptyIndex()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("again", ("old", "Old", "an old document about lighthouses"));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Client.DeleteAsync("/indexes/again")).StatusCode);

        await server.AddDocuments("again", ("new", "New", "a new document about lighthouses"));

        Assert.Equal(["new"], TestServer.DocIds(await server.Search("again", new { query = "lighthouses" })));
    }

    /// <summary>
    /// A document id of '..' must never delete its index: clients resolve /documents/.. to /indexes/{name}/ before
    /// sending, and Kestrel removes a percent-encoded dot segment sent as it is (here over a raw socket, as
    /// <c>curl --path-as-is</c> would).
    /// </summary>
    [Theory]
    [InlineData("/indexes/keep/documents/%2E%2E")]
    [InlineData("/indexes/keep/documents/a/%2e%2E/%2E%2E")]
    [InlineData("/indexes/keep/")]
    public async Task DeleteIndex_DotSegmentsOrTrailingSlash_Refused400AndTheIndexKept(string target)
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("keep", ("a", "A", "a document about lighthouses"));

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"DELETE {target} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nConnection: close\r\n\r\n"));
        var answer = await new StreamReader(stream).ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", answer, StringComparison.Ordinal);
        Assert.Equal(["a"], TestServer.DocIds(await server.Search("keep", new { query = "lighthouses" })));
    }

    [Fact]
    public async Task DeleteIndex_Unknown_Returns404()
    {
        await using var server = await TestServer.StartAsync();
        await TestServer.AssertProblem(await server.Client.DeleteAsync("/indexes/nothing"), 404, "nothing");
    }

    [Fact]
    public async Task DeleteIndex_AnotherWriterHoldsTheLock_Returns409AndKeepsEverything()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("held", ("a", "A", "a document about lighthouses"));
        var dir = Path.Combine(server.IndexesRoot, "held");
        // The server gives its own write lock back after a short idle time; then another writer (here: this test) takes it.
        using (IndexWriteLock.Acquire(dir, new WriterOptions("test", TimeSpan.FromSeconds(30))))
        {
            using var response = await server.Client.DeleteAsync("/indexes/held");
            await TestServer.AssertProblem(response, 409, "held");
        }
        Assert.True(File.Exists(Path.Combine(dir, IndexManifest.FileName)));
        Assert.Equal(["a"], TestServer.DocIds(await server.Search("held", new { query = "lighthouses" })));
    }

    [Fact]
    public async Task DeleteIndex_WhileAJobIsQueuedForIt_Returns409NamingTheJob()
    {
        var allowed = Path.Combine(Path.GetTempPath(), "semsearch-delete-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(allowed);
        File.WriteAllText(Path.Combine(allowed, "owls.txt"), "Owls hunt at night.");
        try
        {
            await using var server = await TestServer.StartAsync(o => o with { AllowedFolderRoots = [allowed] });
            await server.AddDocuments("busy", ("a", "A", "a document about lighthouses"));
            var dir = Path.Combine(server.IndexesRoot, "busy");
            string jobId;
            using (IndexWriteLock.Acquire(dir, new WriterOptions("test", TimeSpan.FromSeconds(30))))
            {
                using var posted = await server.PostJson("/indexes/busy/jobs", new { folder = allowed });
                Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
                jobId = JsonNode.Parse(await posted.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();

                using var response = await server.Client.DeleteAsync("/indexes/busy");

                await TestServer.AssertProblem(response, 409, jobId);
                Assert.True(File.Exists(Path.Combine(dir, IndexManifest.FileName)));
            }
            // The lock is free again: the job runs, and once it is done the index can go.
            await JobControlTests.WaitForJob(server, $"/jobs/{jobId}");
            Assert.Equal(HttpStatusCode.NoContent, (await server.Client.DeleteAsync("/indexes/busy")).StatusCode);
        }
        finally
        {
            Directory.Delete(allowed, recursive: true);
        }
    }

    /// <summary>
    /// Searches racing a delete answer from the generation they hold or find no index: 200 or 404, never an error
    /// of a closed or half-removed index.
    /// </summary>
    [Fact]
    public async Task DeleteIndex_DuringSearches_EverySearchAnswers200Or404()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("racing", Enumerable.Range(0, 50).Select(i => ($"d{i}", $"Doc {i}", $"lighthouse keeper number {i}")).ToArray());
        using var stop = new CancellationTokenSource();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        var searchers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var r = await server.PostJson("/indexes/racing/search", new { query = "lighthouse keeper", k = 20 });
                statuses.Add((int)r.StatusCode);
                if (r.StatusCode == HttpStatusCode.NotFound)
                {
                    return;
                }
            }
        })).ToArray();
        while (statuses.IsEmpty)
        {
            await Task.Delay(5);
        }

        using var deleted = await server.Client.DeleteAsync("/indexes/racing");
        await Task.WhenAll(searchers).WaitAsync(TimeSpan.FromMinutes(1));
        stop.Cancel();

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.All(statuses, s => Assert.True(s is 200 or 404, $"a search answered {s}"));
        Assert.Contains(404, statuses);
        Assert.False(Directory.Exists(Path.Combine(server.IndexesRoot, "racing")));
    }
}
