using System.Text;
using System.Text.Json;
using CsCheck;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// Property: whatever body a client sends to the search route, the server answers 200 with hits, or a 4xx in
/// problem+json, never a 5xx, and keeps answering.
/// </summary>
public sealed class SearchBodyPropertyTests
{
    // JSON values of every kind, including the wrong kinds for each field.
    private static readonly Gen<string> AnyValue = Gen.OneOf(
        Gen.Int[-5, 2000].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double[-1e6, 1e6].Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Const("null"), Gen.Const("true"), Gen.Const("[]"), Gen.Const("{}"), Gen.Const("\"\""),
        Gen.Const("1e400"), Gen.Const("-0"), Gen.Const("\"\\u0000\""),
        Gen.String[Gen.Char.AlphaNumeric, 0, 12].Select(s => JsonSerializer.Serialize(s)),
        Gen.String[0, 40].Select(s => JsonSerializer.Serialize(s)),
        Gen.OneOf("\"hybrid\"", "\"dense\"", "\"lexical\"", "\"LEXICAL\"", "\"rrf\"", "\"convex\""));

    private static readonly Gen<string> Key = Gen.OneOf(
        "query", "k", "offset", "mode", "filter", "perChunk", "fusion", "unknown", "Query", "");

    private static readonly Gen<string> Filter = Gen.Select(
        Gen.OneOf("pathPrefix", "fileTypes", "modifiedAfter", "metadata", "nope"),
        Gen.OneOf(AnyValue, Gen.Const("[\".txt\", \"md\"]"), Gen.Const("{\"team\": \"geo\"}"), Gen.Const("\"2020-01-01T00:00:00Z\"")))
        .Select((k, v) => $"{{\"{k}\": {v}}}");

    private static readonly Gen<string> Fusion = Gen.Select(
        Gen.OneOf("method", "k", "weights", "depth"),
        Gen.OneOf(AnyValue, Gen.Const("{\"lexical\": 1, \"dense\": 0.5}")))
        .Select((k, v) => $"{{\"{k}\": {v}}}");

    private static readonly Gen<string> Body = Gen.OneOf(
        // Mostly well-formed objects with a real query, random other members.
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 20],
                Gen.Select(Key, Gen.OneOf(AnyValue, Filter, Fusion)).Array[0, 5])
            .Select((q, members) => "{\"query\": " + JsonSerializer.Serialize(q) + string.Concat(members.Select(m => $", {JsonSerializer.Serialize(m.Item1)}: {m.Item2}")) + "}"),
        // Anything at all, including broken JSON.
        Gen.String[0, 60],
        AnyValue);

    [Fact]
    public async Task Search_RandomBodies_Answer200Or4xxProblemAndServerStaysUp()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxK = 50 });
        await server.AddDocuments("fuzz", ("a", "Alpha", "alpha beta gamma 42"), ("b", "Beta", "beta delta x9"), ("c", "Gamma", "gamma ray burst"));

        int ok = 0, refused = 0;
        Body.Sample(body =>
        {
            using var response = server.Client.PostAsync("/indexes/fuzz/search", new StringContent(body, Encoding.UTF8, "application/json"))
                .GetAwaiter().GetResult();
            var status = (int)response.StatusCode;
            var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (status == 200)
            {
                Interlocked.Increment(ref ok);
                using var doc = JsonDocument.Parse(text);
                return doc.RootElement.GetProperty("hits").ValueKind == JsonValueKind.Array;
            }
            Interlocked.Increment(ref refused);
            return status is >= 400 and < 500
                && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                && JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString() is { Length: > 0 };
        }, iter: 300);

        // The generator must reach both outcomes, or the property says little.
        Assert.True(ok > 0 && refused > 0, $"{ok} answered, {refused} refused");
        using var health = await server.Client.GetAsync("/health");
        Assert.True(health.IsSuccessStatusCode);
    }
}
