using SemanticSearch.Engine.Search;
using SemanticSearch.Evaluation;

namespace SemanticSearch.Tests.Evaluation;

/// <summary>Fusion tuning replays settings on fixed rankings; checked against hand-built cases.</summary>
public sealed class FusionTunerTests
{
    private static IReadOnlyList<RankedDocument> Ranking(params string[] docs) =>
        docs.Select((d, i) => new RankedDocument(d, 100.0 - i)).ToList();

    private static IReadOnlyDictionary<string, int> Judged(params string[] relevant) => relevant.ToDictionary(d => d, _ => 1);

    [Fact]
    public void Score_Rrf_MatchesAHandComputedFusion()
    {
        // lexical: a b c ; dense: c d a.  RRF k=1, weights 1:1:
        //   a = 1/2 + 1/4 = 0.75, c = 1/4 + 1/2 = 0.75, b = 1/3, d = 1/3
        // a and c tie at 0.75 and b, d at 1/3; trec_eval orders ties by doc id descending: c, a, d, b.
        // Judged relevant: d (grade 1).  nDCG@10 = (1/log2(4)) / 1 = 0.5; Recall@100 = 1.
        var sides = new Dictionary<string, QuerySides> { ["q"] = new(Ranking("a", "b", "c"), Ranking("c", "d", "a")) };
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>> { ["q"] = Judged("d") };

        var score = FusionTuner.Score(new FusionOptions(FusionMethod.Rrf, 1, 1, 1, 100), ["q"], sides, qrels);

        Assert.Equal(0.5, score.Ndcg10, 12);
        Assert.Equal(1.0, score.Recall100, 12);
    }

    [Fact]
    public void Score_Depth_CutsBothListsBeforeFusing()
    {
        // with depth 1 only a (lexical) and c (dense) take part; d is gone, so recall of {d} is 0
        var sides = new Dictionary<string, QuerySides> { ["q"] = new(Ranking("a", "b", "c"), Ranking("c", "d", "a")) };
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>> { ["q"] = Judged("d") };

        var score = FusionTuner.Score(new FusionOptions(FusionMethod.Rrf, 60, 1, 1, 1), ["q"], sides, qrels);

        Assert.Equal(0.0, score.Recall100, 12);
    }

    [Fact]
    public void Tune_DenseIsNoise_KeepsBm25sRankingAndRecall()
    {
        // lexical puts the one relevant document first for every query; dense ranks unrelated documents
        var rng = new Random(7);
        var sides = new Dictionary<string, QuerySides>();
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        for (var q = 0; q < 40; q++)
        {
            var lexical = Enumerable.Range(0, 150).Select(i => $"q{q}-d{i}").ToArray();
            var dense = Enumerable.Range(0, 150).Select(_ => $"noise{rng.Next(100_000)}").Distinct().ToArray();
            sides[$"q{q}"] = new QuerySides(Ranking(lexical), Ranking(dense));
            qrels[$"q{q}"] = Judged($"q{q}-d0", $"q{q}-d60");
        }

        var tuning = FusionTuner.Tune(sides, qrels, new FusionOptions());

        Assert.Equal(tuning.Lexical.Ndcg10, tuning.BestScore.Ndcg10, 12);
        Assert.True(tuning.BestScore.Recall100 >= tuning.Lexical.Recall100);
        Assert.Equal(1.0, tuning.Lexical.Recall100, 12);
        // plain RRF (k 60, 1:1) lets noise push the rank-61 document out of the top 100 for no gain at the top
        Assert.True(tuning.Baseline.Recall100 < tuning.Lexical.Recall100);
    }

    [Fact]
    public void Tune_EachSideFindsHalfTheRelevantDocuments_FusionBeatsBoth()
    {
        // relevant: x (lexical rank 1, dense rank 50) and y (dense rank 1, lexical rank 50): only fusion ranks both high
        var sides = new Dictionary<string, QuerySides>();
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        for (var q = 0; q < 20; q++)
        {
            string X = $"x{q}", Y = $"y{q}";
            var lexical = new List<string> { X };
            var dense = new List<string> { Y };
            for (var i = 1; i < 120; i++)
            {
                lexical.Add(i == 49 ? Y : $"l{q}-{i}");
                dense.Add(i == 49 ? X : $"n{q}-{i}");
            }
            sides[$"q{q}"] = new QuerySides(Ranking([.. lexical]), Ranking([.. dense]));
            qrels[$"q{q}"] = Judged(X, Y);
        }

        var tuning = FusionTuner.Tune(sides, qrels, new FusionOptions());

        // both at the top two ranks: the ideal nDCG of 1
        Assert.Equal(1.0, tuning.BestScore.Ndcg10, 9);
        Assert.True(tuning.BestScore.Ndcg10 > tuning.Lexical.Ndcg10 + 0.2);
        Assert.True(tuning.BestScore.Ndcg10 > tuning.Dense.Ndcg10 + 0.2);
        Assert.True(tuning.Best.LexicalWeight > 0 && tuning.Best.DenseWeight > 0);
    }

    [Fact]
    public void HoldOut_SplitsEveryQueryIntoExactlyOneStableHalf()
    {
        var ids = Enumerable.Range(1, 225).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();

        var (tune, held) = FusionTuner.HoldOut(ids);
        var (tune2, _) = FusionTuner.HoldOut(Enumerable.Reverse(ids));

        Assert.Empty(tune.Intersect(held));
        Assert.Equal(ids.OrderBy(i => i, StringComparer.Ordinal), tune.Concat(held).OrderBy(i => i, StringComparer.Ordinal));
        Assert.Equal(tune, tune2);
        Assert.InRange(tune.Count, 80, 145); // a hash split, roughly half
    }
}
