using SemanticSearch.VectorIndex;

namespace SemanticSearch.VectorIndex.Tests;

/// <summary>
/// Deterministic test data: its own SplitMix64 + Box-Muller generator (so the frozen fixtures can be regenerated
/// bit-for-bit whatever System.Random does), clustered L2-normalised vectors, and a scalar brute-force reference.
/// </summary>
internal sealed class TestVectors
{
    private ulong _state;

    public TestVectors(ulong seed) => _state = seed;

    public ulong NextULong()
    {
        ulong x = _state += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public double NextDouble() => ((NextULong() >> 11) + 1) * (1.0 / (1UL << 53));

    public double NextGaussian() => Math.Sqrt(-2.0 * Math.Log(NextDouble())) * Math.Cos(2 * Math.PI * NextDouble());

    public int NextInt(int maxExclusive) => (int)(NextULong() % (ulong)maxExclusive);

    /// <summary>One random unit vector.</summary>
    public float[] UnitVector(int dims)
    {
        var v = new float[dims];
        for (int i = 0; i < dims; i++) v[i] = (float)NextGaussian();
        Normalize(v);
        return v;
    }

    /// <summary><paramref name="count"/> unit vectors around <paramref name="clusters"/> random centres, row-major.</summary>
    public float[] Clustered(int count, int dims, int clusters, double spread)
    {
        var centres = new float[clusters][];
        for (int c = 0; c < clusters; c++) centres[c] = UnitVector(dims);
        var data = new float[count * dims];
        for (int i = 0; i < count; i++)
        {
            float[] centre = centres[NextInt(clusters)];
            Span<float> row = data.AsSpan(i * dims, dims);
            for (int d = 0; d < dims; d++) row[d] = centre[d] + (float)(spread * NextGaussian() / Math.Sqrt(dims));
            Normalize(row);
        }
        return data;
    }

    public static void Normalize(Span<float> v)
    {
        double sum = 0;
        foreach (float x in v) sum += x * x;
        float inv = (float)(1.0 / Math.Sqrt(sum));
        for (int i = 0; i < v.Length; i++) v[i] *= inv;
    }

    public static ReadOnlySpan<float> Row(float[] data, int dims, int i) => data.AsSpan(i * dims, dims);

    /// <summary>Exact top-k by a scalar loop (the reference, independent of the SIMD kernel and the index).</summary>
    public static long[] BruteForce(float[] data, int dims, IReadOnlyList<long> ids, ReadOnlySpan<float> query, int k,
        Func<long, bool>? keep = null)
    {
        // Insertion into a sorted top-k buffer: simple enough to be obviously right.
        var bestScores = new double[k];
        var bestIds = new long[k];
        int count = 0;
        for (int i = 0; i < ids.Count; i++)
        {
            if (keep is not null && !keep(ids[i])) continue;
            double s = ScalarDot(Row(data, dims, i), query);
            if (count == k && s <= bestScores[k - 1]) continue;
            int pos = count < k ? count++ : k - 1;
            while (pos > 0 && bestScores[pos - 1] < s)
            {
                bestScores[pos] = bestScores[pos - 1];
                bestIds[pos] = bestIds[pos - 1];
                pos--;
            }
            bestScores[pos] = s;
            bestIds[pos] = ids[i];
        }
        return bestIds.AsSpan(0, count).ToArray();
    }

    /// <summary>
    /// Asserts that <paramref name="actual"/> is a correct top-k: same length as the brute-force answer, distinct ids,
    /// and at every rank a reference score equal to the brute-force one within 1e-5 (so that two near-tied vectors,
    /// which float and double arithmetic may order differently, may swap places).
    /// </summary>
    public static void AssertSameTopK(float[] data, int dims, Func<long, int> rowOf, ReadOnlySpan<float> query,
        long[] expected, IReadOnlyList<VectorHit> actual)
    {
        Xunit.Assert.Equal(expected.Length, actual.Count);
        Xunit.Assert.Equal(actual.Count, actual.Select(h => h.Id).Distinct().Count());
        for (int i = 0; i < expected.Length; i++)
        {
            double want = ScalarDot(query, Row(data, dims, rowOf(expected[i])));
            double got = ScalarDot(query, Row(data, dims, rowOf(actual[i].Id)));
            Xunit.Assert.True(Math.Abs(want - got) <= 1e-5,
                $"rank {i}: expected id {expected[i]} ({want:F7}), got id {actual[i].Id} ({got:F7})");
            Xunit.Assert.Equal(got, actual[i].Score, 4);
        }
    }

    public static double ScalarDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    public static long[] Ids(int count, long offset = 0) => Enumerable.Range(0, count).Select(i => offset + i).ToArray();

    /// <summary>Mean fraction of the true top-k found.</summary>
    public static double Recall(IReadOnlyList<long[]> truth, IReadOnlyList<IReadOnlyList<VectorHit>> found)
    {
        double sum = 0;
        for (int q = 0; q < truth.Count; q++)
        {
            var got = found[q].Select(h => h.Id).ToHashSet();
            sum += truth[q].Count(got.Contains) / (double)truth[q].Length;
        }
        return sum / truth.Count;
    }
}

/// <summary>This project's frozen fixtures.</summary>
internal static class TestFixtures
{
    public static string Root => Path.Combine(RepoPaths.Tests, "SemanticSearch.VectorIndex.Tests", "Fixtures");
}

/// <summary>A temp directory deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(PathName = Path.Combine(Path.GetTempPath(), "ssvi-" + Guid.NewGuid().ToString("N")));
    public string PathName { get; }
    public string File(string name) => Path.Combine(PathName, name);
    public void Dispose()
    {
        try { Directory.Delete(PathName, recursive: true); }
        catch (IOException) { }
    }
}
