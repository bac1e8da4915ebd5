using SemanticSearch.Evaluation;

namespace SemanticSearch.Tests.Evaluation;

/// <summary>Metric values computed by hand from the trec_eval definitions.</summary>
public sealed class RetrievalMetricsTests
{
    private static readonly Dictionary<string, int> Judged = new() { ["d1"] = 2, ["d3"] = 1, ["d7"] = 1, ["dx"] = 0 };

    [Fact]
    public void Ndcg_GradedGains_MatchesHandComputation()
    {
        IReadOnlyList<string> ranked = ["d3", "d2", "d1", "dx"];
        // DCG = 1/log2(2) + 2/log2(4) = 1 + 1 = 2 ; IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5
        var expected = 2.0 / (2.0 + (1.0 / Math.Log2(3)) + 0.5);
        Assert.Equal(expected, RetrievalMetrics.Ndcg(ranked, Judged, 10), 12);
    }

    [Fact]
    public void Ndcg_CutAtK_IgnoresLaterHits()
    {
        IReadOnlyList<string> ranked = ["d2", "d1"];
        Assert.Equal(0.0, RetrievalMetrics.Ndcg(ranked, Judged, 1));
        var idcgAt2 = 2.0 + (1.0 / Math.Log2(3));
        Assert.Equal(2.0 / Math.Log2(3) / idcgAt2, RetrievalMetrics.Ndcg(ranked, Judged, 2), 12);
    }

    [Fact]
    public void Recall_CountsOnlyPositiveGrades()
    {
        IReadOnlyList<string> ranked = ["dx", "d1", "d9", "d7"];
        Assert.Equal(2.0 / 3.0, RetrievalMetrics.Recall(ranked, Judged, 100), 12);
        Assert.Equal(1.0 / 3.0, RetrievalMetrics.Recall(ranked, Judged, 2), 12);
    }

    [Fact]
    public void ReciprocalRank_FirstRelevantWithinCut()
    {
        IReadOnlyList<string> ranked = ["d2", "dx", "d7", "d1"];
        Assert.Equal(1.0 / 3.0, RetrievalMetrics.ReciprocalRank(ranked, Judged, 10), 12);
        Assert.Equal(0.0, RetrievalMetrics.ReciprocalRank(ranked, Judged, 2));
    }

    [Fact]
    public void AveragePrecision_NormalisedByAllRelevant()
    {
        IReadOnlyList<string> ranked = ["d1", "d2", "d3"];
        // precision@1 = 1, precision@3 = 2/3 ; three relevant in all → (1 + 2/3) / 3
        Assert.Equal((1.0 + (2.0 / 3.0)) / 3.0, RetrievalMetrics.AveragePrecision(ranked, Judged, 100), 12);
    }

    [Fact]
    public void Order_TiesBrokenByDocIdDescending_AsTrecEval()
    {
        var ordered = RetrievalMetrics.Order([("a", 1.0), ("c", 2.0), ("b", 1.0), ("d", 0.5)]);
        Assert.Equal(["c", "b", "a", "d"], ordered);
    }

    [Fact]
    public void Metrics_NoRelevantJudged_AreZero()
    {
        var none = new Dictionary<string, int> { ["a"] = 0 };
        Assert.Equal(0, RetrievalMetrics.Ndcg(["a"], none, 10));
        Assert.Equal(0, RetrievalMetrics.Recall(["a"], none, 10));
        Assert.Equal(0, RetrievalMetrics.AveragePrecision(["a"], none, 10));
    }
}
