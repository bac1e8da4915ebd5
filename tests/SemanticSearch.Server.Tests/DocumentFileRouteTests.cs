using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Testing;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// <c>GET /indexes/{name}/files/{id}</c>: the file a folder hit came from, so a result opens it (at the page or anchor
/// its location gives); never a file outside the folder it was indexed from, never an indexed page's scripts.
/// </summary>
public sealed class DocumentFileRouteTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "semsearch-file-tests", Guid.NewGuid().ToString("N"));
    private string _folder = null!;
    private byte[] _pdf = null!;
    private TestServer _server = null!;

    private const string Markdown = "# Tide pools\n\nAnemones and sea stars.\n\n## Safety\n\nWatch the tide; safetyword.\n";
    private const string Html = "<html><head><title>Rules</title><script>window.evil = 1</script></head><body><h1 id='r'>Rules</h1><p>rulesword</p></body></html>";

    public async Task InitializeAsync()
    {
        _folder = Path.Combine(_root, "docs");
        Directory.CreateDirectory(Path.Combine(_folder, "sub"));
        File.WriteAllText(Path.Combine(_folder, "pools.md"), Markdown);
        File.WriteAllText(Path.Combine(_folder, "sub", "rules.html"), Html);
        File.WriteAllBytes(Path.Combine(_folder, "cafe.txt"), [.. "Caf"u8, 0xE9, .. " menu: croissantword"u8]); // Windows-1252
        _pdf = HostileCorpus.PdfPages(["Kernels schedule threads", "Mirrors carry packages secondpageword"]);
        File.WriteAllBytes(Path.Combine(_folder, "manual.pdf"), _pdf);
        File.WriteAllText(Path.Combine(_folder, "gone.txt"), "soon removed goneword");
        File.WriteAllText(Path.Combine(_folder, "swapped.txt"), "an innocent file swappedword");
        File.WriteAllText(Path.Combine(_root, "secret.txt"), "outside the folder: topsecretword");
        var indexes = Path.Combine(_root, "indexes");
        using (var index = SemanticIndex.OpenOrCreate(Path.Combine(indexes, "docs"), new IndexSettings()))
        {
            new FolderIndexer(index, new IndexSettings()).Run(_folder);
        }
        _server = await TestServer.StartAsync(indexesRoot: indexes);
        await _server.AddDocuments("docs", ("uploaded/note", "Note", "an uploaded note"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task GetFile_Markdown_IsTheFileAsUtf8TextUnderASandbox()
    {
        using var response = await _server.Client.GetAsync("/indexes/docs/files/pools.md");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(Markdown, await response.Content.ReadAsStringAsync());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("sandbox", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task GetFile_Windows1252Text_IsDecodedAsTheIndexerDecodedIt()
    {
        using var response = await _server.Client.GetAsync("/indexes/docs/files/cafe.txt");
        Assert.Equal("Café menu: croissantword", Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task GetFile_Html_IsServedAsItIsWithScriptsSandboxed()
    {
        using var response = await _server.Client.GetAsync("/indexes/docs/files/sub/rules.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Html, await response.Content.ReadAsStringAsync());
        Assert.Equal("sandbox", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task GetFile_Pdf_IsTheBytesAndAnswersRanges()
    {
        using var response = await _server.Client.GetAsync("/indexes/docs/files/manual.pdf");
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(_pdf, await response.Content.ReadAsByteArrayAsync());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/indexes/docs/files/manual.pdf");
        request.Headers.Range = new RangeHeaderValue(5, 14);
        using var partial = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(_pdf[5..15], await partial.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Search_PdfHit_CarriesThePageItsLinkOpens()
    {
        var result = await _server.Search("docs", new { query = "secondpageword", mode = "lexical" });
        var hit = result["hits"]![0]!;
        Assert.Equal("manual.pdf", hit["docId"]!.GetValue<string>());
        Assert.Equal(2, hit["location"]!["page"]!.GetValue<int>());
        var md = (await _server.Search("docs", new { query = "safetyword", mode = "lexical" }))["hits"]![0]!;
        Assert.Equal("safety", md["location"]!["anchor"]!.GetValue<string>());
        Assert.Equal(["Tide pools", "Safety"], md["location"]!["sections"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task GetFile_UploadedDocument_Is404SayingItHasNoFile()
    {
        await TestServer.AssertProblem(await _server.Client.GetAsync("/indexes/docs/files/uploaded/note"), 404, "no file");
        await TestServer.AssertProblem(await _server.Client.GetAsync("/indexes/docs/files/never/indexed"), 404, "never/indexed");
    }

    [Fact]
    public async Task GetFile_DeletedSinceIndexing_Is404SayingSo()
    {
        File.Delete(Path.Combine(_folder, "gone.txt"));
        await TestServer.AssertProblem(await _server.Client.GetAsync("/indexes/docs/files/gone.txt"), 404, "no longer exists");
    }

    [Fact]
    public async Task GetFile_SwappedForALinkOutOfTheFolder_Is403AndLeaksNothing()
    {
        var swapped = Path.Combine(_folder, "swapped.txt");
        File.Delete(swapped);
        File.CreateSymbolicLink(swapped, Path.Combine(_root, "secret.txt"));
        using var response = await _server.Client.GetAsync("/indexes/docs/files/swapped.txt");
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("topsecretword", body);
        await TestServer.AssertProblem(response, 403, "outside the folder");
    }
}
