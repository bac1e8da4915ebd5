// "open" mode: builds a cheap index (efConstruction 10) of n random vectors, saves it and times HnswIndex.Open,
// to check that a 100k x 384 index opens well under a second.
using System.Diagnostics;
using System.Globalization;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.VectorIndex.Benchmarks;

internal static class OpenRun
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        int dims = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 384;
        var random = new Random(3);
        var data = new float[(long)n * dims];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() - 0.5f;
        for (int i = 0; i < n; i++)
        {
            Span<float> row = data.AsSpan(i * dims, dims);
            float norm = MathF.Sqrt(VectorMath.Dot(row, row));
            for (int d = 0; d < dims; d++) row[d] /= norm;
        }
        var index = new HnswIndex(dims, new HnswParameters(EfConstruction: 10), initialCapacity: n);
        index.AddMany(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), data, Environment.ProcessorCount);
        string path = Path.Combine(Path.GetTempPath(), $"semsearch-open-{Environment.ProcessId}.ssv");
        index.Save(path);
        Console.WriteLine($"file: {new FileInfo(path).Length / 1048576.0:F1} MB");
        for (int r = 0; r < 3; r++)
        {
            var sw = Stopwatch.StartNew();
            HnswIndex opened = HnswIndex.Open(path);
            Console.WriteLine($"open #{r + 1}: {sw.Elapsed.TotalMilliseconds:F0} ms ({opened.Count} vectors)");
        }
        File.Delete(path);
        return 0;
    }
}
