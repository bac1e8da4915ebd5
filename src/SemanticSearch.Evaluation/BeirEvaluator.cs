using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Models;

namespace SemanticSearch.Evaluation;

/// <summary>What to evaluate.</summary>
/// <param name="Modes">Retrieval modes to run.</param>
/// <param name="Split">Qrels split (<c>qrels/&lt;split&gt;.tsv</c>).</param>
/// <param name="Settings">Index settings (chunking, BM25).</param>
/// <param name="RunDirectory">Where to write TREC run files, or null.</param>
/// <param name="Encoder">The embedding model for dense and hybrid modes (null: lexical only).</param>
/// <param name="Fusion">Fusion for hybrid mode; null uses the index's default.</param>
/// <param name="QueryIds">Score only these judged queries (a held-out part); null: every judged query.</param>
/// <param name="ExtraHybrids">More hybrid runs to score, by result name (e.g. <c>hybrid-tuned</c>).</param>
/// <param name="MoreEncoders">Models of further vector spaces after <paramref name="Encoder"/>'s: the index gets one space per model, and with several, every space is also scored alone (<c>dense:&lt;space&gt;</c>) and beside BM25 alone (<c>hybrid:&lt;space&gt;</c>, with that model's own default fusion).</param>
public sealed record EvaluationOptions(
    IReadOnlyList<SearchMode> Modes,
    string Split,
    IndexSettings Settings,
    string? RunDirectory = null,
    ITextEncoder? Encoder = null,
    FusionOptions? Fusion = null,
    IReadOnlyCollection<string>? QueryIds = null,
    IReadOnlyDictionary<string, FusionOptions>? ExtraHybrids = null,
    IReadOnlyList<ITextEncoder>? MoreEncoders = null)
{
    /// <summary>Hybrid runs keep to the relevance floor, as searches do (default); false scores every fused candidate.</summary>
    public bool RelevanceFloor { get; init; } = true;

    /// <summary>Every model, in space order (empty: lexical only).</summary>
    public IReadOnlyList<ITextEncoder> Encoders => Encoder is null ? [] : [Encoder, .. MoreEncoders ?? []];
}

/// <summary>Averaged metrics of one mode.</summary>
public sealed record ModeMetrics(double Ndcg10, double Recall100, double Mrr10, double Map100, double QueriesPerSecond);

/// <summary>Progress of an evaluation stage.</summary>
public sealed record EvaluationProgress(string Stage, int Done, int Total);

/// <summary>The result of evaluating a dataset.</summary>
/// <param name="Dataset">Dataset name.</param>
/// <param name="Split">Qrels split scored.</param>
/// <param name="Queries">Judged queries scored.</param>
/// <param name="Results">Averaged metrics by result name (a mode, or an extra hybrid run).</param>
/// <param name="IndexDirectory">The evaluation index.</param>
/// <param name="IndexReused">True when the index was reused from an earlier run.</param>
/// <param name="IndexSeconds">Time spent building the index (0 when reused).</param>
/// <param name="Documents">Corpus documents indexed.</param>
/// <param name="PerQueryNdcg">nDCG@10 by query id, by result name.</param>
/// <param name="Model">The embedding model, or null for lexical-only runs.</param>
/// <param name="Fusions">The fusion each hybrid result was ranked with.</param>
public sealed record EvaluationResult(
    string Dataset,
    string Split,
    int Queries,
    IReadOnlyDictionary<string, ModeMetrics> Results,
    string IndexDirectory,
    bool IndexReused,
    double IndexSeconds,
    int Documents,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> PerQueryNdcg,
    string? Model,
    IReadOnlyDictionary<string, FusionOptions> Fusions);

/// <summary>
/// Runs every judged query of a BEIR dataset through the engine and scores the rankings. The corpus is indexed once
/// into <c>&lt;indexes&gt;/eval-&lt;dataset&gt;-&lt;key&gt;</c>, where the key hashes the corpus bytes and the index settings, so a
/// second run reuses it.
/// </summary>
public sealed class BeirEvaluator
{
    private const int Depth = 100;

    private readonly ModelCatalog? _models;

    /// <summary>An evaluator; <paramref name="models"/> is the catalog a model's default fusion is read from (null: the engine's default catalog).</summary>
    public BeirEvaluator(ModelCatalog? models = null) => _models = models;

