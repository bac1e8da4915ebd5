using SemanticSearch.Core;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Search;

/// <summary>Fusion scores computed by hand from the formulas.</summary>
public sealed class RankFusionTests
{
    private static List<Ranked<string>> List(params (string Key, double Score)[] items) => items.Select(i => new Ranked<string>(i.Key, i.Score)).ToList();

    [Fact]
    public void Reciprocal_BothSides_SumsWeightedReciprocalRanks()
    {
        var lexical = List(("a", 9), ("b", 5), ("c", 1));
        var dense = List(("c", 0.9), ("a", 0.8), ("d", 0.1));
        var fused = RankFusion.Reciprocal(lexical, dense, 60, 1, 1, StringComparer.Ordinal);
        var scores = fused.ToDictionary(f => f.Key, f => f.Score);
        Assert.Equal((1.0 / 61) + (1.0 / 62), scores["a"], 12);
        Assert.Equal(1.0 / 62, scores["b"], 12);
        Assert.Equal((1.0 / 63) + (1.0 / 61), scores["c"], 12);
        Assert.Equal(1.0 / 63, scores["d"], 12);
        Assert.Equal(["a", "c", "b", "d"], fused.Select(f => f.Key));
        var a = fused[0];
        Assert.Equal((1, 9.0, 2, 0.8), (a.LexicalRank!.Value, a.LexicalScore!.Value, a.DenseRank!.Value, a.DenseScore!.Value));
        Assert.Null(fused.Single(f => f.Key == "d").LexicalRank);
    }

    [Fact]
    public void Reciprocal_Weights_ScaleEachSide()
    {
        var fused = RankFusion.Reciprocal(List(("a", 1)), List(("b", 1)), 10, 0.5, 2, StringComparer.Ordinal);
        Assert.Equal(["b", "a"], fused.Select(f => f.Key));
        Assert.Equal(2.0 / 11, fused[0].Score, 12);
        Assert.Equal(0.5 / 11, fused[1].Score, 12);
    }

    [Fact]
    public void Reciprocal_OneSideEmpty_KeepsTheOtherOrder()
    {
        var fused = RankFusion.Reciprocal(List(("x", 3), ("y", 2), ("z", 1)), List(), 60, 1, 1, StringComparer.Ordinal);
        Assert.Equal(["x", "y", "z"], fused.Select(f => f.Key));
        Assert.Empty(RankFusion.Reciprocal(List(), List(), 60, 1, 1, StringComparer.Ordinal));
    }

    [Fact]
    public void Reciprocal_Ties_BrokenByBestRankThenLexicalRankThenKey()
    {
        // "b" is rank 1 lexical, "a" rank 1 dense: equal scores and best ranks; lexical rank decides → b first.
        // "c" and "d" are rank 2 on one side each: same rule → c (lexical rank 2) before d.
        var fused = RankFusion.Reciprocal(List(("b", 5), ("c", 4)), List(("a", 0.9), ("d", 0.8)), 60, 1, 1, StringComparer.Ordinal);
        Assert.Equal(["b", "a", "c", "d"], fused.Select(f => f.Key));
    }

    [Fact]
    public void Reciprocal_DuplicateKeyInOneList_KeepsItsBestRank()
    {
        var fused = RankFusion.Reciprocal(List(("a", 3), ("b", 2), ("a", 1)), List(), 60, 1, 1, StringComparer.Ordinal);
        Assert.Equal(1.0 / 61, fused.Single(f => f.Key == "a").Score, 12);
        Assert.Equal(2, fused.Count);
    }

    [Fact]
    public void Convex_MinMaxNormalisedWeightedAverage()
    {
        var lexical = List(("a", 10), ("b", 6), ("c", 2));
        var dense = List(("c", 0.9), ("b", 0.5), ("d", 0.4));
        var fused = RankFusion.Convex(lexical, dense, 1, 3, StringComparer.Ordinal).ToDictionary(f => f.Key, f => f.Score);
        // lexical: a=1, b=0.5, c=0 ; dense: c=1, b=0.2, d=0 ; score = (1·lex + 3·dense)/4
        Assert.Equal(0.25, fused["a"], 12);
        Assert.Equal((0.5 + 0.6) / 4, fused["b"], 12);
        Assert.Equal(0.75, fused["c"], 12);
        Assert.Equal(0.0, fused["d"], 12);
    }

