// The metadata store at a million chunks, through the MetadataStore API the engine uses (docs/benchmarks.md,
// "Metadata at a million chunks"). Each step runs in its own process so that its RSS is its own:
//
//   dotnet run --project tests/benchmarks/metadata -c Release -- build  <dir> [chunks=1000000]  250k documents × 4 chunks of ~500 chars
//   dotnet run --project tests/benchmarks/metadata -c Release -- read   <dir>   read-only open: time, RSS, managed heap; pages of 10 random hits
//   dotnet run --project tests/benchmarks/metadata -c Release -- commit <dir>   the writer: open, 1,000 more documents (4,000 chunks), commit
//   tests/benchmarks/metadata/run.sh <dir>                                      all three, then the files' sizes
using System.Diagnostics;
using System.Globalization;
using SemanticSearch.Metadata;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: metadata-scale build|read|commit <dir> [chunks]");
    return 2;
}
var dir = args[1];
var path = Path.Combine(dir, "metadata.db");
const int ChunksPerDocument = 4;
switch (args[0])
{
    case "build":
    {
        var chunks = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000_000;
        Directory.CreateDirectory(dir);
        var sw = Stopwatch.StartNew();
        using (var store = MetadataStore.Open(path, readOnly: false))
        {
            var next = store.NextChunkId;
            var documents = chunks / ChunksPerDocument;
            const int Batch = 256, CommitEvery = 25_000; // the engine: UpsertMany per batch, a commit per job slice
            store.BeginTransaction();
            for (var d = 0; d < documents; d += Batch)
            {
                var batch = new List<(DocumentRecord, IReadOnlyList<ChunkRecord>)>(Batch);
                for (var i = d; i < Math.Min(documents, d + Batch); i++)
                {
                    batch.Add(Corpus.Document(i, ref next));
                }
                store.UpsertMany(batch);
                if ((d + Batch) % CommitEvery < Batch || d + Batch >= documents)
                {
                    store.NextChunkId = next;
                    store.Commit();
                    store.BeginTransaction();
                    Console.WriteLine($"  {Math.Min(documents, d + Batch):N0} documents, {sw.Elapsed.TotalSeconds:F0} s");
                }
            }
            store.Commit();
        }
        Console.WriteLine($"build: {chunks:N0} chunks in {sw.Elapsed.TotalSeconds:F1} s");
        Sizes(dir);
        return 0;
    }
    case "read":
    {
        var rssBefore = Rss();
        var sw = Stopwatch.StartNew();
        using var store = MetadataStore.Open(path, readOnly: true);
        var counts = store.Counts();
        var open = sw.Elapsed;
        Console.WriteLine($"read-only open (incl. Counts): {open.TotalMilliseconds:F0} ms, {counts.Documents:N0} documents, {counts.Chunks:N0} chunks");
        var random = new Random(7);
        var next = store.NextChunkId;
        var times = new List<double>();
        for (var page = 0; page < 200; page++)
        {
            var ids = new long[10];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = random.NextInt64(1, next);
            }
            var t = Stopwatch.StartNew();
            var found = store.GetChunks(ids);
            foreach (var c in found.Values)
            {
                _ = store.GetDocument(c.DocumentId) ?? throw new InvalidOperationException("a chunk without its document");
            }
            times.Add(t.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"page of 10 random chunks + documents: first {times[^1]:F2} ms max, p50 {times[times.Count / 2]:F3} ms, p95 {times[times.Count * 95 / 100]:F3} ms");
        GC.Collect();
        Console.WriteLine($"RSS: {rssBefore / 1e6:F0} MB before open, {Rss() / 1e6:F0} MB after open + 200 pages; managed heap {GC.GetTotalMemory(true) / 1e6:F1} MB");
        return 0;
    }
    case "commit":
    {
        var sw = Stopwatch.StartNew();
        using var store = MetadataStore.Open(path, readOnly: false);
        Console.WriteLine($"writer open: {sw.Elapsed.TotalMilliseconds:F0} ms");
        var next = store.NextChunkId;
        var first = (int)(store.Counts().Documents + 1_000_000);
        sw.Restart();
        store.BeginTransaction();
        for (var d = 0; d < 1000; d += 256)
        {
            var batch = new List<(DocumentRecord, IReadOnlyList<ChunkRecord>)>();
            for (var i = d; i < Math.Min(1000, d + 256); i++)
            {
                batch.Add(Corpus.Document(first + i, ref next));
            }
            store.UpsertMany(batch);
        }
        store.NextChunkId = next;
        var written = sw.Elapsed;
        store.Commit();
        Console.WriteLine($"commit of 1,000 documents (4,000 chunks): {written.TotalMilliseconds:F0} ms writing + {(sw.Elapsed - written).TotalMilliseconds:F0} ms commit = {sw.Elapsed.TotalMilliseconds:F0} ms");
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown step '{args[0]}'");
        return 2;
}

static long Rss()
{
    using var p = Process.GetCurrentProcess();
    p.Refresh();
    return p.WorkingSet64;
}

static void Sizes(string dir)
{
    long total = 0;
    foreach (var f in Directory.GetFiles(dir))
    {
        var length = new FileInfo(f).Length;
        total += length;
        Console.WriteLine($"  {Path.GetFileName(f)}: {length / 1e6:F1} MB");
    }
    Console.WriteLine($"  total on disk: {total / 1e6:F1} MB");
}

/// <summary>A deterministic synthetic corpus: documents of four ~500-character chunks drawn from a 5,000-word vocabulary.</summary>
internal static class Corpus
{
    private static readonly string[] Words = MakeWords();

    private static string[] MakeWords()
    {
        var random = new Random(1);
        var words = new string[5000];
        for (var i = 0; i < words.Length; i++)
        {
            var chars = new char[random.Next(3, 11)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = (char)('a' + random.Next(26));
            }
            words[i] = new string(chars);
        }
        return words;
    }

    public static (DocumentRecord, IReadOnlyList<ChunkRecord>) Document(int n, ref long nextChunkId)
    {
        var random = new Random(n);
        var id = $"corpus/section-{n % 97:D2}/document-{n:D7}.md";
        var chunks = new List<ChunkRecord>(4);
        var ids = new List<long>(4);
        var offset = 0;
        for (var k = 0; k < 4; k++)
        {
            var sb = new System.Text.StringBuilder(520);
            while (sb.Length < 500)
            {
                sb.Append(Words[random.Next(Words.Length)]).Append(' ');
            }
            var text = sb.ToString();
            chunks.Add(new ChunkRecord(nextChunkId, id, k, offset, text.Length, text));
            ids.Add(nextChunkId++);
            offset += text.Length;
        }
        var hash = Convert.ToHexStringLower(BitConverter.GetBytes((long)n * 2654435761L)).PadRight(64, '0');
        var doc = new DocumentRecord(id, "/data/corpus", "/data/" + id, $"Document {n}", ".md", offset,
            new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(n), hash, DateTime.UtcNow, ids,
            new Dictionary<string, string> { ["author"] = $"author-{n % 1000}", ["lang"] = "en", ["year"] = (2000 + n % 26).ToString(CultureInfo.InvariantCulture) })
        { TextHash = hash };
        return (doc, chunks);
    }
}
