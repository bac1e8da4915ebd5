namespace SemanticSearch.VectorData.Tests;

/// <summary>Deterministic test vectors (searches are checked against <see cref="BruteForce.Cosine"/> over them).</summary>
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
}