    [Fact]
    public void Convex_AllScoresEqual_NormaliseToOne()
    {
        var fused = RankFusion.Convex(List(("a", 2), ("b", 2)), List(), 1, 1, StringComparer.Ordinal);
        Assert.All(fused, f => Assert.Equal(0.5, f.Score, 12));
    }

    [Theory]
    [InlineData(-1, 1, 1, null, "fusion.k")]
    [InlineData(60, -1, 1, null, "fusion.lexicalWeight")]
    [InlineData(60, 1, 101, null, "fusion.denseWeight")]
    [InlineData(60, 0, 0, null, "fusion.weights")]
    [InlineData(60, 1, 1, 0, "fusion.depth")]
    public void FusionOptions_Invalid_NameTheField(double k, double wl, double wd, int? depth, string field)
    {
        var e = Assert.Throws<InvalidSettingException>(() => new FusionOptions(FusionMethod.Rrf, k, wl, wd, depth).Validate());
        Assert.Equal(field, e.Setting);
    }

    [Fact]
    public void Reciprocal_ThreeRankings_SumsEachWeightedTerm_AndExplainsEveryRank()
    {
        var lexical = List(("a", 9), ("b", 5));
        var first = List(("b", 0.9), ("c", 0.8));
        var second = List(("c", 0.7), ("a", 0.6), ("d", 0.5));
        var fused = RankFusion.Reciprocal<string>([new(lexical, 1), new(first, 0.5), new(second, 2)], 10, StringComparer.Ordinal);
        var scores = fused.ToDictionary(f => f.Key, f => f.Score);
        Assert.Equal((1.0 / 11) + (2.0 / 12), scores["a"], 12);
        Assert.Equal((1.0 / 12) + (0.5 / 11), scores["b"], 12);
        Assert.Equal((0.5 / 12) + (2.0 / 11), scores["c"], 12);
        Assert.Equal(2.0 / 13, scores["d"], 12);
        Assert.Equal(["a", "c", "d", "b"], fused.Select(f => f.Key));
        var c = fused.Single(f => f.Key == "c");
        Assert.Equal([null, new RetrieverRank(2, 0.8), new RetrieverRank(1, 0.7)], c.Evidence);
    }

    [Fact]
    public void Convex_ThreeRankings_NormalisesEachListOnItsOwn()
    {
        // BM25 scores in the tens, cosines near 0.8: min-max per list puts both on [0, 1]
        var lexical = List(("a", 30), ("b", 10));
        var first = List(("b", 0.9), ("a", 0.7), ("c", 0.5));
        var second = List(("c", 0.82), ("a", 0.8));
        var fused = RankFusion.Convex<string>([new(lexical, 0.5), new(first, 0.25), new(second, 0.25)], StringComparer.Ordinal);
        var scores = fused.ToDictionary(f => f.Key, f => f.Score);
        Assert.Equal((0.5 * 1) + (0.25 * 0.5) + (0.25 * 0), scores["a"], 12);
        Assert.Equal((0.5 * 0) + (0.25 * 1), scores["b"], 12);
        Assert.Equal((0.25 * 0) + (0.25 * 1), scores["c"], 12);
        Assert.Equal("a", fused[0].Key);
        Assert.Equal(["b", "c"], fused.Skip(1).Select(f => f.Key)); // tied, both best ranked 1st somewhere: b is in the first list (BM25), c not
    }

    [Fact]
    public void FusionOptions_SpaceWeights_CompareAsSets_AndWeighUnnamedSpacesByDenseWeight()
    {
        var a = new FusionOptions(FusionMethod.Rrf, 10, 1, 0.7, 100, new Dictionary<string, double> { ["x"] = 1, ["Y"] = 2 });
        var b = new FusionOptions(FusionMethod.Rrf, 10, 1, 0.7, 100, new Dictionary<string, double> { ["y"] = 2, ["x"] = 1 });
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { SpaceWeights = new Dictionary<string, double> { ["x"] = 1 } });
        Assert.Equal(2, a.WeightOf("y"));
        Assert.Equal(0.7, a.WeightOf("z"));
        var bad = Assert.Throws<InvalidSettingException>(() => (a with { SpaceWeights = new Dictionary<string, double> { ["x"] = -1 } }).Validate());
        Assert.Equal("fusion.spaceWeights.x", bad.Setting);
        // only space weights set: still a usable fusion (dense over the spaces)
        new FusionOptions(FusionMethod.Rrf, 10, 0, 0, null, new Dictionary<string, double> { ["x"] = 1 }).Validate();
    }
}
