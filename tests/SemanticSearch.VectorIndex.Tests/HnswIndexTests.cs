using CsCheck;
using SemanticSearch.Core;
using SemanticSearch.VectorIndex;
using Xunit;

namespace SemanticSearch.VectorIndex.Tests;

/// <summary>Properties of the HNSW graph beyond the shared contract: recall, filters, deletes, concurrency.</summary>
public sealed class HnswIndexTests
{
    private const int Dims = 64;

    /// <summary>20k clustered vectors, built once for the recall tests (fixed seed).</summary>
    private static readonly Lazy<(float[] Data, long[] Ids, HnswIndex Index, float[][] Queries, List<long[]> Truth)> Clustered20k = new(() =>
    {
        // Data and queries come from the same clusters: queries are held-out points of the same distribution.
        float[] all = new TestVectors(2024).Clustered(20_200, Dims, clusters: 200, spread: 1.2);
        float[] data = all.AsSpan(0, 20_000 * Dims).ToArray();
        long[] ids = TestVectors.Ids(20_000, offset: 1);
        var index = new HnswIndex(Dims); // default parameters: M=16, efConstruction=200, efSearch=512
        index.AddMany(ids, data, degreeOfParallelism: 2);
        float[][] queries = Enumerable.Range(20_000, 200).Select(i => all.AsSpan(i * Dims, Dims).ToArray()).ToArray();
        var truth = queries.Select(q => TestVectors.BruteForce(data, Dims, ids, q, 10)).ToList();
        return (data, ids, index, queries, truth);
    });

    [Fact]
    public void Search_20kClusteredDefaults_RecallAt10AtLeast095()
    {
        var (_, _, index, queries, truth) = Clustered20k.Value;
        Assert.Equal(20_000, index.Count);
        var found = queries.Select(q => index.Search(q, 10)).ToList();
        double recall = TestVectors.Recall(truth, found);
        Assert.True(recall >= 0.95, $"recall@10 = {recall:F4}");
    }

    [Fact]
    public void Search_HigherEf_DoesNotLowerRecall()
    {
        var (_, _, index, queries, truth) = Clustered20k.Value;
        double low = TestVectors.Recall(truth, queries.Select(q => index.Search(q, 10, ef: 10)).ToList());
        double high = TestVectors.Recall(truth, queries.Select(q => index.Search(q, 10, ef: 256)).ToList());
        Assert.True(high >= low, $"ef=10: {low:F4}, ef=256: {high:F4}");
        Assert.True(high >= 0.99, $"ef=256: {high:F4}");
    }

    [Fact]
    public void Search_BroadFilter_HighRecallAndOnlyPassingIds()
    {
        var (data, ids, index, queries, _) = Clustered20k.Value;
        static bool Even(long id) => id % 2 == 0;
        var truth = queries.Select(q => TestVectors.BruteForce(data, Dims, ids, q, 10, Even)).ToList();
        var found = queries.Select(q => index.Search(q, 10, filter: Even)).ToList();
        Assert.All(found, hits => Assert.Equal(10, hits.Count));
        Assert.All(found, hits => Assert.All(hits, h => Assert.True(Even(h.Id))));
        double recall = TestVectors.Recall(truth, found);
        Assert.True(recall >= 0.95, $"filtered recall@10 = {recall:F4}");
    }

    [Fact]
    public void Search_VerySelectiveFilter_IsExact()
    {
        var (data, ids, index, queries, _) = Clustered20k.Value;
        static bool Rare(long id) => id % 500 == 3; // 40 ids of 20k
        foreach (float[] q in queries.Take(20))
        {
            TestVectors.AssertSameTopK(data, Dims, id => (int)(id - 1), q, TestVectors.BruteForce(data, Dims, ids, q, 10, Rare), index.Search(q, 10, filter: Rare));
        }
        Assert.Equal(3, index.Search(queries[0], 10, filter: id => id is 7 or 70 or 700).Count);
        Assert.Empty(index.Search(queries[0], 10, filter: _ => false));
    }

    [Fact]
    public void Search_AnyFilter_NeverFewerThanKWhileEnoughPass()
    {
        const int dims = 16;
        var gen = new TestVectors(3001);
        float[] data = gen.Clustered(2000, dims, clusters: 20, spread: 1.0);
        long[] ids = TestVectors.Ids(2000);
        var index = new HnswIndex(dims, new HnswParameters(M: 8, EfConstruction: 64));
        index.AddMany(ids, data, 2);
        float[] query = gen.UnitVector(dims);
        Gen.Select(Gen.Int[1, 1500], Gen.Int[0, 1499], Gen.Int[1, 30]).Sample((modulus, residue, k) =>
        {
            int r = residue % modulus;
            bool Keep(long id) => id % modulus == r;
            int passing = ids.Count(Keep);
            IReadOnlyList<VectorHit> hits = index.Search(query, k, filter: Keep);
            Assert.Equal(Math.Min(k, passing), hits.Count);
            Assert.All(hits, h => Assert.True(Keep(h.Id)));
        }, iter: 200);
    }

