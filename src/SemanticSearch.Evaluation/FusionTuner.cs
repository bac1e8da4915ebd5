// Fusion tuning: choose how hybrid search merges BM25 and the dense ranking from labelled queries.
//
// Each tuning query is retrieved once per side, as deep as the deepest candidate depth in the grid; every setting is
// then replayed in memory by fusing prefixes of those two lists with the same RankFusion code the searcher runs, and
// scored with the trec_eval metrics. The grid covers reciprocal rank fusion (rank constant k, dense weight against a
// lexical weight of 1, and dense alone) and the convex combination of min-max normalised scores (dense share α), each
// at several candidate depths. A dense weight of 0 is in the grid on purpose: when the model adds nothing on this
// data, the honest answer is "hybrid = BM25".
//
// Selection, guarded against overfitting a small tuning set (a grid of 732 settings will always contain one that
// looks better on 18 queries by chance):
// - eligible settings keep Recall@100 at least BM25's on every tuning set (a default that loses recall would make
//   hybrid worse than lexical on the second page);
// - with fewer than MinQueries judged tuning queries the index's default is kept;
// - a setting replaces the default only by its lower confidence bound: the mean per-query gain in nDCG@10 over the
//   default minus Z standard errors of that mean (a paired comparison on the same queries) must be positive, and the
//   setting with the highest bound wins. Small or noisy tuning sets thus shrink to the default, large ones move as far
//   as the evidence carries (a default that itself loses BM25's recall is replaced by the eligible setting with the
//   best bound, whatever its sign). Ties go to the earlier setting in grid order (larger k, smaller dense weights, deeper
//   candidate lists first — the more conservative choice).
// Several tuning sets (e.g. SciFact train and NFCorpus train for a model's shipped default) are weighted equally:
// gains and their variances are macro-averaged over the sets. Only the tuning queries are looked at; the caller
// reports held-out queries.
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
/// <param name="Decision">Why <paramref name="Best"/> was chosen (the guard's verdict), one line.</param>
public sealed record FusionTuning(
    FusionOptions Best,
    FusionScore BestScore,
    FusionScore Lexical,
    FusionScore Dense,
    FusionScore Baseline,
    IReadOnlyList<FusionScore> Top,
    int SettingsTried,
    int Queries,
    string Decision);

/// <summary>One set of tuning queries: their rankings and their judgements.</summary>
/// <param name="Name">The set's name (a dataset).</param>
/// <param name="Sides">Each query's rankings.</param>
/// <param name="Qrels">Judgements by query.</param>
/// <param name="SpaceNames">The vector space of each dense ranking, in order; null: one space, weighed by <see cref="FusionOptions.DenseWeight"/>.</param>
public sealed record TuningSet(
    string Name,
    IReadOnlyDictionary<string, QuerySides> Sides,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels,
    IReadOnlyList<string>? SpaceNames = null);

/// <summary>The rankings of one query before fusion: BM25's and each vector space's.</summary>
public sealed record QuerySides(IReadOnlyList<RankedDocument> Lexical, IReadOnlyList<IReadOnlyList<RankedDocument>> Spaces)
{
    /// <summary>The rankings of an index with one vector space.</summary>
    public QuerySides(IReadOnlyList<RankedDocument> lexical, IReadOnlyList<RankedDocument> dense)
        : this(lexical, new[] { dense })
    {
    }

    /// <summary>The first space's ranking.</summary>
    public IReadOnlyList<RankedDocument> Dense => Spaces[0];
}

/// <summary>Grid search over fusion settings, replayed from per-query retriever rankings.</summary>
public static class FusionTuner
{
    /// <summary>Candidate depths tried; the sides must be retrieved at least <see cref="MaxDepth"/> deep.</summary>
    public static readonly int[] Depths = [200, 100, 50, 20];

    /// <summary>The deepest candidate list the grid uses.</summary>
    public static int MaxDepth => Depths.Max();

