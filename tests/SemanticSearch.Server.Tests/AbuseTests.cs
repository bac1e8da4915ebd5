using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Issue #8, the API under abuse: bodies that are broken, of the wrong shape, huge or extreme; hostile index names and
/// job folders; racing deletes. Every answer is a 4xx in problem+json (never a 5xx, never a hang), nothing is created
/// or read outside the allowed roots, and afterwards the server still answers an ordinary search correctly.
/// The default limits are used (4 MiB bodies, k ≤ 100), as a real deployment would have them.
/// </summary>
public sealed class AbuseTests(AbuseTests.Fixture fixture) : IClassFixture<AbuseTests.Fixture>
{
    /// <summary>One server for the class (requests never change the "notes" documents), and the folders jobs may see.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal TestServer Server { get; private set; } = null!;
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "semsearch-abuse-tests", Guid.NewGuid().ToString("N"));
        public string Allowed => Path.Combine(Root, "allowed");
        public string Outside => Path.Combine(Root, "outside");

        public async Task InitializeAsync()
        {
            Directory.CreateDirectory(Path.Combine(Allowed, "docs"));
            Directory.CreateDirectory(Path.Combine(Outside, "sub"));
            Directory.CreateDirectory(Allowed + "-evil"); // shares the allowed root's name as a string prefix
            Directory.CreateDirectory(Path.Combine(Allowed, "%2e%2e"));
            File.WriteAllText(Path.Combine(Allowed, "docs", "owls.txt"), "Owls hunt at night.");
            File.WriteAllText(Path.Combine(Outside, "secret.txt"), "classified launch codes");
            File.WriteAllText(Path.Combine(Outside, "sub", "secret.txt"), "more classified launch codes");
            Directory.CreateSymbolicLink(Path.Combine(Allowed, "absolute-escape"), Outside);
            Directory.CreateSymbolicLink(Path.Combine(Allowed, "relative-escape"), "../outside");
            Directory.CreateSymbolicLink(Path.Combine(Allowed, "docs", "hop"), "../relative-escape/sub"); // two links deep
            Directory.CreateSymbolicLink(Path.Combine(Allowed, "loop"), "loop");
            Directory.CreateSymbolicLink(Path.Combine(Allowed, "inside-link"), "docs"); // a link that stays inside is fine

            Server = await TestServer.StartAsync(o => o with { AllowedFolderRoots = [Allowed] });
            await Server.AddDocuments("notes", ("a", "Alpha", "alpha beta gamma"), ("b", "Beta", "beta delta"), ("c", "Gamma", "gamma ray burst"));
        }

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            Directory.Delete(Root, recursive: true);
        }
    }

    private readonly TestServer _server = fixture.Server;
    private readonly string _allowed = fixture.Allowed;
    private readonly string _outside = fixture.Outside;

    private string[] IndexDirectories() => [.. Directory.GetDirectories(_server.IndexesRoot).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal)];

    // The server still answers an ordinary search with the right documents (the index was not damaged either).
    private async Task AssertStillServes()
    {
        var result = await _server.Search("notes", new { query = "beta" });
        Assert.Equal(["a", "b"], TestServer.DocIds(result).Order());
    }

    private static async Task AssertClientError(HttpResponseMessage response, string? mentions = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"expected a 4xx, got {status}: {text}");
        await TestServer.AssertProblem(response, status, mentions);
    }

    [Theory]
    [InlineData("{\"query\": \"beta\"} {\"query\": \"gamma\"}")] // two documents
    [InlineData("{\"query\": \"beta\"} trailing")]
    [InlineData("{\"query\": \"beta\",}")] // trailing comma
    [InlineData("{'query': 'beta'}")] // single quotes
    [InlineData("{query: \"beta\"}")] // unquoted name
    [InlineData("{\"query\": \"beta\" /* comment */}")]
    [InlineData("{\"query\": NaN}")]
    [InlineData("{\"query\": \"be\\xta\"}")] // invalid escape
    [InlineData("{\"query\": \"beta")] // unterminated string
    [InlineData("{\"query\": \"beta\", \"k\": 01}")] // leading zero
    [InlineData("\"beta\"")] // a string, not an object
    [InlineData("}")]
    public async Task Search_MalformedJson_Returns400Problem(string body)
    {
        using var response = await _server.PostJson("/indexes/notes/search", body);
        await TestServer.AssertProblem(response, 400);
        await AssertStillServes();
    }

    [Fact]
    public async Task Search_InvalidUtf8Body_Returns400Problem()
    {
        var content = new ByteArrayContent([.. "{\"query\": \"be"u8, 0xC3, 0x28, 0xFF, .. "ta\"}"u8]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _server.Client.PostAsync("/indexes/notes/search", content);
        await TestServer.AssertProblem(response, 400, "query");
        await AssertStillServes();
    }

    [Theory]
    [InlineData("{\"query\": 5}", "query")]
    [InlineData("{\"query\": [\"beta\"]}", "query")]
    [InlineData("{\"query\": {\"text\": \"beta\"}}", "query")]
    [InlineData("{\"query\": true}", "query")]
    [InlineData("{\"query\": \"beta\", \"offset\": 1.5}", "offset")]
    [InlineData("{\"query\": \"beta\", \"perChunk\": \"yes\"}", "perChunk")]
    [InlineData("{\"query\": \"beta\", \"filter\": \"a.txt\"}", "filter")]
    [InlineData("{\"query\": \"beta\", \"filter\": {\"fileTypes\": \".pdf\"}}", "filter.fileTypes")]
    [InlineData("{\"query\": \"beta\", \"filter\": {\"fileTypes\": [1, 2]}}", "filter.fileTypes")]
    [InlineData("{\"query\": \"beta\", \"filter\": {\"modifiedAfter\": \"yesterday\"}}", "filter.modifiedAfter")]
    [InlineData("{\"query\": \"beta\", \"filter\": {\"metadata\": {\"team\": 1}}}", "filter.metadata")]
    [InlineData("{\"query\": \"beta\", \"filter\": {\"metadata\": [\"team\"]}}", "filter.metadata")]
    [InlineData("{\"query\": \"beta\", \"fusion\": []}", "fusion")]
    [InlineData("{\"query\": \"beta\", \"fusion\": {\"weights\": \"even\"}}", "fusion.weights")]
    [InlineData("{\"query\": \"beta\", \"mode\": 2}", "mode")]
    public async Task Search_WrongTypes_Returns400NamingTheField(string body, string field)
    {
        using var response = await _server.PostJson("/indexes/notes/search", body);
        var problem = await TestServer.AssertProblem(response, 400, field);
        Assert.StartsWith(field, problem["field"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertStillServes();
    }

    [Theory]
    [InlineData("/indexes/notes/search", "{\"query\": \"beta\", \"kk\": 3}", "kk")]
    [InlineData("/indexes/notes/search", "{\"query\": \"beta\", \"filter\": {\"pathprefx\": \"a\"}}", "filter.pathprefx")]
    [InlineData("/indexes/notes/search", "{\"query\": \"beta\", \"fusion\": {\"lexicalWieght\": 1}}", "fusion.lexicalWieght")]
    [InlineData("/indexes/notes/documents", "{\"documents\": [{\"id\": \"a\", \"text\": \"x\"}, {\"id\": \"b\", \"titel\": \"y\", \"text\": \"y\"}]}", "documents[1].titel")]
    public async Task Body_UnknownField_Returns400NamingItsPath(string route, string body, string field)
    {
        using var response = await _server.PostJson(route, body);
        var problem = await TestServer.AssertProblem(response, 400, $"{field}: unknown field");
        Assert.Equal(field, problem["field"]!.GetValue<string>());
        await AssertStillServes();
    }

    [Theory]
    [InlineData("\"k\": 0", "k")]
    [InlineData("\"k\": -1", "k")]
    [InlineData("\"k\": 1e9", "k")] // exponent form: not an integer token
    [InlineData("\"k\": 1000000000", "k")]
    [InlineData("\"k\": 2147483647", "k")]
    [InlineData("\"k\": 2147483648", "k")] // one past int.MaxValue
    [InlineData("\"k\": -2147483649", "k")]
    [InlineData("\"k\": 99999999999999999999999999999", "k")]
    [InlineData("\"k\": 1e400", "k")]
    [InlineData("\"offset\": 2147483647", "offset")]
    [InlineData("\"offset\": -2147483648", "offset")]
    [InlineData("\"fusion\": {\"depth\": 2147483647}", "fusion.depth")]
    [InlineData("\"fusion\": {\"k\": 1e308}", "fusion.k")]
    [InlineData("\"fusion\": {\"k\": 1e400}", "fusion.k")]
    [InlineData("\"fusion\": {\"k\": -1e-300}", "fusion.k")]
    [InlineData("\"fusion\": {\"weights\": {\"lexical\": 1e308, \"dense\": 1e308}}", "fusion.lexicalWeight")]
    [InlineData("\"fusion\": {\"lexicalWeight\": 1, \"denseWeight\": 1e308}", "fusion.denseWeight")]
    public async Task Search_ExtremeNumbers_Returns400NamingTheField(string member, string field)
    {
        using var response = await _server.PostJson("/indexes/notes/search", "{\"query\": \"beta\", " + member + "}");
        await TestServer.AssertProblem(response, 400, field);
        await AssertStillServes();
    }

    [Fact]
    public async Task Search_LargestAllowedKAndOffset_Answers200()
    {
        // The edges that are allowed must work, not just the ones past them fail.
        var result = await _server.Search("notes", new { query = "beta", k = 100, offset = 0 });
        Assert.Equal(2, result["hits"]!.AsArray().Count);
        var empty = await _server.Search("notes", new { query = "beta", k = 100, offset = 10_000 });
        Assert.Empty(empty["hits"]!.AsArray());
    }

    [Theory]
    [InlineData(40)] // past the reader's depth limit of 32
    [InlineData(10_000)]
    public async Task Search_DeeplyNestedJson_Returns400(int depth)
    {
        var nested = new string('[', depth) + new string(']', depth);
        using (var asValue = await _server.PostJson("/indexes/notes/search", "{\"query\": \"beta\", \"filter\": " + nested + "}"))
        {
            await TestServer.AssertProblem(asValue, 400);
        }
        var objects = string.Concat(Enumerable.Repeat("{\"fusion\": ", depth)) + "1" + new string('}', depth);
        using (var asObjects = await _server.PostJson("/indexes/notes/search", objects))
        {
            await TestServer.AssertProblem(asObjects, 400);
        }
        await AssertStillServes();
    }

    // A client that announces its body (Expect: 100-continue) hears the 413 before sending it. Without the
    // handshake the server still answers 413 at once, but closes the connection while the client is writing, so the
    // client may see a reset instead of the answer; the chunked test below covers that path over a raw socket.
    private async Task<HttpResponseMessage> PostAnnounced(string path, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.ExpectContinue = true;
        return await _server.Client.SendAsync(request);
    }

    [Fact]
    public async Task Search_TenMegabyteBodyWithLength_Returns413()
    {
        var body = "{\"query\": \"" + new string('a', 10 * 1024 * 1024) + "\"}";
        using var response = await PostAnnounced("/indexes/notes/search", new StringContent(body, Encoding.UTF8, "application/json"));
        await TestServer.AssertProblem(response, 413);
        await AssertStillServes();
    }

    [Fact]
    public async Task Search_TenMegabyteChunkedBody_RefusedWith413OrCutOffNever2xxOr5xx()
    {
        // No Content-Length: the limit must hold while the body streams in. Written over a raw socket so the answer
        // can be read while the body is still being sent. Kestrel answers 413 once 4 MiB have arrived and closes
        // the connection; if the close resets the socket before the answer is read, no status is seen at all, which
        // is also a refusal. What must never happen is a 2xx (the body accepted) or a 5xx.
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(_server.BaseAddress.Host, _server.BaseAddress.Port);
        var stream = client.GetStream();
        var head = Encoding.ASCII.GetBytes($"POST /indexes/notes/search HTTP/1.1\r\nHost: {_server.BaseAddress.Authority}\r\n" +
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        await stream.WriteAsync(head);
        var sending = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(Chunk("{\"query\": \""u8.ToArray()));
                var block = Chunk(Encoding.ASCII.GetBytes(new string('a', 64 * 1024)));
                for (var sent = 0; sent < 10 * 1024 * 1024; sent += 64 * 1024)
                {
                    await stream.WriteAsync(block);
                }
                await stream.WriteAsync(Chunk("\"}"u8.ToArray()));
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
            catch (IOException)
            {
                // the server stopped reading: expected
            }
        });
        string? statusLine = null;
        try
        {
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (IOException)
        {
            // reset before the answer could be read
        }
        await sending.WaitAsync(TimeSpan.FromSeconds(60));
        if (statusLine is not null)
        {
            Assert.StartsWith("HTTP/1.1 413", statusLine, StringComparison.Ordinal);
        }
        await AssertStillServes();

        static byte[] Chunk(byte[] data) => [.. Encoding.ASCII.GetBytes($"{data.Length:X}\r\n"), .. data, .. "\r\n"u8];
    }

    [Fact]
    public async Task UpsertDocuments_TenMegabyteBody_Returns413AndWritesNothing()
    {
        var docs = Enumerable.Range(0, 10).Select(i => new { id = $"big{i}", text = "hugeword " + new string('x', 1024 * 1024) }).ToArray();
        using var response = await PostAnnounced("/indexes/notes/documents", new StringContent(JsonSerializer.Serialize(new { documents = docs }), Encoding.UTF8, "application/json"));
        await TestServer.AssertProblem(response, 413);
        Assert.Empty((await _server.Search("notes", new { query = "hugeword" }))["hits"]!.AsArray());
        await AssertStillServes();
    }

    // 100 KB queries, as JSON string literals: over the engine's query limit, so refused naming the field.
    public static TheoryData<string> HundredKilobyteQueries => new()
    {
        JsonSerializer.Serialize("delta " + string.Join(' ', Enumerable.Range(0, 14_000).Select(i => $"w{i:x}"))), // distinct words
        JsonSerializer.Serialize(new string('q', 100 * 1024)), // one token, no space
        JsonSerializer.Serialize(new string('漢', 34 * 1024)), // CJK, 3 UTF-8 bytes each
        JsonSerializer.Serialize(string.Concat(Enumerable.Repeat("😀", 25 * 1024))), // emoji, surrogate pairs
    };

    [Theory]
    [MemberData(nameof(HundredKilobyteQueries))]
    public async Task Search_HundredKilobyteQuery_Returns400NamingQueryAndTheLimit(string queryJson)
    {
        using var response = await _server.PostJson("/indexes/notes/search", "{\"query\": " + queryJson + "}");
        var problem = await TestServer.AssertProblem(response, 400, $"{SemanticSearch.Engine.Search.SearchRequest.MaxQueryLength:N0}");
        Assert.Equal("query", problem["field"]!.GetValue<string>());
        await AssertStillServes();
    }

    public static TheoryData<string, string?> QueriesAtTheLimit => new()
    {
        // Exactly at the limit: thousands of distinct words after one the index holds (only the first 1,024 terms
        // make the lexical query, so the known word goes first).
        { "delta " + string.Join(' ', Enumerable.Range(0, 6_000).Select(i => $"w{i:x}"))[..(SemanticSearch.Engine.Search.SearchRequest.MaxQueryLength - 6)], "b" },
        { new string('q', SemanticSearch.Engine.Search.SearchRequest.MaxQueryLength), null }, // one 20,000-character token
        { string.Concat(Enumerable.Repeat("😀", SemanticSearch.Engine.Search.SearchRequest.MaxQueryLength / 2)), null },
        { "beta \u0001\u0007\u001b gamma \u200b\ufeff", "a|b|c" }, // control and invisible characters around real words
    };

    [Theory]
    [MemberData(nameof(QueriesAtTheLimit))]
    public async Task Search_LongQueriesAtTheLimit_Answer200(string query, string? expected)
    {
        Assert.True(query.Length <= SemanticSearch.Engine.Search.SearchRequest.MaxQueryLength);
        using var response = await _server.PostJson("/indexes/notes/search", JsonSerializer.Serialize(new { query, k = 5 }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text[..Math.Min(text.Length, 500)]}");
        var ids = TestServer.DocIds(JsonNode.Parse(text)!);
        Assert.Equal(expected?.Split('|') ?? [], ids.Order());
        await AssertStillServes();
    }

    [Theory]
    [InlineData("\"\\ud800beta\"")] // lone high surrogate
    [InlineData("\"beta\\udc00\"")] // lone low surrogate
    [InlineData("\"\\udc00\\ud800\"")] // reversed pair
    public async Task Search_LoneSurrogateEscapes_Returns400NamingQuery(string queryJson)
    {
        using var response = await _server.PostJson("/indexes/notes/search", "{\"query\": " + queryJson + "}");
        var problem = await TestServer.AssertProblem(response, 400, "query");
        Assert.Equal("query", problem["field"]!.GetValue<string>());
        await AssertStillServes();
    }

    [Theory]
    [InlineData("/indexes/nope/search", "POST")]
    [InlineData("/indexes/nope", "GET")]
    [InlineData("/indexes/nope/documents/a", "DELETE")]
    [InlineData("/indexes/NOTES/search", "POST")] // names are case-sensitive
    public async Task UnknownIndexNames_Return404AndCreateNothing(string path, string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "POST" ? new StringContent("{\"query\": \"beta\"}", Encoding.UTF8, "application/json") : null,
        };
        var before = IndexDirectories();
        using var response = await _server.Client.SendAsync(request);
        await TestServer.AssertProblem(response, 404, "not found");
        Assert.Equal(before, IndexDirectories());
        await AssertStillServes();
    }

    [Theory]
    [InlineData("/indexes/..%2F..%2Ftmp/search")]
    [InlineData("/indexes/%2E%2E/search")]
    [InlineData("/indexes/..%5C..%5Cwindows/search")]
    [InlineData("/indexes/%2Fetc%2Fpasswd/search")]
    [InlineData("/indexes/%E6%97%A5%E6%9C%AC/search")] // non-ASCII
    [InlineData("/indexes/-leading-dash/search")]
    [InlineData("/indexes/notes./search")] // a trailing dot (issue 15): some platforms drop it
    [InlineData("/indexes/zqxQ%2E/documents")]
    [InlineData("/indexes/NUL/search")] // a Windows device name
    [InlineData("/indexes/con.idx/documents")]
    [InlineData("/indexes/a23456789012345678901234567890123456789012345678901234567890123456/search")] // 65 characters
    public async Task HostileIndexNames_Return400NamingNameAndCreateNothing(string path)
    {
        var before = IndexDirectories();
        using var response = await _server.PostJson(path, "{\"query\": \"beta\"}");
        await AssertClientError(response);
        Assert.Equal(before, IndexDirectories());
        Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(_server.IndexesRoot)!)); // nothing beside the root either
        await AssertStillServes();
    }

    [Theory]
    [InlineData("POST", "/indexes/notes%00/search")]
    [InlineData("DELETE", "/indexes/notes/documents/a%00b")]
    public async Task EncodedNulInPath_RefusedByKestrelWith400(string method, string path)
    {
        // Kestrel refuses a decoded NUL in the path before any middleware runs, so this 400 has no problem+json
        // body: the one documented exception to "every error is problem+json".
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{\"query\": \"beta\"}", Encoding.UTF8, "application/json") };
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertStillServes();
    }

    [Fact]
    public async Task HostileIndexName_TooLong_Returns400()
    {
        using var response = await _server.PostJson("/indexes/" + new string('a', 2000) + "/documents", "{\"documents\": [{\"id\": \"x\", \"text\": \"y\"}]}");
        await TestServer.AssertProblem(response, 400, "name");
        await AssertStillServes();
    }

    public static TheoryData<string, int> HostileFolders(string allowed, string outside) => new()
    {
        { allowed + "/../outside", 400 },
        { allowed + "/docs/../../outside", 400 },
        { allowed + "/docs/..\\..\\outside", 400 },
        { allowed + "/..", 400 },
        { "relative/../../etc", 400 },
        { "~/secrets", 400 },
        { "file:///etc", 400 },
        { allowed + "\0/../outside", 400 },
        { "/", 403 },
        { "/etc", 403 },
        { outside, 403 },
        { allowed + "-evil", 403 },
        { allowed + "/absolute-escape", 403 },
        { allowed + "/relative-escape", 403 },
        { allowed + "/relative-escape/sub", 403 },
        { allowed + "/docs/hop", 403 },
        { allowed + "/loop", 404 }, // a link to itself is no folder at all
        { allowed + "/%2e%2e", 202 }, // URL encoding means nothing in a JSON string: a folder literally named "%2e%2e"
        { allowed + "/%2e%2e/%2e%2e/outside", 404 },
        { allowed + "/docs/owls.txt", 404 },
        { allowed + "/./inside-link", 202 },
    };

    [Fact]
    public async Task StartJob_HostileFolders_RefusedAndNothingOutsideIsIndexed()
    {
        foreach (var (folder, status) in HostileFolders(_allowed, _outside).Select(row => ((string)row[0], (int)row[1])))
        {
            using var response = await _server.PostJson("/indexes/jobs-target/jobs", new { folder });
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == status, $"folder {JsonSerializer.Serialize(folder)}: expected {status}, got {(int)response.StatusCode}: {text}");
            if (status != 202)
            {
                await TestServer.AssertProblem(response, status, "folder");
            }
            else
            {
                await WaitForJob(response.Headers.Location!.ToString());
            }
        }
        // Only what lies under the allowed root was read: the secrets are not searchable, the owls are.
        Assert.Empty((await _server.Search("jobs-target", new { query = "classified launch codes" }))["hits"]!.AsArray());
        Assert.Single((await _server.Search("jobs-target", new { query = "owls" }))["hits"]!.AsArray());
        await AssertStillServes();
    }

    [Theory]
    [InlineData("{\"folder\": 7}", "folder")]
    [InlineData("{\"folder\": [\"/tmp\"]}", "folder")]
    [InlineData("{\"folder\": null}", "folder")]
    [InlineData("{\"path\": \"/tmp\"}", "path")]
    public async Task StartJob_WrongShape_Returns400NamingTheField(string body, string field)
    {
        using var response = await _server.PostJson("/indexes/jobs-target/jobs", body);
        await TestServer.AssertProblem(response, 400, field);
    }

    [Fact]
    public async Task StartJob_UrlEncodedTraversalInIndexName_Returns400AndCreatesNothing()
    {
        using var response = await _server.PostJson("/indexes/..%2F..%2Fescape/jobs", new { folder = Path.Combine(_allowed, "docs") });
        await TestServer.AssertProblem(response, 400, "name");
        Assert.False(Directory.Exists(Path.Combine(_server.Root, "escape")));
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(_server.Root)!, "escape")));
    }

    [Fact]
    public async Task DeleteDocument_SixteenConcurrentDeletesOfOneId_ExactlyOne204AndThe_Rest404()
    {
        await _server.AddDocuments("notes", ("victim", "Victim", "zanzibar lighthouse"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => _server.Client.DeleteAsync("/indexes/notes/documents/victim")));
        try
        {
            var statuses = responses.Select(r => (int)r.StatusCode).ToList();
            Assert.Equal(1, statuses.Count(s => s == 204));
            Assert.Equal(15, statuses.Count(s => s == 404));
            foreach (var r in responses.Where(r => r.StatusCode == HttpStatusCode.NotFound))
            {
                await TestServer.AssertProblem(r, 404, "victim");
            }
        }
        finally
        {
            foreach (var r in responses)
            {
                r.Dispose();
            }
        }
        Assert.Empty((await _server.Search("notes", new { query = "zanzibar" }))["hits"]!.AsArray());
        await AssertStillServes();
    }

    [Fact]
    public async Task DeleteAndUpsert_RacingOnOneId_NoServerErrorAndCountsAgreeWithSearch()
    {
        var tasks = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 12; i++)
        {
            tasks.Add(_server.PostJson("/indexes/race/documents", new { documents = new[] { new { id = "racer", text = $"quokka version {i}" } } }));
            tasks.Add(_server.Client.DeleteAsync("/indexes/race/documents/racer"));
        }
        var responses = await Task.WhenAll(tasks);
        foreach (var r in responses)
        {
            Assert.True((int)r.StatusCode is 200 or 204 or 404, $"{(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
            r.Dispose();
        }
        // Whatever order the writes took, the committed state is whole: the document is there once or not at all,
        // and the index's document count says the same as search.
        var hits = (await _server.Search("race", new { query = "quokka" }))["hits"]!.AsArray().Count;
        Assert.InRange(hits, 0, 1);
        var details = JsonNode.Parse(await _server.Client.GetStringAsync("/indexes/race"))!;
        Assert.Equal(hits, details["documents"]!.GetValue<long>());
        await AssertStillServes();
    }

    [Theory]
    [InlineData("..%2F..%2Fetc%2Fpasswd", 404, "passwd")] // an encoded slash stays part of the id
    [InlineData("%F0%9F%98%80", 404, "😀")]
    [InlineData("%FF%FE", 404, "%FF%FE")] // not UTF-8: Kestrel leaves it encoded
    [InlineData("%2E%2E", 400, "..")] // Kestrel would decode it and drop the dot segment, making it DELETE /indexes/notes: refused as sent
    [InlineData("a/%2e%2E/%2E%2E", 400, "..")]
    public async Task DeleteDocument_HostileIds_Return4xxProblem(string id, int status, string mentions)
    {
        using var response = await _server.Client.DeleteAsync("/indexes/notes/documents/" + id);
        await TestServer.AssertProblem(response, status, mentions);
        await AssertStillServes();
    }

    private async Task WaitForJob(string location)
    {
        // Polls until the job ends; the bound only turns a hang into a failure.
        for (var i = 0; i < 600; i++)
        {
            var state = JsonNode.Parse(await _server.Client.GetStringAsync(location))!["state"]!.GetValue<string>();
            if (state is not ("queued" or "running"))
            {
                Assert.Equal("succeeded", state);
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"job {location} did not finish");
    }

    // A stream that hides its length, so HttpClient sends the body chunked.
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }
}
