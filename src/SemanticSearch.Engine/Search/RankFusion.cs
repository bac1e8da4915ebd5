// Rank fusion of several rankings: BM25 and one or more vector spaces (or the spaces alone).
//
// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): score(d) = Σ_i w_i / (k + rank_i(d)), over the
// retrievers that returned d, with 1-based ranks; k = 60 in the paper. A document missing from one list simply gets no
// term from it.
//
// Convex combination of min-max normalised scores (as compared by Bruch, Gai & Ingber, TOIS 2023):
// score(d) = Σ_i w_i·n_i(d) / Σ_i w_i, where n_i(d) = (s − min)/(max − min) over retriever i's list (1 when all its
// scores are equal) and 0 for a document retriever i did not return. Each list is normalised on its own, so BM25
// scores and cosines of models with different score ranges meet on one scale.
//
// Ties in the fused score are broken by the best (smallest) rank any retriever gave, then by the first ranking's rank
// (BM25 in a hybrid query), then by key, so the order — and therefore paging — is deterministic. With two rankings
// this is exactly the two-retriever fusion the engine has always run.
namespace SemanticSearch.Engine.Search;

/// <summary>One ranked candidate from one retriever.</summary>
public readonly record struct Ranked<TKey>(TKey Key, double Score);

/// <summary>A fused result with the evidence from each side (null where that side did not return it).</summary>
public sealed record Fused<TKey>(TKey Key, double Score, int? LexicalRank, double? LexicalScore, int? DenseRank, double? DenseScore);

/// <summary>One retriever's ranking (best first) and its weight in a fusion.</summary>
public sealed record WeightedRanking<TKey>(IReadOnlyList<Ranked<TKey>> Ranking, double Weight);

/// <summary>A fused result with each retriever's rank and score, in the order the rankings were given (null where one did not return it).</summary>
public sealed record FusedHit<TKey>(TKey Key, double Score, IReadOnlyList<RetrieverRank?> Evidence);

/// <summary>Fusion of rankings into one.</summary>
public static class RankFusion
{
    /// <summary>Fuses <paramref name="rankings"/> by <paramref name="method"/> (RRF with rank constant <paramref name="k"/>, or convex).</summary>
    public static List<FusedHit<TKey>> Fuse<TKey>(FusionMethod method, double k, IReadOnlyList<WeightedRanking<TKey>> rankings, IComparer<TKey> keyOrder)
        where TKey : notnull =>
        method == FusionMethod.Rrf ? Reciprocal(rankings, k, keyOrder) : Convex(rankings, keyOrder);