    private static readonly double[] RrfK = [200, 100, 60, 40, 20, 10, 5, 2, 1];
    private static readonly double[] DenseWeights = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 5];

    /// <summary>Every setting tried on an index with one vector space, in tie-break order.</summary>
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

    // With several spaces: a weight for each space (BM25 weighs 1), RRF over fewer rank constants and depths, and the
    // convex combination over a simplex of shares in steps of 0.1. 2 spaces: 1,224 settings.
    private static readonly double[] RrfKSeveral = [100, 60, 40, 20, 10, 5, 2];
    private static readonly double[] SpaceWeightsTwo = [0, 0.25, 0.5, 0.75, 1, 1.5, 2];
    private static readonly double[] SpaceWeightsMore = [0, 0.5, 1, 2];
    private static readonly int[] DepthsSeveral = [200, 100, 50];

    /// <summary>The settings tried on an index with the vector spaces <paramref name="spaces"/>, in tie-break order.</summary>
    public static IReadOnlyList<FusionOptions> GridFor(IReadOnlyList<string>? spaces)
    {
        if (spaces is null || spaces.Count <= 1)
        {
            return Grid;
        }
        var weights = spaces.Count == 2 ? SpaceWeightsTwo : SpaceWeightsMore;
        var combinations = new List<double[]> { new double[spaces.Count] };
        for (var s = 0; s < spaces.Count; s++)
        {
            combinations = combinations.SelectMany(c => weights.Select(w => { var n = (double[])c.Clone(); n[s] = w; return n; })).ToList();
        }
        Dictionary<string, double> Named(double[] w) => spaces.Select((name, i) => (name, w[i])).ToDictionary(x => x.name, x => x.Item2, StringComparer.OrdinalIgnoreCase);
        var grid = new List<FusionOptions>();
        foreach (var depth in DepthsSeveral)
        {
            foreach (var k in RrfKSeveral)
            {
                foreach (var w in combinations.Where(c => c.Any(x => x > 0)))
                {
                    grid.Add(new FusionOptions(FusionMethod.Rrf, k, 1, 1, depth, Named(w)));
                }
                grid.Add(new FusionOptions(FusionMethod.Rrf, k, 0, 1, depth)); // the spaces alone
            }
            foreach (var shares in Simplex(spaces.Count + 1, 10))
            {
                if (shares.Skip(1).Any(x => x > 0))
                {
                    grid.Add(new FusionOptions(FusionMethod.Convex, 60, shares[0], 1, depth, Named(shares[1..])));
                }
            }
        }
        return grid;
    }

    // Every way to split 1 into `parts` shares that are multiples of 1/steps (first share largest first).
    private static IEnumerable<double[]> Simplex(int parts, int steps)
    {
        foreach (var counts in Compositions(parts, steps))
        {
            yield return counts.Select(c => Math.Round(c / (double)steps, 2)).ToArray();
        }
    }

    private static IEnumerable<int[]> Compositions(int parts, int total)
    {
        if (parts == 1)
        {
            yield return [total];
            yield break;
        }
        for (var first = total; first >= 0; first--)
        {
            foreach (var rest in Compositions(parts - 1, total - first))
            {
                yield return [first, .. rest];
            }
        }
    }

    /// <summary>Fewer judged tuning queries than this keep the default.</summary>
    public const int MinQueries = 50;

    /// <summary>
    /// Standard errors a setting's mean gain over the default must clear: 3 (99.9 % one-sided for one comparison),
    /// because the winner is the best of hundreds of correlated settings and its bound is biased upward. At 2, a
    /// setting tuned on 162 SciFact test queries cleared its bound by 0.0007 and lost 0.008 on the other 138.
    /// </summary>
    public const double Z = 3.0;

    /// <summary>
    /// Picks the best setting for <paramref name="sides"/> judged by <paramref name="qrels"/> (queries without
    /// judgements are ignored). <paramref name="baseline"/> is the default the guard shrinks to.
    /// </summary>
    public static FusionTuning Tune(
        IReadOnlyDictionary<string, QuerySides> sides,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels,
        FusionOptions baseline,
        int parallelism = 0,
        CancellationToken cancellationToken = default) =>
        Tune([new TuningSet("tuning", sides, qrels)], baseline, parallelism, cancellationToken);

    /// <summary>Picks the best setting over several tuning sets, each weighted equally.</summary>
    public static FusionTuning Tune(
        IReadOnlyList<TuningSet> sets,
        FusionOptions baseline,
        int parallelism = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var queries = sets.Select(t => t.Sides.Keys.Where(t.Qrels.ContainsKey).OrderBy(q => q, StringComparer.Ordinal).ToList()).ToList();
        var total = queries.Sum(q => q.Count);
        if (queries.Any(q => q.Count == 0))
        {
            throw new Core.InvalidSettingException("split", "no judged tuning queries: fusion tuning needs labelled queries.");
        }
        var names = sets[0].SpaceNames;
        if (sets.Any(t => !(t.SpaceNames ?? []).SequenceEqual(names ?? [], StringComparer.OrdinalIgnoreCase)))
        {
            throw new ArgumentException("every tuning set must come from an index with the same vector spaces", nameof(sets));
        }
        var grid = GridFor(names);
        var perQuery = new SetScores[grid.Count][];
        Parallel.For(0, grid.Count, new ParallelOptions
        {
            MaxDegreeOfParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount,
            CancellationToken = cancellationToken,
        }, i => perQuery[i] = sets.Select((t, j) => ScorePerQuery(grid[i], queries[j], t.Sides, t.Qrels, names)).ToArray());

        var lexical = Macro(new FusionOptions(FusionMethod.Rrf, 60, 1, 0, 100), sets.Select((t, j) => ScoreSide(queries[j], t.Sides, t.Qrels, dense: false)).ToList());
        var lexicalRecall = sets.Select((t, j) => ScoreSide(queries[j], t.Sides, t.Qrels, dense: false).Recall100).ToArray();
        var dense = Macro(new FusionOptions(FusionMethod.Rrf, 60, 0, 1, 100), sets.Select((t, j) => ScoreSide(queries[j], t.Sides, t.Qrels, dense: true)).ToList());
        var normalisedBaseline = baseline with { Depth = baseline.Depth ?? 100 };
        var baseScores = sets.Select((t, j) => ScorePerQuery(normalisedBaseline, queries[j], t.Sides, t.Qrels, names)).ToArray();
        var baselineScore = Summary(normalisedBaseline, baseScores);
        var scores = grid.Select((g, i) => Summary(g, perQuery[i])).ToList();
        var top = scores.OrderByDescending(s => s.Ndcg10).Take(10).ToList();

        FusionTuning Keep(string why) =>
            new(normalisedBaseline, baselineScore, lexical, dense, baselineScore, top, grid.Count, total, why);

        if (total < MinQueries)
        {
            return Keep($"kept the default: {total} judged tuning queries, fewer than the {MinQueries} the tuner needs");
        }

        // A default that loses BM25's recall is not a place to shrink to: then the best eligible bound wins, whatever its sign.
        var baselineKeepsRecall = true;
        for (var j = 0; j < sets.Count; j++)
        {
            baselineKeepsRecall &= baseScores[j].Recall100 + 1e-12 >= lexicalRecall[j];
        }
        int best = -1;
        double bestBound = baselineKeepsRecall ? 0 : double.NegativeInfinity, bestGain = 0;
        for (var i = 0; i < grid.Count; i++)
        {
            var keepsRecall = true;
            for (var j = 0; j < sets.Count; j++)
            {
                keepsRecall &= perQuery[i][j].Recall100 + 1e-12 >= lexicalRecall[j];
            }
            if (!keepsRecall)
            {
                continue;
            }

            var (gain, bound) = LowerBound(perQuery[i], baseScores);
            if (bound > bestBound + 1e-12)
            {
                (best, bestBound, bestGain) = (i, bound, gain);
            }
        }

        if (best < 0)
        {
            return Keep($"kept the default: no setting beat it by more than {Z:0.#} standard errors of the per-query gain while keeping BM25's Recall@100");
        }
        return new FusionTuning(grid[best], scores[best], lexical, dense, baselineScore, top, grid.Count, total,
            (baselineKeepsRecall ? "" : "the default loses BM25's Recall@100; ") + $"gain over the default {bestGain:+0.0000;-0.0000} nDCG@10 (lower bound {bestBound:+0.0000;-0.0000} at {Z:0.#} standard errors) on {total} queries");
    }

    private sealed record SetScores(double[] Ndcg, double Recall100);

    // The macro-averaged mean gain of a setting over the default and its lower confidence bound.
    private static (double Gain, double Bound) LowerBound(SetScores[] setting, SetScores[] baseline)
    {
        double gain = 0, variance = 0;
        for (var j = 0; j < setting.Length; j++)
        {
            var a = setting[j].Ndcg;
            var b = baseline[j].Ndcg;
            var n = a.Length;
            double mean = 0;
            for (var q = 0; q < n; q++)
            {
                mean += a[q] - b[q];
            }
            mean /= n;
            double ss = 0;
            for (var q = 0; q < n; q++)
            {
                var d = a[q] - b[q] - mean;
                ss += d * d;
            }
            gain += mean;
            variance += n > 1 ? ss / (n - 1) / n : 0;
        }
        var m = setting.Length;
        gain /= m;
        return (gain, gain - Z * Math.Sqrt(variance) / m);
    }

    private static FusionScore Summary(FusionOptions fusion, SetScores[] sets) =>
        new(fusion, sets.Average(s => s.Ndcg.Average()), sets.Average(s => s.Recall100));

    private static FusionScore Macro(FusionOptions label, IReadOnlyList<FusionScore> sets) =>
        new(label, sets.Average(s => s.Ndcg10), sets.Average(s => s.Recall100));

    private static SetScores ScorePerQuery(
        FusionOptions fusion,
        IReadOnlyList<string> queries,
        IReadOnlyDictionary<string, QuerySides> sides,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels,
        IReadOnlyList<string>? spaceNames)
    {
        var ndcg = new double[queries.Count];
        double recall = 0;
        for (var i = 0; i < queries.Count; i++)
        {
            var (n, r) = ScoreQuery(fusion, sides[queries[i]], qrels[queries[i]], spaceNames);
            ndcg[i] = n;
            recall += r;
        }
        return new SetScores(ndcg, recall / queries.Count);
    }

    // The same fusion a hybrid query runs: BM25 first, then each space with its weight.
    private static (double Ndcg10, double Recall100) ScoreQuery(FusionOptions fusion, QuerySides sides, IReadOnlyDictionary<string, int> judged, IReadOnlyList<string>? spaceNames)
    {
        var depth = fusion.Depth ?? 100;
        var rankings = new List<WeightedRanking<string>>(sides.Spaces.Count + 1) { new(Prefix(sides.Lexical, depth), fusion.LexicalWeight) };
        for (var i = 0; i < sides.Spaces.Count; i++)
        {
            var weight = spaceNames is { Count: > 1 } ? fusion.WeightOf(spaceNames[i]) : fusion.DenseWeight;
            rankings.Add(new(Prefix(sides.Spaces[i], depth), weight));
        }
        var fused = RankFusion.Fuse(fusion.Method, fusion.K, rankings, StringComparer.Ordinal);
        var ranked = RetrievalMetrics.Order(fused.Take(100).Select(f => (f.Key, f.Score)));
        return (RetrievalMetrics.Ndcg(ranked, judged, 10), RetrievalMetrics.Recall(ranked, judged, 100));
    }

    /// <summary>Scores one setting over <paramref name="queries"/>.</summary>
    public static FusionScore Score(
        FusionOptions fusion,
        IReadOnlyList<string> queries,
        IReadOnlyDictionary<string, QuerySides> sides,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels,
        IReadOnlyList<string>? spaceNames = null)
    {
        var scores = ScorePerQuery(fusion, queries, sides, qrels, spaceNames);
        return new FusionScore(fusion, scores.Ndcg.Average(), scores.Recall100);
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
