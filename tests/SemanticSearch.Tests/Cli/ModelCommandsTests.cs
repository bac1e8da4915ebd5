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
        foreach (var id in new[] { "use-lite", "e5-small-v2", "e5-small-unsupervised", "gte-small", "bge-small-en-v1.5", "all-MiniLM-L6-v2" })
        {
            Assert.Contains(id, ids);
        }
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("default").GetProperty("reason").GetString()));
    }

    // `models list --json` with an empty model cache, letting the default-model policy probe `endpoint`
    private static CliRunner.Result ListModelsProbing(TempDir root, string endpoint) =>
        CliRunner.Run(root.Path, new Dictionary<string, string>
        {
            ["HF_ENDPOINT"] = endpoint,
            ["SEMSEARCH_OFFLINE"] = "0",
            ["SEMSEARCH_MODELS"] = Path.Combine(root.Path, "empty-cache"),
        }, "models", "list", "--json");

    [Fact]
    public void ModelsList_HubAnswers_DefaultIsE5PulledOnFirstUse()
    {
        using var root = new TempDir();
        using var hub = new SemanticSearch.Embeddings.Tests.LocalHub();

        var result = ListModelsProbing(root, hub.Endpoint);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var chosen = json.RootElement.GetProperty("default");
        Assert.Equal("e5-small-v2", chosen.GetProperty("id").GetString());
        Assert.Contains(hub.Endpoint, chosen.GetProperty("reason").GetString());
        Assert.NotEmpty(hub.Requests); // it asked the host
    }

    [Fact]
    public void ModelsList_HubDoesNotAnswer_DefaultIsUseLiteNamingE5()
    {
        using var root = new TempDir();
        var result = ListModelsProbing(root, $"http://127.0.0.1:{SemanticSearch.Embeddings.Tests.LocalHub.FreePort()}");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var chosen = json.RootElement.GetProperty("default");
        Assert.Equal("use-lite", chosen.GetProperty("id").GetString());
        Assert.Contains("semsearch models pull e5-small-v2", chosen.GetProperty("reason").GetString());
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
    public void Embed_UseLite_ReproducesTheReferenceVectors()
    {
        using var root = new TempDir();
        var reference = File.ReadLines(Path.Combine(RepoPaths.Shared, "models", "use-lite", "reference-vectors.jsonl"))
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (Text: e.GetProperty("text").GetString()!, Vector: e.GetProperty("vector").EnumerateArray().Select(v => v.GetDouble()).ToArray()))
            .ToList();
        var result = CliRunner.Run(root.Path, ["embed", "--model", "use-lite", .. reference.Select(r => r.Text)]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(reference.Count, lines.Length);
        for (var i = 0; i < reference.Count; i++)
        {
            var got = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(reference[i].Text, got.GetProperty("text").GetString());
            var v = got.GetProperty("vector").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var cos = v.Zip(reference[i].Vector, (a, b) => a * b).Sum() / Math.Sqrt(v.Sum(x => x * x) * reference[i].Vector.Sum(x => x * x));
            Assert.True(cos >= 0.999, $"'{reference[i].Text}': cosine {cos:F6}");
        }
    }
}
