// The import the scale benchmark times when IMPORT=engine: the JSONL file written straight through the engine API,
// as `semsearch import` does it — each document chunked by the index's model tokenizer and written with its given
// vector (SemanticIndex.WriteWithVectors: no document is embedded), in batches, committing every --commit-every
// documents and at the end. The model is loaded only because a new index records it and its tokenizer cuts chunks.
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Models;

namespace ScaleBench;

internal static class EngineImport
{
    public static int Run(Args args)
    {
        var file = args.Positional.Count == 1 ? args.Positional[0] : throw new ArgumentException("import: give one JSONL file");
        var directory = args.Get("index-dir");
        var model = args.Find("model") ?? "arctic-embed-xs";
        var batchSize = args.Int("batch", 256);
        var commitEvery = args.Int("commit-every", 100_000);
        var total = Stopwatch.StartNew();
        var encoder = new ModelResolver().Open(model) ?? throw new ArgumentException($"--model {model}: no encoder");
        var modelSeconds = total.Elapsed.TotalSeconds;
        using var index = SemanticIndex.OpenOrCreate(directory, new IndexSettings(), encoder);
        var openSeconds = total.Elapsed.TotalSeconds - modelSeconds;
        long documents = 0, chunks = 0, sinceCommit = 0;
        var commits = new List<double>();
        var write = new Stopwatch();
        var batch = new List<(SourceDocument, IReadOnlyList<TextChunk>)>(batchSize);
        var vectors = new List<ReadOnlyMemory<float>>(batchSize);
        var now = DateTime.UtcNow;

        void Flush()
        {
            if (batch.Count == 0)
            {
                return;
            }
            write.Start();
            chunks += index.WriteWithVectors(batch, vectors);
            write.Stop();
            batch.Clear();
            vectors.Clear();
        }

        void Commit()
        {
            var clock = Stopwatch.StartNew();
            index.Commit();
            commits.Add(clock.Elapsed.TotalSeconds);
            sinceCommit = 0;
        }

        index.BeginBatch();
        foreach (var line in ImportLine.ReadAll(file))
        {
            var bytes = Encoding.UTF8.GetBytes(line.Title + "\n" + line.Text);
            var document = new SourceDocument(line.Id, "import", string.Empty, line.Title, line.Text, string.Empty, bytes.Length,
                now, Convert.ToHexStringLower(XxHash128.Hash(bytes)), line.Metadata);
            batch.Add((document, index.Chunk(document)));
            vectors.Add(line.Vector ?? throw new ArgumentException($"{file}: document {line.Id} has no vector"));
            documents++;
            sinceCommit++;
            if (batch.Count == batchSize)
            {
                Flush();
            }
            if (sinceCommit >= commitEvery)
            {
                Flush();
                Commit();
                index.BeginBatch();
                Console.Error.WriteLine($"  {documents:N0} documents, {total.Elapsed.TotalSeconds:F0} s");
            }
        }
        Flush();
        if (sinceCommit > 0 || commits.Count == 0)
        {
            Commit();
        }
        var summary = new
        {
            documents,
            chunks,
            seconds = total.Elapsed.TotalSeconds,
            model_load_seconds = modelSeconds,
            open_seconds = openSeconds,
            write_seconds = write.Elapsed.TotalSeconds,
            commits = commits.Count,
            commit_seconds = commits.Sum(),
            last_commit_seconds = commits[^1],
        };
        Console.WriteLine(JsonSerializer.Serialize(summary));
        return 0;
    }
}
