namespace SemanticSearch.Testing;

/// <summary>
/// The scalar references vector results are checked against: plain loops in double precision, no SIMD, nothing
/// shared with the code under test.
/// </summary>
public static class BruteForce
{
    /// <summary>The cosine similarity of <paramref name="a"/> and <paramref name="b"/> (any norms).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"vectors of {a.Length} and {b.Length} dimensions", nameof(b));
        }
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
