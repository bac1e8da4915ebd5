using BenchmarkDotNet.Attributes;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.VectorIndex.Benchmarks;

/// <summary>The similarity kernel: our FMA kernel and TensorPrimitives against the scalar reference, at model dimensions.</summary>
[MemoryDiagnoser]
public class DotProductBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];

    [Params(384, 768, 1024)]
    public int Dimensions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _a = Enumerable.Range(0, Dimensions).Select(_ => random.NextSingle() - 0.5f).ToArray();
        _b = Enumerable.Range(0, Dimensions).Select(_ => random.NextSingle() - 0.5f).ToArray();
    }

    [Benchmark(Baseline = true)]
    public float Scalar() => VectorMath.DotScalar(_a, _b);

    [Benchmark]
    public float TensorPrimitivesDot() => VectorMath.DotTensorPrimitives(_a, _b);

    [Benchmark]
    public float Simd() => VectorMath.Dot(_a, _b);
}

/// <summary>Search on a prebuilt 20k x 384 index: checks the walk allocates only the result list.</summary>
[MemoryDiagnoser]
public class HnswSearchBenchmarks
{
    private const int Dims = 384;
    private HnswIndex _index = null!;
    private float[] _query = [];

    [Params(16, 64, 256)]
    public int Ef { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(2);
        const int n = 20_000;
        var data = new float[n * Dims];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() - 0.5f;
        for (int i = 0; i < n; i++) Normalize(data.AsSpan(i * Dims, Dims));
        _index = new HnswIndex(Dims, initialCapacity: n);
        _index.AddMany(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), data, Environment.ProcessorCount);
        _query = data.AsSpan(0, Dims).ToArray();
    }

    private static void Normalize(Span<float> v)
    {
        float norm = MathF.Sqrt(VectorMath.Dot(v, v));
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
    }

    [Benchmark]
    public int Search() => _index.Search(_query, 10, Ef).Count;
}
