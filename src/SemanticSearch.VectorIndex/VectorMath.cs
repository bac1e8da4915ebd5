// Similarity kernels. Vectors are L2-normalised once, at embed time, so similarity is a plain inner product.
// Dot is the SIMD hot path (Vector512/256 with FMA, TensorPrimitives where neither is accelerated); DotScalar is
// the reference the tests hold it against.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SemanticSearch.Core;

namespace SemanticSearch.VectorIndex;

internal static class VectorMath
{
    /// <summary>
    /// SIMD inner product. Four independent fused multiply-add accumulators hide the FMA latency (a single
    /// accumulator, as a generic reduction uses, leaves the core waiting on its own previous result); lengths the
    /// wide loop does not cover finish in narrower vectors and then a scalar tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) ThrowLengthMismatch();
        if (!Vector512.IsHardwareAccelerated && !Vector256.IsHardwareAccelerated) return TensorPrimitives.Dot(a, b);
        int n = a.Length;
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= n - 64; i += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)(i + 16)), Vector512.LoadUnsafe(ref pb, (nuint)(i + 16)), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)(i + 32)), Vector512.LoadUnsafe(ref pb, (nuint)(i + 32)), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)(i + 48)), Vector512.LoadUnsafe(ref pb, (nuint)(i + 48)), s3);
            }
            for (; i <= n - 16; i += 16)
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i), s0);
            sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= n - 32; i += 32)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 8)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 8)), s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 16)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 16)), s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 24)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 24)), s3);
            }
            for (; i <= n - 8; i += 8)
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), s0);
            sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < n; i++) sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>
    /// The inner product of a float query with an int8 code (the caller multiplies by the code's scale). Each step
    /// widens 16 (or 8) codes to floats and fuses a multiply-add: a quarter of the float kernel's memory traffic for the
    /// same arithmetic, which is what a graph walk over a million vectors waits on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotInt8(ReadOnlySpan<float> query, ReadOnlySpan<sbyte> code)
    {
        if (query.Length != code.Length) ThrowLengthMismatch();
        int n = query.Length;
        ref float pq = ref MemoryMarshal.GetReference(query);
        ref sbyte pc = ref MemoryMarshal.GetReference(code);
        int i = 0;
        float sum = 0;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && n >= 16)
        {
            Vector512<float> s0 = Vector512<float>.Zero, s1 = s0;
            for (; i <= n - 32; i += 32)
            {
                var c0 = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref pc, (nuint)i));
                var c1 = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref pc, (nuint)(i + 16)));
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pq, (nuint)i), Vector512.ConvertToSingle(c0), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pq, (nuint)(i + 16)), Vector512.ConvertToSingle(c1), s1);
            }
            for (; i <= n - 16; i += 16)
            {
                var c0 = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref pc, (nuint)i));
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pq, (nuint)i), Vector512.ConvertToSingle(c0), s0);
            }
            sum = Vector512.Sum(s0 + s1);
        }
        else if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && n >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var c0 = System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref pc, i)))).AsSByte());
                s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pq, (nuint)i), Vector256.ConvertToSingle(c0), s0);
            }
            sum = Vector256.Sum(s0);
        }
        for (; i < n; i++) sum += Unsafe.Add(ref pq, i) * Unsafe.Add(ref pc, i);
        return sum;
    }

    /// <summary>
    /// Scalar quantisation of one vector to int8 with its own scale: code = round(x / scale), scale = max|x| / 127, so
    /// x ≈ code × scale, each component within scale / 2. Returns the scale (0 for a zero vector).
    /// </summary>
    public static float QuantiseInt8(ReadOnlySpan<float> vector, Span<sbyte> code)
    {
        float max = TensorPrimitives.MaxMagnitude(vector);
        if (max == 0 || !float.IsFinite(max))
        {
            code.Clear();
            return 0;
        }
        float scale = Math.Abs(max) / 127f, inverse = 1f / scale;
        for (int i = 0; i < vector.Length; i++) code[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] * inverse), -127f, 127f);
        return scale;
    }

    /// <summary>The library kernel (TensorPrimitives), kept for the micro-benchmark comparison.</summary>
    public static float DotTensorPrimitives(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    private static void ThrowLengthMismatch() => throw new ArgumentException("Vectors differ in length.");

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
