using System.Diagnostics;
using System.Text.Json.Nodes;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Issue 15, finding 2: a running server and a CLI 'index' job share an index. The server reads the last published
/// generation without the write lock and takes the lock only while it writes, so the CLI job runs to the end, the
/// server's searches never fail meanwhile, and the server serves the job's documents soon after each commit.
/// </summary>
public sealed class SharedIndexTests
{
    private static ProcessStartInfo Cli(string indexesRoot, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "semsearch.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["SEMSEARCH_INDEXES"] = indexesRoot;
        psi.Environment["SEMSEARCH_OFFLINE"] = "1";
        psi.Environment["NO_COLOR"] = "1";
        return psi;
    }

    private static void WriteCorpus(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        string[] words = ["river", "honey", "engine", "signal", "garden", "violin", "glacier", "copper", "meadow", "falcon"];
        var rng = new Random(15);
        for (var i = 0; i < count; i++)
        {
            var text = string.Join(' ', Enumerable.Range(0, 60).Select(_ => words[rng.Next(words.Length)]));
            File.WriteAllText(Path.Combine(folder, $"note{i:D4}.txt"), $"Note {i} clijobword\n\n{text}\n");
        }
    }

    private static async Task<long> Documents(TestServer server, string name)
    {
        using var response = await server.Client.GetAsync($"/indexes/{name}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /indexes/{name} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!["documents"]!.GetValue<long>();
    }

    [Fact]
    public async Task CliIndexBesideRunningServer_JobCompletesSearchesNeverFailAndNewDocumentsServedWithin2s()
    {
        await using var server = await TestServer.StartAsync();
        var dir = Path.Combine(server.IndexesRoot, "shared");
        // the server has written to and searched the index
        await server.AddDocuments("shared", ("api-1", "From the API", "a document written through the server"));
        Assert.Single(TestServer.DocIds(await server.Search("shared", new { query = "document server", mode = "lexical" })));
        var clock = Stopwatch.StartNew();
        while (IndexWriteLock.IsHeld(dir) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20); // the server gives the lock back once its writes are idle
        }
        Assert.False(IndexWriteLock.IsHeld(dir), "the server kept the write lock with no writes queued");

        var corpus = Path.Combine(server.Root, "corpus");
        WriteCorpus(corpus, 300);
        // publication times of each generation, seen by watching the manifest
        var published = new List<(long Generation, TimeSpan At)>();
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            long last = -1;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var g = IndexManifest.Read(dir).Generation;
                    if (g != last)
                    {
                        lock (published)
                        {
                            published.Add((g, clock.Elapsed));
                        }
                        last = g;
                    }
                }
                catch (Exception e) when (e is IOException or Core.SemanticSearchException)
                {
                    // mid-rename: read again
                }
                await Task.Delay(2);
            }
        });
        clock.Restart();
        using var job = Process.Start(Cli(server.IndexesRoot, "index", corpus, "--index", "shared", "--commit-every", "20"))!;
        var stdout = job.StandardOutput.ReadToEndAsync();
        var stderr = job.StandardError.ReadToEndAsync();
        var searches = 0;
        var seen = new List<(long Documents, TimeSpan At)>();
        while (!job.HasExited)
        {
            using var response = await server.PostJson("/indexes/shared/search", new { query = "clijobword river", mode = "lexical", k = 5 });
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"search {searches} during the CLI job answered {(int)response.StatusCode}: {body}");
            searches++;
            seen.Add((await Documents(server, "shared"), clock.Elapsed));
            await Task.Delay(10);
        }
        await job.WaitForExitAsync();
        Assert.True(job.ExitCode == 0, await stderr);
        var exitAt = clock.Elapsed;
        while (await Documents(server, "shared") != 301 && clock.Elapsed - exitAt < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }
        var finalSeen = clock.Elapsed;
        await stop.CancelAsync();
        await watcher;
        Assert.Equal(301, await Documents(server, "shared"));
        Assert.True(searches > 0);
        (long Generation, TimeSpan At) lastCommit;
        lock (published)
        {
            lastCommit = published[^1];
        }
        var lag = finalSeen - lastCommit.At;
        Assert.True(lag < TimeSpan.FromSeconds(2), $"the server served the last commit {lag.TotalMilliseconds:F0} ms after it was published");
        // intermediate commits were served during the job, not only at its end
        Assert.Contains(seen, s => s.Documents > 1 && s.Documents < 301);
        Console.WriteLine($"searches during the job: {searches}, all 200; last commit served {lag.TotalMilliseconds:F0} ms after publication; {await stdout}");

        // and the server writes again afterwards
        await server.AddDocuments("shared", ("api-2", "From the API again", "written after the CLI job"));
        Assert.Equal(302, await Documents(server, "shared"));
    }

    [Fact]
    public async Task CliIndexWhileServerWrites_SaysTheServerHoldsItAndNamesTheJobsRoute()
    {
        await using var server = await TestServer.StartAsync(o => o with { WriterIdleRelease = TimeSpan.FromSeconds(60) });
        await server.AddDocuments("busy", ("a", "A", "held by the server for a minute after this write"));
        var corpus = Path.Combine(server.Root, "corpus");
        WriteCorpus(corpus, 3);
        using var job = Process.Start(Cli(server.IndexesRoot, "index", corpus, "--index", "busy"))!;
        var stderr = job.StandardError.ReadToEndAsync();
        await job.WaitForExitAsync();
        var message = await stderr;
        Assert.Equal(1, job.ExitCode);
        Assert.Single(message.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("semsearch server", message);
        Assert.Contains("POST /indexes/busy/jobs", message);
    }
}
