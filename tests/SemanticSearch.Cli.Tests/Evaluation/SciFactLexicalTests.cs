using System.Text.Json;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Evaluation;

/// <summary>
/// The published anchor: Pyserini's BM25 "flat" run on BEIR SciFact (test split) scores nDCG@10 = 0.679 and
/// Recall@100 = 0.925. Our Lucene.Net configuration must land within ±0.01 and ±0.02.
/// </summary>
public sealed class SciFactLexicalTests
{
    [Fact]
    public void Eval_SciFactLexical_ReproducesPyseriniBm25Flat()
    {
        var scifact = Path.Combine(RepoPaths.Shared, "datasets", "scifact");
        using var root = new TempDir();
        var result = CliRunner.Run(root.Path, "eval", scifact, "--mode", "lexical", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("scifact", json.RootElement.GetProperty("dataset").GetString());
        Assert.Equal(300, json.RootElement.GetProperty("queries").GetInt32());
        Assert.InRange(json.RootElement.GetProperty("ndcg@10").GetDouble(), 0.669, 0.689);
        Assert.InRange(json.RootElement.GetProperty("recall@100").GetDouble(), 0.905, 0.945);
    }
}
