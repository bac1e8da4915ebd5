using System.Net;
using System.Text.Json.Nodes;

namespace SemanticSearch.Server.Tests;

/// <summary>Background folder jobs: containment under allowed roots, progress, and searches while they run.</summary>
public sealed class JobTests : IAsyncLifetime
{
    private string _root = null!;
    private string _allowed = null!;
    private string _outside = null!;

    public Task InitializeAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "semsearch-job-tests", Guid.NewGuid().ToString("N"));
        _allowed = Path.Combine(_root, "allowed");
        _outside = Path.Combine(_root, "outside");
        Directory.CreateDirectory(Path.Combine(_allowed, "docs", "sub"));
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_allowed, "docs", "owls.txt"), "Owls hunt at night and fly silently on soft feathers.");
        File.WriteAllText(Path.Combine(_allowed, "docs", "otters.md"), "# Otters\n\nSea otters hold hands while they sleep.");
        File.WriteAllText(Path.Combine(_allowed, "docs", "sub", "ferns.txt"), "Ferns reproduce with spores, not seeds.");
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "classified launch codes");
        // A link inside the allowed root that leads out of it.
        Directory.CreateSymbolicLink(Path.Combine(_allowed, "escape"), _outside);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    private Task<TestServer> Start() => TestServer.StartAsync(o => o with { AllowedFolderRoots = [_allowed] });

    private static async Task<JsonNode> WaitForJob(TestServer server, string location)
    {
        // Polls until the job ends; the bound only turns a hang into a failure, it asserts nothing about speed.
        for (var i = 0; i < 600; i++)
        {
            var status = JsonNode.Parse(await server.Client.GetStringAsync(location))!;
            var state = status["state"]!.GetValue<string>();
            if (state is not ("queued" or "running"))
            {
                return status;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"job {location} did not finish");
    }

    [Fact]
    public async Task StartJob_FolderUnderAllowedRoot_IndexesEveryFileAndReportsCompletion()
    {
        await using var server = await Start();
        using var response = await server.PostJson("/indexes/nature/jobs", new { folder = Path.Combine(_allowed, "docs") });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith("/jobs/", location, StringComparison.Ordinal);

        var status = await WaitForJob(server, location);
        Assert.Equal("succeeded", status["state"]!.GetValue<string>());
        Assert.Equal(3, status["total"]!.GetValue<int>());
        Assert.Equal(3, status["processed"]!.GetValue<int>());
        Assert.Equal(3, status["report"]!["added"]!.GetValue<int>());
        Assert.NotNull(status["finishedUtc"]);

        var hits = await server.Search("nature", new { query = "otters" });
        var hit = Assert.Single(hits["hits"]!.AsArray())!;
        // Paths are reported under the folder's real path (the temp folder itself may sit behind a link).
        Assert.Equal(Path.Combine(FolderPolicy.RealPath(_allowed), "docs", "otters.md"), hit["path"]!.GetValue<string>());
    }

    /// <summary>
    /// Issue 15, finding 5: the folder is allowed again when the job starts, not only when it is posted. A queued
    /// job whose folder is swapped for a link to an outside folder fails, and nothing from outside is indexed.
    /// </summary>
    [Fact]
    public async Task QueuedJob_FolderSwappedForOutsideLink_FailsAndIndexesNothingFromOutside()
    {
        await using var server = await Start();
        var indexDir = Path.Combine(server.IndexesRoot, "swapped");
        var folder = Path.Combine(_allowed, "docs");
        // Another writer holds the index, so the job waits in the queue.
        var holder = Engine.SemanticIndex.OpenOrCreate(indexDir, new Engine.IndexSettings());
        string location;
        try
        {
            using var response = await server.PostJson("/indexes/swapped/jobs", new { folder });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            location = response.Headers.Location!.ToString();
            Assert.Equal("queued", JsonNode.Parse(await server.Client.GetStringAsync(location))!["state"]!.GetValue<string>());
            Directory.Move(folder, folder + "-moved");
            Directory.CreateSymbolicLink(folder, _outside);
        }
        finally
        {
            holder.Dispose();
        }
        var status = await WaitForJob(server, location);
        Assert.Equal("failed", status["state"]!.GetValue<string>());
        Assert.Contains("not under an allowed root", status["error"]!.GetValue<string>());
        var hits = await server.Search("swapped", new { query = "classified launch codes" });
        Assert.Empty(hits["hits"]!.AsArray());
    }

    [Fact]
    public async Task StartJob_SymlinkLeadingOutOfRoot_Returns403()
    {
        await using var server = await Start();
        using var response = await server.PostJson("/indexes/nature/jobs", new { folder = Path.Combine(_allowed, "escape") });
        await TestServer.AssertProblem(response, 403, "not under an allowed root");
        Assert.Empty(System.Text.Json.Nodes.JsonNode.Parse(await server.Client.GetStringAsync("/indexes"))!.AsArray());
    }

    [Fact]
    public async Task StartJob_FolderOutsideRoots_Returns403()
    {
        await using var server = await Start();
        using var response = await server.PostJson("/indexes/nature/jobs", new { folder = _outside });
        await TestServer.AssertProblem(response, 403, "folder");
    }

    [Fact]
    public async Task StartJob_DotDotSegments_Returns400()
    {
        await using var server = await Start();
        using var response = await server.PostJson("/indexes/nature/jobs", new { folder = _allowed + "/docs/../../outside" });
        var problem = await TestServer.AssertProblem(response, 400, "..");
        Assert.Equal("folder", problem["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("relative/path", 400)]
    [InlineData("", 400)]
    public async Task StartJob_BadFolder_ReturnsProblem(string folder, int status)
    {
        await using var server = await Start();
        using var response = await server.PostJson("/indexes/nature/jobs", new { folder });
        await TestServer.AssertProblem(response, status, "folder");
    }

    [Fact]
    public async Task StartJob_MissingFolderUnderRoot_Returns404()
    {
        await using var server = await Start();
        using var response = await server.PostJson("/indexes/nature/jobs", new { folder = Path.Combine(_allowed, "nothing-here") });
        await TestServer.AssertProblem(response, 404, "folder");
    }

    [Fact]
    public async Task StartJob_NoAllowedRoots_Returns403()
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.PostJson("/indexes/nature/jobs", new { folder = _allowed });
        await TestServer.AssertProblem(response, 403, "--allow-folder");
    }

    [Fact]
    public async Task Search_WhileJobIndexesSameIndex_AlwaysAnswersFromACommittedState()
    {
        await using var server = await TestServer.StartAsync(o => o with { AllowedFolderRoots = [RepoPaths.SampleDocs] });
        await server.AddDocuments("live", ("seed", "Seed", "volcano seed document"));
        using var response = await server.PostJson("/indexes/live/jobs", new { folder = RepoPaths.SampleDocs });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.ToString();

        var seen = new HashSet<int>();
        while (true)
        {
            var result = await server.Search("live", new { query = "volcano" });
            var ids = TestServer.DocIds(result);
            Assert.Contains("seed", ids); // the committed seed is visible before, during and after the job
            seen.Add(ids.Count);
            var state = JsonNode.Parse(await server.Client.GetStringAsync(location))!["state"]!.GetValue<string>();
            if (state is not ("queued" or "running"))
            {
                Assert.Equal("succeeded", state);
                break;
            }
        }
        var final = TestServer.DocIds(await server.Search("live", new { query = "volcano" }));
        Assert.Contains("volcanoes.html", final);
    }
}

/// <summary>The folder containment rules on their own.</summary>
public sealed class FolderPolicyTests
{
    [Theory]
    [InlineData("/data/docs", "/data/docs", true)]
    [InlineData("/data/docs/a/b", "/data/docs", true)]
    [InlineData("/data/docs-private", "/data/docs", false)]
    [InlineData("/data", "/data/docs", false)]
    [InlineData("/data/docs", "/", true)]
    public void IsUnder_Paths_MatchesWholeSegmentsOnly(string path, string root, bool expected) =>
        Assert.Equal(expected, FolderPolicy.IsUnder(path, root));

    [Fact]
    public void RealPath_LinkInTheMiddle_ResolvesToTheTarget()
    {
        var root = Path.Combine(Path.GetTempPath(), "semsearch-realpath", Guid.NewGuid().ToString("N"));
        try
        {
            var target = Directory.CreateDirectory(Path.Combine(root, "target", "inner")).FullName;
            Directory.CreateSymbolicLink(Path.Combine(root, "link"), Path.Combine(root, "target"));
            Assert.Equal(target, FolderPolicy.RealPath(Path.Combine(root, "link", "inner")));
            // A relative link target resolves against the link's own folder.
            Directory.CreateSymbolicLink(Path.Combine(root, "rel"), "target/inner");
            Assert.Equal(target, FolderPolicy.RealPath(Path.Combine(root, "rel")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
