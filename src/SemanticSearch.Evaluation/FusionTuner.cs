// Fusion tuning: choose how hybrid search merges BM25 and the dense ranking from labelled queries.
//
// Each tuning query is retrieved once per side, as deep as the deepest candidate depth in the grid; every setting is
// then replayed in memory by fusing prefixes of those two lists with the same RankFusion code the searcher runs, and
// scored with the trec_eval metrics. The grid covers reciprocal rank fusion (rank constant k, dense weight against a
// lexical weight of 1, and dense alone) and the convex combination of min-max normalised scores (dense share α), each
// at several candidate depths. A dense weight of 0 is in the grid on purpose: when the model adds nothing on this
// data, the honest answer is "hybrid = BM25".
//
// Selection: the highest mean nDCG@10 among the settings whose Recall@100 is at least BM25's on the same queries
// (a default that loses recall would make hybrid worse than lexical on the second page); ties go to the earlier
// setting in grid order, which lists larger k, smaller dense weights and deeper candidate lists first — the more
// conservative choice. Only the tuning queries are looked at; the caller reports held-out queries.
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Evaluation;

/// <summary>Mean nDCG@10 and Recall@100 of one fusion setting over the tuning queries.</summary>
public sealed record FusionScore(FusionOptions Fusion, double Ndcg10, double Recall100);

/// <summary>The outcome of a tuning run.</summary>
/// <param name="Best">The chosen setting.</param>
/// <param name="BestScore">Its scores on the tuning queries.</param>
/// <param name="Lexical">BM25 alone on the tuning queries.</param>
/// <param name="Dense">The dense retriever alone on the tuning queries.</param>
/// <param name="Baseline">The setting the index had before tuning, on the tuning queries.</param>
/// <param name="Top">The best settings by nDCG@10 (eligible or not), for the report.</param>
/// <param name="SettingsTried">Grid size.</param>
/// <param name="Queries">Tuning queries used.</param>
public sealed record FusionTuning(
    FusionOptions Best,
    FusionScore BestScore,
    FusionScore Lexical,
    FusionScore Dense,
    FusionScore Baseline,
    IReadOnlyList<FusionScore> Top,
    int SettingsTried,
    int Queries);

/// <summary>The two rankings of one query before fusion.</summary>
public sealed record QuerySides(IReadOnlyList<RankedDocument> Lexical, IReadOnlyList<RankedDocument> Dense);

/// <summary>Grid search over fusion settings, replayed from per-query retriever rankings.</summary>
public static class FusionTuner
{
    /// <summary>Candidate depths tried; the sides must be retrieved at least <see cref="MaxDepth"/> deep.</summary>
    public static readonly int[] Depths = [200, 100, 50, 20];

    /// <summary>The deepest candidate list the grid uses.</summary>
    public static int MaxDepth => Depths.Max();

