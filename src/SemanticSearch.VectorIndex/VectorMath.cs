// Similarity kernels. Vectors are L2-normalised once, at embed time, so similarity is a plain inner product.
// Dot is the SIMD hot path (TensorPrimitives picks Vector512/256/128 for the machine); DotScalar is the
// reference the tests hold it against.
using System.Numerics.Tensors;
using SemanticSearch.Core;

namespace SemanticSearch.VectorIndex;

internal static class VectorMath
{
    /// <summary>SIMD inner product.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    /// <summary>Plain loop, accumulated in double: the reference implementation.</summary>
    public static float DotScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("Vectors differ in length.", nameof(b));
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    /// <summary>Rejects a vector of the wrong length or with NaN/infinite components.</summary>
    public static void Validate(ReadOnlySpan<float> vector, int dimensions, string what)
    {
        if (vector.Length != dimensions)
            throw new InvalidSettingException(what, $"has {vector.Length} dimensions, the index has {dimensions}");
        for (int i = 0; i < vector.Length; i++)
        {
            if (!float.IsFinite(vector[i]))
                throw new InvalidSettingException(what, $"component {i} is {vector[i]}; vectors must be finite");
        }
    }
}