    [Fact]
    public void MarkDeleted_ThirdOfIndex_LiveResultsKeepRecallThenCompactKeepsThem()
    {
        const int dims = 32;
        var gen = new TestVectors(4001);
        float[] data = gen.Clustered(5000, dims, clusters: 50, spread: 1.2);
        long[] ids = TestVectors.Ids(5000);
        var index = new HnswIndex(dims);
        index.AddMany(ids, data, 2);
        var deleted = ids.Where(id => id % 3 == 0).ToHashSet();
        foreach (long id in deleted) Assert.True(index.MarkDeleted(id));
        Assert.Equal(deleted.Count, index.DeletedCount);

        float[][] queries = Enumerable.Range(0, 100).Select(_ => gen.UnitVector(dims)).ToArray();
        var truth = queries.Select(q => TestVectors.BruteForce(data, dims, ids, q, 10, id => !deleted.Contains(id))).ToList();
        var found = queries.Select(q => index.Search(q, 10)).ToList();
        Assert.All(found, hits => Assert.DoesNotContain(hits, h => deleted.Contains(h.Id)));
        Assert.True(TestVectors.Recall(truth, found) >= 0.95);

        HnswIndex compacted = index.Compact(2);
        Assert.Equal(5000 - deleted.Count, compacted.Count);
        Assert.Equal(0, compacted.DeletedCount);
        var afterCompact = queries.Select(q => compacted.Search(q, 10)).ToList();
        Assert.True(TestVectors.Recall(truth, afterCompact) >= 0.95);
    }

    [Fact]
    public void SaveOpen_ParallelBuild_IdenticalResultsAndScores()
    {
        var (_, _, index, queries, _) = Clustered20k.Value;
        using var dir = new TempDir();
        string path = dir.File("hnsw.ssv");
        index.Save(path);
        HnswIndex reopened = HnswIndex.Open(path);
        Assert.Equal(index.Parameters, reopened.Parameters);
        foreach (float[] q in queries.Take(50))
        {
            Assert.Equal(index.Search(q, 10, ef: 32), reopened.Search(q, 10, ef: 32));
        }
    }

    [Fact]
    public void AddMany_SameDataOneThread_BuildsIdenticalGraphs()
    {
        const int dims = 16;
        float[] data = new TestVectors(5001).Clustered(1000, dims, 10, 1.0);
        long[] ids = TestVectors.Ids(1000);
        var a = new HnswIndex(dims);
        var b = new HnswIndex(dims);
        a.AddMany(ids, data, 1);
        b.AddMany(ids, data, 1);
        using var dir = new TempDir();
        a.Save(dir.File("a"));
        b.Save(dir.File("b"));
        Assert.Equal(File.ReadAllBytes(dir.File("a")), File.ReadAllBytes(dir.File("b")));
    }

    [Fact]
    public void Add_FourThreadsWithGrowth_GraphStaysConnected()
    {
        const int dims = 16;
        float[] data = new TestVectors(7001).Clustered(4000, dims, 40, 1.0);
        var index = new HnswIndex(dims, new HnswParameters(M: 8, EfConstruction: 64), initialCapacity: 16);
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => index.Add(i, TestVectors.Row(data, dims, i)));
        Assert.Equal(4000, index.Count);
        // Lost links (a list overwritten instead of merged, a growth copy racing a writer) show up as unreachable nodes.
        Assert.True(index.CountReachableOnLayer0() >= 3996, $"reachable: {index.CountReachableOnLayer0()}");
    }

    [Fact]
    public void Constructor_BadParameters_ThrowsNamingTheSetting()
    {
        Assert.Contains("hnsw.m", Assert.Throws<InvalidSettingException>(() => new HnswIndex(8, new HnswParameters(M: 1))).Message);
        Assert.Contains("hnsw.efConstruction", Assert.Throws<InvalidSettingException>(() => new HnswIndex(8, new HnswParameters(EfConstruction: 0))).Message);
        Assert.Contains("dimensions", Assert.Throws<InvalidSettingException>(() => new HnswIndex(0)).Message);
    }

    [Fact]
    public void Parameters_Defaults_MatchThePaperAndHnswlib()
    {
        var p = HnswParameters.Default;
        Assert.Equal(16, p.M);
        Assert.Equal(32, p.MaxLinksLayer0);
        Assert.Equal(200, p.EfConstruction);
        Assert.Equal(1 / Math.Log(16), p.LevelMultiplier, 12);
    }
}

/// <summary>The SIMD kernel against the scalar reference.</summary>
public sealed class VectorMathTests
{
    [Fact]
    public void Dot_RandomVectors_MatchesScalarReference()
    {
        Gen.Int[1, 1100].SelectMany(n => Gen.Select(Gen.Float[-1f, 1f].Array[n], Gen.Float[-1f, 1f].Array[n])).Sample((a, b) =>
        {
            double reference = TestVectors.ScalarDot(a, b);
            double magnitude = 0;
            for (int i = 0; i < a.Length; i++) magnitude += Math.Abs((double)a[i] * b[i]);
            Assert.True(Math.Abs(VectorMath.Dot(a, b) - reference) <= 1e-5 * magnitude + 1e-6);
            Assert.True(Math.Abs(VectorMath.DotScalar(a, b) - reference) <= 1e-6 * magnitude + 1e-6);
        }, iter: 300);
    }

    [Fact]
    public void Dot_HandComputed_IsExact()
    {
        float[] a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
        float[] b = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1];
        Assert.Equal(119f, VectorMath.Dot(a, b)); // 1+2+...+16 - 17
        Assert.Equal(119f, VectorMath.DotScalar(a, b));
    }
}
