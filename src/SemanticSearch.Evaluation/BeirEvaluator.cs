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

namespace SemanticSearch.Evaluation;

/// <summary>What to evaluate.</summary>
/// <param name="Modes">Retrieval modes to run.</param>
/// <param name="Split">Qrels split (<c>qrels/&lt;split&gt;.tsv</c>).</param>
/// <param name="Settings">Index settings (chunking, BM25).</param>
/// <param name="RunDirectory">Where to write TREC run files, or null.</param>
/// <param name="Encoder">The embedding model for dense and hybrid modes (null: lexical only).</param>
/// <param name="Fusion">Fusion for hybrid mode; null uses the index's default.</param>
public sealed record EvaluationOptions(IReadOnlyList<SearchMode> Modes, string Split, IndexSettings Settings, string? RunDirectory = null, ITextEncoder? Encoder = null, FusionOptions? Fusion = null);

/// <summary>Averaged metrics of one mode.</summary>
public sealed record ModeMetrics(double Ndcg10, double Recall100, double Mrr10, double Map100, double QueriesPerSecond);

/// <summary>Progress of an evaluation stage.</summary>
public sealed record EvaluationProgress(string Stage, int Done, int Total);

/// <summary>The result of evaluating a dataset.</summary>
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
    string? Model);

/// <summary>
/// Runs every judged query of a BEIR dataset through the engine and scores the rankings. The corpus is indexed once
/// into <c>&lt;indexes&gt;/eval-&lt;dataset&gt;-&lt;key&gt;</c>, where the key hashes the corpus bytes and the index settings, so a
/// second run reuses it.
/// </summary>
public sealed class BeirEvaluator
{
    private const int Depth = 100;

    /// <summary>Evaluates <paramref name="dataset"/>.</summary>
    public EvaluationResult Run(BeirDataset dataset, EvaluationOptions options, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Settings.Validate();
        var (directory, reused, seconds, documents) = EnsureIndex(dataset, options.Settings, options.Encoder, progress, cancellationToken);
        using var index = SemanticIndex.OpenReadOnly(directory, options.Encoder is null ? null : _ => options.Encoder);
        var searcher = new Searcher(index);

        var judged = dataset.Qrels.Keys.Where(dataset.Queries.ContainsKey).OrderBy(q => q, StringComparer.Ordinal).ToList();
        var results = new Dictionary<string, ModeMetrics>(StringComparer.Ordinal);
        var perQuery = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var mode in options.Modes)
        {
            var modeName = mode.ToString().ToLowerInvariant();
            var runs = new ConcurrentDictionary<string, IReadOnlyList<(string DocId, double Score)>>(StringComparer.Ordinal);
            var done = 0;
            var clock = Stopwatch.StartNew();
            Parallel.ForEach(
                judged,
                new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
                qid =>
                {
                    var ranked = searcher.RankDocuments(dataset.Queries[qid], mode, Depth + 1, fusion: options.Fusion);
                    // BEIR convention: a query never retrieves itself (matters where queries are also corpus documents)
                    runs[qid] = ranked.Where(r => r.DocId != qid).Take(Depth).Select(r => (r.DocId, r.Score)).ToList();
                    progress?.Report(new EvaluationProgress($"queries ({modeName})", Interlocked.Increment(ref done), judged.Count));
                });
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
                WriteTrecRun(Path.Combine(runDir, $"{dataset.Name}-{modeName}.trec"), judged, runs, $"semsearch-{modeName}");
            }
        }
        return new EvaluationResult(dataset.Name, options.Split, judged.Count, results, directory, reused, seconds, documents, perQuery, options.Encoder?.Info.ModelId);
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

    private static (string Directory, bool Reused, double Seconds, int Documents) EnsureIndex(
        BeirDataset dataset, IndexSettings settings, ITextEncoder? encoder, IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken)
    {
        var key = IndexKey(dataset, settings, encoder?.Info);
        var directory = Path.Combine(IndexLocation.Root, $"eval-{dataset.Name}-{key}");
        var marker = Path.Combine(directory, "eval.complete");
        if (File.Exists(marker) && File.ReadAllText(marker).Trim() == key)
        {
            var manifest = IndexManifest.Read(directory);
            return (directory, true, 0, (int)manifest.Counts.Documents);
        }
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true); // an interrupted build: start clean
        }
        var clock = Stopwatch.StartNew();
        var total = File.ReadLines(dataset.CorpusPath).Count(l => !string.IsNullOrWhiteSpace(l));
        var documents = 0;
        using (var index = SemanticIndex.OpenOrCreate(directory, settings, encoder))
        {
            var source = "beir:" + dataset.Name;
            var empty = new Dictionary<string, string>();
            var writer = new BatchedIndexWriter(index, chunksPerBatch: 256);
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
        return (directory, false, clock.Elapsed.TotalSeconds, documents);
    }

    private static string IndexKey(BeirDataset dataset, IndexSettings settings, EncoderInfo? model)
    {
        var hash = new XxHash128();
        using (var corpus = File.OpenRead(dataset.CorpusPath))
        {
            hash.Append(corpus);
        }
        hash.Append(JsonSerializer.SerializeToUtf8Bytes(new { settings.Chunking, settings.Lexical, settings.Vectors, Model = (object?)model ?? "none" }));
        return Convert.ToHexStringLower(hash.GetCurrentHash())[..12];
    }
}