    private static readonly double[] RrfK = [200, 100, 60, 40, 20, 10, 5, 2, 1];
    private static readonly double[] DenseWeights = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 5];

    /// <summary>Every setting tried, in tie-break order.</summary>
    public static IReadOnlyList<FusionOptions> Grid { get; } = BuildGrid();

    private static List<FusionOptions> BuildGrid()
    {
        var grid = new List<FusionOptions>();
        foreach (var depth in Depths)
        {
            foreach (var k in RrfK)
            {
                foreach (var w in DenseWeights)
                {
                    grid.Add(new FusionOptions(FusionMethod.Rrf, k, 1, w, depth));
                }
                grid.Add(new FusionOptions(FusionMethod.Rrf, k, 0, 1, depth));
            }
            for (var a = 0; a <= 20; a++)
            {
                var alpha = a / 20.0;
                grid.Add(new FusionOptions(FusionMethod.Convex, 60, Math.Round(1 - alpha, 2), alpha, depth));
            }
        }
        return grid;
    }

    /// <summary>
    /// Picks the best setting for <paramref name="sides"/> judged by <paramref name="qrels"/> (queries without
    /// judgements are ignored). <paramref name="baseline"/> is scored too, for comparison.
    /// </summary>
    public static FusionTuning Tune(
        IReadOnlyDictionary<string, QuerySides> sides,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels,
        FusionOptions baseline,
        int parallelism = 0,
        CancellationToken cancellationToken = default)
    {
        var queries = sides.Keys.Where(qrels.ContainsKey).OrderBy(q => q, StringComparer.Ordinal).ToList();
        if (queries.Count == 0)
        {
            throw new Core.InvalidSettingException("split", "no judged tuning queries: fusion tuning needs labelled queries.");
        }
        var grid = Grid;
        var scores = new FusionScore[grid.Count];
        Parallel.For(0, grid.Count, new ParallelOptions
        {
            MaxDegreeOfParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount,
            CancellationToken = cancellationToken,
        }, i => scores[i] = Score(grid[i], queries, sides, qrels));

        var lexical = ScoreSide(queries, sides, qrels, dense: false);
        var dense = ScoreSide(queries, sides, qrels, dense: true);
        FusionScore? best = null;
        foreach (var s in scores)
        {
            if (s.Recall100 + 1e-12 >= lexical.Recall100 && (best is null || s.Ndcg10 > best.Ndcg10 + 1e-12))
            {
                best = s;
            }
        }
        // the grid holds "dense weight 0 at depth 200", which is BM25 itself, so some setting is always eligible
        best ??= scores[0];
        var top = scores.OrderByDescending(s => s.Ndcg10).Take(10).ToList();
        var baselineScore = Score(baseline with { Depth = baseline.Depth ?? 100 }, queries, sides, qrels);
        return new FusionTuning(best.Fusion, best, lexical, dense, baselineScore, top, grid.Count, queries.Count);
    }

    /// <summary>Scores one setting over <paramref name="queries"/>.</summary>
    public static FusionScore Score(
        FusionOptions fusion,
        IReadOnlyList<string> queries,
        IReadOnlyDictionary<string, QuerySides> sides,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels)
    {
        double ndcg = 0, recall = 0;
        var depth = fusion.Depth ?? 100;
        foreach (var q in queries)
        {
            var (lex, den) = (sides[q].Lexical, sides[q].Dense);
            var l = Prefix(lex, depth);
            var d = Prefix(den, depth);
            var fused = fusion.Method == FusionMethod.Rrf
                ? RankFusion.Reciprocal(l, d, fusion.K, fusion.LexicalWeight, fusion.DenseWeight, StringComparer.Ordinal)
                : RankFusion.Convex(l, d, fusion.LexicalWeight, fusion.DenseWeight, StringComparer.Ordinal);
            var ranked = RetrievalMetrics.Order(fused.Take(100).Select(f => (f.Key, f.Score)));
            ndcg += RetrievalMetrics.Ndcg(ranked, qrels[q], 10);
            recall += RetrievalMetrics.Recall(ranked, qrels[q], 100);
        }
        return new FusionScore(fusion, ndcg / queries.Count, recall / queries.Count);
    }

    private static FusionScore ScoreSide(IReadOnlyList<string> queries, IReadOnlyDictionary<string, QuerySides> sides, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels, bool dense)
    {
        double ndcg = 0, recall = 0;
        foreach (var q in queries)
        {
            var list = dense ? sides[q].Dense : sides[q].Lexical;
            var ranked = RetrievalMetrics.Order(list.Take(100).Select(r => (r.DocId, r.Score)));
            ndcg += RetrievalMetrics.Ndcg(ranked, qrels[q], 10);
            recall += RetrievalMetrics.Recall(ranked, qrels[q], 100);
        }
        var label = dense ? new FusionOptions(FusionMethod.Rrf, 60, 0, 1, 100) : new FusionOptions(FusionMethod.Rrf, 60, 1, 0, 100);
        return new FusionScore(label, ndcg / queries.Count, recall / queries.Count);
    }

    private static List<Ranked<string>> Prefix(IReadOnlyList<RankedDocument> list, int depth)
    {
        var n = Math.Min(depth, list.Count);
        var result = new List<Ranked<string>>(n);
        for (var i = 0; i < n; i++)
        {
            result.Add(new Ranked<string>(list[i].DocId, list[i].Score));
        }
        return result;
    }

    /// <summary>Splits query ids into a tuning half and a held-out half by a stable hash of the id.</summary>
    public static (List<string> Tune, List<string> HeldOut) HoldOut(IEnumerable<string> queryIds)
    {
        var tune = new List<string>();
        var held = new List<string>();
        foreach (var q in queryIds.OrderBy(q => q, StringComparer.Ordinal))
        {
            var h = System.IO.Hashing.XxHash32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes(q));
            (h % 2 == 0 ? tune : held).Add(q);
        }
        return (tune, held);
    }
}
