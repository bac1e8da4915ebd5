using System.Text.Json;

namespace SemanticSearch.Tests.Cli;

/// <summary><c>semsearch eval</c> end to end on a small generated BEIR folder, with the seeded test model.</summary>
public sealed class EvalCommandTests : IDisposable
{
    private readonly TempDir _root = new();
    private readonly TempDir _data = new();

    public EvalCommandTests()
    {
        // 60 documents on 20 topics; each query names its topic, and the three documents of the topic are relevant
        // (grade 1: they are interchangeable, so any order of the three is ideal). Topics 0-9 are judged in train, 10-19 in test.
        string[] topics =
        [
            "glacier", "volcano", "coral", "desert", "monsoon", "tundra", "estuary", "canyon", "savanna", "lagoon",
            "comet", "nebula", "quasar", "pulsar", "asteroid", "eclipse", "aurora", "meteor", "galaxy", "supernova",
        ];
        var corpus = new List<string>();
        for (var t = 0; t < topics.Length; t++)
        {
            for (var j = 0; j < 3; j++)
            {
                corpus.Add(JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["_id"] = $"d{t}-{j}",
                    ["title"] = $"Notes on the {topics[t]} number {j}",
                    ["text"] = $"This note describes a {topics[t]} seen on field trip {j}. The {topics[t]} was measured twice and recorded.",
                }));
            }
        }
        _data.File("corpus.jsonl", string.Join('\n', corpus) + "\n");
        _data.File("queries.jsonl", string.Join('\n', topics.Select((t, i) => JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = $"q{i}", ["text"] = $"what do we know about the {t}" }))) + "\n");
        string Qrels(int from, int to) => "query-id\tcorpus-id\tscore\n" + string.Concat(Enumerable.Range(from, to - from)
            .SelectMany(t => Enumerable.Range(0, 3).Select(j => $"q{t}\td{t}-{j}\t1\n")));
        _data.File("qrels/train.tsv", Qrels(0, 10));
        _data.File("qrels/test.tsv", Qrels(10, 20));
    }

    public void Dispose()
    {
        _root.Dispose();
        _data.Dispose();
    }

    [Fact]
    public void Eval_TuneFusion_ReportsTunedBesideDefaultsWritesTheReportAndSavesTheSetting()
    {
        var index = CliRunner.Run(_root.Path, "index", _data.Path, "--index", "target", "--model", TestModels.TestBertDirectory);
        Assert.True(index.ExitCode is 0 or 2, index.Stderr);
        var report = Path.Combine(_root.Path, "report");

        var run = CliRunner.Run(_root.Path, "eval", _data.Path, "--mode", "all", "--model", TestModels.TestBertDirectory,
            "--tune-fusion", "--save-fusion", "target", "--compare", "lexical,hybrid-tuned", "--report", report, "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal(10, root.GetProperty("queries").GetInt32());
        var results = root.GetProperty("results");
        foreach (var name in new[] { "lexical", "dense", "hybrid", "hybrid-tuned" })
        {
            var m = results.GetProperty(name);
            foreach (var metric in new[] { "ndcg@10", "recall@100", "mrr@10", "map@100" })
            {
                Assert.InRange(m.GetProperty(metric).GetDouble(), 0, 1);
            }
        }
        // every query names its topic's word, which only its three documents contain: BM25 ranks them first
        Assert.Equal(1.0, results.GetProperty("lexical").GetProperty("ndcg@10").GetDouble(), 6);
        var tuning = root.GetProperty("tuning");
        Assert.Contains("train", tuning.GetProperty("source").GetString());
        Assert.Equal(10, tuning.GetProperty("queries").GetInt32());
        var best = tuning.GetProperty("best");
        Assert.Equal(best.GetRawText(), root.GetProperty("fusion").GetProperty("hybrid-tuned").GetRawText());
        Assert.Equal(1.0, tuning.GetProperty("onTuningQueries").GetProperty("best").GetProperty("ndcg@10").GetDouble(), 6);
        var compared = root.GetProperty("compare").GetProperty("queries").EnumerateArray().Select(q => Math.Abs(q.GetProperty("delta").GetDouble())).ToList();
        Assert.Equal(compared.OrderByDescending(d => d), compared);

        // the report and its plots
        var md = File.ReadAllText(Path.Combine(report, $"{Path.GetFileName(_data.Path)}-tuned.md"));
        Assert.Contains("hybrid-tuned", md);
        foreach (var png in Directory.GetFiles(report, "*.png").Append(Path.Combine(report, $"{Path.GetFileName(_data.Path)}-tuned-ndcg.png")))
        {
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
            Assert.Contains(Path.GetFileName(png), md);
        }

        // search on the target index now ranks hybrid queries with the tuned setting
        var search = CliRunner.Run(_root.Path, "search", "glacier", "--index", "target", "--mode", "hybrid", "--json", "--model", TestModels.TestBertDirectory);
        Assert.True(search.ExitCode == 0, search.Stderr);
        using var hits = JsonDocument.Parse(search.Stdout);
        var used = hits.RootElement.GetProperty("fusion");
        Assert.Equal(best.GetProperty("method").GetString(), used.GetProperty("method").GetString(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(best.GetProperty("k").GetDouble(), used.GetProperty("k").GetDouble());
        Assert.Equal(best.GetProperty("depth").GetInt32(), used.GetProperty("depth").GetInt32());
    }

    [Fact]
    public void Eval_TwoModels_ScoresEachSpaceAloneAndBesideBm25_AsAnIndexOfThatModelAlone()
    {
        var a = TestModels.TestBertDirectory;
        var b = TestModels.SecondTestBertDirectory;
        var nameA = Path.GetFileName(a);
        JsonElement Results(params string[] args)
        {
            var run = CliRunner.Run(_root.Path, ["eval", _data.Path, "--mode", "all", "--json", .. args]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            return JsonDocument.Parse(run.Stdout).RootElement.Clone();
        }
        double Ndcg(JsonElement root, string run) => root.GetProperty("results").GetProperty(run).GetProperty("ndcg@10").GetDouble();

        var both = Results("--model", $"{a},{b}");
        Assert.Equal($"{nameA},other-bert", both.GetProperty("model").GetString());
        var alone = new[] { (Name: nameA, Root: Results("--model", a)), (Name: "other-bert", Root: Results("--model", b)) };
        foreach (var (name, root) in alone)
        {
            // one space of the two-space index, alone and beside BM25 with its model's own default, is that model's own index
            Assert.Equal(Ndcg(root, "dense"), Ndcg(both, $"dense:{name}"), 9);
            Assert.Equal(Ndcg(root, "hybrid"), Ndcg(both, $"hybrid:{name}"), 9);
        }
        Assert.Equal(Ndcg(alone[0].Root, "lexical"), Ndcg(both, "lexical"), 9);
        Assert.InRange(Ndcg(both, "hybrid"), 0, 1);
        Assert.True(both.GetProperty("fusion").TryGetProperty("dense", out _)); // dense over two spaces is a fusion too

        // tuning over three retrievers: 3 depths × (7 rank constants × (7² − 1 weightings + the spaces alone) + 65 convex shares)
        var tuned = CliRunner.Run(_root.Path, "eval", _data.Path, "--mode", "hybrid", "--json", "--model", $"{a},{b}", "--tune-fusion");
        Assert.True(tuned.ExitCode == 0, tuned.Stderr);
        using var json = JsonDocument.Parse(tuned.Stdout);
        Assert.Equal(3 * ((7 * (49 - 1 + 1)) + 65), json.RootElement.GetProperty("tuning").GetProperty("settingsTried").GetInt32());
        Assert.True(json.RootElement.GetProperty("results").TryGetProperty("hybrid-tuned", out _));
    }

    [Fact]
    public void Eval_TuneFusionWithoutATrainSplit_TunesOnHalfAndScoresTheOtherHalf()
    {
        File.Delete(Path.Combine(_data.Path, "qrels", "train.tsv"));
        File.WriteAllText(Path.Combine(_data.Path, "qrels", "test.tsv"), File.ReadAllText(Path.Combine(_data.Path, "qrels", "test.tsv"))
            + string.Concat(Enumerable.Range(0, 10).Select(t => $"q{t}\td{t}-0\t2\n")));

        var run = CliRunner.Run(_root.Path, "eval", _data.Path, "--mode", "hybrid", "--model", TestModels.TestBertDirectory, "--tune-fusion", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var tuned = json.RootElement.GetProperty("tuning").GetProperty("queries").GetInt32();
        var scored = json.RootElement.GetProperty("queries").GetInt32();
        Assert.Equal(20, tuned + scored);
        Assert.InRange(tuned, 1, 19);
        Assert.Contains("held-out", json.RootElement.GetProperty("tuning").GetProperty("source").GetString());
    }

    [Fact]
    public void Eval_SaveFusionWithoutTuning_ExitsWithTheUsageCodeNamingTheOption()
    {
        var run = CliRunner.Run(_root.Path, "eval", _data.Path, "--save-fusion", "target");
        Assert.Equal(64, run.ExitCode);
        Assert.Contains("--save-fusion", run.Stderr);
    }
}
