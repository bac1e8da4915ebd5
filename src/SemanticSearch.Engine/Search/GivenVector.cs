using SemanticSearch.Core;

namespace SemanticSearch.Engine.Search;

/// <summary>
/// A vector a caller gives instead of text to embed (a query's, a VectorData record's): finite and not all zeros,
/// stored and searched as its unit vector, like every embedding the engine makes.
/// </summary>
internal static class GivenVector
{
    /// <summary>Throws <see cref="InvalidSettingException"/> (setting <c>vector</c>, message after <paramref name="whose"/>) unless usable; returns its squared norm.</summary>
    public static double Check(ReadOnlySpan<float> vector, string whose = "")
    {
        var squares = 0.0;
        foreach (var x in vector)
        {
            if (!float.IsFinite(x))
            {
                throw new InvalidSettingException("vector", whose + "holds a value that is not a finite number.");
            }
            squares += (double)x * x;
        }
        if (squares == 0)
        {
            throw new InvalidSettingException("vector", whose + "is all zeros; it has no direction to search along.");
        }
        return squares;
    }

    /// <summary>A unit-length copy of <paramref name="vector"/>, after <see cref="Check"/>.</summary>
    public static float[] Normalised(ReadOnlySpan<float> vector, string whose = "")
    {
        var norm = (float)Math.Sqrt(Check(vector, whose));
        var v = vector.ToArray();
        System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
        return v;
    }
}
