using SemanticSearch.Core;
using SemanticSearch.VectorIndex;
using Xunit;

namespace SemanticSearch.VectorIndex.Tests;

/// <summary>The <see cref="IVectorIndex"/> contract, run against every implementation.</summary>
public abstract class VectorIndexContractTests
{
    protected abstract IVectorIndex Create(int dimensions);
    protected abstract IVectorIndex Open(string path);

    /// <summary>Search breadth that makes an approximate index exhaustive on the small sets used here.</summary>
    private const int WideEf = 1000;

    private static (float[] Data, long[] Ids) Data(int count, int dims, ulong seed)
    {
        var gen = new TestVectors(seed);
        return (gen.Clustered(count, dims, clusters: 10, spread: 1.0), TestVectors.Ids(count, offset: 1000));
    }

    private static void SameTopK(float[] data, int dims, ReadOnlySpan<float> query, long[] expected, IReadOnlyList<VectorHit> hits) =>
        TestVectors.AssertSameTopK(data, dims, id => (int)(id - 1000), query, expected, hits);

    [Fact]
    public void Search_EmptyIndex_ReturnsNothing()
    {
        IVectorIndex index = Create(8);
        Assert.Empty(index.Search(new TestVectors(1).UnitVector(8), 5));
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void SampleScores_RoomForEveryVector_AreTheBruteForceScoresOfTheLiveOnes()
    {
        const int dims = 16;
        var (data, ids) = Data(120, dims, 31);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, degreeOfParallelism: 2);
        for (int i = 0; i < ids.Length; i += 3) index.MarkDeleted(ids[i]);
        float[] query = new TestVectors(32).UnitVector(dims);
        var expected = Enumerable.Range(0, ids.Length).Where(i => i % 3 != 0)
            .Select(i => TestVectors.Row(data, dims, i).ToArray().Zip(query, (a, b) => (double)a * b).Sum()).Order().ToList();

        var scores = new float[500];
        int n = index.SampleScores(query, scores);

        Assert.Equal(expected.Count, n);
        var got = scores.Take(n).Select(s => (double)s).Order().ToList();
        for (int i = 0; i < n; i++) Assert.Equal(expected[i], got[i], 4);
    }

    [Fact]
    public void SampleScores_SmallerRoom_FillsItWithScoresOfStoredVectorsAndRepeatsPerQuery()
    {
        const int dims = 16;
        var (data, ids) = Data(1000, dims, 33);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, degreeOfParallelism: 2);
        float[] query = new TestVectors(34).UnitVector(dims);
        var all = Enumerable.Range(0, ids.Length).Select(i => TestVectors.Row(data, dims, i).ToArray().Zip(query, (a, b) => (double)a * b).Sum()).ToList();

