// Throughput of the converted use-lite model through the project's encoder, on the first N SciFact abstracts.
// Usage: dotnet run -c Release -- <corpus.jsonl> [count=1000] [repeats=3]
// Prints one JSON line per repeat: passages/s and tokens/s (tokens = ids the graph reads, clipped at 128),
// end to end from text to vectors (tokenisation included). Pulls the model into the cache first if needed.
using System.Diagnostics;
using System.Text.Json;
using SemanticSearch.Core.Encoding;
using SemanticSearch.UseLite;

var corpus = args.Length > 0 ? args[0] : throw new ArgumentException("usage: <corpus.jsonl> [count] [repeats]");
var count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
var repeats = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3;

var texts = new List<string>(count);
foreach (var line in File.ReadLines(corpus))
{
    if (texts.Count == count) break;
    using var doc = JsonDocument.Parse(line);
    texts.Add(doc.RootElement.GetProperty("text").GetString()!);
}

var modelDir = await UseLiteModel.EnsureAsync(UseLiteModel.DefaultCacheRoot());
Console.Error.WriteLine($"model: {modelDir}");
using var encoder = UseLiteModel.OpenEncoder(modelDir, lowercase: false);
if (Environment.GetEnvironmentVariable("USELITE_TOKENS_PER_BATCH") is { Length: > 0 } budget)
    ((UseLiteEncoder)encoder).TokensPerBatch = int.Parse(budget, System.Globalization.CultureInfo.InvariantCulture);
long tokens = 0;
foreach (var t in texts) tokens += Math.Min(encoder.TokenCounter.CountTokens(t), encoder.Info.MaxTokens);

var output = new float[texts.Count * encoder.Info.Dimensions];
encoder.Encode(texts.Take(64).ToList(), TextRole.Passage, output.AsSpan(0, 64 * encoder.Info.Dimensions)); // warm-up
for (var r = 0; r < repeats; r++)
{
    var sw = Stopwatch.StartNew();
    encoder.Encode(texts, TextRole.Passage, output);
    sw.Stop();
    var seconds = sw.Elapsed.TotalSeconds;
    // Tokenisation alone, to split the end-to-end time into tokenizer and ONNX Runtime shares.
    var tk = Stopwatch.StartNew();
    foreach (var t in texts) encoder.TokenCounter.CountTokens(t);
    tk.Stop();
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        runtime = "csharp-onnxruntime",
        passages = texts.Count,
        tokens,
        seconds = Math.Round(seconds, 3),
        inferenceOnlySeconds = Math.Round(seconds - tk.Elapsed.TotalSeconds, 3),
        tokenizeSeconds = Math.Round(tk.Elapsed.TotalSeconds, 3),
        passagesPerSecond = Math.Round(texts.Count / seconds, 1),
        tokensPerSecond = Math.Round(tokens / seconds, 0),
        threads = Environment.ProcessorCount,
        tokensPerBatch = ((UseLiteEncoder)encoder).TokensPerBatch,
        modelPath = Path.Combine(modelDir, "model.onnx"),
    }));
}
