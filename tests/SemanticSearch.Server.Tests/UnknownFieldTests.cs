using System.Text.Json.Nodes;

namespace SemanticSearch.Server.Tests;

/// <summary>A misspelled field is named once, with the known field it most likely meant (issue 19).</summary>
public sealed class UnknownFieldTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.AddDocuments("notes", ("a", "A", "alpha beta"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("{\"q\": \"x\"}", "q", "query")]
    [InlineData("{\"query\": \"x\", \"kk\": 3}", "kk", "k")]
    [InlineData("{\"query\": \"x\", \"fusion\": {\"lexicalWieght\": 1}}", "fusion.lexicalWieght", "lexicalWeight")]
    [InlineData("{\"query\": \"x\", \"fusion\": {\"lexical\": 1}}", "fusion.lexical", "lexicalWeight")]
    [InlineData("{\"query\": \"x\", \"filter\": {\"pathprefx\": \"a\"}}", "filter.pathprefx", "pathPrefix")]
    public async Task Search_MisspelledField_NamesItOnceAndSuggestsTheKnownOne(string body, string field, string meant)
    {
        using var response = await _server.PostJson("/indexes/notes/search", body);
        var problem = await TestServer.AssertProblem(response, 400);
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Equal($"{field}: unknown field; did you mean '{meant}'?", detail);
        Assert.Equal(field, problem["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Search_FieldLikeNothingKnown_ListsTheKnownFields()
    {
        using var response = await _server.PostJson("/indexes/notes/search", "{\"query\": \"x\", \"zzzzzz\": 1}");
        var detail = (await TestServer.AssertProblem(response, 400, "zzzzzz: unknown field"))["detail"]!.GetValue<string>();
        Assert.DoesNotContain("did you mean", detail, StringComparison.Ordinal);
        foreach (var known in new[] { "query", "k", "offset", "mode", "filter", "fusion" })
        {
            Assert.Contains(known, detail, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Search_EmptyQuery_Returns400NamingQuery(string query)
    {
        using var response = await _server.PostJson("/indexes/notes/search", new { query });
        var problem = await TestServer.AssertProblem(response, 400, "query: must contain some text");
        Assert.Equal("query", problem["field"]!.GetValue<string>());
    }
}
