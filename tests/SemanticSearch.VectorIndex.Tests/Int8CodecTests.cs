using SemanticSearch.VectorIndex;
using Xunit;

namespace SemanticSearch.VectorIndex.Tests;

/// <summary>
/// The int8 walk: the kernel against a scalar loop, the quantiser's error bound, recall against brute force beside the
/// float walk on the same graph, exact scores after rescoring, and files that do not depend on the codec.
/// </summary>
public sealed class Int8CodecTests
{
    private const int Dims = 384;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(384)]
    [InlineData(385)]
    public void DotInt8_MatchesAScalarLoop(int length)
    {
        var rng = new TestVectors((ulong)length);
        var q = rng.UnitVector(length);
        var code = Enumerable.Range(0, length).Select(_ => (sbyte)(rng.NextInt(255) - 127)).ToArray();
        double want = 0;
        for (var i = 0; i < length; i++) want += (double)q[i] * code[i];
        Assert.Equal(want, VectorMath.DotInt8(q, code), 3);
    }

    [Fact]
    public void QuantiseInt8_EveryComponentWithinHalfAStep()
    {
        var rng = new TestVectors(77);
        for (var t = 0; t < 50; t++)
        {
            var v = rng.UnitVector(Dims);
            var code = new sbyte[Dims];
            var scale = VectorMath.QuantiseInt8(v, code);
            var max = v.Max(Math.Abs);
            Assert.Equal(max / 127, scale, 6);
            for (var i = 0; i < Dims; i++)
            {
                Assert.True(Math.Abs(v[i] - code[i] * scale) <= scale / 2 * 1.0001, $"component {i}: {v[i]} coded {code[i]} x {scale}");
            }
            Assert.Contains(code, c => Math.Abs((int)c) == 127);
        }
        Assert.Equal(0, VectorMath.QuantiseInt8(new float[8], new sbyte[8]));
    }

    [Fact]
    public void Search_Int8Walk_RecallBesideTheFloatWalkAndExactScores()
    {
        float[] all = new TestVectors(4242).Clustered(10_100, Dims, clusters: 100, spread: 1.2);
        float[] data = all.AsSpan(0, 10_000 * Dims).ToArray();
        long[] ids = TestVectors.Ids(10_000);
        var coded = new HnswIndex(Dims, new HnswParameters { Codec = VectorCodec.Int8 });
        coded.AddMany(ids, data, 2);
        using var dir = new TempDir();
        var path = dir.File("graph.hnsw");
        coded.Save(path);
        var exact = HnswIndex.Open(path, null, 0, VectorCodec.Float32); // the same graph, walked on floats
        var queries = Enumerable.Range(10_000, 100).Select(i => all.AsSpan(i * Dims, Dims).ToArray()).ToArray();
        var truth = queries.Select(q => TestVectors.BruteForce(data, Dims, ids, q, 10)).ToList();

        var foundCoded = queries.Select(q => coded.Search(q, 10)).ToList();
        var foundFloat = queries.Select(q => exact.Search(q, 10)).ToList();
        double recallCoded = TestVectors.Recall(truth, foundCoded), recallFloat = TestVectors.Recall(truth, foundFloat);
        Console.WriteLine($"recall@10 int8 {recallCoded:F4}, float {recallFloat:F4}");
        Assert.True(recallCoded >= 0.95, $"int8 recall@10 = {recallCoded:F4}");
        Assert.True(recallCoded >= recallFloat - 0.02, $"int8 {recallCoded:F4} vs float {recallFloat:F4}");
        // rescored: every score is the exact inner product, and the hits are in exact order
        foreach (var (q, hits) in queries.Zip(foundCoded))
        {
            foreach (var h in hits)
            {
                var want = TestVectors.ScalarDot(q, TestVectors.Row(data, Dims, (int)h.Id));
                Assert.True(Math.Abs(want - h.Score) < 1e-5, $"id {h.Id}: score {h.Score}, exact {want}");
            }
            Assert.Equal(hits.OrderByDescending(h => h.Score).Select(h => h.Id), hits.Select(h => h.Id));
        }
    }

    [Fact]
    public void Save_IsTheSameFileWhateverTheCodec()
    {
        float[] data = new TestVectors(99).Clustered(500, 32, clusters: 5, spread: 1.0);
        using var dir = new TempDir();
        var paths = new List<string>();
        foreach (var codec in new[] { VectorCodec.Int8, VectorCodec.Float32 })
        {
            var index = new HnswIndex(32, new HnswParameters(M: 8) { Codec = codec });
            index.AddMany(TestVectors.Ids(500), data, 1); // one thread: the same graph both times
            paths.Add(dir.File($"{codec}.hnsw"));
            index.Save(paths[^1]);
        }
        Assert.Equal(File.ReadAllBytes(paths[0]), File.ReadAllBytes(paths[1]));
    }

    [Fact]
    public void Open_MappedVectors_SearchesAsTheLoadedIndexAndOutlivesTheFile()
    {
        float[] data = new TestVectors(31).Clustered(3000, 64, clusters: 20, spread: 1.1);
        using var dir = new TempDir();
        var path = dir.File("graph.hnsw");
        var log = dir.File("graph.hlog");
        var writer = new HnswIndex(64);
        writer.AddMany(TestVectors.Ids(2500), data.AsSpan(0, 2500 * 64), 2);
        writer.Save(path);
        // two commits' records in the log: the mapped open maps the file's rows and each record's rows where they lie
        writer.AddMany(TestVectors.Ids(300, 2500), data.AsSpan(2500 * 64, 300 * 64).ToArray(), 2);
        writer.MarkDeleted(7);
        var first = writer.AppendChanges(log, 0, 2);
        writer.AddMany(TestVectors.Ids(200, 2800), data.AsSpan(2800 * 64).ToArray(), 2);
        writer.MarkDeleted(2600);
        var length = writer.AppendChanges(log, first, 3);

        var loaded = HnswIndex.Open(path, log, length, VectorCodec.Int8);
        var mapped = HnswIndex.Open(path, log, length, VectorCodec.Int8, mapVectors: true);
        Assert.Equal(loaded.Count, mapped.Count);
        // none of the 3,000 float vectors in memory (the loaded open holds them all), not even in spare capacity
        Assert.True(mapped.MemoryBytes < loaded.MemoryBytes - 3000L * 64 * 4 * 9 / 10, $"mapped {mapped.MemoryBytes} bytes, loaded {loaded.MemoryBytes}");
        Assert.Throws<InvalidOperationException>(() => mapped.Add(99_999, new TestVectors(8).UnitVector(64)));
        File.Delete(path); // a writer retiring the files: the open handles keep their data
        File.Delete(log);
        var rng = new TestVectors(5);
        for (var i = 0; i < 50; i++)
        {
            var q = rng.UnitVector(64);
            Assert.Equal(loaded.Search(q, 10), mapped.Search(q, 10));
            Assert.Equal(loaded.Search(q, 5, filter: id => id % 97 == 0), mapped.Search(q, 5, filter: id => id % 97 == 0)); // the exact scan
        }
        var again = dir.File("again.hnsw");
        mapped.Save(again); // a mapped index saves whole: the file's rows, then the loaded ones
        Assert.Equal(loaded.Count, HnswIndex.Open(again).Count);
        var q2 = rng.UnitVector(64);
        Assert.Equal(loaded.Search(q2, 10), HnswIndex.Open(again).Search(q2, 10));
    }
}
