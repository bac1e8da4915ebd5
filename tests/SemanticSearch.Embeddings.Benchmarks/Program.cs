// Embedding runtime benchmarks: WordPiece tokenisation throughput on SciFact abstracts, and ONNX encoding throughput
// of the seeded test BERT (2 layers, hidden 32, real 30,522-entry vocabulary) at batch 1/8/32 for 128/512 tokens.
// Run: dotnet run -c Release --project tests/SemanticSearch.Embeddings.Benchmarks -- --filter '*'
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using SemanticSearch.Embeddings;
using SemanticSearch.Models;
using SemanticSearch.Embeddings.Tokenization;
using SemanticSearch.Onnx.Bert;

namespace SemanticSearch.Embeddings.Benchmarks;

internal static class Program
{
    private static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--cpu-check")
        {
            CpuCheck(seconds: args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10);
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }

    /// <summary>
    /// Encodes 256 passages of 128 tokens per call (8 batches of 32) for a while, batches one after another and then
    /// side by side, and prints passages/s and process CPU time ÷ wall time (near the core count = every core busy).
    /// </summary>
    private static void CpuCheck(double seconds)
    {
        var dir = Path.Combine(Path.GetTempPath(), "semsearch-cpu-check-" + Environment.ProcessId);
        var files = TestEncoderModel.Create(dir, Path.Combine(RepoPaths.Shared, "models", "tokenizers", "bert-base-uncased-vocab.txt"));
        var random = new Random(42);
        var sequences = Enumerable.Range(0, 256).Select(_ =>
            Enumerable.Range(0, 128).Select(i => i == 0 ? 101 : i == 127 ? 102 : random.Next(1996, 30522)).ToArray()).ToArray();
        var output = new float[sequences.Length * files.Dimensions];
        // batches one after another on all intra-op threads, then one batch per core on one thread each (the default)
        foreach (var (parallelBatches, intraOpThreads) in new[] { (1, 0), (0, 1) })
        {
            using var encoder = OnnxTextEncoder.Open(dir, new ModelProfile { Id = "test-bert", Dimensions = files.Dimensions },
                new OnnxEncoderOptions(BatchSize: 32, IntraOpThreads: intraOpThreads, ParallelBatches: parallelBatches));
            encoder.EncodeTokens(sequences, output);
            var process = System.Diagnostics.Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var calls = 0;
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                encoder.EncodeTokens(sequences, output);
                calls++;
            }

            clock.Stop();
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
            Console.WriteLine($"cores: {Environment.ProcessorCount}, parallel batches: {(parallelBatches == 0 ? Environment.ProcessorCount : parallelBatches)}, " +
                $"intra-op threads: {(intraOpThreads == 0 ? Environment.ProcessorCount : intraOpThreads)}, " +
                $"passages/s: {calls * sequences.Length / clock.Elapsed.TotalSeconds:F0}, CPU time / wall time: {cpu / clock.Elapsed.TotalSeconds:F2}");
        }

        Directory.Delete(dir, recursive: true);
    }
}

/// <summary>Tokenisation of 1,000 SciFact abstracts on one thread; tokens/s = TokenCount / mean time.</summary>
[MemoryDiagnoser]
public class TokenizationBenchmarks
{
    private WordPieceTokenizer _tokenizer = null!;
    private List<string> _texts = null!;

    /// <summary>Tokens in one pass over the abstracts (printed in the setup, used to turn time into tokens/s).</summary>
    public long TokenCount { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _tokenizer = WordPieceTokenizer.FromTokenizerJson(Path.Combine(RepoPaths.Shared, "models", "tokenizers", "e5-small-v2-tokenizer.json"));
        _texts = File.ReadLines(Path.Combine(RepoPaths.Shared, "datasets", "scifact", "corpus.jsonl")).Take(1000)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToList();
        TokenCount = _texts.Sum(t => (long)_tokenizer.CountTokens(t));
        Console.WriteLine($"// tokens per operation: {TokenCount}, characters: {_texts.Sum(t => t.Length)}");
    }

