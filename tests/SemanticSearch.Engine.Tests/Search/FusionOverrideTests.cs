using SemanticSearch.Core;
using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Search;

/// <summary>The one fusion-override rule (issue 16): a query's fields over the index's fusion, field by field, validated.</summary>
public sealed class FusionOverrideTests
{
    // what an index tuned like use-lite records
    private static readonly FusionOptions Index = new(FusionMethod.Convex, 60, 0.9, 0.1, 200);

    [Fact]
    public void Over_NoFieldSet_IsTheIndexFusion()
    {
        Assert.True(new FusionOverride().IsEmpty);
        Assert.Equal(Index, new FusionOverride().Over(Index));
    }

    public static TheoryData<FusionOverride, FusionOptions> OneField => new()
    {
        { new FusionOverride(Method: FusionMethod.Rrf), Index with { Method = FusionMethod.Rrf } },
        { new FusionOverride(K: 30), Index with { K = 30 } },
        { new FusionOverride(LexicalWeight: 0.5), Index with { LexicalWeight = 0.5 } },
        { new FusionOverride(DenseWeight: 0.7), Index with { DenseWeight = 0.7 } },
        { new FusionOverride(Depth: 50), Index with { Depth = 50 } },
    };

    [Theory]
    [MemberData(nameof(OneField))]
    public void Over_OneFieldSet_ChangesThatFieldAndKeepsTheIndexsOthers(FusionOverride query, FusionOptions expected)
    {
        Assert.False(query.IsEmpty);
        Assert.Equal(expected, query.Over(Index));
    }

    [Fact]
    public void Over_EveryFieldOfAFusion_ReproducesItOverAnyIndexFusion()
    {
        var used = new FusionOptions(FusionMethod.Rrf, 20, 1, 0.3, 75);

        Assert.Equal(used, FusionOverride.Of(used).Over(Index));
        Assert.Equal(used, FusionOverride.Of(used).Over(new FusionOptions()));
    }

    [Fact]
    public void Over_NoDepthAnywhere_KeepsTheAutomaticDepth() =>
        Assert.Null(new FusionOverride(K: 10).Over(new FusionOptions()).Depth);

    [Theory]
    [InlineData(-1.0, null, null, null, "fusion.k")]
    [InlineData(10_001.0, null, null, null, "fusion.k")]
    [InlineData(double.NaN, null, null, null, "fusion.k")]
    [InlineData(null, -0.5, null, null, "fusion.lexicalWeight")]
    [InlineData(null, double.PositiveInfinity, null, null, "fusion.lexicalWeight")]
    [InlineData(null, null, 101.0, null, "fusion.denseWeight")]
    [InlineData(null, null, double.NaN, null, "fusion.denseWeight")]
    [InlineData(null, null, null, 0, "fusion.depth")]
    [InlineData(null, null, null, 10_001, "fusion.depth")]
    public void Over_AnUnusableField_ThrowsNamingIt(double? k, double? lexical, double? dense, int? depth, string field)
    {
        var e = Assert.Throws<InvalidSettingException>(() => new FusionOverride(null, k, lexical, dense, depth).Over(Index));
        Assert.Equal(field, e.Setting);
    }

    [Fact]
    public void Over_AWeightThatZeroesBothWithTheIndexsOther_ThrowsNamingTheWeights()
    {
        // each field is fine alone; the merged result is not: validation is of the result
        var lexicalOnly = new FusionOptions(FusionMethod.Rrf, 60, 1, 0, null);

        var e = Assert.Throws<InvalidSettingException>(() => new FusionOverride(LexicalWeight: 0).Over(lexicalOnly));

        Assert.Equal("fusion.weights", e.Setting);
    }

    [Fact]
    public void Over_SpaceWeights_MergeNameByName()
    {
        var index = new FusionOptions(FusionMethod.Rrf, 10, 1, 1, 100, new Dictionary<string, double> { ["a"] = 0.5, ["b"] = 2 });
        var merged = new FusionOverride(SpaceWeights: new Dictionary<string, double> { ["B"] = 0.25, ["c"] = 3 }).Over(index);
        Assert.Equal(0.5, merged.WeightOf("a"));
        Assert.Equal(0.25, merged.WeightOf("b"));
        Assert.Equal(3, merged.WeightOf("c"));
        Assert.Equal(index, new FusionOverride().Over(index));
    }
}
