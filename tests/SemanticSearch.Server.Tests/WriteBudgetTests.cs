using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Issue 15, findings 8 and 9: an upsert has a time budget and never blocks other writes without a timeout; errors on
/// a damaged index name the store but carry no server paths.
/// </summary>
public sealed class WriteBudgetTests
{
    private static string BigUpsert(int documents, int wordsEach)
    {
        var sb = new StringBuilder("{\"documents\": [");
        for (var i = 0; i < documents; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("{\"id\": \"d").Append(i).Append("\", \"text\": \"");
            for (var w = 0; w < wordsEach; w++)
            {
                sb.Append("word").Append((i * 31 + w) % 997).Append(' ');
            }
            sb.Append("\"}");
        }
        return sb.Append("]}").ToString();
    }

    private static async Task<long> Documents(TestServer server, string name)
    {
        var json = JsonNode.Parse(await server.Client.GetStringAsync($"/indexes/{name}"))!;
        return json["documents"]!.GetValue<long>();
    }

    [Fact]
    public async Task Upsert_OverItsTimeBudget_Returns503AndWritesNothing()
    {
        await using var server = await TestServer.StartAsync(o => o with { UpsertTimeout = TimeSpan.FromMilliseconds(1) });
        using var response = await server.PostJson("/indexes/budget/documents", BigUpsert(800, 400));
        await TestServer.AssertProblem(response, 503, "upsertTimeout");
        Assert.False(File.Exists(Path.Combine(server.IndexesRoot, "budget", "manifest.json")) && await Documents(server, "budget") > 0,
            "a cancelled upsert left documents behind");
    }

    [Fact]
    public async Task Upsert_BehindAWriteThatWaits_Returns409AfterTheQueueTimeoutNotAHang()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "a.txt"), "a job that waits for another writer");
        await using var server = await TestServer.StartAsync(o => o with
        {
            AllowedFolderRoots = [folder.Path],
            WriteQueueTimeout = TimeSpan.FromMilliseconds(300),
        });
        var dir = Path.Combine(server.IndexesRoot, "queued");
        var holder = SemanticIndex.OpenOrCreate(dir, new IndexSettings());
        try
        {
            // the job takes its turn and then waits for the other process's write lock, holding the queue
            using var job = await server.PostJson("/indexes/queued/jobs", new { folder = folder.Path });
            Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
            await Task.Delay(200);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await server.PostJson("/indexes/queued/documents", "{\"documents\": [{\"id\": \"a\", \"text\": \"x\"}]}");
            await TestServer.AssertProblem(response, 409, "queued");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the write waited {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            holder.Dispose();
        }
        for (var i = 0; i < 100; i++)
        {
            using var retry = await server.PostJson("/indexes/queued/documents", "{\"documents\": [{\"id\": \"b\", \"text\": \"after the job\"}]}");
            if (retry.IsSuccessStatusCode)
            {
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail("writes never resumed after the other writer left");
    }

    [Fact]
    public async Task Search_MetadataMissing_500NamesTheStoreWithoutServerPaths()
    {
        var root = Path.Combine(Path.GetTempPath(), "semsearch-server-tests", Guid.NewGuid().ToString("N"), "indexes");
        var dir = Path.Combine(root, "lost");
        using (var index = SemanticIndex.OpenOrCreate(dir, new IndexSettings()))
        {
            index.BeginBatch();
            index.Write(new SourceDocument("a", "test", "a.txt", "A", "words about owls", ".txt", 16, DateTime.UtcNow, "h", new Dictionary<string, string>()));
            index.Commit();
        }
        File.Delete(Path.Combine(dir, "metadata.db"));
        await using var server = await TestServer.StartAsync(indexesRoot: root);
        foreach (var (method, path) in new[] { ("search", "/indexes/lost/search"), ("upsert", "/indexes/lost/documents") })
        {
            using var response = method == "search"
                ? await server.PostJson(path, new { query = "owls" })
                : await server.PostJson(path, "{\"documents\": [{\"id\": \"b\", \"text\": \"x\"}]}");
            var problem = await TestServer.AssertProblem(response, 500, "metadata.db");
            var detail = problem["detail"]!.GetValue<string>();
            Assert.DoesNotContain(root, detail);
            Assert.DoesNotContain(Path.GetTempPath(), detail);
            Assert.Contains("lost", detail);
        }
        using var missing = await server.PostJson("/indexes/nope/search", new { query = "owls" });
        var notFound = await TestServer.AssertProblem(missing, 404);
        Assert.DoesNotContain(root, notFound["detail"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(dir, "metadata.db")), "the server recreated metadata.db");
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "semsearch-server-tests", Guid.NewGuid().ToString("N"));

        public TempFolder() => Directory.CreateDirectory(Path);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
