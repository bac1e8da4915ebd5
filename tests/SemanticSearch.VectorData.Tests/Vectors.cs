namespace SemanticSearch.VectorData.Tests;

/// <summary>Deterministic test vectors and the brute-force cosine ranking searches are checked against.</summary>
internal static class Vectors
{
    public static float[] Random(Random rng, int dims)
    {
        var v = new float[dims];
        for (var i = 0; i < dims; i++)
        {
            v[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return v;
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
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