    [Benchmark(Description = "CountTokens (chunker path)")]
    public long Count()
    {
        long n = 0;
        foreach (var t in _texts)
        {
            n += _tokenizer.CountTokens(t);
        }

        return n;
    }

    [Benchmark(Description = "Encode ids, 512 max (encoder path)")]
    public long Encode()
    {
        long n = 0;
        foreach (var t in _texts)
        {
            n += _tokenizer.Encode(t, int.MaxValue).Length;
        }

        return n;
    }
}

/// <summary>Encoding pre-tokenised sequences of exactly <see cref="Tokens"/> tokens, <see cref="Batch"/> at a time.</summary>
[MemoryDiagnoser]
public class EncodingBenchmarks
{
    private OnnxTextEncoder _encoder = null!;
    private int[][] _sequences = null!;
    private float[] _output = null!;
    private string _dir = null!;

    [Params(1, 8, 32)]
    public int Batch { get; set; }

    [Params(128, 512)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "semsearch-bench-model-" + Environment.ProcessId);
        var files = TestEncoderModel.Create(_dir, Path.Combine(RepoPaths.Shared, "models", "tokenizers", "bert-base-uncased-vocab.txt"));
        _encoder = OnnxTextEncoder.Open(_dir, new ModelProfile { Id = "test-bert", Dimensions = files.Dimensions }, new OnnxEncoderOptions(BatchSize: Batch));
        var random = new Random(42);
        _sequences = Enumerable.Range(0, Batch).Select(_ =>
        {
            var s = new int[Tokens];
            s[0] = 101;
            s[^1] = 102;
            for (var i = 1; i < Tokens - 1; i++)
            {
                s[i] = random.Next(1996, 30522);
            }

            return s;
        }).ToArray();
        _output = new float[Batch * files.Dimensions];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public void EncodeBatch() => _encoder.EncodeTokens(_sequences, _output);
}

/// <summary>
/// Query latency of the default model on one thread: a 12-token query (its instruction prefix in front, as every query
/// gets it), embedded alone, float and int8. Needs arctic-embed-xs in the model cache (SEMSEARCH_MODELS, else the
/// user cache): run `semsearch models pull arctic-embed-xs` first.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class QueryLatencyBenchmarks
{
    private OnnxTextEncoder _encoder = null!;
    private readonly float[] _output = new float[384];

    [Params("float32", "int8")]
    public string Precision { get; set; } = "float32";

    // 12 WordPiece tokens of its own (checked in Setup), like a short search-box query
    private const string Query = "does vitamin d supplementation reduce hip fracture risk in older adults";

    [GlobalSetup]
    public void Setup()
    {
        var dir = Path.Combine(ModelCache.DefaultRoot(), "arctic-embed-xs");
        var profile = ModelCatalog.LocalProfile(dir);
        var options = new OnnxEncoderOptions(IntraOpThreads: 1);
        // int8 as the engine opens it: a query is one run without padding, so it goes through the unpadded companion
        _encoder = Precision == "int8"
            ? OnnxTextEncoder.Open(dir, profile, options, graphFile: Int8Variant.Ensure(dir, profile), revisionSuffix: Int8Variant.RevisionSuffix,
                unpaddedGraphFile: Int8Variant.EnsureUnpadded(dir, profile))
            : OnnxTextEncoder.Open(dir, profile, options);
        var tokens = _encoder.TokenCounter.CountTokens(Query);
        if (tokens != 12)
        {
            throw new InvalidOperationException($"the benchmark query has {tokens} tokens, not 12");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _encoder.Dispose();

    [Benchmark]
    public void EmbedQuery() => _encoder.Encode([Query], SemanticSearch.Core.Encoding.TextRole.Query, _output);
}
