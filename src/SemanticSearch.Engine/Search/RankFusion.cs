// Rank fusion of a lexical and a dense ranking.
//
// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): score(d) = Σ_i w_i / (k + rank_i(d)), over the
// retrievers that returned d, with 1-based ranks; k = 60 in the paper. A document missing from one list simply gets no
// term from it.
//
// Convex combination of min-max normalised scores (as compared by Bruch, Gai & Ingber, TOIS 2023):
// score(d) = (w_lex·n_lex(d) + w_dense·n_dense(d)) / (w_lex + w_dense), where n(d) = (s − min)/(max − min) over that
// retriever's list (1 when all scores are equal) and 0 for a document the retriever did not return.
//
// Ties in the fused score are broken by the better (smaller) of the two ranks, then by the lexical rank, then by key,
// so the order — and therefore paging — is deterministic.
namespace SemanticSearch.Engine.Search;

/// <summary>One ranked candidate from one retriever.</summary>
public readonly record struct Ranked<TKey>(TKey Key, double Score);

/// <summary>A fused result with the evidence from each side (null where that side did not return it).</summary>
public sealed record Fused<TKey>(TKey Key, double Score, int? LexicalRank, double? LexicalScore, int? DenseRank, double? DenseScore);

/// <summary>Fusion of two rankings into one.</summary>
public static class RankFusion
{
    /// <summary>Reciprocal rank fusion with per-retriever weights.</summary>
    public static List<Fused<TKey>> Reciprocal<TKey>(IReadOnlyList<Ranked<TKey>> lexical, IReadOnlyList<Ranked<TKey>> dense, double k, double lexicalWeight, double denseWeight, IComparer<TKey> keyOrder)
        where TKey : notnull
    {
        var table = Join(lexical, dense);
        var result = new List<Fused<TKey>>(table.Count);
        foreach (var (key, e) in table)
        {
            var score = 0.0;
            if (e.LexRank is { } lr)
            {
                score += lexicalWeight / (k + lr);
            }
            if (e.DenseRank is { } dr)
            {
                score += denseWeight / (k + dr);
            }
            result.Add(new Fused<TKey>(key, score, e.LexRank, e.LexScore, e.DenseRank, e.DenseScore));
        }
        Sort(result, keyOrder);
        return result;
    }

    /// <summary>Weighted convex combination of min-max normalised scores.</summary>
    public static List<Fused<TKey>> Convex<TKey>(IReadOnlyList<Ranked<TKey>> lexical, IReadOnlyList<Ranked<TKey>> dense, double lexicalWeight, double denseWeight, IComparer<TKey> keyOrder)
        where TKey : notnull
    {
        var table = Join(lexical, dense);
        var (lexMin, lexMax) = Range(lexical);
        var (denseMin, denseMax) = Range(dense);
        var total = lexicalWeight + denseWeight;
        var result = new List<Fused<TKey>>(table.Count);
        foreach (var (key, e) in table)
        {
            var score = 0.0;
            if (e.LexScore is { } ls)
            {
                score += lexicalWeight * Normalise(ls, lexMin, lexMax);
            }
            if (e.DenseScore is { } ds)
            {
                score += denseWeight * Normalise(ds, denseMin, denseMax);
            }
            result.Add(new Fused<TKey>(key, total > 0 ? score / total : 0, e.LexRank, e.LexScore, e.DenseRank, e.DenseScore));
        }
        Sort(result, keyOrder);
        return result;
    }

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

    private sealed class Evidence
    {
        public int? LexRank;
        public double? LexScore;
        public int? DenseRank;
        public double? DenseScore;
    }

    // Ranks are positions in each list (1-based); a key repeated within one list keeps its first (best) position.
    private static Dictionary<TKey, Evidence> Join<TKey>(IReadOnlyList<Ranked<TKey>> lexical, IReadOnlyList<Ranked<TKey>> dense)
        where TKey : notnull
    {
        var table = new Dictionary<TKey, Evidence>();
        for (var i = 0; i < lexical.Count; i++)
        {
            if (!table.TryGetValue(lexical[i].Key, out var e))
            {
                table[lexical[i].Key] = e = new Evidence();
            }
            if (e.LexRank is null)
            {
                e.LexRank = i + 1;
                e.LexScore = lexical[i].Score;
            }
        }
        for (var i = 0; i < dense.Count; i++)
        {
            if (!table.TryGetValue(dense[i].Key, out var e))
            {
                table[dense[i].Key] = e = new Evidence();
            }
            if (e.DenseRank is null)
            {
                e.DenseRank = i + 1;
                e.DenseScore = dense[i].Score;
            }
        }
        return table;
    }

    private static void Sort<TKey>(List<Fused<TKey>> list, IComparer<TKey> keyOrder) =>
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
            c = (a.LexicalRank ?? int.MaxValue).CompareTo(b.LexicalRank ?? int.MaxValue);
            return c != 0 ? c : keyOrder.Compare(a.Key, b.Key);
        });

    private static int BestRank<TKey>(Fused<TKey> f) => Math.Min(f.LexicalRank ?? int.MaxValue, f.DenseRank ?? int.MaxValue);
}