        var scores = new float[64];
        Assert.Equal(64, index.SampleScores(query, scores));
        Assert.All(scores, s => Assert.Contains(all, a => Math.Abs(a - s) < 1e-4));
        Assert.True(scores.Distinct().Count() > 32, "the sample repeats one vector");
        var again = new float[64];
        index.SampleScores(query, again);
        Assert.Equal(scores, again);
    }

    [Fact]
    public void Search_SmallSet_MatchesBruteForce()
    {
        const int dims = 32;
        var (data, ids) = Data(500, dims, 11);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, degreeOfParallelism: 2);
        var gen = new TestVectors(12);
        for (int q = 0; q < 20; q++)
        {
            float[] query = gen.UnitVector(dims);
            long[] expected = TestVectors.BruteForce(data, dims, ids, query, 10);
            SameTopK(data, dims, query, expected, index.Search(query, 10, WideEf));
        }
    }

    [Fact]
    public void Search_StoredVector_FindsItselfFirstWithScoreOne()
    {
        const int dims = 16;
        var (data, ids) = Data(300, dims, 21);
        IVectorIndex index = Create(dims);
        for (int i = 0; i < ids.Length; i++) index.Add(ids[i], TestVectors.Row(data, dims, i));
        for (int i = 0; i < ids.Length; i += 7)
        {
            VectorHit top = index.Search(TestVectors.Row(data, dims, i), 1)[0];
            Assert.Equal(ids[i], top.Id);
            Assert.Equal(1.0, top.Score, 4);
        }
    }

    [Fact]
    public void Search_KLargerThanCount_ReturnsEveryLiveIdBestFirst()
    {
        const int dims = 8;
        var (data, ids) = Data(7, dims, 31);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, 1);
        float[] query = new TestVectors(32).UnitVector(dims);
        IReadOnlyList<VectorHit> hits = index.Search(query, 50);
        SameTopK(data, dims, query, TestVectors.BruteForce(data, dims, ids, query, 50), hits);
    }

    [Fact]
    public void Count_AfterAddsAndDeletes_CountsLiveOnly()
    {
        const int dims = 8;
        var (data, ids) = Data(40, dims, 41);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, 2);
        Assert.True(index.MarkDeleted(ids[3]));
        Assert.True(index.MarkDeleted(ids[5]));
        Assert.False(index.MarkDeleted(ids[5]));
        Assert.False(index.MarkDeleted(-77));
        Assert.Equal(38, index.Count);
        Assert.Equal(2, index.DeletedCount);
        Assert.False(index.Contains(ids[3]));
        Assert.True(index.Contains(ids[4]));
    }

    [Fact]
    public void MarkDeleted_Id_NeverReturnedAgain()
    {
        const int dims = 16;
        var (data, ids) = Data(200, dims, 51);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, 2);
        var deleted = ids.Where((_, i) => i % 3 == 0).ToHashSet();
        foreach (long id in deleted) index.MarkDeleted(id);
        for (int i = 0; i < ids.Length; i += 5)
        {
            ReadOnlySpan<float> query = TestVectors.Row(data, dims, i);
            IReadOnlyList<VectorHit> hits = index.Search(query, 10, WideEf);
            Assert.Equal(10, hits.Count);
            Assert.DoesNotContain(hits, h => deleted.Contains(h.Id));
            SameTopK(data, dims, query, TestVectors.BruteForce(data, dims, ids, query, 10, id => !deleted.Contains(id)), hits);
        }
    }

    [Fact]
    public void Add_ExistingId_ReplacesTheVector()
    {
        const int dims = 16;
        var gen = new TestVectors(61);
        IVectorIndex index = Create(dims);
        float[] first = gen.UnitVector(dims), second = gen.UnitVector(dims);
        index.Add(5, first);
        for (int i = 0; i < 50; i++) index.Add(100 + i, gen.UnitVector(dims));
        index.Add(5, second);

        Assert.Equal(51, index.Count);
        Assert.Equal(1, index.DeletedCount);
        VectorHit top = index.Search(second, 1)[0];
        Assert.Equal(5, top.Id);
        Assert.Equal(1.0, top.Score, 4);
        IReadOnlyList<VectorHit> all = index.Search(first, 60, WideEf);
        Assert.Single(all, h => h.Id == 5);
        Assert.Equal(TestVectors.ScalarDot(first, second), all.Single(h => h.Id == 5).Score, 4);
    }

    [Fact]
    public void Add_WrongDimensions_ThrowsInvalidSetting()
    {
        IVectorIndex index = Create(8);
        var e = Assert.Throws<InvalidSettingException>(() => index.Add(1, new float[7]));
        Assert.Contains("8", e.Message);
        Assert.Throws<InvalidSettingException>(() => index.Search(new float[9], 1));
    }

    [Fact]
    public void Add_NaNComponent_ThrowsInvalidSetting()
    {
        IVectorIndex index = Create(4);
        Assert.Throws<InvalidSettingException>(() => index.Add(1, new[] { 0.5f, float.NaN, 0.5f, 0.5f }));
        Assert.Throws<InvalidSettingException>(() => index.Search(new[] { 0.5f, float.PositiveInfinity, 0.5f, 0.5f }, 1));
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void Search_NonPositiveK_ThrowsInvalidSetting()
    {
        IVectorIndex index = Create(4);
        index.Add(1, new[] { 1f, 0, 0, 0 });
        Assert.Throws<InvalidSettingException>(() => index.Search(new[] { 1f, 0, 0, 0 }, 0));
    }

    [Fact]
    public void Search_WithFilter_ReturnsOnlyPassingIdsAsBruteForce()
    {
        const int dims = 24;
        var (data, ids) = Data(600, dims, 71);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, 2);
        var gen = new TestVectors(72);
        foreach (int modulus in new[] { 2, 7, 97, 400 })
        {
            bool Keep(long id) => id % modulus == 0;
            float[] query = gen.UnitVector(dims);
            IReadOnlyList<VectorHit> hits = index.Search(query, 10, WideEf, Keep);
            Assert.All(hits, h => Assert.True(Keep(h.Id)));
            SameTopK(data, dims, query, TestVectors.BruteForce(data, dims, ids, query, 10, Keep), hits);
        }
    }

    [Fact]
    public void SaveOpen_RoundTrip_GivesIdenticalResults()
    {
        const int dims = 32;
        var (data, ids) = Data(800, dims, 81);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, 2);
        index.MarkDeleted(ids[10]);
        using var dir = new TempDir();
        string path = dir.File("index.ssv");
        index.Save(path);
        Assert.False(File.Exists(path + ".tmp"));
        IVectorIndex reopened = Open(path);
        Assert.Equal(index.Count, reopened.Count);
        Assert.Equal(index.DeletedCount, reopened.DeletedCount);
        Assert.Equal(dims, reopened.Dimensions);
        var gen = new TestVectors(82);
        for (int q = 0; q < 30; q++)
        {
            float[] query = gen.UnitVector(dims);
            Assert.Equal(index.Search(query, 10), reopened.Search(query, 10));
        }
    }

    [Theory]
    [InlineData(384)]
    [InlineData(512)]
    [InlineData(768)]
    [InlineData(1024)]
    public void AddSearch_ModelDimensions_FindsExactNeighbours(int dims)
    {
        var (data, ids) = Data(300, dims, (ulong)dims);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, 2);
        var gen = new TestVectors(91);
        for (int q = 0; q < 5; q++)
        {
            float[] query = gen.UnitVector(dims);
            SameTopK(data, dims, query, TestVectors.BruteForce(data, dims, ids, query, 5), index.Search(query, 5, WideEf));
        }
    }

    [Fact]
    public void Compact_AfterDeletes_KeepsLiveIdsOnly()
    {
        const int dims = 16;
        var (data, ids) = Data(300, dims, 101);
        IVectorIndex index = Create(dims);
        index.AddMany(ids, data, 2);
        for (int i = 0; i < ids.Length; i += 2) index.MarkDeleted(ids[i]);
        IVectorIndex compacted = index.Compact();
        Assert.Equal(150, compacted.Count);
        Assert.Equal(0, compacted.DeletedCount);
        for (int i = 0; i < ids.Length; i++) Assert.Equal(i % 2 == 1, compacted.Contains(ids[i]));
        float[] query = new TestVectors(102).UnitVector(dims);
        SameTopK(data, dims, query, TestVectors.BruteForce(data, dims, ids, query, 10, id => (id - 1000) % 2 == 1),
            compacted.Search(query, 10, WideEf));
    }

    [Fact]
    public async Task Search_DuringParallelAdds_ReturnsOnlyValidHits()
    {
        const int dims = 32;
        var (data, ids) = Data(3000, dims, 111);
        IVectorIndex index = Create(dims);
        var gen = new TestVectors(112);
        var queries = Enumerable.Range(0, 16).Select(_ => gen.UnitVector(dims)).ToArray();
        using var done = new CancellationTokenSource();
        int searches = 0;
        Task[] readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            int q = r;
            while (!done.IsCancellationRequested || q < 10)
            {
                float[] query = queries[q++ % queries.Length];
                IReadOnlyList<VectorHit> hits = index.Search(query, 10);
                Assert.True(hits.Count <= 10);
                Assert.Equal(hits.Count, hits.Select(h => h.Id).Distinct().Count());
                for (int i = 0; i < hits.Count; i++)
                {
                    Assert.InRange(hits[i].Id, 1000, 1000 + data.Length / dims - 1);
                    if (i > 0) Assert.True(hits[i - 1].Score >= hits[i].Score);
                    double reference = TestVectors.ScalarDot(query, TestVectors.Row(data, dims, (int)(hits[i].Id - 1000)));
                    Assert.Equal(reference, hits[i].Score, 4);
                }
                Interlocked.Increment(ref searches);
            }
        })).ToArray();
        while (Volatile.Read(ref searches) == 0) Thread.Yield();
        // Add one at a time from two threads so that storage growth also happens during the searches.
        Parallel.For(0, ids.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 },
            i => index.Add(ids[i], TestVectors.Row(data, dims, i)));
        done.Cancel();
        await Task.WhenAll(readers);
        Assert.True(searches >= 10);
        Assert.Equal(ids.Length, index.Count);
        for (int i = 0; i < ids.Length; i += 97) Assert.Equal(ids[i], index.Search(TestVectors.Row(data, dims, i), 1)[0].Id);
    }
}

public sealed class FlatVectorIndexContractTests : VectorIndexContractTests
{
    protected override IVectorIndex Create(int dimensions) => new FlatVectorIndex(dimensions, initialCapacity: 16);
    protected override IVectorIndex Open(string path) => FlatVectorIndex.Open(path);
}

public sealed class HnswIndexContractTests : VectorIndexContractTests
{
    protected override IVectorIndex Create(int dimensions) => new HnswIndex(dimensions, initialCapacity: 16);
    protected override IVectorIndex Open(string path) => HnswIndex.Open(path);
}
