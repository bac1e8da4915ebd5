using System.CommandLine;
using System.Text.Json;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Evaluation;

namespace SemanticSearch.Cli.Commands;

/// <summary>
/// <c>semsearch eval &lt;beir-folder&gt; [--mode lexical|dense|hybrid|all] [--split test] [--tune-fusion]
/// [--compare a,b] [--report dir] [--json [file]]</c>
/// </summary>
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
        var model = new Option<string?>("--model")
        {
            Description = "Embedding model for dense and hybrid modes (default: the default model; lexical-only runs load none). Several, comma-separated, " +
                          "give the index one vector space each: every space is then also scored alone (dense:<space>) and beside BM25 (hybrid:<space>).",
        };
        var tune = new Option<bool>("--tune-fusion")
        {
            Description = "Fit the hybrid fusion (method, RRF k, weights, depth) on the train split — or on half of the queries when there is " +
                          "none, scoring the other half — and report it as 'hybrid-tuned' beside the index default.",
        };
        var tuneSplit = new Option<string?>("--tune-split") { Description = "The qrels split to tune on (default: train when the folder has one)." };
        var tuneAlso = new Option<string[]>("--tune-also")
        {
            Description = "With --tune-fusion: more tuning data, as <beir-folder>[:split] (default split train); every tuning set weighs the same.",
            AllowMultipleArgumentsPerToken = false,
        };
        var crossCheck = new Option<bool>("--cross-check")
        {
            Description = "Check the tuner on this split: tune on one half of the judged queries (by id hash), score the other with the default and the tuned fusion, then swap.",
        };
        var saveFusion = new Option<string?>("--save-fusion") { Description = "With --tune-fusion: store the tuned setting as the default of this index (built with the same model)." };
        var compare = new Option<string?>("--compare") { Description = "Two runs, e.g. lexical,hybrid: list the queries where their nDCG@10 differs most." };
        var report = new Option<string?>("--report") { Description = "Write a Markdown report with plots into this folder (e.g. docs/eval)." };
        var fusionMethod = new Option<string?>("--fusion") { Description = "Hybrid: rrf or convex (default: the model's fusion)." };
        var rrfK = new Option<double?>("--rrf-k") { Description = "Hybrid: RRF rank constant." };
        var weights = new Option<string?>("--weights") { Description = "Hybrid: lexical,dense weights, e.g. 1,1." };
        var depth = new Option<int?>("--depth") { Description = "Hybrid: candidates taken from each retriever." };
        var noFloor = new Option<bool>("--no-floor") { Description = "Hybrid: score every fused candidate (default: the relevance floor drops vector-only candidates no closer than the index's unrelated documents, as searches do)." };
        var chunkTokens = new Option<int?>("--chunk-tokens") { Description = "Experiment: chunk size in model tokens (default 512, capped by the model)." };
        var windowTokens = new Option<int?>("--window-tokens") { Description = "Experiment: embed chunks as windows of at most this many tokens (default: only for short-context models)." };

        var cmd = new Command("eval", "Measure retrieval quality on a BEIR dataset: nDCG@10, Recall@100, MRR@10, MAP@100.")
        {
            folder, mode, split, json, runDir, model, tune, tuneSplit, tuneAlso, crossCheck, saveFusion, compare, report, chunkTokens, windowTokens, fusionMethod, rrfK, weights, depth, noFloor,
        };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var modes = ParseModes(parse.GetValue(mode)!);
            var tuneFusion = parse.GetValue(tune);
            if (parse.GetValue(saveFusion) is not null && !tuneFusion)
            {
                throw new UsageException("--save-fusion", "needs --tune-fusion.");
            }
            var pair = ParsePair(parse.GetValue(compare));
            var splitName = parse.GetValue(split)!;
            var dataset = BeirDataset.Load(parse.GetValue(folder)!, splitName);
            var lexicalOnly = modes.All(m => m == SearchMode.Lexical) && !tuneFusion;
            var modelName = parse.GetValue(model) ?? (lexicalOnly ? ModelResolver.NoModel : null);
            var jsonGiven = parse.GetResult(json) is not null;
            var resolver = new ModelResolver();
            using var encoderSet = ModelLoading.OpenEncoders(resolver, modelName, quiet: false, ct);
            var encoder = encoderSet.First;
            var more = encoderSet.Encoders.Skip(1).ToList();
            if ((tuneFusion || parse.GetValue(crossCheck)) && encoder is null)
            {
                throw new InvalidSettingException(tuneFusion ? "--tune-fusion" : "--cross-check", "needs an embedding model (not --model none).");
            }
            var settings = new IndexSettings();
            if (parse.GetValue(chunkTokens) is { } ct2)
            {
                settings = settings with { Chunking = new Core.Chunking.ChunkingOptions(ct2, Math.Min(settings.Chunking.OverlapTokens, ct2 / 8)) };
            }
            settings = settings with { WindowTokens = parse.GetValue(windowTokens) };
            var display = new ProgressDisplay();
            var evaluator = new BeirEvaluator(resolver.Catalog);
            if (parse.GetValue(crossCheck))
            {
                return CrossCheck(dataset, splitName, settings, encoderSet.Encoders, DefaultFusion(encoderSet.Encoders, resolver)!, display, evaluator, jsonGiven ? parse.GetValue(json) ?? "-" : null, ct);
            }

            // The model's default as a new index would record it now (a cached evaluation index keeps what it was built
            // with), or the fusion flags over it; with --tune-fusion it is also the default the tuner has to beat.
            var modelDefault = DefaultFusion(encoderSet.Encoders, resolver);
            var fusion = modelDefault is null ? null : SearchCommand.FusionFrom(modelDefault, parse.GetValue(fusionMethod),
                parse.GetValue(rrfK), parse.GetValue(weights), parse.GetValue(depth)) ?? modelDefault;
            fusion?.Validate();
            FusionTuning? tuning = null;
            string? tuningSource = null;
            IReadOnlyCollection<string>? scored = null;
            var extra = new Dictionary<string, FusionOptions>(StringComparer.Ordinal);
            if (tuneFusion)
            {
                var (tuneSet, tuneIds, heldOut, source) = TuningQueries(dataset, parse.GetValue(tuneSplit), splitName);
                tuningSource = source;
                scored = heldOut;
                var options = new EvaluationOptions([SearchMode.Hybrid], tuneSet.Name, settings, Encoder: encoder, Fusion: fusion, MoreEncoders: more);
                var also = (parse.GetValue(tuneAlso) ?? []).Select(ParseTuneAlso).ToList();
                tuning = display.Run($"tune fusion {dataset.Name}", r =>
                {
                    var progress = new Progress(p => r(p.Stage, p.Done, p.Total));
                    var (first, baseline) = evaluator.RankForTuning(tuneSet, tuneIds, options, progress, ct);
                    var sets = new List<TuningSet> { first };
                    foreach (var other in also)
                    {
                        sets.Add(evaluator.RankForTuning(other.Set, null, options, progress, ct).Set);
                    }
                    return BeirEvaluator.Tune(sets, baseline, progress, ct);
                });
                if (also.Count > 0)
                {
                    tuningSource += " + " + string.Join(" + ", also.Select(a => $"{a.Set.Name} '{a.Split}'"));
                }
                extra["hybrid-tuned"] = tuning.Best;
                if (!modes.Contains(SearchMode.Hybrid))
                {
                    modes.Add(SearchMode.Hybrid);
                }
            }

            var evalOptions = new EvaluationOptions(modes, splitName, settings, parse.GetValue(runDir), encoder, fusion, scored, extra, more)
            {
                RelevanceFloor = !parse.GetValue(noFloor),
            };
            var result = display.Run($"eval {dataset.Name}", r =>
                evaluator.Run(dataset, evalOptions, new Progress(p => r(p.Stage, p.Done, p.Total)), ct));

            if (tuning is not null && parse.GetValue(saveFusion) is { } target)
            {
                SaveFusion(target, tuning.Best, encoderSet.Encoders);
            }
            var deltas = pair is { } p2 ? EvaluationReport.Compare(result, dataset, p2.First, p2.Second, 10) : null;
            string? reportPath = null;
            if (parse.GetValue(report) is { } reportDir)
            {
                var reportPair = pair ?? (result.Results.ContainsKey("hybrid") && result.Results.ContainsKey("lexical") ? ("lexical", "hybrid") : null);
                reportPath = EvaluationReport.Write(reportDir, result, dataset, CommandLine(), tuning, tuningSource, reportPair);
            }

            var jsonFile = parse.GetValue(json);
            var payload = ToJson(result, tuning, tuningSource, deltas, pair, reportPath);
            if (jsonGiven && jsonFile is null)
            {
                CommonOptions.PrintJson(payload);
                return ExitCodes.Ok;
            }
            if (jsonFile is not null)
            {
                File.WriteAllText(jsonFile, JsonSerializer.Serialize(payload, CommonOptions.JsonOptions));
            }
            PrintTable(result, tuning, tuningSource, deltas, pair, reportPath);
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static (BeirDataset Set, string Split) ParseTuneAlso(string spec)
    {
        var colon = spec.LastIndexOf(':');
        var (folder, split) = colon > 0 && !Directory.Exists(spec) ? (spec[..colon], spec[(colon + 1)..]) : (spec, "train");
        if (!Directory.Exists(folder))
        {
            throw new UsageException("--tune-also", $"{folder}: no such BEIR folder");
        }
        return (BeirDataset.Load(folder, split), split);
    }

    // Two-fold check of the tuner: each half of the judged queries tunes, the other half scores default vs tuned.
    private static int CrossCheck(BeirDataset dataset, string split, IndexSettings settings, IReadOnlyList<ITextEncoder> encoders, FusionOptions modelDefault, ProgressDisplay display, BeirEvaluator evaluator, string? json, CancellationToken ct)
    {
        var encoder = encoders[0];
        var more = encoders.Skip(1).ToList();
        var (a, b) = FusionTuner.HoldOut(dataset.Qrels.Keys.Where(dataset.Queries.ContainsKey));
        var folds = new List<object>();
        var lines = new List<string>();
        foreach (var (name, tuneIds, heldOut) in new[] { ("A→B", a, b), ("B→A", b, a) })
        {
            var options = new EvaluationOptions([SearchMode.Hybrid], split, settings, Encoder: encoder, Fusion: modelDefault, MoreEncoders: more);
            var tuning = display.Run($"tune fusion {dataset.Name} {name}", r =>
                evaluator.TuneFusion(dataset, tuneIds, options, new Progress(p => r(p.Stage, p.Done, p.Total)), ct));
            var scoreOptions = new EvaluationOptions([SearchMode.Lexical, SearchMode.Hybrid], split, settings, Encoder: encoder, Fusion: options.Fusion, QueryIds: heldOut,
                ExtraHybrids: new Dictionary<string, FusionOptions> { ["hybrid-tuned"] = tuning.Best }, MoreEncoders: more);
            var result = display.Run($"score {dataset.Name} {name}", r =>
                evaluator.Run(dataset, scoreOptions, new Progress(p => r(p.Stage, p.Done, p.Total)), ct));
            var lexical = result.Results["lexical"].Ndcg10;
            var def = result.Results["hybrid"].Ndcg10;
            var tuned = result.Results["hybrid-tuned"].Ndcg10;
            folds.Add(new
            {
                fold = name,
                tuneQueries = tuneIds.Count,
                heldOutQueries = result.Queries,
                tuned = FusionJson(tuning.Best),
                decision = tuning.Decision,
                heldOut = new { lexical, @default = def, tuned, delta = tuned - def },
            });
            lines.Add($"{name}: tuned on {tuneIds.Count}, scored on {result.Queries}: lexical {lexical:F4}, default {def:F4}, tuned {tuned:F4} ({tuned - def:+0.0000;-0.0000}); {EvaluationReport.Describe(tuning.Best)}; {tuning.Decision}");
        }
        var payload = new { dataset = dataset.Name, split, model = string.Join(",", encoders.Select(e => e.Info.ModelId)), folds };
        if (json == "-")
        {
            CommonOptions.PrintJson(payload);
            return ExitCodes.Ok;
        }
        if (json is not null)
        {
            File.WriteAllText(json, JsonSerializer.Serialize(payload, CommonOptions.JsonOptions));
        }
        Console.WriteLine($"{dataset.Name} ({split}), model {string.Join(",", encoders.Select(e => e.Info.ModelId))}: two-fold check of --tune-fusion");
        foreach (var line in lines)
        {
            Console.WriteLine("  " + line);
        }
        return ExitCodes.Ok;
    }

    // Where tuning queries come from: another split's qrels (train), or — when the folder has only the evaluation
    // split — a stable half of its queries, the other half being what gets scored.
    private static (BeirDataset Set, IReadOnlyCollection<string>? TuneIds, IReadOnlyCollection<string>? HeldOut, string Source) TuningQueries(
        BeirDataset evaluated, string? tuneSplit, string evalSplit)
    {
        var split = tuneSplit ?? (File.Exists(Path.Combine(evaluated.Folder, "qrels", "train.tsv")) && evalSplit != "train" ? "train" : null);
        if (split is not null && split != evalSplit)
        {
            return (BeirDataset.Load(evaluated.Folder, split), null, null, $"the '{split}' split");
        }
        var (tuneIds, heldOut) = FusionTuner.HoldOut(evaluated.Qrels.Keys.Where(evaluated.Queries.ContainsKey));
        return (evaluated, tuneIds, heldOut, $"held-out: half of the '{evalSplit}' queries (by id hash); the other half is scored");
    }

    // The default fusion a new index of these models records: one model's profile fusion, or the several-spaces default.
    private static FusionOptions? DefaultFusion(IReadOnlyList<ITextEncoder> encoders, ModelResolver resolver)
    {
        var names = SpaceManifest.NamesFor(encoders.Select(e => e.Info.ModelId));
        return FusionDefaults.For(encoders.Select((e, i) => (names[i], e.Info)).ToList(), resolver.Catalog);
    }

    private static void SaveFusion(string target, FusionOptions fusion, IReadOnlyList<ITextEncoder> encoders)
    {
        var directory = IndexLocation.Resolve(target);
        using var index = SemanticIndex.OpenOrCreate(directory, new IndexSettings(), encoders);
        index.SetDefaultFusion(fusion);
        index.Commit();
        Console.Error.WriteLine($"saved fusion ({EvaluationReport.Describe(fusion)}) as the default of {directory}");
    }

    private static string CommandLine() => "semsearch " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));

    private static (string First, string Second)? ParsePair(string? value)
    {
        if (value is null)
        {
            return null;
        }
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2
            ? (parts[0].ToLowerInvariant(), parts[1].ToLowerInvariant())
            : throw new UsageException("--compare", $"expects two runs separated by a comma, e.g. lexical,hybrid (got '{value}').");
    }

    private static List<SearchMode> ParseModes(string value) =>
        value.Equals("all", StringComparison.OrdinalIgnoreCase)
            ? [SearchMode.Lexical, SearchMode.Dense, SearchMode.Hybrid]
            : [SearchCommand.ParseMode(value)];

    // the same shape as the "fusion" of a search response, so a tuned setting can be pasted into a request
    private static object FusionJson(FusionOptions f) => f;

    private static Dictionary<string, object?> ToJson(EvaluationResult r, FusionTuning? tuning, string? tuningSource, IReadOnlyList<QueryDelta>? deltas, (string First, string Second)? pair, string? reportPath)
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
        json["fusion"] = r.Fusions.ToDictionary(kv => kv.Key, kv => FusionJson(kv.Value));
        json["index"] = new
        {
            directory = r.IndexDirectory,
            reused = r.IndexReused,
            documents = r.Documents,
            buildSeconds = Math.Round(r.IndexSeconds, 2),
            documentsPerSecond = r.IndexReused ? (double?)null : Math.Round(r.Documents / Math.Max(r.IndexSeconds, 1e-9), 1),
        };
        if (tuning is not null)
        {
            json["tuning"] = new Dictionary<string, object?>
            {
                ["source"] = tuningSource,
                ["queries"] = tuning.Queries,
                ["settingsTried"] = tuning.SettingsTried,
                ["best"] = FusionJson(tuning.Best),
                ["decision"] = tuning.Decision,
                ["onTuningQueries"] = new Dictionary<string, object>
                {
                    ["lexical"] = Pair(tuning.Lexical),
                    ["dense"] = Pair(tuning.Dense),
                    ["default"] = Pair(tuning.Baseline),
                    ["best"] = Pair(tuning.BestScore),
                },
            };
        }
        if (deltas is not null && pair is { } p)
        {
            json["compare"] = new
            {
                first = p.First,
                second = p.Second,
                queries = deltas.Select(d => new { id = d.QueryId, query = d.Query, first = Math.Round(d.First, 5), second = Math.Round(d.Second, 5), delta = Math.Round(d.Delta, 5) }),
            };
        }
        if (reportPath is not null)
        {
            json["report"] = reportPath;
        }
        return json;
    }

    private static Dictionary<string, double> Pair(FusionScore s) => new() { ["ndcg@10"] = Math.Round(s.Ndcg10, 5), ["recall@100"] = Math.Round(s.Recall100, 5) };

    private static void PrintTable(EvaluationResult r, FusionTuning? tuning, string? tuningSource, IReadOnlyList<QueryDelta>? deltas, (string First, string Second)? pair, string? reportPath)
    {
        var build = r.IndexReused ? "reused" : $"built in {r.IndexSeconds:F1} s, {r.Documents / Math.Max(r.IndexSeconds, 1e-9):F0} docs/s";
        Console.WriteLine($"{r.Dataset} ({r.Split}, {r.Queries} judged queries, {r.Documents:N0} documents, index {build})");
        var width = Math.Max(13, r.Results.Keys.Max(k => k.Length));
        Console.WriteLine($"{"run".PadRight(width)} {"nDCG@10",9} {"R@100",9} {"MRR@10",9} {"MAP@100",9} {"q/s",9}");
        foreach (var (mode, m) in r.Results)
        {
            Console.WriteLine($"{mode.PadRight(width)} {m.Ndcg10,9:F4} {m.Recall100,9:F4} {m.Mrr10,9:F4} {m.Map100,9:F4} {m.QueriesPerSecond,9:F1}");
        }
        foreach (var (name, f) in r.Fusions)
        {
            Console.WriteLine($"  {name}: {EvaluationReport.Describe(f)}");
        }
        if (tuning is not null)
        {
            Console.WriteLine($"tuned on {tuningSource}: {tuning.Queries} queries, {tuning.SettingsTried} settings; there nDCG@10 lexical {tuning.Lexical.Ndcg10:F4}, default {tuning.Baseline.Ndcg10:F4}, tuned {tuning.BestScore.Ndcg10:F4}");
            Console.WriteLine($"  {tuning.Decision}");
        }
        if (deltas is not null && pair is { } p)
        {
            Console.WriteLine($"queries where {p.First} and {p.Second} differ most (nDCG@10):");
            foreach (var d in deltas)
            {
                var text = d.Query.Length > 70 ? d.Query[..70] + "…" : d.Query;
                Console.WriteLine($"  {d.QueryId,-8} {d.First,6:F3} → {d.Second,6:F3} ({d.Delta:+0.000;-0.000})  {text}");
            }
        }
        if (reportPath is not null)
        {
            Console.WriteLine($"report: {reportPath}");
        }
    }

    private sealed class Progress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
