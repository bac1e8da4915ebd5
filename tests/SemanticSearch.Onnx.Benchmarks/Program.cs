// Int8 vs float32 encoder: the same seeded e5-small-shaped checkpoint (12 layers, hidden 384, 12 heads, FFN 1536,
// vocab 30,522) converted twice, run over SciFact passages tokenised with the real uncased WordPiece vocabulary.
// Reports passages/s for each graph and the cosine between the two sentence embeddings per passage.
// Usage: dotnet run -c Release --project tests/SemanticSearch.Onnx.Benchmarks -- [passages=1000] [maxTokens=512] [batch=16]
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using SemanticSearch.Onnx.Bert;

int passages = args.Length > 0 ? int.Parse(args[0]) : 1000;
int maxTokens = args.Length > 1 ? int.Parse(args[1]) : 512;
int batchSize = args.Length > 2 ? int.Parse(args[2]) : 16;

var shared = RepoPaths.Shared;
var vocabPath = Path.Combine(shared, "models", "tokenizers", "bert-base-uncased-vocab.txt");
var corpusPath = Path.Combine(shared, "datasets", "scifact", "corpus.jsonl");

var dir = Path.Combine(Path.GetTempPath(), "semsearch-onnx-bench");
Directory.CreateDirectory(dir);
var sw = Stopwatch.StartNew();
SeededBertCheckpoint.Write(dir, seed: 1, vocabSize: 30522, hidden: 384, layers: 12, heads: 12, intermediate: 1536, maxPositions: 512);
var floatModel = BertOnnxConverter.Convert(dir);
var int8Model = BertOnnxConverter.Convert(dir, new BertExportOptions { Quantization = BertQuantization.Int8 });
Console.WriteLine($"checkpoint + 2 conversions: {sw.Elapsed.TotalSeconds:F1} s; float {floatModel.Length / 1e6:F1} MB, int8 {int8Model.Length / 1e6:F1} MB");

var tokenizer = BertTokenizer.Create(vocabPath);
var texts = File.ReadLines(corpusPath).Take(passages).Select(line =>
{
    using var doc = JsonDocument.Parse(line);
    return doc.RootElement.GetProperty("title").GetString() + " " + doc.RootElement.GetProperty("text").GetString();
}).ToList();
var encoded = texts.Select(t =>
{
    var ids = tokenizer.EncodeToIds(t).Select(i => (long)i).ToList();
    if (ids.Count > maxTokens) { ids = ids.Take(maxTokens - 1).ToList(); ids.Add(102); }
    return ids.ToArray();
}).ToList();
// Batches of similar length, as the engine does, so padding is small.
var order = Enumerable.Range(0, encoded.Count).OrderBy(i => encoded[i].Length).ToArray();
Console.WriteLine($"{encoded.Count} passages, mean {encoded.Average(e => e.Length):F0} tokens, max {encoded.Max(e => e.Length)}; batch {batchSize}; threads {Environment.ProcessorCount}");

// The machine is shared, so the two graphs run alternately batch by batch: load from other jobs hits both alike.
(float[][] F, float[][] Q) RunBoth()
{
    using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = Environment.ProcessorCount };
    using var fs = new InferenceSession(floatModel, options);
    using var qs = new InferenceSession(int8Model, options);
    var rf = new float[encoded.Count][];
    var rq = new float[encoded.Count][];
    var warm = order.Take(batchSize).ToArray();
    RunBatch(fs, warm, rf);
    RunBatch(qs, warm, rq);
    var tf = new Stopwatch();
    var tq = new Stopwatch();
    for (int start = 0; start < order.Length; start += batchSize)
    {
        var rows = order.Skip(start).Take(batchSize).ToArray();
        tf.Start(); RunBatch(fs, rows, rf); tf.Stop();
        tq.Start(); RunBatch(qs, rows, rq); tq.Stop();
    }
    Console.WriteLine($"float32: {tf.Elapsed.TotalSeconds:F1} s, {encoded.Count / tf.Elapsed.TotalSeconds:F2} passages/s");
    Console.WriteLine($"int8   : {tq.Elapsed.TotalSeconds:F1} s, {encoded.Count / tq.Elapsed.TotalSeconds:F2} passages/s  (speed-up {tf.Elapsed / tq.Elapsed:F2}x)");
    return (rf, rq);
}

void RunBatch(InferenceSession session, int[] rows, float[][] result)
{
    int seq = rows.Max(r => encoded[r].Length), b = rows.Length;
    var ids = new long[b * seq];
    var mask = new long[b * seq];
    for (int i = 0; i < b; i++)
        for (int t = 0; t < encoded[rows[i]].Length; t++) { ids[i * seq + t] = encoded[rows[i]][t]; mask[i * seq + t] = 1; }
    using var idv = OrtValue.CreateTensorValueFromMemory(ids, [b, seq]);
    using var mv = OrtValue.CreateTensorValueFromMemory(mask, [b, seq]);
    using var tv = OrtValue.CreateTensorValueFromMemory(new long[b * seq], [b, seq]);
    using var ro = new RunOptions();
    using var outputs = session.Run(ro, ["input_ids", "attention_mask", "token_type_ids"], [idv, mv, tv], ["sentence_embedding"]);
    var span = outputs[0].GetTensorDataAsSpan<float>();
    int h = span.Length / b;
    for (int i = 0; i < b; i++) result[rows[i]] = span.Slice(i * h, h).ToArray();
}

var (f, q) = RunBoth();
var cos = f.Select((v, i) => v.Zip(q[i], (a, c) => (double)a * c).Sum()).OrderBy(c => c).ToArray();
Console.WriteLine($"cosine(int8, float32): mean {cos.Average():F5}, min {cos[0]:F5}, p5 {cos[cos.Length / 20]:F5}, median {cos[cos.Length / 2]:F5}");

// Context for the cosine above: a random-weight encoder maps all texts close together, so also report how far apart
// different passages are, and whether each passage keeps its nearest neighbour under int8.
double Dot(float[] a, float[] b) { double s = 0; for (int j = 0; j < a.Length; j++) s += a[j] * b[j]; return s; }
int n = f.Length, agree = 0;
double between = 0;
for (int i = 0; i < n; i++)
{
    between += Dot(f[i], f[(i + 1) % n]) / n;
    int bestF = -1, bestQ = -1;
    double sf = double.NegativeInfinity, sq = double.NegativeInfinity;
    for (int j = 0; j < n; j++)
    {
        if (j == i) continue;
        double df = Dot(f[i], f[j]), dq = Dot(q[i], q[j]);
        if (df > sf) { sf = df; bestF = j; }
        if (dq > sq) { sq = dq; bestQ = j; }
    }
    if (bestF == bestQ) agree++;
}
Console.WriteLine($"float32 cosine between different passages: mean {between:F5}; nearest-neighbour agreement int8 vs float32: {agree}/{n}");
