// Writes the scale benchmark's corpus in the import format, one JSON object a line:
//   {"id", "title", "text", "metadata": {"src", "bucket"}, "vector": [dims numbers, 6 significant digits]}
// Document i is a function of (seed, i) alone — its own random stream —, so the first n documents are the same
// whatever the total, and the extra documents (ids N…N+extra-1) are simply the next ones. A document is 3–8 pool
// sentences (about 300–600 characters): the first drawn anywhere, each next one near the last in the pool (same or a
// neighbouring abstract) with probability 0.7, else anywhere; that keeps a document mostly on one topic, as real
// chunks are, and gives BM25 real posting lists. Queries (own stream) are one pool sentence with about 30 % of its
// words dropped, sometimes a few words of the next sentence added: short, sentence-like, never a document's text.
using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ScaleBench;

internal static class Generator
{
    private const ulong QueryStream = 0x5155455259UL; // "QUERY"

    public static int Run(Args args)
    {
        var datasets = args.Get("datasets");
        var outDir = args.Get("out");
        var n = args.Int("n");
        var extra = args.Int("extra", 1000);
        var queries = args.Int("queries", 300);
        var seed = (ulong)args.Int("seed", 42);
        var dims = args.Int("dims", 384);
        var noise = (float)args.Double("noise", 0.2);
        var own = (float)args.Double("own", 0.5);
        var decay = (float)args.Double("decay", 0.4);
        Directory.CreateDirectory(outDir);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pool = SentencePool.Load(datasets);
        var vectors = new PseudoVectors(pool, dims, seed, noise, own, decay);
        Console.Error.WriteLine($"pool: {pool.Sentences.Count:N0} sentences, {pool.Idf.Count:N0} words ({clock.Elapsed.TotalSeconds:F1} s)");
        WriteLines(Path.Combine(outDir, "docs.jsonl"), 0, n, i => Document(pool, vectors, seed, i));
        WriteLines(Path.Combine(outDir, "extra.jsonl"), n, extra, i => Document(pool, vectors, seed, i));
        WriteLines(Path.Combine(outDir, "queries.jsonl"), 0, queries, q => Query(pool, vectors, seed, q));
        Console.Error.WriteLine($"generated {n:N0} documents, {extra:N0} extra, {queries:N0} queries into {outDir} in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    // Lines are made in parallel blocks and written in order.
    private static void WriteLines(string path, long first, int count, Func<long, byte[]> line)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        const int Block = 8192;
        var lines = new byte[Block][];
        for (var start = 0; start < count; start += Block)
        {
            var size = Math.Min(Block, count - start);
            Parallel.For(0, size, j => lines[j] = line(first + start + j));
            for (var j = 0; j < size; j++)
            {
                file.Write(lines[j]);
            }
        }
    }

    private static byte[] Document(SentencePool pool, PseudoVectors vectors, ulong seed, long i)
    {
        var rng = SplitMix64.For(seed, i);
        var sentences = pool.Sentences;
        var target = 300 + rng.Next(301);
        var pos = rng.Next(sentences.Count);
        var picked = new List<int> { pos };
        var length = sentences[pos].Text.Length;
        while (picked.Count < 8 && (picked.Count < 3 || length < target))
        {
            var next = rng.NextDouble() < 0.7
                ? Math.Clamp(pos + rng.Next(21) - 10, 0, sentences.Count - 1)
                : rng.Next(sentences.Count);
            if (picked.Contains(next))
            {
                continue;
            }
            picked.Add(next);
            length += 1 + sentences[next].Text.Length;
            pos = next;
        }
        var text = string.Join(' ', picked.Select(p => sentences[p].Text));
        var first = sentences[picked[0]];
        var vector = vectors.Of(first.Title + " " + text, ref rng);
        return Line(w =>
        {
            w.WriteString("id", "d" + i.ToString("D7", CultureInfo.InvariantCulture));
            w.WriteString("title", first.Title);
            w.WriteString("text", text);
            w.WriteStartObject("metadata");
            w.WriteString("src", first.Corpus);
            w.WriteString("bucket", "b" + (i % 16).ToString("x", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }, vector);
    }

    private static byte[] Query(SentencePool pool, PseudoVectors vectors, ulong seed, long q)
    {
        var rng = SplitMix64.For(seed ^ QueryStream, q);
        var sentences = pool.Sentences;
        var pos = rng.Next(sentences.Count);
        var words = sentences[pos].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var kept = words.Where(_ => rng.NextDouble() >= 0.3).ToList();
        if (kept.Count < 4)
        {
            kept = words.Take(Math.Max(4, kept.Count)).ToList();
        }
        if (rng.NextDouble() < 0.3 && pos + 1 < sentences.Count)
        {
            kept.AddRange(sentences[pos + 1].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2 + rng.Next(3)));
        }
        var text = string.Join(' ', kept).TrimEnd('.', ',', ';', ':');
        var vector = vectors.Of(text, ref rng);
        return Line(w =>
        {
            w.WriteString("id", "q" + q.ToString("D5", CultureInfo.InvariantCulture));
            w.WriteString("text", text);
        }, vector);
    }

    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static byte[] Line(Action<Utf8JsonWriter> fields, float[] vector)
    {
        var buffer = new ArrayBufferWriter<byte>(4096 + vector.Length * 12);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            fields(w);
            w.WriteStartArray("vector");
            Span<byte> number = stackalloc byte[32];
            foreach (var x in vector)
            {
                x.TryFormat(number, out var written, "G6", CultureInfo.InvariantCulture);
                w.WriteRawValue(number[..written], skipInputValidation: true);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
