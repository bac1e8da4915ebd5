// "codec <passages.jsonl> <queries.jsonl>": how much of the exact top 10 int8 scoring keeps, on real embeddings
// (one {"vector": [...]} object a line, e.g. from 'semsearch embed'), without a graph so that only the codes are
// measured: scale per vector against scale per dimension, top 10 by codes alone and after rescoring the codes' top
// 20, 40 and 64 with the floats (what the int8 walk does with its beam).
using System.Text.Json;

namespace SemanticSearch.VectorIndex.Benchmarks;

internal static class CodecRun
{
    public static int Run(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: codec <passages.jsonl> <queries.jsonl>");
            return 2;
        }
        var passages = Read(args[0]);
        var queries = Read(args[1]);
        int dims = passages[0].Length;
        Console.WriteLine($"{passages.Count} passages, {queries.Count} queries, {dims} dimensions");

        // per vector: one scale each (the codec shipped)
        var perVector = passages.Select(p =>
        {
            var code = new sbyte[dims];
            float scale = VectorMath.QuantiseInt8(p, code);
            return (code, scale);
        }).ToList();
        // per dimension: one scale per component, from the largest magnitude of that component over the passages
        var dimScale = new float[dims];
        for (int d = 0; d < dims; d++) dimScale[d] = passages.Max(p => Math.Abs(p[d])) / 127f;
        var perDim = passages.Select(p => p.Select((x, d) => (sbyte)Math.Clamp(MathF.Round(x / dimScale[d]), -127, 127)).ToArray()).ToList();

        var rows = new List<(string Name, double Recall)>();
        foreach (int rescore in new[] { 10, 20, 40, 64 })
        {
            double v = 0, dm = 0;
            foreach (var q in queries)
            {
                var exact = Top(passages.Count, 10, i => VectorMath.DotScalar(q, passages[i]));
                var byVector = Top(passages.Count, rescore, i => VectorMath.DotInt8(q, perVector[i].code) * perVector[i].scale);
                var qd = q.Select((x, d) => x * dimScale[d]).ToArray();
                var byDim = Top(passages.Count, rescore, i => VectorMath.DotInt8(qd, perDim[i]));
                v += Overlap(exact, Rescored(byVector, q, passages));
                dm += Overlap(exact, Rescored(byDim, q, passages));
            }
            rows.Add(($"per vector, {(rescore == 10 ? "codes alone" : $"top {rescore} rescored")}", v / queries.Count));
            rows.Add(($"per dimension, {(rescore == 10 ? "codes alone" : $"top {rescore} rescored")}", dm / queries.Count));
        }
        foreach (var (name, recall) in rows) Console.WriteLine($"| {name} | {recall:F4} |");
        return 0;
    }

    private static int[] Rescored(int[] candidates, float[] q, List<float[]> passages) =>
        [.. candidates.OrderByDescending(i => VectorMath.DotScalar(q, passages[i])).Take(10)];

    private static double Overlap(int[] exact, int[] found) => exact.Intersect(found).Count() / (double)exact.Length;

    private static int[] Top(int n, int k, Func<int, float> score) =>
        [.. Enumerable.Range(0, n).Select(i => (i, s: score(i))).OrderByDescending(x => x.s).Take(k).Select(x => x.i)];

    private static List<float[]> Read(string path) =>
        [.. File.ReadLines(path).Where(l => l.Length > 0).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            var v = doc.RootElement.GetProperty("vector").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            double norm = Math.Sqrt(v.Sum(x => (double)x * x));
            return v.Select(x => (float)(x / norm)).ToArray();
        })];
}
