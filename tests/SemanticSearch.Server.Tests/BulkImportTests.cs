using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// <c>POST /indexes/{name}/documents:bulk</c> (NDJSON, streamed) and search by a raw <c>vector</c> (issue 20), against the
/// real server: imported vectors are what a dense search ranks (checked against brute-force cosine over them), bad
/// lines come back by number while the rest is written, a body far over the JSON size limit streams through, and a
/// second send skips what is unchanged.
/// </summary>
public sealed class BulkImportTests
{
    private const int Dimensions = 32; // the seeded test model's

    private static Task<TestServer> StartWithModel(Func<SearchServerOptions, SearchServerOptions>? more = null) =>
        TestServer.StartAsync(o => (more ?? (x => x))(o with { NewIndexModel = TestModels.TestBertDirectory }));

    private static string Line(string id, string text, float[]? vector = null) =>
        JsonSerializer.Serialize(vector is null ? new { id, title = id, text } : (object)new { id, title = id, text, vector });

    private static List<float[]> RandomVectors(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, Dimensions).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToList();
    }

    // The body is written line by line as the request goes (chunked, no Content-Length): the server cannot have it whole.
    private sealed class LinesContent(IEnumerable<string> lines) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var i = 0;
            foreach (var line in lines)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
                if (++i % 50 == 0)
                {
                    await stream.FlushAsync();
                }
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> Bulk(TestServer server, string index, IEnumerable<string> lines, string contentType = SearchServer.NdjsonType)
    {
        using var content = new LinesContent(lines);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        using var response = await server.Client.PostAsync($"/indexes/{index}/documents:bulk", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!);
    }

    [Fact]
    public async Task Bulk_WithVectors_DenseSearchByVectorRanksAsBruteForce()
    {
        await using var server = await StartWithModel();
        var vectors = RandomVectors(80, seed: 11);
        var (status, body) = await Bulk(server, "vec", vectors.Select((v, i) => Line($"d{i:D2}", $"document {i}", v)));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(80, body["accepted"]!.GetValue<long>());
        Assert.Equal(80, body["added"]!.GetValue<long>());
        Assert.Empty(body["rejected"]!.AsArray());

        foreach (var target in new[] { 3, 64 })
        {
            var result = await server.Search("vec", new { vector = vectors[target], k = 10, collapseDuplicates = false });
            var expected = vectors.Select((v, i) => (Id: $"d{i:D2}", Score: BruteForce.Cosine(vectors[target], v))).OrderByDescending(x => x.Score).Take(10).ToList();
            Assert.Equal("dense", result["mode"]!.GetValue<string>());
            Assert.Equal($"d{target:D2}", TestServer.DocIds(result)[0]);
            Assert.Equal(expected.Select(x => x.Id), TestServer.DocIds(result));
            Assert.Equal(1.0, result["hits"]![0]!["score"]!.GetValue<double>(), 4);
        }
    }

    [Fact]
    public async Task Bulk_BadLines_AnsweredByNumberAndTheRestWritten()
    {
        await using var server = await StartWithModel();
        var v = RandomVectors(2, seed: 4);
        string[] lines =
        [
            Line("a", "alpha", v[0]),                                    // 1
            "{\"id\": \"b\", \"text\": ",                                // 2 cut off
            "{\"id\": \"c\"}",                                           // 3 no text
            Line("d", "delta", [0.5f, 0.5f]),                            // 4 wrong dimension
            "{\"id\": \"e\", \"text\": \"t\", \"vectors\": [1]}",         // 5 unknown field
            "{\"id\": \"f\", \"text\": \"t\", \"metadata\": {\"$k\": \"v\"}}", // 6 reserved key
            "[1, 2, 3]",                                                 // 7 not an object
            Line("g", "gamma"),                                          // 8 embedded from text
            Line("h", "eta", v[1]),                                      // 9
        ];
        var (status, body) = await Bulk(server, "bad", lines);

        Assert.Equal(HttpStatusCode.OK, status);
        var rejected = body["rejected"]!.AsArray().Select(r => (Line: r!["line"]!.GetValue<long>(), Message: r["message"]!.GetValue<string>())).ToList();
        Assert.Equal([2L, 3, 4, 5, 6, 7], rejected.Select(r => r.Line));
        Assert.Contains("not valid JSON", rejected[0].Message);
        Assert.StartsWith("text: is required", rejected[1].Message);
        Assert.Contains($"has 2 dimensions; the index's space", rejected[2].Message);
        Assert.StartsWith("vectors: unknown field", rejected[3].Message);
        Assert.Contains("'$k'", rejected[4].Message);
        Assert.Contains("JSON object", rejected[5].Message);
        Assert.Equal(3, body["accepted"]!.GetValue<long>());
        Assert.Equal(6, body["rejectedCount"]!.GetValue<long>());
        foreach (var id in new[] { "a", "g", "h" })
        {
            using var get = await server.Client.GetAsync($"/indexes/bad/documents/{id}");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }
        Assert.Equal(3, IndexManifest.Read(Path.Combine(server.IndexesRoot, "bad")).Counts.Documents);
    }

    [Fact]
    public async Task Bulk_BodyFarOverTheJsonLimit_StreamsAndASecondSendSkipsUnchanged()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxRequestBytes = 4096, NewIndexSettings = new() { CommitEveryDocuments = 100 } });
        var lines = Enumerable.Range(0, 1500).Select(i => Line($"n{i:D4}", $"note {i}: " + string.Join(' ', Enumerable.Range(0, 20).Select(w => $"w{(i * 7 + w) % 97}")))).ToList();
        Assert.True(lines.Sum(l => l.Length) > 40 * 4096);

        var (status, first) = await Bulk(server, "lex", lines);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1500, first["added"]!.GetValue<long>());

        lines[42] = Line("n0042", "a note that changed");
        var (_, second) = await Bulk(server, "lex", lines);
        Assert.Equal(0, second["added"]!.GetValue<long>());
        Assert.Equal(1, second["updated"]!.GetValue<long>());
        Assert.Equal(1499, second["skipped"]!.GetValue<long>());
        Assert.Equal(1500, IndexManifest.Read(Path.Combine(server.IndexesRoot, "lex")).Counts.Documents);
        Assert.Equal("n0042", TestServer.DocIds(await server.Search("lex", new { query = "changed" }))[0]);

        // the lexical index takes no vector: that line is refused, the other written
        var (_, vectorLine) = await Bulk(server, "lex", [Line("v", "with vector", RandomVectors(1, 1)[0]), Line("w", "without")]);
        Assert.Equal(1, vectorLine["rejected"]![0]!["line"]!.GetValue<long>());
        Assert.Contains("lexical only", vectorLine["rejected"]![0]!["message"]!.GetValue<string>());
        Assert.Equal(1, vectorLine["added"]!.GetValue<long>());
    }

    [Fact]
    public async Task Bulk_InterruptedBody_KeepsWhatWasCommittedAndASecondSendCompletesIt()
    {
        await using var server = await TestServer.StartAsync(o => o with { NewIndexSettings = new() { CommitEveryDocuments = 50 } });
        var lines = Enumerable.Range(0, 600).Select(i => Line($"r{i:D3}", $"resumable note {i}")).ToList();
        var dir = Path.Combine(server.IndexesRoot, "resume");

        // the client goes away after 325 lines, once the server has committed 300 (every 50): the body breaks with 25 uncommitted
        using (var cts = new CancellationTokenSource())
        {
            using var content = new BrokenContent(lines.Take(325), () => Committed(dir) >= 300);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(SearchServer.NdjsonType);
            await Assert.ThrowsAnyAsync<Exception>(() => server.Client.PostAsync("/indexes/resume/documents:bulk", content, cts.Token));
        }
        await Task.Delay(300); // the abandoned write rolls back its open batch
        var kept = Committed(dir);
        Assert.InRange(kept, 300, 324);

        var (status, body) = await Bulk(server, "resume", lines);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(kept, body["skipped"]!.GetValue<long>());
        Assert.Equal(600 - kept, body["added"]!.GetValue<long>());
        Assert.Equal(600, Committed(dir));
    }

    private static long Committed(string dir)
    {
        try
        {
            return IndexManifest.Read(dir).Counts.Documents;
        }
        catch (Exception e) when (e is SemanticSearch.Core.SemanticSearchException or IOException)
        {
            return -1;
        }
    }

    // Sends its lines, waits until the server has committed some of them, then fails the body (the client aborts).
    private sealed class BrokenContent(IEnumerable<string> lines, Func<bool> committed) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            foreach (var line in lines)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
            }
            await stream.FlushAsync();
            for (var i = 0; i < 200 && !committed(); i++)
            {
                await Task.Delay(25);
            }
            throw new IOException("the client went away");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task Bulk_WrongContentType_Is415NamingTheType()
    {
        await using var server = await TestServer.StartAsync();
        using var response = await server.PostJson("/indexes/x/documents:bulk", Line("a", "b"));
        await TestServer.AssertProblem(response, 415, SearchServer.NdjsonType);
        Assert.False(Directory.Exists(Path.Combine(server.IndexesRoot, "x")));
    }

    [Fact]
    public async Task SearchByVector_Refusals_Are400NamingTheField()
    {
        await using var server = await StartWithModel();
        var vectors = RandomVectors(3, seed: 2);
        await Bulk(server, "vec", vectors.Select((v, i) => Line($"d{i}", $"text {i}", v)));

        async Task Refused(object body, string field, string mentions)
        {
            using var response = await server.PostJson("/indexes/vec/search", body);
            var problem = await TestServer.AssertProblem(response, 400, mentions);
            Assert.Equal(field, problem["field"]?.GetValue<string>());
        }
        await Refused(new { vector = vectors[0], mode = "lexical" }, "vector", "lexical search ranks text only");
        await Refused(new { vector = vectors[0], query = "text", mode = "dense" }, "query", "takes no query");
        await Refused(new { vector = vectors[0], mode = "hybrid" }, "query", "needs a query for BM25");
        await Refused(new { vector = new[] { 1f, 2f } }, "vector", "has 2 dimensions");
        await Refused(new { vector = new float[Dimensions] }, "vector", "all zeros");
        await Refused(new { vector = Array.Empty<float>() }, "vector", "empty");
        await Refused(new { k = 3 }, "query", "is required");

        // with a query, a vector search is hybrid: BM25 ranks the query, the vector the dense side
        var hybrid = await server.Search("vec", new { vector = vectors[1], query = "text 1" });
        Assert.Equal("hybrid", hybrid["mode"]!.GetValue<string>());
        Assert.Equal("d1", TestServer.DocIds(hybrid)[0]);
    }
}