    /// <summary>Evaluates <paramref name="dataset"/>.</summary>
    public EvaluationResult Run(BeirDataset dataset, EvaluationOptions options, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Settings.Validate();
        var (directory, reused, seconds, documents) = EnsureIndex(dataset, options.Settings, options.Encoders, progress, cancellationToken);
        using var index = OpenIndex(directory, options.Encoders);
        var searcher = new Searcher(index);

        var judged = JudgedQueries(dataset, options.QueryIds);
        var results = new Dictionary<string, ModeMetrics>(StringComparer.Ordinal);
        var perQuery = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        var fusions = new Dictionary<string, FusionOptions>(StringComparer.Ordinal);
        var runsToScore = options.Modes.Select(m => (Name: m.ToString().ToLowerInvariant(), Mode: m, Fusion: options.Fusion, Spaces: (IReadOnlyList<string>?)null)).ToList();
        foreach (var (name, fusion) in options.ExtraHybrids ?? new Dictionary<string, FusionOptions>())
        {
            runsToScore.Add((name, SearchMode.Hybrid, fusion, null));
        }
        if (index.Manifest.Spaces.Count > 1)
        {
            // each space alone, and each beside BM25 with its own model's default: what one index per model would give
            foreach (var space in index.Manifest.Spaces)
            {
                if (options.Modes.Contains(SearchMode.Dense))
                {
                    runsToScore.Add(($"dense:{space.Name}", SearchMode.Dense, null, [space.Name]));
                }
                if (options.Modes.Contains(SearchMode.Hybrid))
                {
                    runsToScore.Add(($"hybrid:{space.Name}", SearchMode.Hybrid, FusionDefaults.For(space.Model, _models), [space.Name]));
                }
            }
        }
        foreach (var (modeName, mode, fusion, spaces) in runsToScore)
        {
            if (mode == SearchMode.Hybrid || (mode == SearchMode.Dense && spaces is null && index.Manifest.Spaces.Count > 1))
            {
                fusions[modeName] = fusion ?? index.Manifest.Fusion ?? new FusionOptions();
            }
            var runs = new ConcurrentDictionary<string, IReadOnlyList<(string DocId, double Score)>>(StringComparer.Ordinal);
            var clock = Stopwatch.StartNew();
            ForEachQuery(judged, $"queries ({modeName})", progress, qid =>
            {
                var ranked = searcher.RankDocuments(dataset.Queries[qid], mode, Depth + 1, fusion: fusion, spaces: spaces, relevanceFloor: options.RelevanceFloor);
                runs[qid] = WithoutSelf(dataset, qid, ranked, Depth).Select(r => (r.DocId, r.Score)).ToList();
            }, cancellationToken);
            var qps = judged.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);

            double ndcg = 0, recall = 0, mrr = 0, map = 0;
            var ndcgByQuery = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var qid in judged)
            {
                var ranked = RetrievalMetrics.Order(runs[qid]);
                var rel = dataset.Qrels[qid];
                var n = RetrievalMetrics.Ndcg(ranked, rel, 10);
                ndcgByQuery[qid] = n;
                ndcg += n;
                recall += RetrievalMetrics.Recall(ranked, rel, 100);
                mrr += RetrievalMetrics.ReciprocalRank(ranked, rel, 10);
                map += RetrievalMetrics.AveragePrecision(ranked, rel, 100);
            }
            var count = Math.Max(judged.Count, 1);
            results[modeName] = new ModeMetrics(ndcg / count, recall / count, mrr / count, map / count, qps);
            perQuery[modeName] = ndcgByQuery;
            if (options.RunDirectory is { } runDir)
            {
                var fileName = modeName.Replace(':', '-');
                WriteTrecRun(Path.Combine(runDir, $"{dataset.Name}-{fileName}.trec"), judged, runs, $"semsearch-{fileName}");
            }
        }
        var models = options.Encoders.Count == 0 ? null : string.Join(",", options.Encoders.Select(e => e.Info.ModelId));
        return new EvaluationResult(dataset.Name, options.Split, judged.Count, results, directory, reused, seconds, documents, perQuery, models, fusions);
    }

    // The evaluation index, read-only, with a model for each of its spaces.
    private static SemanticIndex OpenIndex(string directory, IReadOnlyList<ITextEncoder> encoders) =>
        SemanticIndex.OpenReadOnly(directory, encoders.Count == 0 ? null
            : info => encoders.FirstOrDefault(e => e.Info.ModelId == info.ModelId) ?? throw new Core.ModelMismatchException($"evaluation index {directory} has a space of {info.ModelId}, which was not given"));

    /// <summary>
    /// Tunes hybrid fusion on <paramref name="tuneSet"/>'s judged queries (or the <paramref name="queryIds"/> among
    /// them): both retrievers run once per query, then <see cref="FusionTuner"/> replays every setting.
    /// </summary>
    public FusionTuning TuneFusion(BeirDataset tuneSet, IReadOnlyCollection<string>? queryIds, EvaluationOptions options, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (set, baseline) = RankForTuning(tuneSet, queryIds, options, progress, cancellationToken);
        return Tune([set], baseline, progress, cancellationToken);
    }

    /// <summary>Replays the fusion grid over tuning sets gathered with <see cref="RankForTuning"/>.</summary>
    public static FusionTuning Tune(IReadOnlyList<TuningSet> sets, FusionOptions baseline, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        progress?.Report(new EvaluationProgress($"fusion grid ({FusionTuner.GridFor(sets.Count > 0 ? sets[0].SpaceNames : null).Count} settings)", 0, 1));
        var tuning = FusionTuner.Tune(sets, baseline, cancellationToken: cancellationToken);
        var settings = FusionTuner.GridFor(sets[0].SpaceNames).Count;
        progress?.Report(new EvaluationProgress($"fusion grid ({settings} settings)", 1, 1));
        return tuning;
    }

    /// <summary>
    /// Both rankings of every judged query of <paramref name="tuneSet"/> (or of <paramref name="queryIds"/>), as deep
    /// as the tuning grid needs, and the index's default fusion (what tuning must beat).
    /// </summary>
    public (TuningSet Set, FusionOptions Baseline) RankForTuning(BeirDataset tuneSet, IReadOnlyCollection<string>? queryIds, EvaluationOptions options, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Encoder is null)
        {
            throw new Core.InvalidSettingException("model", "fusion tuning needs an embedding model (not --model none).");
        }
        var (directory, _, _, _) = EnsureIndex(tuneSet, options.Settings, options.Encoders, progress, cancellationToken);
        using var index = OpenIndex(directory, options.Encoders);
        var searcher = new Searcher(index);
        var judged = JudgedQueries(tuneSet, queryIds);
        var sides = new ConcurrentDictionary<string, QuerySides>(StringComparer.Ordinal);
        var depth = FusionTuner.MaxDepth;
        ForEachQuery(judged, $"tuning queries ({tuneSet.Name})", progress, qid =>
        {
            var (lexical, spaces) = searcher.RankRetrievers(tuneSet.Queries[qid], depth + 1);
            sides[qid] = new QuerySides(WithoutSelf(tuneSet, qid, lexical, depth), spaces.Select(sp => (IReadOnlyList<RankedDocument>)WithoutSelf(tuneSet, qid, sp.Ranking, depth)).ToList());
        }, cancellationToken);
        var names = index.Manifest.Spaces.Count > 1 ? index.Manifest.Spaces.Select(sp => sp.Name).ToList() : null;
        return (new TuningSet(tuneSet.Name, sides, tuneSet.Qrels, names), options.Fusion ?? index.Manifest.Fusion ?? new FusionOptions());
    }

    // Runs the judged queries in parallel on every core, reporting each one done.
    private static void ForEachQuery(List<string> judged, string stage, IProgress<EvaluationProgress>? progress, Action<string> run, CancellationToken cancellationToken)
    {
        var done = 0;
        Parallel.ForEach(
            judged,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            qid =>
            {
                run(qid);
                progress?.Report(new EvaluationProgress(stage, Interlocked.Increment(ref done), judged.Count));
            });
    }

    // BEIR convention: a query never retrieves itself, where queries are corpus documents (ArguAna, Quora).
    private static List<RankedDocument> WithoutSelf(BeirDataset dataset, string qid, IReadOnlyList<RankedDocument> list, int depth) =>
        list.Where(r => !dataset.QueriesAreDocuments || r.DocId != qid).Take(depth).ToList();

    private static List<string> JudgedQueries(BeirDataset dataset, IReadOnlyCollection<string>? only)
    {
        var set = only is null ? null : new HashSet<string>(only, StringComparer.Ordinal);
        return dataset.Qrels.Keys
            .Where(q => dataset.Queries.ContainsKey(q) && (set is null || set.Contains(q)))
            .OrderBy(q => q, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Writes a run in TREC format: <c>qid Q0 docid rank score tag</c>, ranks from 1 in trec_eval order.</summary>
    public static void WriteTrecRun(string path, IEnumerable<string> queryIds, IReadOnlyDictionary<string, IReadOnlyList<(string DocId, double Score)>> runs, string tag)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var sb = new StringBuilder();
        foreach (var qid in queryIds)
        {
            var ordered = runs[qid].OrderByDescending(r => r.Score).ThenByDescending(r => r.DocId, StringComparer.Ordinal).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                sb.Append(qid).Append(" Q0 ").Append(ordered[i].DocId).Append(' ').Append(i + 1).Append(' ')
                  .Append(ordered[i].Score.ToString("R", CultureInfo.InvariantCulture)).Append(' ').Append(tag).Append('\n');
            }
        }
        File.WriteAllText(path, sb.ToString());
    }

    private readonly Dictionary<string, (double Seconds, int Documents)> _built = new(StringComparer.Ordinal);

    private (string Directory, bool Reused, double Seconds, int Documents) EnsureIndex(
        BeirDataset dataset, IndexSettings settings, IReadOnlyList<ITextEncoder> encoders, IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken)
    {
        var key = IndexKey(dataset, settings, encoders.Select(e => e.Info).ToList());
        var directory = Path.Combine(IndexLocation.Root, $"eval-{dataset.Name}-{key}");
        if (_built.TryGetValue(directory, out var built))
        {
            return (directory, false, built.Seconds, built.Documents); // built by this evaluator moments ago: report that build
        }
        var marker = Path.Combine(directory, "eval.complete");
        if (File.Exists(marker) && File.ReadAllText(marker).Trim() == key)
        {
            var manifest = IndexManifest.Read(directory);
            // the fusion default is not part of the key (it changes no stored data): bring a reused index up to date
            var fusion = encoders.Count == 0 ? null : settings.Fusion ?? FusionDefaults.For(manifest.Spaces.Select(sp => (sp.Name, sp.Model)).ToList(), _models);
            if (fusion is not null && manifest.Fusion != fusion)
            {
                using var index = SemanticIndex.OpenOrCreate(directory, settings, encoders);
                index.SetDefaultFusion(fusion);
                index.Commit();
            }
            return (directory, true, 0, (int)manifest.Counts.Documents);
        }
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true); // an interrupted build: start clean
        }
        var clock = Stopwatch.StartNew();
        var total = File.ReadLines(dataset.CorpusPath).Count(l => !string.IsNullOrWhiteSpace(l));
        var documents = 0;
        using (var index = SemanticIndex.OpenOrCreate(directory, settings, encoders))
        {
            var source = "beir:" + dataset.Name;
            var empty = new Dictionary<string, string>();
            using var writer = new BatchedIndexWriter(index, chunksPerBatch: 256);
            index.BeginBatch();
            foreach (var doc in dataset.Corpus())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var bytes = Encoding.UTF8.GetBytes(doc.Title + "\n" + doc.Text);
                var document = new SourceDocument(doc.Id, source, string.Empty, doc.Title, doc.Text, string.Empty, bytes.Length,
                    DateTime.UnixEpoch, Convert.ToHexStringLower(XxHash128.Hash(bytes)), empty);
                documents++;
                if (writer.Add(document, index.Chunk(document)))
                {
                    progress?.Report(new EvaluationProgress("indexing", documents, total));
                }
            }
            writer.Flush();
            progress?.Report(new EvaluationProgress("indexing", documents, total));
            index.Commit();
        }
        File.WriteAllText(marker, key);
        _built[directory] = (clock.Elapsed.TotalSeconds, documents);
        return (directory, false, clock.Elapsed.TotalSeconds, documents);
    }

    private static string IndexKey(BeirDataset dataset, IndexSettings settings, IReadOnlyList<EncoderInfo> models)
    {
        // one model keys as it always has (its cached indexes stay valid); several are keyed by the list, in order
        var model = models.Count switch { 0 => (object)"none", 1 => models[0], _ => models };
        var hash = new XxHash128();
        using (var corpus = File.OpenRead(dataset.CorpusPath))
        {
            hash.Append(corpus);
        }
        // the lexical format is in the key: an index cached under an older layout (documents scored as their best
        // chunk, title-only documents without chunks) is never reused for this build's scoring
        hash.Append(JsonSerializer.SerializeToUtf8Bytes(new { settings.Chunking, settings.Lexical, settings.Vectors, settings.WindowTokens, Model = model, LexicalFormat = SemanticIndex.LexicalFormat }));
        return Convert.ToHexStringLower(hash.GetCurrentHash())[..12];
    }
}
