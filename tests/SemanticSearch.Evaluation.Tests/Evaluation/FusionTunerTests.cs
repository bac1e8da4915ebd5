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
        for (var q = 0; q < 60; q++)
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
        Assert.StartsWith("the default loses BM25's Recall@100; gain over the default", tuning.Decision, StringComparison.Ordinal);
        Assert.DoesNotContain("-+", tuning.Decision, StringComparison.Ordinal);
    }

    // relevant: x (lexical rank 1, dense rank 50) and y (dense rank 1, lexical rank 50): only fusion ranks both high
    private static (Dictionary<string, QuerySides> Sides, Dictionary<string, IReadOnlyDictionary<string, int>> Qrels) Complementary(int queries)
    {
        var sides = new Dictionary<string, QuerySides>();
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        for (var q = 0; q < queries; q++)
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
        return (sides, qrels);
    }

    [Fact]
    public void Tune_EachSideFindsHalfTheRelevantDocuments_FusionBeatsBoth()
    {
        var (sides, qrels) = Complementary(60);

        var tuning = FusionTuner.Tune(sides, qrels, new FusionOptions(FusionMethod.Rrf, 60, 1, 0, 100));

        // both at the top two ranks: the ideal nDCG of 1
        Assert.Equal(1.0, tuning.BestScore.Ndcg10, 9);
        Assert.True(tuning.BestScore.Ndcg10 > tuning.Lexical.Ndcg10 + 0.2);
        Assert.True(tuning.BestScore.Ndcg10 > tuning.Dense.Ndcg10 + 0.2);
        Assert.True(tuning.Best.LexicalWeight > 0 && tuning.Best.DenseWeight > 0);
    }

    [Fact]
    public void Tune_FewerThanTheMinimumOfQueries_KeepsTheDefaultEvenWhenFusionWouldWin()
    {
        var (sides, qrels) = Complementary(FusionTuner.MinQueries - 1);
        var lexicalOnly = new FusionOptions(FusionMethod.Rrf, 60, 1, 0, 100);

        var tuning = FusionTuner.Tune(sides, qrels, lexicalOnly);

        Assert.Equal(lexicalOnly, tuning.Best);
        Assert.Equal(tuning.Lexical.Ndcg10, tuning.BestScore.Ndcg10, 12);
        Assert.Contains("fewer than", tuning.Decision, StringComparison.Ordinal);
    }

    [Fact]
    public void Tune_GainOnTwoOfSixtyQueriesOnly_KeepsTheDefault()
    {
        // On 58 queries both sides rank the one relevant document first (every setting ties). On 2, dense puts an
        // unjudged document first and lacks the relevant one, so lexical-only settings beat the 1:1 default there by
        // about 0.37 nDCG@10 — a mean gain of 0.012 that a selection by best mean would take, and that even two
        // standard errors of the per-query gain (≈ 0.018) do not support.
        var sides = new Dictionary<string, QuerySides>();
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        for (var q = 0; q < 60; q++)
        {
            var lexical = Enumerable.Range(0, 30).Select(i => $"q{q}-d{i}").ToArray();
            var dense = q < 2
                ? Enumerable.Range(0, 30).Select(i => $"q{q}-n{i}").ToArray()
                : lexical;
            sides[$"q{q}"] = new QuerySides(Ranking(lexical), Ranking(dense));
            qrels[$"q{q}"] = Judged($"q{q}-d0");
        }
        var rrf = new FusionOptions(FusionMethod.Rrf, 60, 1, 1, 100);

        var tuning = FusionTuner.Tune(sides, qrels, rrf);

        Assert.True(tuning.Top[0].Ndcg10 > tuning.Baseline.Ndcg10 + 0.01, "the data must tempt a best-mean selection");
        Assert.Equal(rrf, tuning.Best);
        Assert.Contains("kept the default", tuning.Decision, StringComparison.Ordinal);
    }

    [Fact]
    public void Tune_TwoSets_EachWeighsTheSameWhateverItsSize()
    {
        // Set A (200 queries) is served best by lexical alone, set B (60) by fusion; a query-weighted objective would
        // follow A. Macro-averaged, the fused setting wins because B's gain is far larger than A's loss.
        var a = new Dictionary<string, QuerySides>();
        var aq = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        for (var q = 0; q < 200; q++)
        {
            var lexical = Enumerable.Range(0, 120).Select(i => $"a{q}-d{i}").ToArray();
            var dense = Enumerable.Range(0, 120).Select(i => i == 1 ? $"a{q}-d0" : $"a{q}-n{i}").ToArray();
            a[$"a{q}"] = new QuerySides(Ranking(lexical), Ranking(dense));
            aq[$"a{q}"] = Judged($"a{q}-d0");
        }
        var (b, bq) = Complementary(60);
        var lexicalOnly = new FusionOptions(FusionMethod.Rrf, 60, 1, 0, 100);

        var tuning = FusionTuner.Tune([new TuningSet("a", a, aq), new TuningSet("b", b, bq)], lexicalOnly);

        Assert.True(tuning.Best.DenseWeight > 0, $"chose {tuning.Best}");
        Assert.True(tuning.BestScore.Ndcg10 > tuning.Lexical.Ndcg10 + 0.1);
        Assert.Equal(260, tuning.Queries);
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

    [Fact]
    public void Score_ThreeRetrievers_WeighsEachSpaceByName()
    {
        // lexical: a b ; space x: b c ; space y: c d.  RRF k=1, weights lexical 1, x 2, y 0.5:
        //   a = 1/2 = 0.5, b = 1/3 + 2/2 = 1.333, c = 2/3 + 0.5/2 = 0.917, d = 0.5/3 = 0.167 → b c a d
        // Judged relevant: a.  nDCG@10 = 1/log2(4) = 0.5.
        var sides = new Dictionary<string, QuerySides> { ["q"] = new(Ranking("a", "b"), new[] { Ranking("b", "c"), Ranking("c", "d") }) };
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>> { ["q"] = Judged("a") };
        var fusion = new FusionOptions(FusionMethod.Rrf, 1, 1, 1, 100, new Dictionary<string, double> { ["x"] = 2, ["y"] = 0.5 });

        Assert.Equal(0.5, FusionTuner.Score(fusion, ["q"], sides, qrels, ["x", "y"]).Ndcg10, 12);
        // y weighed 5: c = 2/3 + 5/2, d = 5/3, b = 1.333, a = 0.5 → c d b a; nDCG@10 = 1/log2(5)
        Assert.Equal(1 / Math.Log2(5), FusionTuner.Score(fusion with { SpaceWeights = new Dictionary<string, double> { ["x"] = 2, ["y"] = 5 } }, ["q"], sides, qrels, ["x", "y"]).Ndcg10, 12);
        // x weighed 0: a = 0.5, b = 1/3, c = 0.25, d = 1/6 → a first
        Assert.Equal(1.0, FusionTuner.Score(fusion with { SpaceWeights = new Dictionary<string, double> { ["x"] = 0, ["y"] = 0.5 } }, ["q"], sides, qrels, ["x", "y"]).Ndcg10, 12);
    }

    [Fact]
    public void Tune_TwoSpaces_OneOfThemRight_WeighsItUp()
    {
        // 80 queries; the relevant document is first in space "good", 12th in BM25, and absent from space "noise"
        var sides = new Dictionary<string, QuerySides>();
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        for (var q = 0; q < 80; q++)
        {
            var rel = $"r{q}";
            var filler = Enumerable.Range(0, 30).Select(i => $"f{q}-{i}").ToArray();
            var lexical = filler.Take(11).Append(rel).Concat(filler.Skip(11)).ToArray();
            var good = new[] { rel }.Concat(filler.Reverse()).ToArray();
            var noise = filler.Skip(5).Concat(filler.Take(5)).ToArray();
            sides[$"q{q}"] = new(Ranking(lexical), new[] { Ranking(good), Ranking(noise) });
            qrels[$"q{q}"] = Judged(rel);
        }
        var baseline = new FusionOptions(FusionMethod.Rrf, 10, 1, 1, 100);
        var tuning = FusionTuner.Tune([new TuningSet("t", sides, qrels, ["good", "noise"])], baseline);

        Assert.Equal(FusionTuner.GridFor(["good", "noise"]).Count, tuning.SettingsTried);
        Assert.True(tuning.BestScore.Ndcg10 > tuning.Baseline.Ndcg10 + 0.1, tuning.Decision);
        Assert.True(tuning.Best.WeightOf("good") > tuning.Best.WeightOf("noise"), EvaluationReport.Describe(tuning.Best));
        Assert.Equal(1.0, tuning.BestScore.Ndcg10, 9);
    }
}