    /// <summary>Reciprocal rank fusion of any number of weighted rankings.</summary>
    public static List<FusedHit<TKey>> Reciprocal<TKey>(IReadOnlyList<WeightedRanking<TKey>> rankings, double k, IComparer<TKey> keyOrder)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(rankings);
        var table = Join(rankings);
        var result = new List<FusedHit<TKey>>(table.Count);
        foreach (var (key, evidence) in table)
        {
            var score = 0.0;
            for (var i = 0; i < evidence.Length; i++)
            {
                if (evidence[i] is { } e)
                {
                    score += rankings[i].Weight / (k + e.Rank);
                }
            }
            result.Add(new FusedHit<TKey>(key, score, evidence));
        }
        Sort(result, keyOrder);
        return result;
    }

    /// <summary>Weighted convex combination of min-max normalised scores of any number of rankings.</summary>
    public static List<FusedHit<TKey>> Convex<TKey>(IReadOnlyList<WeightedRanking<TKey>> rankings, IComparer<TKey> keyOrder)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(rankings);
        var table = Join(rankings);
        var ranges = rankings.Select(r => Range(r.Ranking)).ToArray();
        var total = rankings.Sum(r => r.Weight);
        var result = new List<FusedHit<TKey>>(table.Count);
        foreach (var (key, evidence) in table)
        {
            var score = 0.0;
            for (var i = 0; i < evidence.Length; i++)
            {
                if (evidence[i] is { } e)
                {
                    score += rankings[i].Weight * Normalise(e.Score, ranges[i].Min, ranges[i].Max);
                }
            }
            result.Add(new FusedHit<TKey>(key, total > 0 ? score / total : 0, evidence));
        }
        Sort(result, keyOrder);
        return result;
    }

    /// <summary>Reciprocal rank fusion of a lexical and a dense ranking with per-retriever weights.</summary>
    public static List<Fused<TKey>> Reciprocal<TKey>(IReadOnlyList<Ranked<TKey>> lexical, IReadOnlyList<Ranked<TKey>> dense, double k, double lexicalWeight, double denseWeight, IComparer<TKey> keyOrder)
        where TKey : notnull =>
        Pair(Reciprocal([new(lexical, lexicalWeight), new(dense, denseWeight)], k, keyOrder));

    /// <summary>Weighted convex combination of min-max normalised lexical and dense scores.</summary>
    public static List<Fused<TKey>> Convex<TKey>(IReadOnlyList<Ranked<TKey>> lexical, IReadOnlyList<Ranked<TKey>> dense, double lexicalWeight, double denseWeight, IComparer<TKey> keyOrder)
        where TKey : notnull =>
        Pair(Convex([new(lexical, lexicalWeight), new(dense, denseWeight)], keyOrder));

    private static List<Fused<TKey>> Pair<TKey>(List<FusedHit<TKey>> fused) =>
        fused.Select(f => new Fused<TKey>(f.Key, f.Score, f.Evidence[0]?.Rank, f.Evidence[0]?.Score, f.Evidence[1]?.Rank, f.Evidence[1]?.Score)).ToList();

    private static double Normalise(double s, double min, double max) => max > min ? (s - min) / (max - min) : 1.0;

    private static (double Min, double Max) Range<TKey>(IReadOnlyList<Ranked<TKey>> list)
    {
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        foreach (var r in list)
        {
            min = Math.Min(min, r.Score);
            max = Math.Max(max, r.Score);
        }
        return (min, max);
    }

    // Ranks are positions in each list (1-based); a key repeated within one list keeps its first (best) position.
    private static Dictionary<TKey, RetrieverRank?[]> Join<TKey>(IReadOnlyList<WeightedRanking<TKey>> rankings)
        where TKey : notnull
    {
        var table = new Dictionary<TKey, RetrieverRank?[]>();
        for (var list = 0; list < rankings.Count; list++)
        {
            var ranking = rankings[list].Ranking;
            for (var i = 0; i < ranking.Count; i++)
            {
                if (!table.TryGetValue(ranking[i].Key, out var e))
                {
                    table[ranking[i].Key] = e = new RetrieverRank?[rankings.Count];
                }
                e[list] ??= new RetrieverRank(i + 1, ranking[i].Score);
            }
        }
        return table;
    }

    private static void Sort<TKey>(List<FusedHit<TKey>> list, IComparer<TKey> keyOrder) =>
        list.Sort((a, b) =>
        {
            var c = b.Score.CompareTo(a.Score);
            if (c != 0)
            {
                return c;
            }
            c = BestRank(a).CompareTo(BestRank(b));
            if (c != 0)
            {
                return c;
            }
            c = FirstRank(a).CompareTo(FirstRank(b));
            return c != 0 ? c : keyOrder.Compare(a.Key, b.Key);
        });

    // The first ranking's rank (BM25's in a hybrid query); a key it did not return sorts after every rank.
    private static int FirstRank<TKey>(FusedHit<TKey> f) => f.Evidence.Count > 0 && f.Evidence[0] is { } r ? r.Rank : int.MaxValue;

    private static int BestRank<TKey>(FusedHit<TKey> f)
    {
        var best = int.MaxValue;
        foreach (var e in f.Evidence)
        {
            if (e is { } r && r.Rank < best)
            {
                best = r.Rank;
            }
        }
        return best;
    }
}
