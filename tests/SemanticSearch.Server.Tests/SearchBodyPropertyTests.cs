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
        Gen.OneOf("\"hybrid\"", "\"dense\"", "\"lexical\"", "\"LEXICAL\"", "\"rrf\"", "\"convex\""),
        // Numbers at and past every integer and floating-point edge (issue #8).
        Gen.OneOf("2147483647", "2147483648", "-2147483648", "-2147483649", "1e9", "1E+9", "99999999999999999999999",
            "1e308", "-1e308", "4.9e-324", "1.7976931348623157e309", "0.0000001", "100", "1000", "1001", "10000", "10001"),
        // Strings that are long, or hold escapes a reader may refuse (lone surrogates), control and invisible characters.
        Gen.Int[1, 30_000].Select(n => JsonSerializer.Serialize(new string('z', n))),
        Gen.OneOf("\"\\ud800\"", "\"x\\udc00y\"", "\"\\u0001\\u001f\\u007f\"", "\"\\u200b\\ufeff\\u202e\"", "\"😀漢字\"", "\"a\\\\b/c\""),
        // Nesting near and past the reader's depth limit of 32.
        Gen.Int[1, 80].Select(d => new string('[', d) + new string(']', d)),
        Gen.Int[1, 80].Select(d => string.Concat(Enumerable.Repeat("{\"k\": ", d)) + "1" + new string('}', d)));

    private static readonly Gen<string> Key = Gen.OneOf(
        "query", "k", "offset", "mode", "filter", "perChunk", "fusion", "unknown", "Query", "");

    private static readonly Gen<string> Filter = Gen.Select(
        Gen.OneOf("pathPrefix", "fileTypes", "modifiedAfter", "metadata", "nope"),
        Gen.OneOf(AnyValue, Gen.Const("[\".txt\", \"md\"]"), Gen.Const("{\"team\": \"geo\"}"), Gen.Const("\"2020-01-01T00:00:00Z\"")))
        .Select((k, v) => $"{{\"{k}\": {v}}}");

    private static readonly Gen<string> Fusion = Gen.Select(
        Gen.OneOf("method", "k", "lexicalWeight", "denseWeight", "weights", "depth"),
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
        }, iter: 1000);

        // The generator must reach both outcomes, or the property says little.
        Assert.True(ok > 0 && refused > 0, $"{ok} answered, {refused} refused");
        using var health = await server.Client.GetAsync("/health");
        Assert.True(health.IsSuccessStatusCode);
    }
}

/// <summary>
/// Property: whatever document batch a client sends, the upsert route answers 200 or a 4xx problem, never a 5xx, and
/// a search afterwards still works.
/// </summary>
public sealed class DocumentsBodyPropertyTests
{
    private static readonly Gen<string> Value = Gen.OneOf(
        Gen.Const("null"), Gen.Const("true"), Gen.Const("7"), Gen.Const("[]"), Gen.Const("{}"), Gen.Const("\"\""),
        Gen.Const("\"\\u0000\""), Gen.Const("\"\\ud800\""), Gen.Const("\"../../etc/passwd\""), Gen.Const("\"a/b\\\\c\""),
        Gen.Const("\"0001-01-01T00:00:00+14:00\""), Gen.Const("\"9999-12-31T23:59:59-14:00\""), Gen.Const("\"2020-02-30\""),
        Gen.Const("{\"k\": \"v\"}"), Gen.Const("{\"\": \"v\"}"), Gen.Const("{\"k\": null}"), Gen.Const("{\"k\": 1}"),
        Gen.Int[1, 600].Select(n => JsonSerializer.Serialize(new string('i', n))),
        Gen.String[Gen.Char.AlphaNumeric, 1, 12].Select(s => JsonSerializer.Serialize(s)),
        Gen.String[0, 30].Select(s => JsonSerializer.Serialize(s)));

    private static readonly Gen<string> Document = Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 8],
            Gen.Select(Gen.OneOf("id", "title", "text", "metadata", "modifiedUtc", "extra"), Value).Array[0, 4])
        .Select((id, members) => "{\"id\": " + JsonSerializer.Serialize(id) + ", \"text\": \"fuzz words\"" +
            string.Concat(members.Select(m => $", \"{m.Item1}\": {m.Item2}")) + "}");

    private static readonly Gen<string> Body = Gen.OneOf(
        Gen.OneOf(Document, Value).Array[0, 4].Select(docs => "{\"documents\": [" + string.Join(", ", docs) + "]}"),
        Value.Select(v => "{\"documents\": " + v + "}"),
        Gen.String[0, 40]);

    [Fact]
    public async Task UpsertDocuments_RandomBodies_Answer200Or4xxProblemAndSearchStillWorks()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("fuzz", ("seed", "Seed", "seed document"));
        int ok = 0, refused = 0;
        var reasons = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        Body.Sample(body =>
        {
            using var response = server.Client.PostAsync("/indexes/fuzz/documents", new StringContent(body, Encoding.UTF8, "application/json"))
                .GetAwaiter().GetResult();
            var status = (int)response.StatusCode;
            var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (status == 200)
            {
                Interlocked.Increment(ref ok);
                return true;
            }
            Interlocked.Increment(ref refused);
            reasons.AddOrUpdate(status + " " + (text.Length > 160 ? text[..160] : text), 1, (_, n) => n + 1);
            return status is >= 400 and < 500
                && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                && JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString() is { Length: > 0 };
        }, iter: 400);

        Assert.True(ok > 0 && refused > 0, $"{ok} accepted, {refused} refused; most common refusals: "
            + string.Join(" | ", reasons.OrderByDescending(r => r.Value).Take(3).Select(r => $"{r.Value}× {r.Key}")));
        var seed = await server.Search("fuzz", new { query = "seed" });
        Assert.Equal(["seed"], TestServer.DocIds(seed));
    }
}
