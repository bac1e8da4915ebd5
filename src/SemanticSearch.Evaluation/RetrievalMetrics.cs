// Retrieval metrics with trec_eval's definitions (as pytrec_eval and BEIR report them).
//
// A run is first ordered the way trec_eval orders it: score descending, ties broken by document id in decreasing
// lexicographic (ordinal) order. Then, per query, with rel(d) the graded judgement (absent or ≤ 0 = not relevant):
//   nDCG@k      = Σ_{i≤k} rel(d_i)/log2(i+1)  ÷  the same sum over the judgements sorted by grade (ndcg_cut)
//   Recall@k    = |relevant ∩ top k| / |relevant|                                            (recall_k)
//   MRR@k       = 1 / rank of the first relevant document in the top k, else 0               (recip_rank, cut)
//   MAP@k       = Σ_{relevant d_i, i≤k} precision@i  ÷  |relevant|                            (map_cut)
// Averages are over the judged queries given; a judged query with no results scores 0.
namespace SemanticSearch.Evaluation;

/// <summary>Per-query retrieval metrics as trec_eval computes them.</summary>
public static class RetrievalMetrics
{
    /// <summary>Orders a run as trec_eval does: score descending, then document id descending (ordinal).</summary>
    public static IReadOnlyList<string> Order(IEnumerable<(string DocId, double Score)> run) =>
        run.OrderByDescending(r => r.Score)
           .ThenByDescending(r => r.DocId, StringComparer.Ordinal)
           .Select(r => r.DocId)
           .ToList();

    /// <summary>nDCG at <paramref name="k"/> with graded gains and log2 discount.</summary>
    public static double Ndcg(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judged, int k)
    {
        var dcg = 0.0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judged.TryGetValue(ranked[i], out var g) && g > 0)
            {
                dcg += g / Math.Log2(i + 2);
            }
        }
        var ideal = judged.Values.Where(g => g > 0).OrderByDescending(g => g).Take(k).ToList();
        var idcg = 0.0;
        for (var i = 0; i < ideal.Count; i++)
        {
            idcg += ideal[i] / Math.Log2(i + 2);
        }
        return idcg == 0 ? 0 : dcg / idcg;
    }

    /// <summary>Share of the relevant documents found in the top <paramref name="k"/>.</summary>
    public static double Recall(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judged, int k)
    {
        var relevant = judged.Count(kv => kv.Value > 0);
        if (relevant == 0)
        {
            return 0;
        }
        var found = 0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judged.TryGetValue(ranked[i], out var g) && g > 0)
            {
                found++;
            }
        }
        return (double)found / relevant;
    }

    /// <summary>Reciprocal rank of the first relevant document within the top <paramref name="k"/>.</summary>
    public static double ReciprocalRank(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judged, int k)
    {
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judged.TryGetValue(ranked[i], out var g) && g > 0)
            {
                return 1.0 / (i + 1);
            }
        }
        return 0;
    }

    /// <summary>Average precision cut at <paramref name="k"/>, normalised by all relevant documents.</summary>
    public static double AveragePrecision(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judged, int k)
    {
        var relevant = judged.Count(kv => kv.Value > 0);
        if (relevant == 0)
        {
            return 0;
        }
        var found = 0;
        var sum = 0.0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judged.TryGetValue(ranked[i], out var g) && g > 0)
            {
                found++;
                sum += (double)found / (i + 1);
            }
        }
        return sum / relevant;
    }
}
