// Runs the converted USE-lite graph with ONNX Runtime. Texts are tokenised, sorted by length and cut into batches
// so that each batch pads to a similar length (padding is wasted attention and FFN work); results are written back in
// the caller's order. One InferenceSession serves all threads (ORT sessions are thread-safe for Run).
using Microsoft.ML.OnnxRuntime;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.UseLite;

/// <summary>The Universal Sentence Encoder Lite as an <see cref="ITextEncoder"/>: 512-d, no prefixes, graph pooling.</summary>
internal sealed class UseLiteEncoder : ITextEncoder
{
    // Tokens per batch (rows x padded length); 64 texts of the 128-token maximum by default.
    internal int TokensPerBatch { get; set; } = 64 * 128;
    private const int MaxRowsPerBatch = 256;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly SentencePieceUnigramTokenizer _tokenizer;

    public UseLiteEncoder(string modelPath, SentencePieceUnigramTokenizer tokenizer, EncoderInfo info, int intraOpThreads)
    {
        _tokenizer = tokenizer;
        Info = info;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
        };
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new Core.CorruptDataException(modelPath, $"ONNX Runtime cannot load it: {e.Message}", e);
        }
    }

    public EncoderInfo Info { get; }

    /// <summary>Lower-cases every text before tokenising (the vocabulary is mostly lower-case; see docs/eval).</summary>
    internal bool Lowercase { get; init; }

    public ITokenCounter TokenCounter => _tokenizer;

    public int PassageOverheadTokens => 0;

    /// <summary>The tokenizer this encoder feeds the graph with.</summary>
    public SentencePieceUnigramTokenizer Tokenizer => _tokenizer;

    public void Encode(IReadOnlyList<string> texts, TextRole role, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var dims = Info.Dimensions;
        if (output.Length != texts.Count * dims)
            throw new ArgumentException($"Output holds {output.Length} floats; {texts.Count} texts need {texts.Count * dims}.", nameof(output));
        if (texts.Count == 0) return;

        var sequences = new int[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts));
            sequences[i] = _tokenizer.Encode(Lowercase ? text.ToLowerInvariant() : text, Info.MaxTokens);
        }

        var order = new int[texts.Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => sequences[a].Length != sequences[b].Length
            ? sequences[a].Length.CompareTo(sequences[b].Length)
            : a.CompareTo(b));

        var start = 0;
        while (start < order.Length)
        {
            // Rows sorted by length: the batch's padded length is its last row's.
            var end = start;
            while (end < order.Length && end - start < MaxRowsPerBatch)
            {
                var length = Math.Max(1, sequences[order[end]].Length);
                if (end > start && (end - start + 1) * length > TokensPerBatch) break;
                end++;
            }

            RunBatch(sequences, order.AsSpan(start, end - start), output);
            start = end;
        }
    }

    private void RunBatch(int[][] sequences, ReadOnlySpan<int> rows, Span<float> output)
    {
        var count = rows.Length;
        var length = 1;
        foreach (var r in rows) length = Math.Max(length, sequences[r].Length);

        var ids = new long[count * length];
        var mask = new long[count * length];
        for (var i = 0; i < count; i++)
        {
            var s = sequences[rows[i]];
            for (var j = 0; j < s.Length; j++)
            {
                ids[(i * length) + j] = s[j];
                mask[(i * length) + j] = 1;
            }
        }

        long[] shape = [count, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var results = _session.Run(_runOptions,
            [UseLiteOnnxConverter.InputIds, UseLiteOnnxConverter.AttentionMask], [idsValue, maskValue],
            [UseLiteOnnxConverter.OutputName]);
        var vectors = results[0].GetTensorDataAsSpan<float>();
        var dims = Info.Dimensions;
        for (var i = 0; i < count; i++)
        {
            vectors.Slice(i * dims, dims).CopyTo(output.Slice(rows[i] * dims, dims));
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
