using System.CommandLine;
using System.Text.Json;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;
using SemanticSearch.Evaluation;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch eval &lt;beir-folder&gt; [--mode lexical|dense|hybrid|all] [--split test] [--json [file]]</c></summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("beir-folder") { Description = "A BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv." };
        var mode = new Option<string>("--mode", "-m") { Description = "lexical, dense, hybrid or all.", DefaultValueFactory = _ => "lexical" };
        var split = new Option<string>("--split") { Description = "Which qrels file to score against.", DefaultValueFactory = _ => "test" };
        var json = new Option<string?>("--json")
        {
            Description = "Print the results as JSON; with a file name, write them there and print the table.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var runDir = new Option<string?>("--run-dir") { Description = "Write TREC run files (qid Q0 docid rank score tag) here." };
        var model = new Option<string?>("--model") { Description = "Embedding model for dense and hybrid modes (default: the default model; lexical-only runs load none)." };

        var cmd = new Command("eval", "Measure retrieval quality on a BEIR dataset: nDCG@10, Recall@100, MRR@10, MAP@100.") { folder, mode, split, json, runDir, model };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var modes = ParseModes(parse.GetValue(mode)!);
            var dataset = BeirDataset.Load(parse.GetValue(folder)!, parse.GetValue(split)!);
            var modelName = parse.GetValue(model) ?? (modes.All(m => m == SearchMode.Lexical) ? ModelResolver.NoModel : null);
            using var encoder = ModelLoading.OpenEncoder(new ModelResolver(), modelName, quiet: parse.GetResult(json) is not null, ct);
            var options = new EvaluationOptions(modes, parse.GetValue(split)!, new IndexSettings(), parse.GetValue(runDir), encoder);
            var result = new ProgressDisplay().Run($"eval {dataset.Name}", report =>
                new BeirEvaluator().Run(dataset, options, new Progress(p => report(p.Stage, p.Done, p.Total)), ct));

            var jsonGiven = parse.GetResult(json) is not null;
            var jsonFile = parse.GetValue(json);
            var payload = ToJson(result);
            if (jsonGiven && jsonFile is null)
            {
                CommonOptions.PrintJson(payload);
                return ExitCodes.Ok;
            }
            if (jsonFile is not null)
            {
                File.WriteAllText(jsonFile, JsonSerializer.Serialize(payload, CommonOptions.JsonOptions));
            }
            PrintTable(result);
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static List<SearchMode> ParseModes(string value) =>
        value.Equals("all", StringComparison.OrdinalIgnoreCase)
            ? [SearchMode.Lexical, SearchMode.Dense, SearchMode.Hybrid]
            : [SearchCommand.ParseMode(value)];

    private static Dictionary<string, object?> ToJson(EvaluationResult r)
    {
        var results = r.Results.ToDictionary(kv => kv.Key, kv => (object)new Dictionary<string, double>
        {
            ["ndcg@10"] = Math.Round(kv.Value.Ndcg10, 5),
            ["recall@100"] = Math.Round(kv.Value.Recall100, 5),
            ["mrr@10"] = Math.Round(kv.Value.Mrr10, 5),
            ["map@100"] = Math.Round(kv.Value.Map100, 5),
            ["queriesPerSecond"] = Math.Round(kv.Value.QueriesPerSecond, 1),
        });
        var json = new Dictionary<string, object?>
        {
            ["dataset"] = r.Dataset,
            ["split"] = r.Split,
            ["queries"] = r.Queries,
            ["model"] = r.Model,
        };
        if (r.Results.Count == 1)
        {
            var (mode, m) = r.Results.First();
            json["mode"] = mode;
            json["ndcg@10"] = Math.Round(m.Ndcg10, 5);
            json["recall@100"] = Math.Round(m.Recall100, 5);
        }
        json["results"] = results;
        json["index"] = new { directory = r.IndexDirectory, reused = r.IndexReused, documents = r.Documents, buildSeconds = Math.Round(r.IndexSeconds, 2) };
        return json;
    }

    private static void PrintTable(EvaluationResult r)
    {
        Console.WriteLine($"{r.Dataset} ({r.Split}, {r.Queries} judged queries, {r.Documents:N0} documents, index {(r.IndexReused ? "reused" : $"built in {r.IndexSeconds:F1} s")})");
        Console.WriteLine($"{"mode",-10} {"nDCG@10",9} {"R@100",9} {"MRR@10",9} {"MAP@100",9} {"q/s",9}");
        foreach (var (mode, m) in r.Results)
        {
            Console.WriteLine($"{mode,-10} {m.Ndcg10,9:F4} {m.Recall100,9:F4} {m.Mrr10,9:F4} {m.Map100,9:F4} {m.QueriesPerSecond,9:F1}");
        }
    }

    private sealed class Progress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
