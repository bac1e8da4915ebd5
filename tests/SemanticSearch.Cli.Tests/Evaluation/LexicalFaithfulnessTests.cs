using System.Text.Json;
using SemanticSearch.Reference;
using SemanticSearch.Tests.Cli;

namespace SemanticSearch.Tests.Evaluation;

/// <summary>
/// Engine lexical retrieval equals whole-document BM25 computed independently (WholeDocumentBm25: a plain Lucene index
/// with one document per corpus record): 'semsearch eval --mode lexical --model none' on the whole of Cranfield, its
/// TREC run scored against the reference's. tests/reference/lexical-bm25/run.sh runs the same check on every set.
/// </summary>
public sealed class LexicalFaithfulnessTests
{
    [Fact]
    public void Eval_CranfieldLexical_EqualsIndependentWholeDocumentBm25()
    {
        var cranfield = Path.Combine(RepoPaths.Shared, "datasets", "cranfield");
        using var root = new TempDir();
        var runs = Path.Combine(root.Path, "runs");
        var result = CliRunner.Run(root.Path, "eval", cranfield, "--mode", "lexical", "--model", "none", "--run-dir", runs, "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);

        var check = FaithfulnessCheck.Compare(cranfield, Path.Combine(runs, "cranfield-lexical.trec"));

        Assert.Equal(225, check.Queries);
        Assert.Equal(json.RootElement.GetProperty("ndcg@10").GetDouble(), check.EngineNdcg10, 4); // the run file is what eval scored
        Assert.InRange(check.EngineNdcg10 - check.ReferenceNdcg10, -0.002, 0.002);
        Assert.InRange(check.EngineRecall100 - check.ReferenceRecall100, -0.002, 0.002);
        Assert.True(check.SameTop10 >= 0.95 * check.Queries, $"same top 10 for only {check.SameTop10} of {check.Queries} queries");
    }

    [Fact]
    public void Eval_CorpusHalfTitleOnly_EveryDocumentRetrievableAsTheReferenceRanksIt()
    {
        // A generated BEIR folder in which every other record has a title and an empty text, as in collections whose
        // records are titles only: each query asks for one title-only record by a word of its title.
        using var root = new TempDir();
        var folder = Path.Combine(root.Path, "titles");
        Directory.CreateDirectory(Path.Combine(folder, "qrels"));
        var words = new[] { "anemone", "barnacle", "cormorant", "dolphin", "eelgrass", "flounder", "gannet", "heron", "isopod", "jellyfish" };
        var corpus = new List<string>();
        var queries = new List<string>();
        var qrels = new List<string> { "query-id\tcorpus-id\tscore" };
        for (var i = 0; i < words.Length; i++)
        {
            corpus.Add(JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = $"t{i}", ["title"] = $"Notes on the {words[i]} of the bay", ["text"] = "" }));
            corpus.Add(JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = $"b{i}", ["title"] = "", ["text"] = $"A field report about the bay, its tides and the {words[(i + 3) % words.Length]} seen at dawn." }));
            queries.Add(JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = $"q{i}", ["text"] = $"{words[i]} notes" }));
            qrels.Add($"q{i}\tt{i}\t1");
        }
        File.WriteAllLines(Path.Combine(folder, "corpus.jsonl"), corpus);
        File.WriteAllLines(Path.Combine(folder, "queries.jsonl"), queries);
        File.WriteAllLines(Path.Combine(folder, "qrels", "test.tsv"), qrels);

        var runs = Path.Combine(root.Path, "runs");
        var result = CliRunner.Run(root.Path, "eval", folder, "--mode", "lexical", "--model", "none", "--run-dir", runs, "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var check = FaithfulnessCheck.Compare(folder, Path.Combine(runs, "titles-lexical.trec"));

        Assert.Equal(1.0, check.ReferenceNdcg10, 6); // each title-only record is the reference's first hit for its query
        Assert.Equal(check.ReferenceNdcg10, check.EngineNdcg10, 6);
        Assert.Equal(words.Length, check.SameTop10);
    }
}
